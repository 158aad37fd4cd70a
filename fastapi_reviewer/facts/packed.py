"""Facts fields kept packed until a rule reads them.

Data-flow uses (``FunctionFacts.uses``), local types and literals are a large part of the facts of
a project but only a few rules read them, for a few functions (a route that parses its request, a
task's handler, a CORS call).  Loaded facts (cache.py) hold them as packed maps: ``bytes``
subclasses holding the ``marshal`` form of the mapping, one object to unpickle (built in C) instead
of a dict with its tuples, and unpacked on the first read.  They are read-only mappings.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from functools import lru_cache
from typing import Any

from fastapi_reviewer.facts.model import UseFact

# id -> (the packed map, its mapping): the entry holds the object, so the id stays its own
_UNPACKED: dict[int, tuple[bytes, dict[str, Any]]] = {}
_UNPACKED_MAX = 200_000


@lru_cache(maxsize=4096)
def use_fact(kind: str, call: int, keyword: str | None, position: int) -> UseFact:
    """One shared UseFact per value: a project has a few hundred distinct ones."""
    return UseFact(kind, call, keyword, position)


class _Packed(bytes):
    __slots__ = ()

    def _decode(self, raw: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _unpacked(self) -> dict[str, Any]:
        found = _UNPACKED.get(id(self))
        if found is not None:
            return found[1]
        if len(_UNPACKED) >= _UNPACKED_MAX:
            _UNPACKED.clear()
        data = self._decode(marshal.loads(self))
        _UNPACKED[id(self)] = (self, data)
        return data

    # the Mapping interface (bytes' own len/iter/in/== would answer about the bytes)
    def __getitem__(self, key: str) -> Any:  # type: ignore[override]
        return self._unpacked()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._unpacked().get(key, default)

    def __contains__(self, key: object) -> bool:  # type: ignore[override]
        return key in self._unpacked()

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self._unpacked())

    def __len__(self) -> int:
        return len(self._unpacked())

    def __bool__(self) -> bool:
        return True  # only non-empty mappings are packed

    def keys(self) -> KeysView[str]:
        return self._unpacked().keys()

    def items(self) -> ItemsView[str, Any]:
        return self._unpacked().items()

    def values(self) -> ValuesView[Any]:
        return self._unpacked().values()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Packed):
            other = other._unpacked()
        return isinstance(other, Mapping) and self._unpacked() == dict(other.items())

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._unpacked()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (bytes(self),)


class PackedUses(_Packed):
    """dict[str, tuple[UseFact, ...]]: a function's data-flow uses (facts/flow.py)."""

    __slots__ = ()

    @classmethod
    def pack(cls, mapping: Mapping[str, Any]) -> PackedUses:
        return cls(marshal.dumps({k: tuple((u.kind, u.call, u.keyword, u.position) for u in v) for k, v in mapping.items()}))

    def _decode(self, raw: dict[str, Any]) -> dict[str, Any]:
        intern = sys.intern
        return {intern(k): tuple(use_fact(*u) for u in v) for k, v in raw.items()}


class PackedTexts(_Packed):
    """dict[str, str]: local types, literals."""

    __slots__ = ()

    @classmethod
    def pack(cls, mapping: Mapping[str, Any]) -> PackedTexts:
        return cls(marshal.dumps(dict(mapping.items())))

    def _decode(self, raw: dict[str, Any]) -> dict[str, Any]:
        intern = sys.intern
        return {intern(k): intern(v) if type(v) is str else v for k, v in raw.items()}


Mapping.register(_Packed)
