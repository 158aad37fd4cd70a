"""FR601: CORS with every origin (`allow_origins=["*"]`) and credentials -> drop the credentials (unsafe).

With `allow_origins=["*"]` and `allow_credentials=True`, Starlette's CORSMiddleware answers a request
that carries cookies with that request's own origin and `Access-Control-Allow-Credentials: true`: any
web site can make authenticated calls with your users' cookies. Listing the real origins is the fix
that keeps behaviour, and needs knowledge no tool has; removing `allow_credentials=True` closes the
hole mechanically but breaks browser front ends on other origins that rely on cookies or HTTP auth.
So this fix is unsafe: review it, or write the origins out instead.
"""

from __future__ import annotations

import libcst as cst

from fastapi_reviewer.findings import Finding
from fastapi_reviewer.fixes.base import Edit, FileContext, Fix


class CorsCredentialsFix(Fix):
    code = "FR601"
    safe = False
    summary = "remove `allow_credentials=True` from a CORS set-up that allows every origin"

    def edit(self, ctx: FileContext, finding: Finding) -> Edit | None:
        # the finding may point at the call, at `allow_origins=...` or at `allow_credentials=...`:
        # take the innermost call around its start that passes a literal allow_credentials=True
        for call in ctx.enclosing(finding, cst.Call):
            assert isinstance(call, cst.Call)
            index = _credentials_arg(call)
            if index is None:
                continue

            def replace(node: cst.CSTNode, index: int = index) -> cst.CSTNode:
                assert isinstance(node, cst.Call)
                args = list(node.args)
                removed = args.pop(index)
                if index == len(args) and args:  # it was the last: the one before takes its comma
                    args[-1] = args[-1].with_changes(comma=removed.comma)
                return node.with_changes(args=args)

            return Edit(call, replace, self.summary)
        return None


def _credentials_arg(call: cst.Call) -> int | None:
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == "allow_credentials":
            if isinstance(arg.value, cst.Name) and arg.value.value == "True":
                return i
            return None
    return None
