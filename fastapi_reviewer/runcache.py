"""The result of a whole run, cached: a scan whose every input is unchanged returns the last report.

A warm scan of an unchanged project would otherwise load the facts of every file and run the
project phase and every rule again, for the same findings.  The key covers every input of the
report: each file's facts key (content, module name; see cache.py) and display path, the files
reported, the working folder, the config folder, the settings that act on findings (all of them
but the presentational ones below), the tool version and a stamp of the tool's own code and rule
catalog (size and mtime of every .py/.toml file in the package, so an edited checkout misses).

One entry per "slot" (working folder + targets + settings), replaced on every run, so the folder
does not grow with every edit.  Entries are written atomically; anything unreadable is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi_reviewer import __version__
from fastapi_reviewer.cache import FactsCache, cache_key
from fastapi_reviewer.stamps import FileStamps

if TYPE_CHECKING:
    from fastapi_reviewer.catalog import Catalog

MAGIC = b"FRR2"  # the key, then (report, suppressed): two pickles
# settings that change how findings are shown or what the exit code is, not which findings exist
PRESENTATION = frozenset({"format", "output_file", "color", "quiet", "statistics", "show_source", "exit_zero", "fail_on", "jobs", "cache", "cache_dir", "llm"})

_STAMP: str | None = None


def code_stamp() -> str:
    """Size and mtime of every .py and .toml file of the package and its rule catalog."""
    global _STAMP
    if _STAMP is None:
        h = hashlib.blake2b(__version__.encode(), digest_size=12)
        package = Path(__file__).resolve().parent
        folders = [package]
        try:
            from fastapi_reviewer.catalog import rules_dir

            rules = rules_dir()
            if package not in rules.parents:
                folders.append(rules)
        except Exception:  # noqa: BLE001 - no catalog: load_catalog reports it
            pass
        for folder in folders:
            todo = [str(folder)]
            while todo:
                current = todo.pop()
                try:
                    with os.scandir(current) as it:
                        entries = sorted(it, key=lambda e: e.name)
                except OSError:
                    continue
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__":
                            todo.append(entry.path)
                    elif entry.name.endswith((".py", ".toml")):
                        st = entry.stat()
                        h.update(f"{entry.path}:{st.st_size}:{st.st_mtime_ns};".encode())
        _STAMP = h.hexdigest()
    return _STAMP


def read_inputs(entries: list[tuple[Path, str, str, bool]], stamps: FileStamps | None = None) -> dict[Path, tuple[str, int]]:
    """Each readable file's facts key (what collect_facts would compute) and size; a file whose
    stamp is unchanged (stamps.py) is not read at all, and no file's bytes are kept."""
    found: dict[Path, tuple[str, int]] = {}
    for path, _display, module, is_package in entries:
        name = str(path)
        try:
            if stamps is not None:
                st = os.stat(path)
                key = stamps.key(name, st, module, is_package)
                if key is not None:
                    found[path] = (key, st.st_size)
                    continue
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())  # the stamp of what is read
                data = fh.read()
        except OSError:
            continue  # collect_facts reports it
        key = cache_key(data, module, is_package)
        if stamps is not None:
            stamps.record(name, st, module, is_package, key)
        found[path] = (key, len(data))
    if stamps is not None:
        stamps.save()
    return found


class RunKey:
    def __init__(
        self,
        entries: list[tuple[Path, str, str, bool]],
        inputs: dict[Path, tuple[str, int]],
        settings: Any,
        cwd: Path,
        config_dir: Path | None,
        root: Path,
        reported: set[str],
        targets: list[str],
    ) -> None:
        chosen = {k: v for k, v in settings.model_dump(mode="json").items() if k not in PRESENTATION}
        context = json.dumps([code_stamp(), str(cwd), str(config_dir), str(root), chosen], sort_keys=True, default=str).encode()
        # the slot: one entry per working folder, targets and settings, whatever the files hold
        self.slot = hashlib.blake2b(context + json.dumps(sorted(targets)).encode(), digest_size=16).hexdigest()
        h = hashlib.blake2b(context + json.dumps(sorted(reported)).encode(), digest_size=20)
        for path, display, module, is_package in entries:
            key = inputs[path][0] if path in inputs else "unreadable"
            h.update(f"{display}\x1f{module}\x1f{int(is_package)}\x1f{key}\x1e".encode())
        self.key = h.hexdigest()

    def _path(self, cache: FactsCache) -> Path:
        return cache.root / "runs" / f"{self.slot}.pickle"

    def load(self, cache: FactsCache) -> tuple[Any, int] | None:
        """(report, suppressed) of the last run with exactly these inputs, or None."""
        try:
            with open(self._path(cache), "rb") as fh:
                if fh.read(4) != MAGIC:
                    return None
                # the key first: the report (megabytes for a big project) is read only if it matches
                if pickle.load(fh) != self.key:
                    return None
                report, suppressed = pickle.load(fh)
        except Exception:  # noqa: BLE001 - missing, corrupt, truncated, another version: a miss
            return None
        from fastapi_reviewer.findings import Report

        if not isinstance(report, Report) or not isinstance(suppressed, int):
            return None
        return report, suppressed

    def save(self, cache: FactsCache, report: Any, suppressed: int) -> None:
        target = self._path(cache)
        def write(fh: Any) -> None:  # streamed: the report of a big project is megabytes
            fh.write(MAGIC)
            pickle.dump(self.key, fh, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump((report, suppressed), fh, protocol=pickle.HIGHEST_PROTOCOL)

        cache.write_atomic(target, write)


CATALOG = "catalog.pickle"


def load_catalog_cached(cache: FactsCache) -> Catalog:
    """The rule catalog, from the cache folder when the tool's code and catalog are unchanged (the
    code stamp): parsing ~35 TOML files is ~15 ms of every run, loading the pickle ~1 ms."""
    import pydantic

    from fastapi_reviewer.catalog import Catalog, load_catalog

    key = f"{code_stamp()}:{pydantic.VERSION}"
    path = cache.root / CATALOG
    try:
        saved_key, catalog = pickle.loads(path.read_bytes())
        if saved_key == key and isinstance(catalog, Catalog):
            return catalog
    except Exception:  # noqa: BLE001, S110 - missing, damaged, from other code: parse the catalog
        pass
    catalog = load_catalog()
    cache.write_atomic(path, pickle.dumps((key, catalog), protocol=pickle.HIGHEST_PROTOCOL))
    return catalog
