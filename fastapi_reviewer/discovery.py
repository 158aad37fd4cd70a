"""Which files to read: the project's Python files, minus ignored and excluded ones.

The whole project (from its root: the nearest folder above the targets with a pyproject.toml,
setup.py, setup.cfg or .git) is indexed so that calls into other modules can be followed; findings
are reported only for the paths the user named.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_EXCLUDES = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv",
    ".vscode", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist", "node_modules",
    "site-packages", "venv", ".fastapi_review_cache", "*.egg-info",
)
ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


class DiscoveryError(Exception):
    pass


@dataclass
class Discovery:
    root: Path
    files: list[Path]  # every file to index, absolute
    report: set[Path] = field(default_factory=set)  # the files whose findings are shown


def find_root(targets: list[Path]) -> Path:
    first = targets[0].resolve()
    start = first if first.is_dir() else first.parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    if len(targets) == 1:
        return start
    return Path(os.path.commonpath([str(t.resolve() if t.is_dir() else t.resolve().parent) for t in targets]))


class Excluder:
    """ruff-like exclusion: a bare pattern matches any path part, one with `/` the relative path."""

    def __init__(self, root: Path, patterns: list[str]) -> None:
        self.root = root
        self.part_patterns = [p.rstrip("/") for p in patterns if "/" not in p.rstrip("/")]
        self.path_patterns = [p.strip("/").rstrip("/") for p in patterns if "/" in p.rstrip("/")]
        # the same tests, compiled once: exact names in a set, globs in one regex each
        self._part_names = {p for p in self.part_patterns if not _GLOB.search(p)}
        self._part_glob = _compile([p for p in self.part_patterns if _GLOB.search(p)])
        self._path_glob = _compile(self.path_patterns)

    def excluded(self, path: Path) -> bool:
        try:
            rel = path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            rel = path.as_posix()
        parts = rel.split("/")
        for pattern in self.part_patterns:
            if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
                return True
        for pattern in self.path_patterns:
            for i in range(1, len(parts) + 1):
                if fnmatch.fnmatchcase("/".join(parts[:i]), pattern):
                    return True
        return False

    def excluded_entry(self, name: str, rel: str) -> bool:
        """``excluded`` for a path under the root whose parent folder is not excluded (a walk):
        only its own name and its whole relative path can still match."""
        if name in self._part_names or (self._part_glob is not None and self._part_glob.match(name)):
            return True
        return self._path_glob is not None and self._path_glob.match(rel) is not None


_GLOB = re.compile(r"[*?\[]")


def _compile(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _git_files(root: Path) -> set[str] | None:
    """Files git does not ignore (tracked or not), or None outside a git work tree."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.py", "*.pyi"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    # as joined, not resolved, as strings: _walk compares the paths it found (``DirEntry.path``)
    # before resolving them
    base = str(root)
    return {os.path.join(base, name) for name in out.stdout.decode(errors="surrogateescape").split("\0") if name}


def _walk(folder: Path, excluder: Excluder, allowed: set[str] | None = None) -> list[Path]:
    """Python files under the folder (resolved), pruning excluded folders, like os.walk does.

    Symbolic links go the old, exact way (resolved, then tested); everything else is tested on its
    name and relative path only, which is what ``Excluder.excluded`` amounts to for them.
    """
    found: list[Path] = []
    try:
        start = folder.resolve().relative_to(excluder.root).as_posix()
    except ValueError:
        start = None
    if start == ".":
        start = ""
    todo: list[tuple[str, str | None]] = [(str(folder), start)]
    while todo:
        current, rel = todo.pop()
        try:
            with os.scandir(current) as it:
                entries = list(it)
        except OSError:
            continue  # os.walk skips what it cannot list
        for entry in entries:
            name = entry.name
            child = f"{rel}/{name}" if rel else name
            try:
                is_dir = entry.is_dir()
                is_link = entry.is_symlink()
            except OSError:
                is_dir = is_link = False
            if is_dir:
                if not is_link and not (excluder.excluded_entry(name, child) if rel is not None else excluder.excluded(Path(entry.path))):
                    todo.append((entry.path, child if rel is not None else None))
                continue
            if not name.endswith((".py", ".pyi")):
                continue
            if allowed is not None and entry.path not in allowed and not is_link:
                continue
            if is_link or rel is None:
                path = Path(entry.path)
                if not excluder.excluded(path):
                    resolved = path.resolve()
                    if allowed is None or entry.path in allowed or str(resolved) in allowed:
                        found.append(resolved)
            elif not excluder.excluded_entry(name, child):
                found.append(Path(entry.path))
    return found


def discover(
    targets: list[Path],
    exclude: list[str],
    extend_exclude: list[str],
    force_exclude: bool,
    respect_gitignore: bool,
) -> Discovery:
    for target in targets:
        if not target.exists():
            raise DiscoveryError(f"{target}: no such file or directory")
    root = find_root(targets)
    excluder = Excluder(root, [*DEFAULT_EXCLUDES, *exclude, *extend_exclude])
    allowed = _git_files(root) if respect_gitignore else None
    every = _walk(root, excluder, allowed)
    report: set[Path] = set()
    explicit: set[Path] = set()
    for target in targets:
        resolved = target.resolve()
        if resolved.is_file():
            if force_exclude and excluder.excluded(resolved):
                continue
            report.add(resolved)
            explicit.add(resolved)
        else:
            prefix = str(resolved) + os.sep
            report.update(p for p in every if str(p).startswith(prefix) or p.parent == resolved)
    files = sorted(set(every) | explicit, key=_path_order)
    return Discovery(root=root, files=files, report=report)


def _path_order(path: Path) -> tuple[str, ...]:
    return path.parts  # Path's own order (POSIX), compared in C


def module_name(path: Path, root: Path, resolved: bool = False) -> tuple[str, bool]:
    """Dotted module name from the project root (a leading `src` folder dropped), and is-package.

    ``resolved``: the path is already resolved (discovery's paths are): no file-system look-up,
    only string work (a run computes this for every file of the project)."""
    full = str(path if resolved else path.resolve())
    base = str(root)
    prefix = base if base.endswith(os.sep) else base + os.sep
    parts = full[len(prefix) :].split(os.sep) if full.startswith(prefix) else [path.name]
    parts[-1] = os.path.splitext(parts[-1])[0]
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    is_package = bool(parts) and parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    name = ".".join(p for p in parts if p.isidentifier() or p)
    return name, is_package
