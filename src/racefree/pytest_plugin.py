"""pytest plugin: ``pytest --race`` fails the test during which a data race or a potential deadlock was found.

Registered through the ``pytest11`` entry point, so installing racefree is
enough.  Without ``--race`` the plugin only adds its options and registers the
``race_ignore`` marker: it imports nothing from :mod:`racefree.detector` and
installs no import hook, so a plain ``pytest`` run pays nothing.

With ``--race`` (before any conftest is imported):

* one :class:`racefree.detector.Session` (the detector, the suppressions and
  the report formats, as ``racefree run`` drives them) is started for the whole session
  (``--race-mode``, ``--race-stress``, ``--race-seed``);
* racefree's import hook instruments the project's own modules (those under
  pytest's rootdir, never the stdlib or site-packages; ``--race-include`` and
  ``--race-exclude`` adjust this); it is placed *after* pytest's
  assertion-rewriting hook in ``sys.meta_path``;
* test modules and conftests, which pytest imports through its own
  assertion-rewriting hook, are instrumented too: the plugin wraps the final
  ``compile`` of pytest's rewrite step, so racefree's transformer runs on the
  tree *after* pytest rewrote its asserts (assertion messages are unchanged),
  and pytest's cached ``.pyc`` for such modules gets a tag naming racefree's
  rewriter version, so instrumented and plain code never share a cache file;
* after each phase of each test (setup, call, teardown) the races detected
  since the previous phase are taken from the detector; if there are any, the
  phase fails with the Go-style report (``WARNING: DATA RACE`` ...) as the
  failure text.  A race found in setup or teardown is reported by pytest as
  an error of that test, like any failing fixture.
* likewise for potential deadlocks (a cycle in the order in which threads take
  ``threading`` locks, ``WARNING: POTENTIAL DEADLOCK``): the phase during which
  the cycle closed fails; ``--race-no-lock-order`` turns them off.

Threads that outlive their test: a race detected later in which one of the
two accesses comes from a thread started by an *earlier* test is **not**
blamed on the test running at that moment: it is reported at session end,
naming the test that started the thread, and makes the session fail (exit
code 1).  Such a thread is one started during that test's *call* phase and
still alive after its teardown (recognised by name: Python's default names are
unique within a process), or one whose creation stack passes through that
test's function (it finished, but the test never joined it).  Threads started
during *setup* (by fixtures, typically of a wider scope) are fixture threads:
races with them fail the test during which they were detected.  Races
detected between tests or after the last one are also reported at session end.

``@pytest.mark.race_ignore`` drops the races detected during that test's
phases (and those involving threads it leaked); the detector keeps running.
``--race-suppressions FILE`` (default: ``racefree.toml`` or
``[tool.racefree]`` found from the rootdir) lists accepted races; unused entries
are listed in the terminal summary.  ``--race-sarif FILE`` writes every
reported race as SARIF 2.1.0 at session end.

With pytest-xdist each worker runs its own detector; races that the workers
report at session end, and their SARIF results, are gathered by the controller,
which shows the former and writes one ``--race-sarif`` file.

State: one :class:`_RacePlugin` in ``config.stash``, which holds the
:class:`~racefree.detector.session.Session` and the
:class:`~racefree.detector.blame.Blame` (which test each finding fails); every
hook runs in pytest's main thread, so it needs no lock.
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib
import json
import os
import sys
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from racefree.detector.blame import Item
    from racefree.detector.findings import Access, Deadlock, Frame, LockEdge, Race

RACE_IGNORE = "race_ignore"
_WORKER_KEY = "racefree_session_end"  # xdist workeroutput: the session-end report text
_WORKER_SARIF = "racefree_sarif"  # xdist workeroutput: the worker's SARIF log, merged by the controller
_WORKER_SUMMARY = "racefree_summary"  # xdist workeroutput: what the worker's terminal summary would say


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("racefree", "race detection (racefree)")
    group.addoption("--race", action="store_true", dest="race", default=False,
                    help="detect data races; fail the test during which one was detected")
    group.addoption("--race-mode", dest="race_mode", choices=("python", "strict"), default="python",
                    help="python (default): races that are bugs even with atomic bytecodes; "
                         "strict: Go's definition")
    group.addoption("--race-include", dest="race_include", action="append", default=[], metavar="PAT",
                    help="also instrument modules matching PAT (repeatable)")
    group.addoption("--race-exclude", dest="race_exclude", action="append", default=[], metavar="PAT",
                    help="do not instrument modules matching PAT (repeatable)")
    group.addoption("--race-stress", dest="race_stress", action="store_true", default=False,
                    help="perturb scheduling at instrumented accesses so latent races misbehave")
    group.addoption("--race-seed", dest="race_seed", type=int, default=None, metavar="N",
                    help="seed for --race-stress or --race-confirm (default: random, printed)")
    group.addoption("--race-confirm", dest="race_confirm", action="store_true", default=False,
                    help="re-run a test that reported races under a directed schedule per race, to show "
                         "the harm (a verdict per race)")
    group.addoption("--race-suppressions", dest="race_suppressions", default=None, metavar="FILE",
                    help="accepted races (default: racefree.toml or [tool.racefree] from the rootdir)")
    group.addoption("--race-sarif", dest="race_sarif", default=None, metavar="FILE",
                    help="write the reported races as SARIF 2.1.0 to FILE")
    group.addoption("--race-no-lock-order", dest="race_no_lock_order", action="store_true", default=False,
                    help="do not report potential deadlocks (locks taken in inconsistent orders)")


_session_key = pytest.StashKey["_RacePlugin"]()


# set by an xdist controller running --race, for its own workers only: a PYTEST_XDIST_WORKER
# inherited by a pytest started *inside* a worker's test must not make that pytest a worker
_CONTROLLER_ENV = "RACEFREE_XDIST_CONTROLLER"


def _is_xdist_worker(config: pytest.Config) -> bool:
    # a worker is configured (with the controller's -n in its args) before it gets `workerinput`,
    # but after xdist set PYTEST_XDIST_WORKER; the controller's pid says the variable is our own
    if hasattr(config, "workerinput"):
        return True
    ours = os.environ.get(_CONTROLLER_ENV) == str(os.getppid())
    return bool(os.environ.get("PYTEST_XDIST_WORKER")) and ours


def _is_xdist_controller(config: pytest.Config) -> bool:
    if _is_xdist_worker(config):
        os.environ.pop(_CONTROLLER_ENV, None)  # the tests the worker runs do not see it
        return False
    n = getattr(config.known_args_namespace, "numprocesses", None)
    return bool(n)


@pytest.hookimpl
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Runs after pytest installed its assertion-rewriting hook and before any
    # conftest is imported: the earliest point at which both are in place.
    if early_config.known_args_namespace.race:
        _start(early_config)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{RACE_IGNORE}: do not report data races detected during this test (pytest --race)")
    if config.option.race:
        _start(config)  # a no-op if pytest_load_initial_conftests did it


def _start(config: pytest.Config) -> None:
    if config.pluginmanager.has_plugin("racefree-race"):
        return
    if _is_xdist_controller(config):
        opt = config.known_args_namespace
        plugin: object = _Controller(opt.race_mode, opt.race_sarif, config.invocation_params.dir)
        os.environ[_CONTROLLER_ENV] = str(os.getpid())  # inherited by the workers it starts
    else:
        session = _RacePlugin(config)
        config.stash[_session_key] = session
        config.add_cleanup(session.stop)
        session.start()
        plugin = session
    config.pluginmanager.register(plugin, "racefree-race")


class _Controller:
    """pytest-xdist controller: runs no test, gathers what the workers report at session end."""

    def __init__(self, mode: str, sarif_path: str | None, cwd: Path) -> None:
        self.mode = mode
        self.sarif_path = None if sarif_path is None else Path(cwd, sarif_path)
        self.reports: list[str] = []
        self.sarif_logs: list[dict[str, Any]] = []
        self.summaries: list[dict[str, Any]] = []

    def pytest_report_header(self) -> str:
        return f"racefree: race detection on in each xdist worker (mode {self.mode})"

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {})
        if output.get(_WORKER_KEY):
            self.reports.append(output[_WORKER_KEY])
        if output.get(_WORKER_SARIF):
            self.sarif_logs.append(json.loads(output[_WORKER_SARIF]))
        if output.get(_WORKER_SUMMARY):
            self.summaries.append(json.loads(output[_WORKER_SUMMARY]))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.reports and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.sarif_path is not None and self.sarif_logs:
            # one log: the first worker's run, with every worker's results (same tool, rules and root)
            merged = self.sarif_logs[0]
            for log in self.sarif_logs[1:]:
                merged["runs"][0]["results"].extend(log["runs"][0]["results"])
            self.sarif_path.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for text in self.reports:
            terminalreporter.write_sep("=", "racefree: races reported by a worker at session end", red=True)
            terminalreporter.write_line(text)
        if not self.summaries:
            return
        terminalreporter.write_sep("-", "racefree")
        for line in _merged_summary(self.summaries):
            terminalreporter.write_line(line)


def _merged_summary(summaries: list[dict[str, Any]]) -> list[str]:
    """The workers' summaries as one: a race two workers found is one race, hit by the tests of both."""
    lines: list[str] = []
    races: dict[str, dict[str, Any]] = {}
    deadlocks: set[str] = set()
    unused: list[str] | None = None
    counts = [0, 0, 0, 0]
    for summary in summaries:
        lines += [line for line in summary["plain"] if line not in lines]
        counts = [a + b for a, b in zip(counts, summary["counts"])]
        # an entry is unused when no worker used it
        unused = summary["unused"] if unused is None else [u for u in unused if u in summary["unused"]]
        deadlocks.update(summary["deadlocks"])
        for race in summary["races"]:
            known = races.setdefault(race["key"], {"title": race["title"], "tests": []})
            known["tests"] += [t for t in race["tests"] if t not in known["tests"]]
    lines += _count_lines(summaries[0]["shown"], counts)
    lines += unused or []
    lines += _hit_lines([(r["title"], r["tests"]) for r in races.values()])
    found = f"racefree: Found {len(races)} data race(s)"
    if deadlocks:
        found += f" and {len(deadlocks)} potential deadlock(s)"
    return [*lines, found]


def _count_lines(shown: str, counts: Sequence[int]) -> list[str]:
    """How many races and potential deadlocks suppressions accepted and the marker ignored."""
    from racefree.detector.suppressions import Suppressions

    suppressed, suppressed_deadlocks, ignored, ignored_deadlocks = counts
    lines = Suppressions([], shown=shown).summary_lines(suppressed, suppressed_deadlocks)
    if ignored:
        lines.append(f"racefree: {ignored} race(s) ignored by @pytest.mark.{RACE_IGNORE}")
    if ignored_deadlocks:
        n = ignored_deadlocks
        lines.append(f"racefree: {n} potential deadlock(s) ignored by @pytest.mark.{RACE_IGNORE}")
    return lines


def _hit_lines(races: Sequence[tuple[str, list[str]]]) -> list[str]:
    """One line per race more than one test hit: the one it failed first, then the others."""
    return [f"racefree: {title}: reported in {tests[0]}; also hit by {', '.join(tests[1:])}"
            for title, tests in races if len(tests) > 1]


def _title(race: Race) -> str:
    """``lost-update on Counter.n at app.py:8, app.py:8``: enough to tell races apart in a summary."""
    sites = ", ".join(f"{os.path.basename(a.site.file)}:{a.site.line}"
                      for a in (race.current, race.previous) if a.site is not None)
    return f"{race.kind} on {race.location}" + (f" at {sites}" if sites else "")


class _RacePlugin:
    """pytest's side of a ``--race`` session: the hooks around one :class:`Session`.

    The :class:`~racefree.detector.session.Session` owns the detector, the
    suppressions and the report formats; the :class:`~racefree.detector.blame.Blame`
    decides which test each finding fails.  This class adds the import hook, the
    bridge to pytest's assertion rewriter, ``--race-confirm`` and the pytest texts.
    """

    def __init__(self, config: pytest.Config) -> None:
        from racefree.detector.blame import Blame
        from racefree.detector.instrument import ImportHook
        from racefree.detector.session import Session
        from racefree.errors import UsageError

        # before pytest_configure, config.option holds only defaults: the parsed values are here
        opt = config.known_args_namespace if hasattr(config.known_args_namespace, "race") else config.option
        self.config = config
        if opt.race_seed is not None and not (opt.race_stress or opt.race_confirm):
            raise pytest.UsageError("racefree: --race-seed only applies with --race-stress or --race-confirm")
        self.confirm = bool(opt.race_confirm)
        self.confirm_seed = opt.race_seed
        self.include, self.exclude = list(opt.race_include), list(opt.race_exclude)
        try:
            self.session = Session(opt.race_mode, stress=opt.race_stress, seed=opt.race_seed,
                                   lock_order=not opt.race_no_lock_order,
                                   suppressions_file=opt.race_suppressions,
                                   cwd=config.invocation_params.dir, search_from=config.rootpath)
        except UsageError as exc:
            raise pytest.UsageError(f"racefree: {exc}") from None
        self.mode = opt.race_mode
        self.sarif_path = opt.race_sarif
        self.stress = bool(opt.race_stress)
        self.root = str(config.rootpath)
        self.uninstrumented: list[str] = []  # modules that ran plain because the rewrite failed, and why
        self.hook = ImportHook(include=opt.race_include, exclude=opt.race_exclude, roots=[self.root],
                               warn=self.uninstrumented.append)
        self._patch = pytest.MonkeyPatch()
        self.started = False
        self.blame = Blame()  # per-run bookkeeping (pytest's main thread only)
        self._ran_a_test = False

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        from racefree.errors import UsageError

        # what the hooks below need later is imported now, while nothing is patched yet
        for name in ("racefree.detector.format", "racefree.detector.sarif", "racefree.detector.findings"):
            importlib.import_module(name)
        self._instrument_pytest_rewrite()
        try:
            self.session.start()
        except UsageError as exc:  # another detector is active: `racefree run -m pytest --race`, say
            self._patch.undo()
            raise pytest.UsageError(f"racefree: {exc}") from None
        self.hook.install()
        self._place_hook_after_pytest()
        self.started = True

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        try:
            self.session.stop()
        finally:
            self.hook.uninstall()
            self._patch.undo()

    def _place_hook_after_pytest(self) -> None:
        from _pytest.assertion.rewrite import AssertionRewritingHook

        meta = sys.meta_path
        pytest_hooks = [i for i, f in enumerate(meta) if isinstance(f, AssertionRewritingHook)]
        if self.hook in meta and pytest_hooks and meta.index(self.hook) < pytest_hooks[-1]:
            meta.remove(self.hook)
            meta.insert(pytest_hooks[-1], self.hook)  # the index shifted by one: lands just after it

    def _instrument_pytest_rewrite(self) -> None:
        """Make pytest's assertion rewriter compile test modules with racefree's instrumentation."""
        from _pytest.assertion import rewrite

        from racefree.detector.instrument import InstrumentError, compile_instrumented
        from racefree.detector.instrument.cache import TAG

        if not hasattr(rewrite, "PYC_TAIL") or not hasattr(rewrite, "_rewrite_test"):
            self.config.issue_config_time_warning(
                pytest.PytestWarning("racefree: this pytest's assertion rewriter is not supported; "
                                     "test modules run uninstrumented"), stacklevel=2)
            return
        root = Path(self.root)
        plain_compile = compile

        def compile_for_race(source: Any, filename: str, mode: str, *args: Any, **kwargs: Any) -> Any:
            # the import hook's own policy decides (roots, include/exclude, never stdlib, site-packages
            # or racefree); pytest does not pass the module name, so it is guessed from the path
            path = Path(filename).resolve()
            name = ".".join(path.relative_to(root).with_suffix("").parts) if path.is_relative_to(root) \
                else path.stem
            if self.hook.selects(name, str(path))[0]:
                try:  # on a copy: a rewrite that fails half-way must leave pytest's tree intact
                    return compile_instrumented(_complete_positions(copy.deepcopy(source)), filename, mode)
                except InstrumentError as exc:  # a rewriter bug: run the module plain, say so at the end
                    self.uninstrumented.append(f"{filename}: {exc}")
            return plain_compile(source, filename, mode, *args, **kwargs)

        self._patch.setattr(rewrite, "compile", compile_for_race, raising=False)
        # ".cpython-311-pytest-9.2.0.pyc" -> ".cpython-311-pytest-9.2.0-racefree-0.1.0-r1.pyc": the
        # rewriter's version is part of the name, so a newer rewriter never reuses an older cache
        ext = str(rewrite.PYC_EXT)
        self._patch.setattr(rewrite, "PYC_TAIL", str(rewrite.PYC_TAIL)[: -len(ext)] + f"-{TAG}{ext}")

    # -- pytest hooks --------------------------------------------------------------------------------


    # -- pytest hooks --------------------------------------------------------------------------------

    def pytest_report_header(self, config: pytest.Config) -> str:
        stress = f", stress seed {self.session.seed}" if self.stress else ""
        return f"racefree: race detection on (mode {self.mode}{stress}; instrumenting {self.root})"

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        when = "between tests" if self._ran_a_test else "before the first test (collection or imports)"
        self._ran_a_test = True
        self.blame.defer(self._take(), f"detected {when}")
        self.blame.defer_deadlocks(self._take_deadlocks(), f"detected {when}")
        self.blame.call_starting(threading.enumerate())
        return (yield from self._phase(item, "setup"))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        self.blame.call_starting(threading.enumerate())
        return (yield from self._phase(item, "call"))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            return (yield from self._phase(item, "teardown"))
        finally:
            self.blame.test_finished(_test(item), threading.enumerate())

    def _phase(self, item: pytest.Item, when: str) -> Generator[None, object, object]:
        try:
            result = yield
        except BaseException:
            races, deadlocks = self._findings_of(item)
            if races or deadlocks:
                item.add_report_section(when, "racefree", self._failure_text(item, when, races, deadlocks))
            raise
        races, deadlocks = self._findings_of(item)
        if races or deadlocks:
            self._confirm(item, races)
            pytest.fail(self._failure_text(item, when, races, deadlocks), pytrace=False)
        return result

    def _findings_of(self, item: pytest.Item) -> tuple[list[Race], list[Deadlock]]:
        """What this phase of `item` found that fails it (the rest is deferred or ignored)."""
        test = _test(item)
        races = self.blame.races_of(test, self._take())
        deadlocks = self.blame.deadlocks_of(test, self._take_deadlocks())
        self.blame.note_hits(item.nodeid)
        return races, deadlocks

    def _take(self) -> list[Race]:
        return self.session.take_races(lambda race: self.blame.shown_as(race, _without_pytest_frames(race)))

    def _take_deadlocks(self) -> list[Deadlock]:
        return self.session.take_deadlocks(_deadlock_without_pytest_frames)

    def _confirm(self, item: pytest.Item, races: list[Race]) -> None:
        """``--race-confirm``: a verdict on each race, from re-runs of this test under directed schedules."""
        if not (self.confirm and races) or self.session.confirming_child:
            return
        from racefree.detector import confirm

        if self.confirm_seed is None:
            self.confirm_seed = confirm.new_seed()
        seed = self.confirm_seed
        options = ["--race", "--race-mode", self.mode, "--race-no-lock-order", "-p", "no:cacheprovider",
                   *(f"--race-include={p}" for p in self.include),
                   *(f"--race-exclude={p}" for p in self.exclude)]
        argv = [sys.executable, "-m", "pytest", item.nodeid, "-q", *options]
        replay = " ".join(["pytest", item.nodeid, "--race", "--race-confirm", "--race-seed", str(seed),
                           *([] if self.mode == "python" else ["--race-mode", self.mode])])
        self.session.confirm(races, argv, seed=seed, replay=replay, cwd=str(self.config.rootpath))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.session.program_finished(int(session.exitstatus))
        self.blame.defer(self._take(), "detected after the last test")
        self.blame.defer_deadlocks(self._take_deadlocks(), "detected after the last test")
        if self.blame.fails_session and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller reports and writes
            if self.blame.fails_session:
                workeroutput[_WORKER_KEY] = self._session_end_text()
            workeroutput[_WORKER_SUMMARY] = json.dumps(self._summary_for_controller())
            if self.sarif_path:
                workeroutput[_WORKER_SARIF] = json.dumps(self._sarif())
        elif self.sarif_path:
            path = Path(self.config.invocation_params.dir, self.sarif_path)
            path.write_text(json.dumps(self._sarif(), indent=2) + "\n", encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.blame.fails_session:
            terminalreporter.write_sep("=", "racefree: races not attributed to a running test", red=True)
            terminalreporter.write_line(self._session_end_text())
        if hasattr(self.config, "workerinput"):
            return  # an xdist worker: its summary goes to the controller (pytest_sessionfinish)
        from racefree.detector.format import format_summary

        lines = self._plain_lines() + _count_lines(self.session.suppressions.shown, self._counts())
        lines += self._unused_lines()
        lines += _hit_lines([(_title(race), tests) for race, tests in self.blame.hit_list()])
        seed = f" (stress seed {self.session.seed})" if self.stress else ""
        lines.append(f"racefree: {format_summary(self.blame.reported, deadlocks=self.blame.deadlocks)}{seed}")
        terminalreporter.write_sep("-", "racefree")
        for line in lines:
            terminalreporter.write_line(line)

    # -- texts ---------------------------------------------------------------------------------------

    def _plain_lines(self) -> list[str]:
        lines = [f"racefree: not instrumented (ran plain): {why}" for why in self.uninstrumented]
        early = sorted(n for n, why in self.hook.skipped.items() if why.startswith("imported before"))
        if early:
            lines.append(f"racefree: imported before instrumentation started (ran plain): {', '.join(early)}")
        return lines

    def _counts(self) -> list[int]:
        return [self.session.suppressed, self.session.suppressed_deadlocks, self.blame.ignored,
                self.blame.ignored_deadlocks]

    def _unused_lines(self) -> list[str]:
        """One line per suppression that matched nothing (so far)."""
        return self.session.suppressions.summary_lines(0, 0)

    def _summary_for_controller(self) -> dict[str, Any]:
        races = [{"key": json.dumps(race.key(), default=str), "title": _title(race), "tests": tests}
                 for race, tests in self.blame.hit_list()]
        deadlocks = [json.dumps(d.key(), default=str) for d in self.blame.deadlocks]
        seed = [f"racefree: stress seed {self.session.seed} ({os.environ.get('PYTEST_XDIST_WORKER', '')})"] \
            if self.stress else []
        return {"plain": self._plain_lines() + seed, "counts": self._counts(),
                "shown": self.session.suppressions.shown, "unused": self._unused_lines(), "races": races,
                "deadlocks": deadlocks}

    def _failure_text(
        self, item: pytest.Item, when: str, races: list[Race], deadlocks: Sequence[Deadlock] = ()
    ) -> str:
        seed = f"; stress seed {self.session.seed}" if self.stress else ""
        found = (("data race", bool(races)), ("potential deadlock", bool(deadlocks)))
        what = " and ".join(w for w, present in found if present)
        head = f"racefree: {what} detected during {when} of {item.nodeid} (mode {self.mode}{seed})"
        hint = (f"(accept it in racefree.toml, or mark the test @pytest.mark.{RACE_IGNORE})")
        once = ("(a race fails only the first test that hits it: the racefree summary at the end names "
                "the other tests that hit it)") if races else ""
        report = self.session.render("text", races, deadlocks).rstrip("\n")
        return "\n".join([head, "", report, hint, once]).rstrip()

    def _session_end_text(self) -> str:
        races = [race for race, _ in self.blame.session_end]
        deadlocks = [deadlock for deadlock, _ in self.blame.session_end_deadlocks]
        return self.session.render("text", races, deadlocks, notes=self.blame.why).rstrip("\n")

    def _sarif(self) -> dict[str, Any]:
        return self.session.sarif_log(self.blame.reported, self.blame.deadlocks, base=self.root)


def _test(item: pytest.Item) -> Item:
    """`item` as the Blame sees it."""
    from racefree.detector.blame import Item

    return Item(item.nodeid, _function_key(item), item.get_closest_marker(RACE_IGNORE) is not None)


def _function_key(item: pytest.Item) -> tuple[str, str] | None:
    """(file, name) of a test function's code, as report frames show it; None for other items."""
    code = getattr(getattr(item, "function", None), "__code__", None)
    return None if code is None else (code.co_filename, code.co_name)


@functools.cache
def _pytest_dirs() -> tuple[str, ...]:
    """pytest's and pluggy's package directories: their frames are the runner's, not the user's."""
    import _pytest
    import pluggy

    return tuple(str(Path(m.__file__).resolve().parent) + os.sep for m in (_pytest, pluggy) if m.__file__)


def _cut_pytest(stack: tuple[Frame, ...]) -> tuple[Frame, ...]:
    """*stack* cut where pytest's runner begins (the frames that called the test)."""
    dirs = _pytest_dirs()
    for i, frame in enumerate(stack):
        if frame.file.startswith(dirs):
            return stack[:i]
    return stack


def _without_pytest_frames(race: Race) -> Race:
    """*race* with each stack cut where pytest's runner begins."""
    from dataclasses import replace

    def trimmed(access: Access) -> Access:
        return replace(access, stack=_cut_pytest(access.stack),
                       thread_created_at=_cut_pytest(access.thread_created_at))

    return replace(race, current=trimmed(race.current), previous=trimmed(race.previous))


def _deadlock_without_pytest_frames(deadlock: Deadlock) -> Deadlock:
    """*deadlock* with each stack cut where pytest's runner begins."""
    from dataclasses import replace

    def trimmed(edge: LockEdge) -> LockEdge:
        return replace(edge, held_stack=_cut_pytest(edge.held_stack),
                       acquired_stack=_cut_pytest(edge.acquired_stack),
                       thread_created_at=_cut_pytest(edge.thread_created_at))

    return replace(deadlock, edges=tuple(trimmed(e) for e in deadlock.edges))


def _complete_positions(tree: Any) -> Any:
    """Give every node of pytest's rewritten tree an end position.

    pytest creates some nodes (its ``import ... as @py_builtins`` lines) with a
    start but no end; ``compile`` accepts that, but a later
    ``ast.fix_missing_locations`` would give them an end before their start.
    """
    if isinstance(tree, ast.AST):
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) is not None and getattr(node, "end_lineno", None) is None:
                setattr(node, "end_lineno", getattr(node, "lineno"))  # noqa: B009, B010  (not every node type)
                setattr(node, "end_col_offset", getattr(node, "col_offset", 0))  # noqa: B010
    return tree
