"""Which classes are data models, and what a type annotation says about the data it describes.

FastAPI can document and validate a value when its type is a Pydantic model (SQLModel, Beanie and
odmantic documents are Pydantic models too), a dataclass or a TypedDict.  A SQLAlchemy / Tortoise /
peewee table class is not: returned from a route it is serialised field by field with no schema.
``ModelKinds`` answers "what is this project class" through the project's own base classes, so a
model that derives from ``app.schemas.Base`` which derives from ``pydantic.BaseModel`` is found in
any module.  ``annotation_kind`` classifies an annotation as written in the facts (names resolved).
"""

from __future__ import annotations

import ast
import functools
from functools import lru_cache

from fastapi_reviewer.index import ProjectIndex

PYDANTIC_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.RootModel",
        "pydantic.root_model.RootModel",
        "pydantic.generics.GenericModel",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "sqlmodel.SQLModel",
        "sqlmodel.main.SQLModel",
        "beanie.Document",
        "beanie.odm.documents.Document",
        "beanie.View",
        "odmantic.Model",
        "odmantic.EmbeddedModel",
        "ormar.Model",
        "fastapi_camelcase.CamelModel",
    }
)
PYDANTIC_V1_BASES = frozenset(
    {
        "pydantic.v1.BaseModel",
        "pydantic.v1.main.BaseModel",
        "pydantic.v1.BaseSettings",
        "pydantic.v1.generics.GenericModel",
        "pydantic.v1.env_settings.BaseSettings",
    }
)
SETTINGS_BASES = frozenset(
    {"pydantic.BaseSettings", "pydantic.env_settings.BaseSettings", "pydantic_settings.BaseSettings", "pydantic_settings.main.BaseSettings"}
)
TYPEDDICT_BASES = frozenset({"typing.TypedDict", "typing_extensions.TypedDict"})
DATACLASS_DECORATORS = frozenset(
    {
        "dataclasses.dataclass",
        "pydantic.dataclasses.dataclass",
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attr.frozen",
        "attrs.define",
        "attrs.frozen",
        "msgspec.Struct",
    }
)
# bases (as the index names them) of ORM table classes: `Base = declarative_base()` is a call result
ORM_BASES = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.declarative_base()",
        "sqlalchemy.orm.decl_api.declarative_base()",
        "sqlalchemy.ext.declarative.declarative_base()",
        "sqlalchemy.ext.declarative.api.declarative_base()",
        "sqlalchemy.orm.registry().generate_base()",
        "tortoise.models.Model",
        "tortoise.Model",
        "peewee.Model",
        "django.db.models.Model",
        "piccolo.table.Table",
        "mongoengine.Document",
        "mongoengine.document.Document",
    }
)
ORM_DECORATORS = frozenset({"sqlalchemy.orm.as_declarative", "sqlalchemy.ext.declarative.as_declarative"})
RESPONSE_PREFIXES = ("starlette.responses.", "fastapi.responses.", "fastapi.Response", "starlette.templating.")
RESPONSE_NAMES = frozenset({"fastapi.Response", "starlette.responses.Response", "fastapi.responses.Response"})

# annotation vocabulary
_NONE = frozenset({"None", "builtins.None", "types.NoneType"})
_ANY = frozenset({"typing.Any", "typing_extensions.Any", "builtins.object", "any"})
_MAPPINGS = frozenset(
    {
        "builtins.dict", "typing.Dict", "typing.Mapping", "typing.MutableMapping", "collections.abc.Mapping",
        "collections.abc.MutableMapping", "typing.DefaultDict", "collections.OrderedDict", "typing.OrderedDict",
    }
)
_SEQUENCES = frozenset(
    {
        "builtins.list", "typing.List", "typing.Sequence", "collections.abc.Sequence", "typing.Iterable",
        "collections.abc.Iterable", "builtins.set", "typing.Set", "builtins.frozenset", "typing.FrozenSet",
        "builtins.tuple", "typing.Tuple",
    }
)
_UNIONS = frozenset({"typing.Optional", "typing_extensions.Optional", "typing.Union"})
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})


class ModelKinds:
    """What a project class is: pydantic | pydantic-v1 | dataclass | typeddict | orm | response | None."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._kind = lru_cache(maxsize=None)(self._kind_uncached)

    def kind(self, cls_full: str) -> str | None:
        return self._kind(cls_full)

    def _kind_uncached(self, cls_full: str) -> str | None:
        index = self.index
        if cls_full not in index.classes:
            return None
        mro = index.mro(cls_full)
        names = set(mro)
        if names & PYDANTIC_V1_BASES:
            return "pydantic-v1"
        if names & PYDANTIC_BASES:
            return "pydantic"
        if names & TYPEDDICT_BASES:
            return "typeddict"
        if any(n in RESPONSE_NAMES or n.startswith(RESPONSE_PREFIXES) for n in names if n not in index.classes):
            return "response"
        for name in mro:
            found = index.classes.get(name)
            if found is None:
                continue
            for dec in found[1].decorators:
                target = index.resolve(dec.target).name or dec.target
                if target in DATACLASS_DECORATORS:
                    return "dataclass"
                if target in ORM_DECORATORS:
                    return "orm"
        if names & ORM_BASES or any(n.endswith(".declarative_base()") for n in names):
            return "orm"
        return None

    def is_pydantic(self, cls_full: str) -> bool:
        return self.kind(cls_full) == "pydantic"

    def is_schema(self, cls_full: str) -> bool:
        return self.kind(cls_full) in ("pydantic", "pydantic-v1", "dataclass", "typeddict")

    def is_settings(self, cls_full: str) -> bool:
        return bool(set(self.index.mro(cls_full)) & SETTINGS_BASES)

    def defines(self, cls_full: str, attr: str) -> bool:
        """A project class in the MRO defines `attr` itself (a method that shadows the library's)."""
        for name in self.index.mro(cls_full):
            if name in self.index.classes:
                if f"{name}.{attr}" in self.index.functions:
                    return True
                cls = self.index.classes[name][1]
                if attr in cls.assigns:
                    return True
        return False


def is_response_type(name: str) -> bool:
    return name in RESPONSE_NAMES or name.startswith(RESPONSE_PREFIXES)


def annotation_kind(text: str | None, index: ProjectIndex, kinds: ModelKinds) -> str:
    """none | untyped | typed | response | orm | unknown, for an annotation text from the facts.

    ``untyped``: ``dict``, ``Dict[str, Any]``, ``Mapping``, ``Any``, bare ``list`` or a list of those.
    ``typed``: names a model (any module), a generic over one (``Page[UserOut]``), or precise
    builtins (``list[str]``, ``dict[str, int]``).
    """
    if not text:
        return "none"
    tree = parse_annotation(text)
    if tree is None:
        return "unknown"
    return _kind(tree, index, kinds, 0)


@functools.lru_cache(maxsize=4096)
def parse_annotation(text: str) -> ast.expr | None:
    """An annotation text from the facts as an ast expression (annotations repeat: parsed once each)."""
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError:
        return None


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a Name/Attribute chain, "None" for the None constant, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return None


def _combine(kinds: list[str]) -> str:
    kinds = [k for k in kinds if k != "none"] or ["none"]
    for preferred in ("response", "typed", "orm", "unknown", "untyped"):
        if preferred in kinds:
            return preferred
    return kinds[0]


def _name_kind(name: str, index: ProjectIndex, kinds: ModelKinds) -> str:
    if name in _NONE:
        return "none"
    if name in _ANY or name in _MAPPINGS or name in _SEQUENCES:
        return "untyped"
    sym = index.resolve(name)
    if sym.kind == "class":
        kind = kinds.kind(sym.name)
        if kind in ("pydantic", "pydantic-v1", "dataclass", "typeddict"):
            return "typed"
        if kind in ("response", "orm"):
            return kind
        return "unknown"
    if sym.kind in ("external", "instance-ext"):
        resolved = sym.name
        if resolved in _ANY or resolved in _MAPPINGS or resolved in _SEQUENCES:
            return "untyped"
        if is_response_type(resolved):
            return "response"
        return "typed"  # a library type: a scalar FastAPI knows, or a library model (Page[...])
    return "unknown"


def _kind(node: ast.expr, index: ProjectIndex, kinds: ModelKinds, depth: int) -> str:
    if depth > 8:
        return "unknown"
    if isinstance(node, ast.Constant):
        return "none" if node.value is None else "typed"  # a string left unparsed / Literal value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _combine([_kind(node.left, index, kinds, depth + 1), _kind(node.right, index, kinds, depth + 1)])
    if isinstance(node, ast.Subscript):
        base = dotted_name(node.value) or ""
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base in _ANNOTATED:
            return _kind(args[0], index, kinds, depth + 1)
        if base in _UNIONS:
            return _combine([_kind(a, index, kinds, depth + 1) for a in args])
        if base in _MAPPINGS:
            value = args[-1] if len(args) >= 2 else None
            if value is None:
                return "untyped"
            inner = _kind(value, index, kinds, depth + 1)
            return "untyped" if inner == "untyped" else inner if inner in ("orm",) else "typed"
        if base in _SEQUENCES:
            inner = [_kind(a, index, kinds, depth + 1) for a in args if not (isinstance(a, ast.Constant) and a.value is Ellipsis)]
            return _combine(inner) if inner else "untyped"
        if base == "typing.Literal":
            return "typed"
        return _name_kind(base, index, kinds) if base else "unknown"
    name = dotted_name(node)
    if name is None:
        return "unknown"
    plain = name not in _ANY and name not in _MAPPINGS and name not in _SEQUENCES
    if plain and name.startswith(("builtins.", "datetime.", "uuid.", "decimal.", "pathlib.", "ipaddress.", "enum.")):
        return "typed"
    return _name_kind(name, index, kinds)
