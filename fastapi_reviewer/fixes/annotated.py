"""Refactoring `annotated-depends` (opt-in: `--refactor annotated-depends`): `Depends()` / `Security()`
moved from a parameter's default into `Annotated`, the form FastAPI recommends since 0.95:

    db: Session = Depends(get_db)  ->  db: Annotated[Session, Depends(get_db)]

No rule reports the old form (it is not a bug), so this is not a fix of a finding: it rewrites every
such parameter of the files reviewed. It needs Python 3.9+ and FastAPI 0.95+, and it changes direct
calls of the function (not through FastAPI) that relied on the default: that is why it is opt-in.
Left alone: parameters without an annotation, annotations that already are `Annotated[...]`, and a
positional parameter that would end up without a default after one that keeps its default (that
would not compile; reorder the parameters, or make them keyword-only).
"""

from __future__ import annotations

import libcst as cst

from fastapi_reviewer.fixes.base import Edit, FileContext, Import, Refactor

MARKERS = {"fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security", "fastapi.param_functions.Depends", "fastapi.param_functions.Security"}
ANNOTATED = {"typing.Annotated", "typing_extensions.Annotated"}


class AnnotatedDepends(Refactor):
    name = "annotated-depends"
    summary = "`x: T = Depends(f)` -> `x: Annotated[T, Depends(f)]`"

    def edits(self, ctx: FileContext) -> list[Edit]:
        found: list[Edit] = []
        for node in list(ctx.positions):
            if isinstance(node, cst.Parameters):
                found.extend(self._function(ctx, node))
        return found

    def _function(self, ctx: FileContext, params: cst.Parameters) -> list[Edit]:
        edits: list[Edit] = []
        annotated, imports = self._annotated_name(ctx, params)
        seen_default = False
        for param in [*params.posonly_params, *params.params]:
            if self._candidate(ctx, param) and annotated is not None and not seen_default:
                edits.append(self._edit(param, annotated, imports))
            elif param.default is not None:
                seen_default = True
        if annotated is not None:
            for param in params.kwonly_params:
                if self._candidate(ctx, param):
                    edits.append(self._edit(param, annotated, imports))
        return edits

    def _candidate(self, ctx: FileContext, param: cst.Param) -> bool:
        default = param.default
        if param.annotation is None or not isinstance(default, cst.Call):
            return False
        if not ctx.qualified_names(default.func) & MARKERS:
            return False
        ann = param.annotation.annotation
        if isinstance(ann, cst.Subscript) and ctx.qualified_names(ann.value) & ANNOTATED:
            return False
        return not isinstance(ann, (cst.SimpleString, cst.ConcatenatedString))  # "Session" forward refs: leave

    def _annotated_name(self, ctx: FileContext, node: cst.CSTNode) -> tuple[str | None, list[Import]]:
        """`Annotated` and the import it needs; None when that name means something else here."""
        bound = ctx.binding(node, "Annotated")
        if not bound:
            return "Annotated", [Import("typing", "Annotated")]
        if bound & ANNOTATED:
            return "Annotated", []
        return None, []

    def _edit(self, param: cst.Param, annotated: str, imports: list[Import]) -> Edit:
        def replace(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.Param) and node.annotation is not None and node.default is not None
            ann = cst.Subscript(
                value=cst.Name(annotated),
                slice=[
                    cst.SubscriptElement(cst.Index(node.annotation.annotation), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                    cst.SubscriptElement(cst.Index(node.default)),
                ],
            )
            return node.with_changes(
                annotation=node.annotation.with_changes(annotation=ann),
                default=None,
                equal=cst.MaybeSentinel.DEFAULT,
            )

        return Edit(param, replace, self.summary, imports)
