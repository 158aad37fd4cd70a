"""Per-file facts cached on disk, keyed by content, module name and tool version.

Entries are pickles written atomically (temp file + rename), so parallel runs (pre-commit) never
see half a file; anything unreadable (corrupt, foreign, from another version) is treated as a miss.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from fastapi_reviewer import __version__
from fastapi_reviewer.facts.model import ModuleFacts



def _schema() -> str:
    """Changes whenever a facts dataclass gains, loses or renames a field: old entries then miss."""
    import dataclasses

    from fastapi_reviewer.facts import model

    parts = []
    for name in sorted(vars(model)):
        obj = getattr(model, name)
        if dataclasses.is_dataclass(obj) and isinstance(obj, type):
            parts.append(name + ":" + ",".join(f.name for f in dataclasses.fields(obj)))
    return hashlib.blake2b(";".join(parts).encode(), digest_size=8).hexdigest()


FACTS_SCHEMA = _schema()


def cache_key(data: bytes, module: str, is_package: bool) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{__version__}\x1f{FACTS_SCHEMA}\x1f{module}\x1f{int(is_package)}\x1f".encode())
    h.update(data)
    return h.hexdigest()


class FactsCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / "facts"

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pickle"

    def get(self, key: str) -> ModuleFacts | None:
        try:
            with self._path(key).open("rb") as fh:
                value = pickle.load(fh)
        except Exception:  # noqa: BLE001 - any unreadable entry is a miss, rebuilt below
            return None
        return value if isinstance(value, ModuleFacts) else None

    def put(self, key: str, facts: ModuleFacts) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._ensure_gitignore()
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(facts, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except OSError:
            return  # a read-only checkout still scans, just without caching

    def _ensure_gitignore(self) -> None:
        marker = self.directory.parent / ".gitignore"
        if not marker.exists():
            marker.write_text("# created by fastapi-review\n*\n")


def clean(directory: Path) -> int:
    """Remove the cache folder; returns the number of files removed."""
    import shutil

    if not directory.exists():
        return 0
    count = sum(1 for p in directory.rglob("*") if p.is_file())
    shutil.rmtree(directory, ignore_errors=True)
    return count
