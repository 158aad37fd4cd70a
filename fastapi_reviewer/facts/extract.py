"""Bytes of one file in, ModuleFacts out (or a ParseFailure that names the line)."""

from __future__ import annotations

import re

from fastapi_reviewer.facts.model import ModuleFacts

_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


class ParseFailure(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def decode(data: bytes) -> str:
    """Decode like Python does (PEP 263 cookie, BOM), rejecting binary files."""
    if b"\x00" in data:
        raise ParseFailure("cannot parse: binary file (contains NUL bytes)")
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise ParseFailure(f"cannot decode: {exc}") from exc


def noqa_lines(source: str) -> dict[int, frozenset[str] | None]:
    """Line number -> the codes a `# noqa` comment names there (None: every code)."""
    found: dict[int, frozenset[str] | None] = {}
    if "noqa" not in source.lower():
        return found
    for number, line in enumerate(source.splitlines(), start=1):
        if "noqa" not in line.lower():
            continue
        match = _NOQA.search(line)
        if match is None:
            continue
        codes = match.group("codes")
        found[number] = None if not codes else frozenset(c.upper() for c in _CODE.findall(codes))
    return found


def _syntax_failure(source: str, exc: Exception) -> ParseFailure:
    """Python's own message and position when it agrees the file is broken (clearer than libcst's)."""
    import ast

    try:
        ast.parse(source)
    except SyntaxError as err:
        where = f" (column {err.offset})" if err.offset else ""
        return ParseFailure(f"cannot parse: {err.msg}{where}", err.lineno)
    except ValueError:
        pass
    line = getattr(exc, "raw_line", None)
    message = getattr(exc, "message", str(exc))
    return ParseFailure(f"cannot parse: {message}", line)


def extract(path: str, data: bytes, module: str, is_package: bool) -> ModuleFacts:
    import libcst as cst

    from fastapi_reviewer.facts.collector import FactsCollector
    from fastapi_reviewer.facts.fastparse import parse_module
    from fastapi_reviewer.facts.positions import ModulePositions
    from fastapi_reviewer.facts.ranks import RankPositions
    from fastapi_reviewer.facts.walk import walk

    source = decode(data)
    try:
        tree = parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise _syntax_failure(source, exc) from exc
    except Exception as exc:
        raise ParseFailure(f"cannot parse: {exc}") from exc
    # positions by rank, resolved from ``source`` if read (facts/positions.py); through the cache
    # codec they resolve from the file
    table = ModulePositions(source)
    ranks = RankPositions(table)
    collector = FactsCollector(path, module, is_package, ranks)
    walk(tree, collector)  # tree.visit(collector) without rebuilding every node
    collector.release()
    facts = collector.facts
    facts.noqa = noqa_lines(source)
    facts.position_check = table.check = ranks.checksum()
    return facts
