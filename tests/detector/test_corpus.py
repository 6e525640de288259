"""The race detector's acceptance corpus, in the style of Go's ``runtime/race/testdata``.

Every ``*.py`` under ``corpus/`` (except ``corpus/lib/``, the helper modules the
programs import) is a small standalone program whose header states what
``racefree run`` must report for it, in each mode:

``# expect: none``
    no race in either mode (the program's stdout must also equal a plain run's).
``# expect <mode>: none``
    no race in that mode.
``# expect <mode>: <kind> <location> @ <label>,<label>``
    this distinct race is reported, between the two lines carrying those labels
    (a label is a ``# [name]`` comment at the end of a line, in the program or in
    ``corpus/lib``). Every reported race must be expected, and vice versa.
``# allow <mode>: <kind> <location> @ <label>,<label>``
    this race may or may not be reported: whether the accesses happen at all
    depends on the schedule (e.g. the second ``if x is None`` body only runs when
    that thread checked first). Used sparingly, never for a detector weakness.
``# expect-locations <mode>: <kind> <location>; <kind> <location>`` (repeatable)
    for many-thread programs (the module's exercises) whose reported *pairs* of
    lines depend on the schedule: the set of (kind, location) must match.
``# exit: N``
    the program's own exit code (default 0); with races the run exits 66.
``# args: OPTION ...``
    extra ``racefree run`` options (``--include racefree.lab.unsafe`` to instrument
    library code the way a user would).

Each (program, mode) runs ``python -m racefree run --mode M --format json`` in a
subprocess; all selected cases start at once on a two-worker pool so the suite
stays near a minute per interpreter.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"
LIB = CORPUS / "lib"
MODES = ("python", "strict")
KINDS = frozenset({"data-race", "lost-update", "check-then-act", "iteration"})
EXIT_RACE = 66
TIMEOUT = 120.0
WORKERS = 2
# run from a neutral directory: ``racefree run`` looks for suppressions (racefree.toml,
# [tool.racefree]) upwards from the working directory, and the corpus must see every race
NEUTRAL_CWD = tempfile.gettempdir()

Site = tuple[str, int]  # (path relative to the corpus, line)
Finding = tuple[str, str, tuple[Site, Site]]  # (kind, location, sorted pair of sites)

_LABEL = re.compile(r"#\s*\[(\w+)\]\s*$")
_HEADER = re.compile(r"^# (expect|allow|expect-locations)(?: (python|strict))?: (.+?)\s*$")
_EXIT = re.compile(r"^# exit: (\d+)\s*$")
_ARGS = re.compile(r"^# args: (.+?)\s*$")
_FINDING = re.compile(r"^(\S+) (.+) @ (\w+),(\w+)$")

# (program name, mode) -> reason: cases the detector still gets wrong (see the final report)
XFAIL: dict[tuple[str, str], str] = {}


class SpecError(Exception):
    """A corpus program's header is malformed."""


def _labels(path: Path) -> dict[str, Site]:
    rel = path.relative_to(CORPUS).as_posix()
    found: dict[str, Site] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        m = _LABEL.search(line)
        if m:
            if m.group(1) in found:
                raise SpecError(f"{rel}:{lineno}: label [{m.group(1)}] used twice")
            found[m.group(1)] = (rel, lineno)
    return found


def _lib_labels() -> dict[str, Site]:
    table: dict[str, Site] = {}
    for path in sorted(LIB.glob("*.py")):
        for name, site in _labels(path).items():
            if name in table:
                raise SpecError(f"lib label [{name}] defined in two helper modules")
            table[name] = site
    return table


@dataclass
class Program:
    path: Path
    exit_code: int = 0
    options: list[str] = field(default_factory=list)
    expect: dict[str, set[Finding]] = field(default_factory=dict)
    allow: dict[str, set[Finding]] = field(default_factory=dict)
    locations: dict[str, set[tuple[str, str]]] = field(default_factory=dict)

    def user_files(self) -> set[Path]:
        """Files whose frames may appear in reports: the corpus, plus modules named by ``--include``."""
        files = set()
        for flag, value in zip(self.options, self.options[1:]):
            if flag == "--include":
                spec = importlib.util.find_spec(value)
                if spec is None or spec.origin is None:
                    raise SpecError(f"{self.name}: --include {value} names no module")
                files.add(Path(spec.origin).resolve())
        return files

    @property
    def name(self) -> str:
        return self.path.relative_to(CORPUS).with_suffix("").as_posix()

    def race_free(self, mode: str) -> bool:
        return not self.expect.get(mode) and not self.locations.get(mode) and not self.allow.get(mode)

    @classmethod
    def parse(cls, path: Path, lib: dict[str, Site]) -> Program:
        prog = cls(path)
        labels = {**lib, **_labels(path)}
        declared: set[str] = set()
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if m := _EXIT.match(line):
                prog.exit_code = int(m.group(1))
                continue
            if m := _ARGS.match(line):
                prog.options += shlex.split(m.group(1))
                continue
            m = _HEADER.match(line)
            if not m:
                continue
            what, mode, body = m.groups()
            where = f"{prog.name}:{lineno}"
            modes = [mode] if mode else list(MODES)
            if what == "expect-locations":
                if not mode:
                    raise SpecError(f"{where}: expect-locations needs a mode")
                items = [] if body == "none" else [s.strip() for s in body.split(";")]
                pairs = {tuple(s.split(" ", 1)) for s in items}
                if any(len(p) != 2 or p[0] not in KINDS for p in pairs):
                    raise SpecError(f"{where}: bad location list {body!r}")
                prog.locations.setdefault(mode, set()).update(pairs)  # type: ignore[arg-type]
                declared.add(mode)
                continue
            if body == "none":
                if what == "allow":
                    raise SpecError(f"{where}: 'allow ...: none' means nothing")
                for md in modes:
                    prog.expect.setdefault(md, set())
                    declared.add(md)
                continue
            f = _FINDING.match(body)
            if not f or not mode or f.group(1) not in KINDS:
                raise SpecError(f"{where}: expected '<mode>: <kind> <location> @ <label>,<label>'")
            kind, location, a, b = f.groups()
            for label in (a, b):
                if label not in labels:
                    raise SpecError(f"{where}: unknown label [{label}]")
            finding: Finding = (kind, location, tuple(sorted((labels[a], labels[b]))))  # type: ignore[assignment]
            (prog.expect if what == "expect" else prog.allow).setdefault(mode, set()).add(finding)
            if what == "expect":
                declared.add(mode)
        missing = set(MODES) - declared
        if missing:
            raise SpecError(f"{prog.name}: no expectation for mode(s) {sorted(missing)}")
        return prog


def load_corpus() -> list[Program]:
    lib = _lib_labels()
    paths = sorted(p for p in CORPUS.rglob("*.py") if LIB not in p.parents and p.name != "__init__.py")
    return [Program.parse(p, lib) for p in paths]


PROGRAMS = load_corpus()
BY_NAME = {p.name: p for p in PROGRAMS}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    document: dict[str, Any] | None
    problem: str = ""


def run_detector(program: Program, mode: str, fmt: str = "json", env: dict[str, str] | None = None) -> Run:
    fd, out = tempfile.mkstemp(prefix="racefree-corpus-", suffix=f".{fmt}")
    os.close(fd)
    cmd = [sys.executable, "-m", "racefree", "run", "--mode", mode, "--format", fmt, "--output", out,
           *program.options, str(program.path)]
    try:
        proc = subprocess.run(cmd, cwd=NEUTRAL_CWD, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        text = Path(out).read_text()
    except subprocess.TimeoutExpired as exc:
        return Run(-1, str(exc.stdout or ""), str(exc.stderr or ""), None, f"timed out after {TIMEOUT}s")
    finally:
        os.unlink(out)
    if fmt != "json":
        return Run(proc.returncode, proc.stdout, proc.stderr, {"text": text})
    try:
        document = json.loads(text)
    except ValueError as exc:
        return Run(proc.returncode, proc.stdout, proc.stderr, None, f"--output is not JSON ({exc}): {text!r}")
    return Run(proc.returncode, proc.stdout, proc.stderr, document)


def run_plain(program: Program, env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run([sys.executable, str(program.path)], cwd=NEUTRAL_CWD, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)
    return Run(proc.returncode, proc.stdout, proc.stderr, None)


def _site(access: dict[str, Any]) -> Site:
    frame = access["stack"][0]
    path = Path(frame["file"]).resolve()
    return (path.relative_to(CORPUS).as_posix() if CORPUS in path.parents else str(path), frame["line"])


def check_shape(race: dict[str, Any], mode: str, user_files: set[Path]) -> list[str]:
    """What is wrong with one JSON race record (empty when nothing is)."""
    bad: list[str] = []
    if race.get("kind") not in KINDS:
        bad.append(f"unknown kind {race.get('kind')!r}")
    if mode == "strict" and race.get("kind") != "data-race":
        bad.append(f"strict mode reports Go's data races only, got kind {race.get('kind')!r}")
    if not isinstance(race.get("count"), int) or race["count"] < 1:
        bad.append(f"count {race.get('count')!r}")
    ops = []
    for side in ("current", "previous"):
        access = race.get(side) or {}
        ops.append(access.get("op"))
        if access.get("op") not in ("read", "write"):
            bad.append(f"{side}.op {access.get('op')!r}")
        stack = access.get("stack") or []
        if not stack:
            bad.append(f"{side} has no stack")
        for frame in stack:
            path = Path(frame["file"]).resolve()
            if CORPUS not in path.parents and path not in user_files:
                bad.append(f"{side} stack shows a frame outside the user's code: {frame}")
    if "write" not in ops:
        bad.append(f"a race needs a write on one side, got {ops}")
    if race.get("current", {}).get("thread") == race.get("previous", {}).get("thread"):
        bad.append(f"both accesses from the same thread {race['current'].get('thread')!r}")
    if race.get("kind") == "lost-update":  # the three accesses: the read, and the write made from it
        read = race.get("read") or {}
        side = race.get(race.get("read_by", ""), {})
        if read.get("op") != "read" or not read.get("stack"):
            bad.append(f"a lost update without its read: {read!r}")
        elif side.get("op") != "write" or side.get("thread") != read.get("thread"):
            bad.append(f"the read ({read.get('thread')!r}) is not the thread of the write made from it")
    return bad


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> Iterator[dict[tuple[str, str], Future[Run]]]:
    """Start every selected case at once on a small pool; each test waits for its own."""
    wanted: list[tuple[str, str]] = []
    for item in request.session.items:
        params = getattr(item, "callspec", None)
        # other modules parametrize a "case" too: only this module's tests are ours
        if params is not None and "case" in params.params and item.module is request.module:
            name, mode = params.params["case"]
            wanted.append((name, mode))
            if mode == "plain" or (mode == "python" and BY_NAME[name].race_free("python")):
                wanted.append((name, "python"))
    # The children get an explicit copy of the environment: with env=None a child
    # execs with the C `environ`, which pytest rewrites (PYTEST_CURRENT_TEST) in the
    # main thread while these threads spawn; a vfork child reading an array that
    # setenv just reallocated fails with EFAULT (seen on the 3.13t CI run).
    env = dict(os.environ)
    pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="corpus")
    futures: dict[tuple[str, str], Future[Run]] = {}
    for name, mode in dict.fromkeys(wanted):
        if mode == "plain":
            futures[(name, mode)] = pool.submit(run_plain, BY_NAME[name], env)
        else:
            futures[(name, mode)] = pool.submit(run_detector, BY_NAME[name], mode, "json", env)
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def _cases() -> list[Any]:
    cases = []
    for prog in PROGRAMS:
        for mode in MODES:
            marks = []
            if (prog.name, mode) in XFAIL:
                marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[(prog.name, mode)]))
            cases.append(pytest.param((prog.name, mode), id=f"{prog.name}[{mode}]", marks=marks))
    return cases


def _describe(findings: set[Finding]) -> str:
    return "\n".join(f"    {k} {loc} @ {a[0]}:{a[1]}, {b[0]}:{b[1]}" for k, loc, (a, b) in sorted(findings)) \
        or "    (none)"


@pytest.mark.parametrize("case", _cases())
def test_corpus(case: tuple[str, str], runs: dict[tuple[str, str], Future[Run]]) -> None:
    name, mode = case
    prog = BY_NAME[name]
    run = runs[case].result()
    context = f"racefree run --mode {mode} {name}.py\n--- stderr ---\n{run.stderr[-3000:]}"
    assert run.document is not None, f"{run.problem}\n{context}"
    assert run.document.get("version") == 1, run.document
    assert run.document.get("mode") == mode, run.document
    races = run.document["races"]
    user_files = prog.user_files()
    shape = [f"{r.get('location')}: {p}" for r in races for p in check_shape(r, mode, user_files)]
    assert not shape, "\n".join(shape) + "\n" + context
    if mode in prog.locations:
        got_locs = {(r["kind"], r["location"]) for r in races}
        assert got_locs == prog.locations[mode], (
            f"locations differ\n  expected {sorted(prog.locations[mode])}\n  got      {sorted(got_locs)}"
            f"\n{context}")
    else:
        got: set[Finding] = {
            (r["kind"], r["location"], tuple(sorted((_site(r["current"]), _site(r["previous"])))))  # type: ignore[misc]
            for r in races
        }
        expected, allowed = prog.expect.get(mode, set()), prog.allow.get(mode, set())
        missing, extra = expected - got, got - expected - allowed
        assert not missing and not extra, (
            f"\n  missing:\n{_describe(missing)}\n  unexpected:\n{_describe(extra)}\n{context}")
    want_exit = EXIT_RACE if races else prog.exit_code
    assert run.returncode == want_exit, f"exit code {run.returncode}, expected {want_exit}\n{context}"


@pytest.mark.parametrize(
    "case", [pytest.param((p.name, "plain"), id=p.name) for p in PROGRAMS
             if p.race_free("python") and p.race_free("strict")])
def test_race_free_program_output_unchanged(case: tuple[str, str],
                                            runs: dict[tuple[str, str], Future[Run]]) -> None:
    """Instrumenting a race-free program changes neither its stdout nor its exit code."""
    plain = runs[case].result()
    instrumented = runs[(case[0], "python")].result()
    assert plain.returncode == BY_NAME[case[0]].exit_code, plain.stderr
    assert (instrumented.stdout, instrumented.returncode) == (plain.stdout, plain.returncode), \
        instrumented.stderr


def test_corpus_inventory() -> None:
    """The corpus is as broad as the issue asks, and every header parses."""
    assert len(PROGRAMS) >= 60
    racy = [p for p in PROGRAMS if not p.race_free("strict")]
    python_racy = [p for p in PROGRAMS if not p.race_free("python")]
    strict_only = [p for p in racy if p.race_free("python")]
    assert len(racy) >= 25 and len(python_racy) >= 15 and len(strict_only) >= 5
    kinds = {f[0] for p in PROGRAMS for f in p.expect.get("python", set())}
    assert kinds == {"lost-update", "check-then-act", "iteration"}


def test_spec_parser_rejects_bad_headers(tmp_path: Path) -> None:
    """A typo in a header is an error, not a silently weaker expectation."""
    bad = {
        "# expect python: lost-update Counter.n @ a,nolabel\nx = 1  # [a]\n# expect strict: none\n":
            "unknown label",
        "# expect python: none\n": "no expectation",
        "# expect python: racy Counter.n @ a,a\nx = 1  # [a]\n# expect strict: none\n": "expected '<mode>",
        "# allow python: none\n# expect: none\n": "means nothing",
    }
    for i, (text, message) in enumerate(bad.items()):
        path = CORPUS / f"_tmp_spec_{os.getpid()}_{i}.py"
        path.write_text(text)
        try:
            with pytest.raises(SpecError, match=message):
                Program.parse(path, {})
        finally:
            path.unlink()


# Golden text reports: programs whose two racing threads run the same code, so the
# report is the same text whichever thread came second (names normalized below).
GOLDEN = CORPUS / "golden"
GOLDEN_CASES = [("race_attr_augassign", "python"), ("race_nested_helper", "python"),
                ("race_list_append", "strict"), ("race_cta_many_keys", "python")]


def normalize_text(text: str) -> str:
    """Make a text report comparable across machines and runs."""
    text = text.replace(str(CORPUS) + os.sep, "<corpus>/")
    text = re.sub(r"\bT\d+\b", "T#", text)  # the corpus programs name their threads T0, T1, ...
    text = re.sub(r"(Thread-|thread |tid |goroutine )\d+", r"\1#", text)
    return text


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c[0]}[{c[1]}]") for c in GOLDEN_CASES])
def test_text_report_golden(case: tuple[str, str]) -> None:
    name, mode = case
    run = run_detector(BY_NAME[name], mode, fmt="text")
    assert run.document is not None
    got = normalize_text(run.document["text"])
    golden = GOLDEN / f"{name}.{mode}.txt"
    if os.environ.get("RACEFREE_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(got)
    assert run.returncode == EXIT_RACE, run.stderr
    assert got == golden.read_text(), f"text report differs from {golden.name}:\n{got}"
