"""Run the test suites of threaded PyPI projects under `pytest --race` and print every report.

    python benchmarks/realworld_suites.py [--only NAME ...] [--mode python|strict] [--timeout S] [--heavy]

For each project below (pinned release), the sdist — which ships the tests — is fetched from the
package registry and unpacked once, and the release is installed with its test dependencies in a
cached environment made with this interpreter (see tests/realworld/realworld_venvs.py). The selected
tests then run twice from the unpacked sdist: plain, and with `--race --race-include <package>*`.
The script prints, per project, every data-race and potential-deadlock report (deduplicated, with
the test it was charged to), and which tests fail only under --race. A report is not a verdict: read
it against the project's code (docs/detector.md, "Real-world check", keeps the verdicts).

Exit status: 0 when every suite ran (reports or not), 1 when a suite could not run (registry down,
install or collection failure, timeout), 2 for bad usage. Selections keep the run to a few minutes
on 2 cores: process-pool, network-server and optional-dependency tests are left out (see SELECTED).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "realworld"))
from realworld_venvs import PIP_NETWORK, RegistryError, cache_root, ensure_venv, venv_python


@dataclass(frozen=True)
class Project:
    name: str  # PyPI name
    version: str
    package: str  # import name, for --race-include
    deps: tuple[str, ...]  # test dependencies (the release's own come with it)
    tests: tuple[str, ...]  # pytest arguments, relative to the sdist root
    heavy: tuple[str, ...] = ()  # the arguments with --heavy, when they differ


# Pinned releases; each selection is what the note says and nothing else.
SELECTED: tuple[Project, ...] = (
    # lock, reader-writer lock, decorators (process locks and eventlet left out)
    Project("fasteners", "0.20", "fasteners", ("diskcache==5.6.3", "more-itertools==10.5.0"),
            ("tests/test_lock.py", "tests/test_reader_writer_lock.py", "tests/test_decorators.py",
             "tests/test_helpers.py")),
    # the threaded recipes (locks, semaphores, throttle, memoize-stampede) and the deque
    Project("diskcache", "5.6.3", "diskcache", (), ("tests/test_recipes.py", "tests/test_deque.py")),
    # the whole suite but one test: 500 000 cache hits in one thread take 43 s under --race (0.7 s plain)
    Project("cachetools", "8.0.3", "cachetools", (), ("tests", "-k", "not test_lfu_copy_use_counts")),
    # metrics and exposition (the optional twisted/aiohttp/django/asgi bridges left out)
    Project("prometheus_client", "0.26.0", "prometheus_client", (),
            ("tests/test_core.py", "tests/test_exposition.py", "tests/test_wsgi.py")),
    # the thread-based locks (the asyncio variants left out); test_multi_thread runs 250 threads for
    # 6 x 30 s whatever the speed (3 minutes plain, as long again under --race): --heavy adds it
    Project("readerwriterlock", "1.0.10", "readerwriterlock", (),
            ("tests/test_rwlock.py", "-k", "not test_multi_thread"), heavy=("tests/test_rwlock.py",)),
    # thread pool and thread decorators (the process-based ones fork and spawn: left out)
    Project("pebble", "5.2.3", "pebble", (),
            ("test/test_thread_pool.py", "test/test_concurrent_thread.py",
             "test/test_asynchronous_thread.py")),
    # the executors (the module imports tornado; the coroutine ones run on anyio) and the schedulers
    Project("APScheduler", "3.11.3", "apscheduler", ("pytz==2025.2", "tornado==6.4.2", "anyio==4.8.0"),
            ("tests/test_executors.py", "tests/test_schedulers.py",
             "-k", "not gevent and not twisted and not qt")),
    # the sync and mixed sync/async sides of the queue
    Project("janus", "2.0.0", "janus", ("pytest-asyncio==1.3.0",),
            ("tests/test_sync.py", "tests/test_mixed.py")),
)

# plugins of racefree's own environment that must not join the projects' runs
FOREIGN_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:xdist", "-p", "no:randomly",
                   "-p", "no:cacheprovider")
REPORT_START = re.compile(r"^WARNING: (DATA RACE|POTENTIAL DEADLOCK)")
HEAD = re.compile(r"^(Read|Write|Previous) ")
SECTION = re.compile(r"^_{3,} (.+?) _{3,}$")
OUTCOME = re.compile(r"^(FAILED|ERROR) (\S+)")
COUNTS = re.compile(r"^=*\s*(\d+ (passed|failed|error|errors|skipped|deselected|xfailed).*?) in [\d.]+s")


class SuiteError(RuntimeError):
    """A suite could not be run (message is one line)."""


def _sdist(project: Project) -> Path:
    """Unpack the release's sdist once; return its root."""
    root = cache_root() / "sdists" / f"{project.name}-{project.version}"
    if root.is_dir():
        return root
    download = cache_root() / "sdists" / ".download"
    download.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input", "-q",
         *PIP_NETWORK, "--no-deps", "--no-binary", ":all:", "-d", str(download),
         f"{project.name}=={project.version}"], capture_output=True, text=True)
    if proc.returncode != 0:
        last = ([ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")] or ["pip failed"])[-1]
        raise SuiteError(f"cannot download the sdist of {project.name}=={project.version}: {last[:300]}")
    norm = project.name.lower().replace("-", "_")
    archives = [p for p in download.iterdir()
                if p.name.lower().replace("-", "_").startswith(f"{norm}_{project.version}.")
                or p.name.lower().replace("-", "_") == f"{norm}_{project.version}.tar.gz"]
    if not archives:
        raise SuiteError(f"no sdist archive of {project.name}=={project.version} in {download}")
    scratch = root.with_name(root.name + ".tmp")
    with tarfile.open(archives[0]) as tar:
        tar.extractall(scratch, filter="data")
    (inner,) = list(scratch.iterdir())
    inner.rename(root)
    scratch.rmdir()
    return root


def _environment(project: Project) -> Path:
    pytest_pin = f"pytest=={metadata.version('pytest')}"  # the version racefree's plugin is tested on
    try:
        return ensure_venv(f"suite-{project.name}-{project.version}",
                           [f"{project.name}=={project.version}", pytest_pin, *project.deps], no_deps=False)
    except RegistryError as exc:
        raise SuiteError(str(exc)) from None


@dataclass
class Run:
    seconds: float
    counts: str
    failed: set[str]
    reports: list[tuple[str, str]]  # (charged to, report text)


def _pytest(venv: Path, root: Path, args: list[str], timeout: float) -> Run:
    cmd = [str(venv_python(venv)), "-m", "pytest", "-q", "-rfE", "-o", "addopts=", *FOREIGN_PLUGINS, *args]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SuiteError(f"timed out after {timeout:.0f} s: {' '.join(args)}") from None
    seconds = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    if proc.returncode not in (0, 1):
        tail = " | ".join(out.strip().splitlines()[-3:])
        raise SuiteError(f"pytest exit {proc.returncode}: {tail[:400]}")
    failed = {m.group(2) for m in map(OUTCOME.match, out.splitlines()) if m}
    counts = next((m.group(1) for m in map(COUNTS.search, out.splitlines()) if m), "no summary line")
    return Run(seconds, counts, failed, _reports(out))


def _reports(out: str) -> list[tuple[str, str]]:
    """Every race / deadlock report block in pytest's output, with the section it appeared in."""
    reports: list[tuple[str, str]] = []
    section, block = "session", None
    for line in out.splitlines():
        heading = SECTION.match(line)
        if heading and block is None:
            section = heading.group(1)
        if REPORT_START.match(line):
            block = [line]
        elif block is not None:
            if line.startswith("=================="):
                reports.append((section, "\n".join(block)))
                block = None
            else:
                block.append(line)
    return reports


def _signature(report: str) -> str:
    """Kind, location and the two access sites: how one report is told from another."""
    lines = report.splitlines()
    if "DEADLOCK" in lines[0]:  # the cycle and where its locks were made
        return "\n".join(lines[: lines.index("")] if "" in lines else lines)
    heads = [ln for ln in lines if HEAD.match(ln)]
    sites = [lines[i + 1].strip() for i, ln in enumerate(lines[:-1]) if ln in heads]
    return "\n".join([lines[0], *heads[:2], *sites[:2]])


def run_project(project: Project, mode: str, timeout: float, heavy: bool) -> bool:
    tests = project.heavy if heavy and project.heavy else project.tests
    print(f"\n### {project.name} {project.version} ({' '.join(tests)})", flush=True)
    try:
        root = _sdist(project)
        venv = _environment(project)
        plain = _pytest(venv, root, list(tests), timeout)
        race = _pytest(venv, root, ["--race", "--race-mode", mode, "--race-include", f"{project.package}*",
                                    *tests], timeout)
    except SuiteError as exc:
        print(f"could not run: {exc}")
        return False
    print(f"plain:  {plain.counts} ({plain.seconds:.1f} s)")
    print(f"--race: {race.counts} ({race.seconds:.1f} s, {race.seconds / max(plain.seconds, 1e-3):.1f}x)")
    for test in sorted(race.failed - plain.failed):
        print(f"fails only under --race: {test}")
    for test in sorted(race.failed & plain.failed):
        print(f"fails in both runs: {test}")
    seen: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for charged, report in race.reports:
        key = _signature(report)
        seen.setdefault(key, []).append(charged)
        texts.setdefault(key, report)
    print(f"{len(seen)} distinct report(s)")
    for number, (key, charged) in enumerate(seen.items(), 1):
        where = ", ".join(sorted(set(charged))[:3]) + (" ..." if len(set(charged)) > 3 else "")
        print(f"\n--- report {number} (seen {len(charged)}x; in {where})")
        print(texts[key])
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these projects only")
    parser.add_argument("--mode", choices=("python", "strict"), default="python")
    parser.add_argument("--timeout", type=float, default=600.0, help="per pytest run (s)")
    parser.add_argument("--heavy", action="store_true", help="also the selections' minutes-long stress tests")
    args = parser.parse_args(argv)
    projects = [p for p in SELECTED if not args.only or p.name in args.only]
    unknown = set(args.only or ()) - {p.name for p in SELECTED}
    if unknown:
        parser.error(f"unknown project(s): {', '.join(sorted(unknown))}")
    print(f"interpreter {sys.version.split()[0]}, cache {cache_root()}, mode {args.mode}")
    ok = [run_project(p, args.mode, args.timeout, args.heavy) for p in projects]
    print(f"\n{sum(ok)} of {len(ok)} suite(s) ran")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
