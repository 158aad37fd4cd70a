"""Benchmark fastapi-review against the libcst parse floor and its peers, side by side in one run.

    python bench/run.py                       # generate bench/corpus/2000 (if needed) and measure
    python bench/run.py --corpus ~/src/myapp  # any folder
    python bench/run.py --runs 5 --peer-runs 1 --no-memory --write

Every figure is whole-process wall time (python start-up, imports, discovery, pool start-up
included), the median of --runs runs, with the peak resident memory of the process tree (the
largest process: os.wait4's ru_maxrss covers the child and the children it waited for) and the CPU
seconds of the tree.  The floor and the cold scans are measured interleaved, run by run, so their
ratios compare the same moments of a machine whose speed drifts.  Rows:

- parse floor, jN: a process pool of N workers doing only ``libcst.parse_module`` on the same
  files (read + decode + parse, no visitor), in-process for N=1 -- what any libcst-based tool pays;
- fastapi-review cold, jN: an empty cache folder (the run parses everything and writes the cache);
- fastapi-review warm: the same command again on the unchanged corpus;
- pre-commit: 10 files named on the command line (``--force-exclude``), each edited before the run
  (a comment appended) so they miss the cache, with a warm cache for the rest of the project;
- ruff (``check --select ASYNC,FAST --no-cache``) and flake8 + flake8-async (``--select ASYNC``),
  installed from PyPI into bench/.work/venv (created on first use, never a project dependency);
- peak memory on a 6,000-file corpus (cold and warm).

The generated corpora live in bench/corpus/ and the peers' venv in bench/.work/ (both gitignored).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
PEER_VENV = WORK / "venv"
PEERS = ("ruff", "flake8", "flake8-async")
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", "node_modules", ".fastapi_review_cache", ".tox", "build", "dist"}


# ----------------------------------------------------------------------------- measuring
@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    code: int


@dataclass
class Row:
    name: str
    workers: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> float:
        """Peak RSS of the median-time run (a first warm run that had to parse would skew a max)."""
        ordered = sorted(self.samples, key=lambda s: s.wall)
        return ordered[(len(ordered) - 1) // 2].rss_mb


def measure(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0, 1)) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in ok:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def repeat(row: Row, runs: int, cmd: list[str], before=None, **kw) -> Row:  # type: ignore[no-untyped-def]
    return interleave([(row, cmd, before, kw)], runs)[0]


def interleave(plans: list[tuple[Row, list[str], Any, dict[str, Any]]], runs: int) -> list[Row]:
    """Run i of every plan, then run i+1 of every plan...: rows compared as a ratio (the parse floor
    and the cold scans) see the same moments of a machine whose speed drifts (a shared VM: 10-20 %
    within minutes), instead of one block of runs each."""
    for i in range(runs):
        for row, cmd, before, kw in plans:
            if before is not None:
                before(i)
            row.samples.append(measure(cmd, **kw))
            print(f"  {row.name:<34} {row.workers:>3}  run {i + 1}/{runs}: {row.samples[-1].wall:7.3f} s", file=sys.stderr, flush=True)
    return [row for row, *_ in plans]


# ----------------------------------------------------------------------------- the parse floor
def python_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        found.extend(Path(current, f) for f in sorted(files) if f.endswith(".py"))
    return found


def _floor_chunk(paths: list[str]) -> int:
    import libcst

    parsed = 0
    for path in paths:
        try:
            libcst.parse_module(Path(path).read_bytes().decode("utf-8"))
            parsed += 1
        except Exception:  # noqa: BLE001 - a file libcst rejects costs what it cost
            pass
    return parsed


def floor_main(root: Path, workers: int) -> None:
    """`python bench/run.py --floor DIR N`: parse every file with libcst, nothing else."""
    files = python_files(root)
    if workers <= 1:
        _floor_chunk([str(p) for p in files])
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ordered = sorted(files, key=lambda p: -p.stat().st_size)
    chunks = [[str(p) for p in ordered[i : i + 8]] for i in range(0, len(ordered), 8)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        sum(pool.map(_floor_chunk, chunks))


# ----------------------------------------------------------------------------- set-up
def ensure_corpus(files: int, seed: int) -> Path:
    sys.path.insert(0, str(HERE))
    from corpus import generate  # type: ignore[import-not-found]

    out = HERE / "corpus" / str(files)
    stamp = out / ".stamp"
    want = f"{files} {seed} {(HERE / 'corpus.py').stat().st_mtime_ns}"
    if not stamp.exists() or stamp.read_text() != want:
        print(f"generating a {files}-file corpus in {out}", file=sys.stderr)
        generate(out, files, seed)
        stamp.write_text(want)
    return out


def ensure_peers() -> Path:
    bin_dir = PEER_VENV / "bin"
    if not (bin_dir / "flake8").exists() or not (bin_dir / "ruff").exists():
        print(f"installing {', '.join(PEERS)} into {PEER_VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *PEERS], check=True)
    return bin_dir


def peer_versions(bin_dir: Path) -> str:
    out = subprocess.run([str(bin_dir / "python"), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    keep = {p.lower() for p in (*PEERS, "libcst")}
    return ", ".join(line.replace("==", " ") for line in out.splitlines() if line.split("==")[0].lower() in keep)


def reviewer_cmd(snapshot: Path | None = None) -> list[str]:
    if snapshot is not None:
        # PYTHONPATH=snapshot (see snapshot_code); -P: the working folder must not shadow it
        return [sys.executable, "-P", "-m", "fastapi_reviewer"]
    script = Path(sys.executable).parent / "fastapi-review"
    return [str(script)] if script.exists() else [sys.executable, "-m", "fastapi_reviewer"]


def snapshot_code(into: Path) -> Path | None:
    """A copy of the package (and its rule catalog) as it is now, so that edits made to the work tree
    while the benchmark runs (the facts code is part of the cache key) cannot change what is measured."""
    import fastapi_reviewer

    package = Path(fastapi_reviewer.__file__).resolve().parent
    target = into / "code"
    shutil.copytree(package, target / "fastapi_reviewer", ignore=shutil.ignore_patterns("__pycache__"))
    for extra in ("rules", "prompts"):
        source = package.parent / extra
        if source.is_dir() and not (target / "fastapi_reviewer" / extra).exists():
            shutil.copytree(source, target / "fastapi_reviewer" / extra)
    import compileall

    compileall.compile_dir(str(target), quiet=1)  # the first measured run must not compile it
    return target


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        import libcst  # noqa: F401

        libcst_version = version("libcst")
        reviewer_version = version("fastapi-review")
    except Exception:  # noqa: BLE001
        libcst_version = reviewer_version = "?"
    return {
        "cpus": str(os.cpu_count()),
        "affinity": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "cpu": cpu,
        "python": platform.python_version(),
        "libcst": libcst_version,
        "fastapi-review": reviewer_version,
        "date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


def describe(root: Path) -> str:
    files = python_files(root)
    sizes = sorted(len(p.read_bytes().splitlines()) for p in files)
    if not sizes:
        return f"{root}: no Python files"
    return (
        f"{len(files)} files, {sum(sizes):,} lines (median {statistics.median(sizes):.0f}, "
        f"p90 {sizes[int(len(sizes) * 0.9)]}, max {sizes[-1]})"
    )


# ----------------------------------------------------------------------------- the benchmark
def edit_files(files: list[Path], originals: dict[Path, bytes], i: int) -> None:
    for path in files:
        path.write_bytes(originals[path] + f"# bench edit {i} {time.time_ns()}\n".encode())


def pick_precommit(root: Path, count: int) -> list[Path]:
    files = [p for p in python_files(root) if p.stat().st_size > 200]
    # spread over the project: every k-th file in path order, routers and services preferred
    preferred = [p for p in files if p.stem in ("router", "service", "routes", "views", "api", "endpoints")] or files
    step = max(1, len(preferred) // count)
    return preferred[::step][:count]


def run(args: argparse.Namespace) -> tuple[list[Row], dict[str, str], str]:
    root = args.corpus.resolve() if args.corpus else ensure_corpus(args.files, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="frbench-"))
    snapshot = snapshot_code(tmp) if not args.live_code else None
    review = reviewer_cmd(snapshot)
    workers = args.jobs or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    job_counts = sorted({1, workers})
    rows: list[Row] = []
    runs = args.runs
    env = dict(os.environ, NO_COLOR="1")
    env.pop("FASTAPI_REVIEW_DEBUG", None)
    if snapshot is not None:
        env["PYTHONPATH"] = str(snapshot) + os.pathsep + env.get("PYTHONPATH", "")
    common = ["--exit-zero", "-q", "--format", "concise"]
    try:
        # the floor and the cold scans interleaved, run by run: their ratios are the targets
        # (each floor next to its cold scan); the table lists floors first
        plans: list[tuple[Row, list[str], Any, dict[str, Any]]] = []
        for n in job_counts:
            cache = tmp / f"cold{n}"

            def wipe(_: int, cache: Path = cache) -> None:
                shutil.rmtree(cache, ignore_errors=True)

            plans.append((Row("libcst parse floor", f"j{n}"), [sys.executable, str(Path(__file__).resolve()), "--floor", str(root), str(n)], None, {}))
            plans.append((Row("fastapi-review cold", f"j{n}"), [*review, str(root), *common, "--jobs", str(n), "--cache-dir", str(cache)], wipe, {"env": env}))
        plans.append((Row("fastapi-review --no-cache", f"j{workers}"), [*review, str(root), *common, "--jobs", str(workers), "--no-cache"], None, {"env": env}))
        measured = interleave(plans, runs)
        rows.extend(sorted(measured, key=lambda r: r.name != "libcst parse floor"))  # stable: floors, then the scans
        warm_cache = tmp / f"cold{workers}"  # left populated by the last cold run
        rows.append(repeat(Row("fastapi-review warm", f"j{workers}"), runs, [*review, str(root), *common, "--jobs", str(workers), "--cache-dir", str(warm_cache)], env=env))

        picked = pick_precommit(root, args.precommit)
        originals = {p: p.read_bytes() for p in picked}
        try:
            rows.append(
                repeat(
                    Row(f"pre-commit, {len(picked)} edited files, warm", f"j{workers}"),
                    runs,
                    [*review, "--force-exclude", *map(str, picked), *common, "--cache-dir", str(warm_cache)],
                    before=lambda i: edit_files(picked, originals, i),
                    env=env,
                    cwd=root,
                )
            )
        finally:
            for path, data in originals.items():
                path.write_bytes(data)

        versions = ""
        if not args.no_peers:
            bin_dir = ensure_peers()
            versions = peer_versions(bin_dir)
            peer_runs = args.peer_runs or runs
            rows.append(repeat(Row("ruff --select ASYNC,FAST --no-cache", "-"), peer_runs, [str(bin_dir / "ruff"), "check", "--select", "ASYNC,FAST", "--no-cache", "--exit-zero", "--quiet", str(root)]))
            for n in job_counts if args.flake8_all_jobs else [workers]:  # flake8-async is slow: minutes per run
                rows.append(repeat(Row("flake8 --select ASYNC (flake8-async)", f"j{n}"), peer_runs, [str(bin_dir / "flake8"), "--select", "ASYNC", "--exit-zero", "-j", str(n), str(root)]))
            rows.append(repeat(Row(f"ruff, the {len(picked)} pre-commit files", "-"), runs, [str(bin_dir / "ruff"), "check", "--select", "ASYNC,FAST", "--no-cache", "--exit-zero", "--quiet", *map(str, picked)]))
            rows.append(repeat(Row(f"flake8-async, the {len(picked)} pre-commit files", "j1"), runs, [str(bin_dir / "flake8"), "--select", "ASYNC", "--exit-zero", "-j", "1", *map(str, picked)]))

        if args.memory_files:
            big = ensure_corpus(args.memory_files, args.seed)
            cache = tmp / "big"
            rows.append(repeat(Row(f"cold, {args.memory_files} files (memory)", f"j{workers}"), 1, [*review, str(big), *common, "--cache-dir", str(cache)], env=env))
            rows.append(repeat(Row(f"warm, {args.memory_files} files (memory)", f"j{workers}"), 1, [*review, str(big), *common, "--cache-dir", str(cache)], env=env))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info = machine()
    info["corpus"] = f"{root}: {describe(root)}"
    info["peers"] = versions or "(not run)"
    info["workers"] = str(workers)
    info["runs"] = f"median of {runs}" + (f" (peers: {args.peer_runs})" if args.peer_runs and not args.no_peers else "")
    return rows, info, str(workers)


def find(rows: list[Row], prefix: str, workers: str | None = None) -> Row | None:
    for row in rows:
        if row.name.startswith(prefix) and (workers is None or row.workers == workers):
            return row
    return None


def table(rows: list[Row], info: dict[str, str], workers: str) -> str:
    floor = {r.workers: r for r in rows if r.name == "libcst parse floor"}
    flake = find(rows, "flake8 --select", f"j{workers}")
    lines = [
        "| run | workers | wall s (median) | CPU s | peak RSS MB | vs parse floor | vs flake8-async |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        vs_floor = f"{r.wall / floor[r.workers].wall:.2f}x" if r.workers in floor and "files" not in r.name else ""
        vs_flake = f"{r.wall / flake.wall:.3f}x" if flake is not None and r.name.startswith("fastapi-review cold") else ""
        lines.append(f"| {r.name} | {r.workers} | {r.wall:.3f} | {r.cpu:.2f} | {r.rss:.0f} | {vs_floor} | {vs_flake} |")
    w = f"j{workers}"
    cold, cold1, warm, pre = find(rows, "fastapi-review cold", w), find(rows, "fastapi-review cold", "j1"), find(rows, "fastapi-review warm"), find(rows, "pre-commit")
    mem = [r for r in rows if "(memory)" in r.name]
    targets: list[tuple[str, str, bool | None]] = []
    if cold is not None and w in floor:
        ratio = cold.wall / floor[w].wall
        targets.append((f"cold <= 1.5x parse floor ({w})", f"{ratio:.2f}x", ratio <= 1.5))
    if cold is not None and flake is not None:
        ratio = cold.wall / flake.wall
        targets.append((f"cold <= 0.3x flake8-async ({w})", f"{ratio:.3f}x", ratio <= 0.3))
    if cold is not None and cold1 is not None and cold is not cold1:
        speedup = cold1.wall / cold.wall
        targets.append((f"--jobs {workers} >= 1.6x faster than --jobs 1", f"{speedup:.2f}x", speedup >= 1.6))
    if cold is not None and warm is not None:
        share = warm.wall / cold.wall
        targets.append(("warm <= 10% of cold and < 1 s", f"{share:.1%}, {warm.wall:.3f} s", share <= 0.10 and warm.wall < 1.0))
    if pre is not None:
        targets.append(("pre-commit (10 files, warm rest) < 0.7 s", f"{pre.wall:.3f} s", pre.wall < 0.7))
    if mem:
        peak = max(r.rss for r in mem)
        targets.append((f"peak memory on {mem[0].name.split(',')[1].split('(')[0].strip()} < 400 MB", f"{peak:.0f} MB", peak < 400))
    lines += ["", "| target | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {t} | {m} | {'yes' if ok else 'NO'} |" for t, m, ok in targets]
    head = [f"- {k}: {v}" for k, v in info.items()]
    return "\n".join(head) + "\n\n" + "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--floor":
        floor_main(Path(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a folder to benchmark on (default: a generated corpus)")
    parser.add_argument("--files", type=int, default=2000, help="size of the generated corpus")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="runs per row (the median is shown)")
    parser.add_argument("--peer-runs", type=int, default=0, help="runs for the slow peers (default: --runs)")
    parser.add_argument("--jobs", type=int, default=0, help="workers (default: the CPUs available)")
    parser.add_argument("--precommit", type=int, default=10, help="files in the pre-commit run")
    parser.add_argument("--memory-files", type=int, default=6000, help="size of the peak-memory corpus (0: skip)")
    parser.add_argument("--no-memory", action="store_const", const=0, dest="memory_files")
    parser.add_argument("--no-peers", action="store_true", help="skip ruff and flake8-async")
    parser.add_argument("--flake8-all-jobs", action="store_true", help="run flake8-async at --jobs 1 too (slow)")
    parser.add_argument("--write", action="store_true", help="replace the table in bench/RESULTS.md")
    parser.add_argument("--live-code", action="store_true", help="run the installed code, not a snapshot taken at the start")
    args = parser.parse_args()
    rows, info, workers = run(args)
    text = table(rows, info, workers)
    print(text)
    WORK.mkdir(exist_ok=True)
    (WORK / "last-results.md").write_text(text)
    if args.write:
        results = HERE / "RESULTS.md"
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        old = results.read_text() if results.exists() else f"# Benchmark results\n\n{begin}\n{end}\n"
        if begin not in old:
            old += f"\n{begin}\n{end}\n"
        before, rest = old.split(begin, 1)
        after = rest.split(end, 1)[1]
        results.write_text(f"{before}{begin}\n{text}{end}{after}")
        print(f"wrote {results}", file=sys.stderr)


if __name__ == "__main__":
    main()
