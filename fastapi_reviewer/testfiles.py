"""Which files are tests: rules about production configuration and performance skip them."""

from __future__ import annotations

import functools

TEST_DIRS = frozenset({"tests", "test", "testing"})


@functools.lru_cache(maxsize=None)
def is_test_path(path: str) -> bool:
    """`tests/...`, `test_*.py`, `*_test.py`, `conftest.py` (POSIX display paths)."""
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in TEST_DIRS for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )
