"""File stamps: the facts key of an unchanged file from its ``stat``, without reading it.

A warm run or a pre-commit run would otherwise read and hash every file of the project to find its
cache key (cache.py).  Like git's index, the last run records each file's (mtime, size, inode,
ctime) with the key it computed; a file whose stat is the same is taken as unchanged.  The racy
case (a file rewritten within the clock's resolution, same size) is handled as git does: a stamp
is trusted only when the file's mtime is older than the moment it was recorded by more than
``RACY_NS``, so a file edited right before a run is hashed again until its stamp settles.

The stamps are dropped whole when the facts key prefix (tool version, facts code, Python, libcst)
changes.  One file per cache folder, written atomically when something changed; unreadable means
empty.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

from fastapi_reviewer.cache import FactsCache, key_prefix
from fastapi_reviewer.warm import STAMPS

MAGIC = b"FRS1"
RACY_NS = 2_000_000_000  # mtime granularity of the slowest file systems (FAT: 2 s)

Stamp = tuple[int, int, int, int, str, bool, str, int]  # mtime, size, inode, ctime, module, package, key, recorded


class FileStamps:
    def __init__(self, cache: FactsCache) -> None:
        self.target = cache.root / STAMPS
        self.cache = cache
        self.prefix = key_prefix()
        self.entries: dict[str, Stamp] = {}
        self.changed = False
        try:
            with open(self.target, "rb") as fh:
                blob = fh.read()
            if blob[:4] == MAGIC:
                prefix, entries = pickle.loads(memoryview(blob)[4:])
                if prefix == self.prefix and isinstance(entries, dict):
                    self.entries = entries
        except Exception:  # noqa: BLE001 - missing, corrupt, foreign: no stamps, every file is read
            self.entries = {}

    def key(self, path: str, st: os.stat_result, module: str, is_package: bool) -> str | None:
        """The recorded key when the file is the one recorded (and not racy), else None."""
        found = self.entries.get(path)
        if found is None:
            return None
        mtime, size, inode, ctime, mod, package, key, recorded = found
        if (
            st.st_mtime_ns != mtime or st.st_size != size or st.st_ino != inode or st.st_ctime_ns != ctime
            or mod != module or package != is_package or recorded - mtime <= RACY_NS
        ):
            return None
        return key

    def record(self, path: str, st: os.stat_result, module: str, is_package: bool, key: str) -> None:
        self.entries[path] = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns, module, is_package, key, time.time_ns())
        self.changed = True

    def save(self) -> None:
        if self.changed:
            blob = MAGIC + pickle.dumps((self.prefix, self.entries), protocol=pickle.HIGHEST_PROTOCOL)
            self.cache.write_atomic(Path(self.target), blob)
            self.changed = False
