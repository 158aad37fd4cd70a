"""Recall and precision of the FR1xx rules on independently written asyncio test code.

Takes flake8-async's `tests/eval_files` folder (not shipped here: point the script at a checkout),
whose lines carry their expectations as comments (`# ASYNC210: 4, 'requests.get'`), maps the
blocking-call checks to ours, and compares line by line.

flake8-async matches names without imports (`os.system()` with no `import os`); real code imports
what it uses, so each file is reviewed with the standard-library and client imports it relies on
prepended (the same modules its names refer to). Lines whose callee cannot be resolved even then
(bare `urlopen()`, made-up modules like `httpx2`) are counted separately as unresolvable.

    python bench/eval_blocking.py /path/to/flake8-async/tests/eval_files
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan

# the acceptance list: HTTP clients, process calls, open/fdopen/file methods, time.sleep, input
FILES = ("async210.py", "async211.py", "async212.py", "async22x.py", "async23x.py", "async232.py", "async250.py", "async251.py")
MAPPING = {
    "ASYNC210": "FR101", "ASYNC211": "FR101", "ASYNC212": "FR101",
    "ASYNC220": "FR103", "ASYNC221": "FR103", "ASYNC222": "FR103",
    "ASYNC230": "FR104", "ASYNC231": "FR104", "ASYNC232": "FR104", "ASYNC240": "FR104",
    "ASYNC250": "FR108", "ASYNC251": "FR102",
}
PREAMBLE = "import io, os, os.path, subprocess, time, urllib, urllib.request, urllib3, requests, httpx, pathlib, trio, anyio\nfrom typing import Optional\n"
EXPECT = re.compile(r"#\s*(ASYNC2\d\d)\s*:")
UNRESOLVABLE = re.compile(r"^\s*(?:print\()?(?:httpx2|request\.urlopen|urlopen|system|spawn)\b")
OPEN_CALL = re.compile(r"(?<![.\w])open\(")


# Findings flake8-async does not expect, read one by one (original line numbers). True positives:
# flake8-async matches names, we know types, so we see calls it documents as "should error" or
# "not handled"; wrong or debatable ones are listed as such and count against precision.
REVIEWED = {
    **{("async211.py", n): "true: PoolManager.request sends a request whatever the method text" for n in range(19, 27)},
    ("async212.py", 98): "true: client: Client = Client() (flake8-async: 'not implemented')",
    ("async232.py", 70): "true: f: None | TextIOWrapper | None (flake8-async: 'not handled')",
    ("async232.py", 247): "true: self.x.read() on a TextIOWrapper attribute ('should error')",
    ("async232.py", 255): "true: self.x.read() on a TextIOWrapper attribute ('should error')",
    ("async232.py", 263): "true: a nested helper that opens a file, called from the coroutine",
    ("async232.py", 264): "true: k.read() on a function's TextIOWrapper return ('should error')",
    ("async212.py", 60): "wrong: the global is rebound to an int later in the module (we are flow-insensitive)",
    ("async23x.py", 19): "debatable: trio.wrap_file(open(...)): the open() still runs synchronously",
    ("async23x.py", 20): "debatable: trio.wrap_file(os.fdopen(...))",
    ("async23x.py", 33): "debatable: trio.wrap_file(open(...))",
}


def main(folder: Path) -> int:
    expected: set[tuple[str, int, str]] = set()
    unresolvable: set[tuple[str, int, str]] = set()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("[project]\nname = 'eval'\n")
        for name in FILES:
            source = (folder / name).read_text()
            (root / name).write_text(PREAMBLE + source)
            in_httpx2 = False
            defs: list[tuple[int, bool]] = []  # (indent, is async) of the enclosing defs
            lines = source.splitlines()
            for number, line in enumerate(lines, start=3):
                stripped = line.lstrip()
                indent = len(line) - len(stripped)
                if stripped and not stripped.startswith("#"):
                    while defs and defs[-1][0] >= indent:
                        defs.pop()
                if stripped.startswith(("def ", "async def ")):
                    defs.append((indent, stripped.startswith("async")))
                if line.startswith(("def ", "async def ")):
                    in_httpx2 = "httpx2" in line
                in_async = bool(defs) and defs[-1][1] and not stripped.startswith(("def ", "async def "))
                if name == "async232.py" and OPEN_CALL.search(line) and in_async and not stripped.startswith("#"):
                    # the file enables only ASYNC232; with ASYNC230 on, flake8-async reports these opens too
                    expected.add((name, number, "FR104"))
                for code in EXPECT.findall(line):
                    if in_httpx2:
                        unresolvable.add((name, number, MAPPING.get(code, code)))
                        continue
                    if code in MAPPING:
                        key = (name, number, MAPPING[code])
                        (unresolvable if UNRESOLVABLE.search(line) else expected).add(key)
        result = scan([root], Settings(cache=False, select=["FR1"]), cwd=root)
        found = {(f.path, f.line, f.code) for f in result.report.findings}
    # one finding per file object: a method call on an object made by an open() we reported in
    # the same function is covered by that finding
    covered = set()
    for path, line, code in expected - found:
        text = (folder / path).read_text().splitlines()
        receiver = re.match(r"\s*(\w+)\.\w+\(", text[line - 3])
        if code == "FR104" and receiver:
            var = receiver.group(1)
            for back in range(line - 4, max(line - 14, -1), -1):
                if re.search(rf"(?:\b{var}\s*=\s*open\(|open\([^)]*\)\s+as\s+{var}\b)", text[back]) and (path, back + 3, code) in found:
                    covered.add((path, line, code))
                    break
    print(f"covered by the finding on the open() that made the file object: {len(covered)}")
    expected -= covered
    hits = expected & found
    unexpected = found - expected - unresolvable
    reviewed = {k: REVIEWED.get((k[0], k[1] - 2), "not reviewed") for k in unexpected}
    wrong = {k for k, why in reviewed.items() if not why.startswith("true")}
    recall = len(hits) / len(expected) if expected else 1.0
    precision = (len(found) - len(wrong)) / len(found) if found else 1.0
    print(f"expected (resolvable) lines: {len(expected)}; found {len(hits)}; recall {recall:.1%}")
    print(f"findings: {len(found)}; not expected by flake8-async: {len(unexpected)}, of which wrong or debatable: {len(wrong)}; precision {precision:.1%}")
    print(f"unresolvable expectations (no import can name them), not counted: {len(unresolvable)}")
    by_file = Counter(k[0] for k in expected - found)
    for (path, line, code) in sorted(expected - found):
        print(f"  missed {path}:{line - 2} {code}")
    for key in sorted(unexpected):
        print(f"  unexpected {key[0]}:{key[1] - 2} {key[2]}: {reviewed[key]}")
    print("missed per file:", dict(by_file))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
