"""``pytest --race``, through pytest's own ``pytester``, always in a subprocess.

Two groups:

* the plugin's own logic (which test fails, capture, ``-x``, the marker,
  threads that outlive their test, suppressions, SARIF, option pass-through)
  runs against a test double of the engine (``tests/data/pytest_plugin/
  racefree_fake_engine.py``) in which test code reports a race explicitly;
* the integration tests run the real detector and instrumentation.

The subprocess matters: the detector patches ``threading``, and each run must
start from a clean interpreter exactly as a user's ``pytest --race`` does.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

FAKE_DIR = Path(__file__).parent / "data" / "pytest_plugin"
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
INI = "[pytest]\naddopts = --strict-markers -p no:cacheprovider\nfilterwarnings = error\n"


@pytest.fixture
def fake(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester project whose runs load the fake engine (``-p racefree_fake_engine``)."""
    monkeypatch.setenv("PYTHONPATH", str(FAKE_DIR))
    pytester.makeini(INI)
    return pytester


def run_fake(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "racefree_fake_engine", *args)


RACY = """
    import threading
    import pytest
    from racefree_fake_engine import race

    def test_clean():
        pass

    def test_racy():
        print("output of the racy test")
        race("Counter.n")

    def test_thread():
        t = threading.Thread(target=race, args=("global total",), name="worker-1")
        t.start()
        t.join()
"""


def test_racy_tests_fail_with_the_report_and_clean_ones_pass(fake: pytest.Pytester) -> None:
    fake.makepyfile(test_racy=RACY)
    result = run_fake(fake, "--race", "-rA")
    result.assert_outcomes(passed=1, failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    # the report is the failure text; the test's own output stays in its captured section
    failure = out.split("_ test_racy _")[1].split("_ test_thread _")[0]
    assert "racefree: data race detected during call of test_racy.py::test_racy (mode python)" in failure
    assert "WARNING: DATA RACE" in failure and "Counter.n" in failure
    assert "Captured stdout call" in failure and "output of the racy test" in failure
    assert "Traceback" not in failure
    thread_failure = out.split("_ test_thread _")[1]
    assert "global total" in thread_failure and "worker-1" in thread_failure
    result.stdout.fnmatch_lines(["racefree: Found 2 data race(s)", "*PASSED test_racy.py::test_clean*"])


def test_without_race_nothing_is_reported(fake: pytest.Pytester) -> None:
    fake.makepyfile(test_racy=RACY)
    result = run_fake(fake)
    result.assert_outcomes(passed=3)
    assert "racefree:" not in result.stdout.str()


def test_plain_pytest_imports_no_detector_and_installs_no_hook(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import sys
        import pytest

        @pytest.mark.race_ignore  # registered even without --race (we run with --strict-markers)
        def test_nothing_loaded():
            assert "racefree.pytest_plugin" in sys.modules  # the plugin itself is loaded...
            loaded = sorted(m for m in sys.modules if m.startswith("racefree.detector"))
            assert loaded == []  # ...but none of the detector
            hooks = [type(f).__module__ for f in sys.meta_path]
            assert not [h for h in hooks if h.startswith("racefree")]
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_marker_drops_the_races_of_one_test(fake: pytest.Pytester) -> None:
    fake.makepyfile(
        """
        import pytest
        from racefree_fake_engine import race

        @pytest.mark.race_ignore
        def test_ignored():
            race("Counter.n")

        def test_not_ignored():
            race("Counter.m")
        """
    )
    result = run_fake(fake, "--race")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["racefree: 1 race(s) ignored by *race_ignore", "FAILED *::test_not_ignored*"])


def test_exitfirst_and_keyword_selection(fake: pytest.Pytester) -> None:
    fake.makepyfile(
        """
        from racefree_fake_engine import race

        def test_one():
            race("a")

        def test_two():
            race("b")

        def test_three():
            pass
        """
    )
    result = run_fake(fake, "--race", "-x")
    result.assert_outcomes(failed=1)
    assert "test_two" not in result.stdout.str()
    result = run_fake(fake, "--race", "-k", "three")
    result.assert_outcomes(passed=1, deselected=2)


def test_parametrize_fails_only_the_racy_case(fake: pytest.Pytester) -> None:
    fake.makepyfile(
        """
        import pytest
        from racefree_fake_engine import race

        @pytest.mark.parametrize("racy", [False, True, False])
        def test_case(racy):
            if racy:
                race("Counter.n")
        """
    )
    result = run_fake(fake, "--race")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED *::test_case[[]True[]] - *"])


def test_fixture_threads_fail_the_phase_they_race_in(fake: pytest.Pytester) -> None:
    fake.makepyfile(
        """
        import threading
        import pytest
        from racefree_fake_engine import race

        @pytest.fixture
        def racy_setup():
            t = threading.Thread(target=race, args=("global config",), name="setup-thread")
            t.start()
            t.join()
            yield

        @pytest.fixture
        def server():
            stop = threading.Event()
            go = threading.Event()
            def serve():
                go.wait()
                race("Server.hits", "MainThread")
                stop.set()
            t = threading.Thread(target=serve, name="server-thread")
            t.start()
            yield go, stop
            t.join()

        def test_setup_races(racy_setup):
            pass

        def test_call_races(server):
            go, served = server
            go.set()
            assert served.wait(10)
        """
    )
    result = run_fake(fake, "--race")
    result.assert_outcomes(errors=1, failed=1)
    result.stdout.fnmatch_lines([
        "racefree: data race detected during setup of *::test_setup_races (mode python)",
        "racefree: data race detected during call of *::test_call_races (mode python)",
    ])


def test_races_of_threads_that_outlive_their_test_go_to_session_end(fake: pytest.Pytester) -> None:
    fake.makepyfile(
        """
        import threading
        from racefree_fake_engine import race

        release = threading.Event()
        done = threading.Event()

        def linger():
            release.wait()
            race("global cache")
            done.set()

        def test_leaks_a_thread():
            threading.Thread(target=linger, name="lingering").start()

        def test_innocent():
            release.set()
            done.wait(10)
        """
    )
    result = run_fake(fake, "--race")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*racefree: races not attributed to a running test*",
        "racefree: race involves a thread started by *::test_leaks_a_thread, which outlived it",
        "*global cache*",
    ])


def test_races_while_importing_test_modules_go_to_session_end(fake: pytest.Pytester) -> None:
    fake.makepyfile(
        """
        from racefree_fake_engine import race

        race("global registry")  # at import, during collection

        def test_fine():
            pass
        """
    )
    result = run_fake(fake, "--race")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "racefree: race detected before the first test (collection or imports)", "*global registry*"])


def test_suppressions_from_the_rootdir_and_unused_entries(fake: pytest.Pytester) -> None:
    fake.makefile(
        ".toml",
        racefree=(
            '[[suppress]]\nlocation = "Counter.*"\nreason = "approximate counter"\n\n'
            '[[suppress]]\nlocation = "global nothing"\nreason = "stale"\n'
        ),
    )
    fake.makepyfile(RACY)
    result = run_fake(fake, "--race")
    result.assert_outcomes(passed=2, failed=1)  # Counter.n accepted; global total still fails
    result.stdout.fnmatch_lines([
        "racefree: 1 race(s) suppressed by *racefree.toml",
        "racefree: racefree.toml:5: suppression matched no race (location 'global nothing')",
    ])


def test_explicit_suppressions_file_and_errors(fake: pytest.Pytester) -> None:
    fake.makepyfile(RACY)
    fake.makefile(".toml", ci='[[suppress]]\nlocation = "*"\nreason = "everything, in this CI job"\n')
    result = run_fake(fake, "--race", "--race-suppressions", "ci.toml")
    result.assert_outcomes(passed=3)
    fake.makefile(".toml", bad='[[suppress]]\nlocation = "x"\n')
    result = run_fake(fake, "--race", "--race-suppressions", "bad.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: racefree: bad.toml:1: a suppression needs a 'reason' (why the race is accepted)"])
    assert "Traceback" not in result.stderr.str()


def test_seed_without_stress_is_a_usage_error(fake: pytest.Pytester) -> None:
    fake.makepyfile(RACY)
    result = run_fake(fake, "--race", "--race-seed", "3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: racefree: --race-seed only applies with --race-stress or --race-confirm"])
    assert "Traceback" not in result.stderr.str()


def test_sarif_file_lists_the_reported_races(fake: pytest.Pytester) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    fake.makepyfile(RACY)
    run_fake(fake, "--race", "--race-sarif", "races.sarif").assert_outcomes(passed=1, failed=2)
    doc = json.loads((fake.path / "races.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(doc)
    results = doc["runs"][0]["results"]
    assert sorted(r["properties"]["location"] for r in results) == ["Counter.n", "global total"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".py")


def test_options_reach_the_detector_and_the_import_hook(fake: pytest.Pytester) -> None:
    fake.makepyfile(
        """
        import os

        def test_env():
            print("ENGINE", os.environ["FAKE_ENGINE_STARTED"])
            print("LOCK ORDER", os.environ["FAKE_ENGINE_LOCK_ORDER"])
            print("HOOK", os.environ["FAKE_HOOK"])
        """
    )
    result = run_fake(fake, "--race", "--race-mode", "strict", "--race-stress", "--race-seed", "7",
                      "--race-include", "pkg.*", "--race-exclude", "pkg.vendored.*", "-s",
                      "--race-no-lock-order")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "racefree: race detection on (mode strict, stress seed 7; instrumenting *)",
        "*ENGINE strict True 7",
        "LOCK ORDER False",
        f"HOOK include=['pkg.*'] exclude=['pkg.vendored.*'] roots=['{fake.path}']",
    ])


def test_test_modules_are_instrumented_after_assert_rewriting(
    fake: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # pytest's rewrite cache is checked below
    fake.makeconftest("import racefree_fake_engine\n")
    fake.makepyfile(
        """
        import racefree_fake_engine

        def test_compiled_by_racefree():
            assert "test_test_modules_are_instrumented_after_assert_rewriting.py" in \\
                racefree_fake_engine.compiled
            assert "conftest.py" in racefree_fake_engine.compiled

        def test_assert_messages_are_pytests():
            x = 1
            assert x + 1 == 3
        """
    )
    result = run_fake(fake, "--race")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["E       assert (1 + 1) == 3"])
    cached = sorted(p.name for p in (fake.path / "__pycache__").iterdir())
    assert any("-racefree-" in name for name in cached)
    # a plain run does not reuse the instrumented cache, and vice versa
    result = run_fake(fake)
    result.assert_outcomes(passed=0, failed=2)  # plain: compiled list stays empty
    cached = sorted(p.name for p in (fake.path / "__pycache__").iterdir())
    assert len([n for n in cached if n.startswith("test_test_modules")]) == 2


def test_a_module_the_rewriter_fails_on_runs_plain_and_is_named(fake: pytest.Pytester) -> None:
    fake.makepyfile(test_uninstrumentable="def test_ok():\n    assert True\n")
    result = run_fake(fake, "--race")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "racefree: not instrumented (ran plain): */test_uninstrumentable.py: rewritten code does not *"])


def test_xdist_workers_detect_on_their_own(fake: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    fake.makepyfile(
        RACY
        + """
    import threading as _t
    _release, _done = _t.Event(), _t.Event()

    def test_leaks():
        def linger():
            _release.wait()
            race("global late")
            _done.set()
        _t.Thread(target=linger, name="late").start()

    def test_zz_release():
        _release.set()
        assert _done.wait(10)
        """
    )
    fake.makepyfile(test_other="from racefree_fake_engine import race\n\ndef test_b():\n    race('B.x')\n")
    result = run_fake(fake, "--race", "-n", "2", "-p", "xdist", "--dist", "loadfile",
                      "--race-sarif", "x.sarif")
    result.assert_outcomes(passed=3, failed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "racefree: race detection on in each xdist worker (mode python)",
        "[[]gw?[]] linux*",
        "racefree: data race detected during call of *::test_racy (mode python)",
        "*racefree: races reported by a worker at session end*",
        "racefree: race involves a thread started by *::test_leaks, which outlived it",
    ])
    # the controller's summary: what docs/pytest.md promises, counted over both workers
    result.stdout.fnmatch_lines(["*- racefree -*", "racefree: Found 4 data race(s)"])
    # one SARIF file with the races of both workers
    results = json.loads((fake.path / "x.sarif").read_text())["runs"][0]["results"]
    assert sorted(r["properties"]["location"] for r in results) == [
        "B.x", "Counter.n", "global late", "global total"]


# -- the real detector and instrumentation ------------------------------------------------------------

COUNTER = """
    import threading


    class Counter:
        def __init__(self):
            self.n = 0

        def incr(self):
            self.n += 1


    class LockedCounter:
        def __init__(self):
            self.n = 0
            self._lock = threading.Lock()

        def incr(self):
            with self._lock:
                self.n += 1
"""

COUNTER_TESTS = """
    import threading

    from counter import Counter, LockedCounter


    def hammer(counter, threads=2, times=50):
        def work():
            for _ in range(times):
                counter.incr()
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return counter.n


    def test_unlocked():
        hammer(Counter())


    def test_locked():
        assert hammer(LockedCounter()) == 100
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(counter=COUNTER, test_counter=COUNTER_TESTS)
    return pytester


@pytest.mark.parametrize("mode", ["python", "strict"])
def test_real_racy_test_fails_exactly(project: pytest.Pytester, mode: str) -> None:
    result = project.runpytest_subprocess("--race", "--race-mode", mode)
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    failure = out.split("_ test_unlocked _")[1]
    head = f"racefree: data race detected during call of test_counter.py::test_unlocked (mode {mode})"
    assert head in failure
    assert "WARNING: DATA RACE" in failure
    assert "Counter.n" in failure
    assert re.search(r"counter\.py:9\b", failure)  # self.n += 1, in both stacks
    assert "test_counter.py" in failure  # the thread's body, and where it was created
    assert "LockedCounter" not in out


def test_plain_run_of_the_same_project_passes(project: pytest.Pytester) -> None:
    project.runpytest_subprocess().assert_outcomes(passed=2)


def test_real_race_in_the_test_module_itself(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        '''
        """A docstring and a __future__ import: pytest inserts its own imports after them."""

        from __future__ import annotations

        import threading

        hits = 0


        def bump():
            global hits
            for _ in range(50):
                hits += 1


        def test_global_in_test_module():
            threads = [threading.Thread(target=bump) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()


        def test_assertions_keep_pytests_messages():
            box = type("Box", (), {})()
            box.n = 2
            assert box.n == 3
        '''
    )
    result = pytester.runpytest_subprocess("--race")
    result.assert_outcomes(failed=2)
    assert "not instrumented" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*global hits*"])
    result.stdout.fnmatch_lines(["E       assert 2 == 3", "E        +  where 2 = <*Box object at *>.n"])


def test_real_test_module_instrumented_with_plain_asserts(pytester: pytest.Pytester) -> None:
    # without pytest's rewriting hook, racefree's own import hook takes the test modules
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import threading

        hits = 0

        def bump():
            global hits
            hits += 1

        def test_global():
            threads = [threading.Thread(target=bump) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        """
    )
    result = pytester.runpytest_subprocess("--race", "--assert=plain")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["racefree: data race detected during call of *::test_global *", "*global hits*"])


def test_real_unjoined_thread_of_an_earlier_test_is_not_blamed_on_the_next(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import os
        import threading

        state = {"n": 0}
        r, w = os.pipe()


        def write():
            state["n"] = 1
            os.write(w, b"x")


        def test_starts_and_never_joins():
            t = threading.Thread(target=write, name="unjoined")
            t.start()
            os.read(r, 1)  # it wrote by now; nothing the detector sees orders that write


        def test_innocent():
            state["n"] = 2
        """
    )
    result = pytester.runpytest_subprocess("--race", "--race-mode", "strict")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "racefree: race involves a thread started by *::test_starts_and_never_joins, which outlived it",
        "*unjoined*",
    ])


def test_under_racefree_run_a_second_detector_is_a_usage_error(project: pytest.Pytester) -> None:
    # (racefree is imported before pytest starts, so pytest warns it cannot rewrite its asserts)
    result = project.run(sys.executable, "-m", "racefree", "run", "-m", "pytest", "--race",
                         "-W", "ignore::pytest.PytestAssertRewriteWarning")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: racefree: cannot start the detector: *already started*"])
    assert "Traceback" not in result.stderr.str()


def test_real_sarif_end_to_end(project: pytest.Pytester) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    project.runpytest_subprocess("--race", "--race-sarif", "out.sarif").assert_outcomes(passed=1, failed=1)
    doc = json.loads((project.path / "out.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(doc)
    (result,) = doc["runs"][0]["results"]
    assert result["properties"]["location"] == "Counter.n"
    primary = result["locations"][0]["physicalLocation"]
    assert primary == {"artifactLocation": {"uri": "counter.py", "uriBaseId": "SRCROOT"},
                       "region": {"startLine": 9}}


LOST_UPDATE = """
    import threading

    import pytest

    from counter import Counter


    @pytest.mark.race_ignore  # the detector's report is not the point here: the lost update is
    def test_no_update_lost():
        counter = Counter()
        start = threading.Barrier(4)

        def work():
            start.wait()
            for _ in range(500):
                counter.incr()

        workers = [threading.Thread(target=work) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert counter.n == 2000
"""


def test_stress_mode_makes_the_lost_update_happen(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(counter=COUNTER, test_lost=LOST_UPDATE)
    for _ in range(2):  # the same seed, twice: the lost update shows both times
        result = pytester.runpytest_subprocess("--race", "--race-stress", "--race-seed", "1")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([
            "racefree: race detection on (mode python, stress seed 1; *",
            "E       assert * == 2000",
            "racefree: 1 race(s) ignored by @pytest.mark.race_ignore",
            "racefree: Found 0 data race(s) (stress seed 1)",
        ])
    result = pytester.runpytest_subprocess("--race", "--race-stress")  # a random seed is chosen and shown
    result.stdout.fnmatch_lines(["racefree: race detection on (mode python, stress seed [0-9]*; *"])


def test_a_bad_detector_backend_setting_is_a_usage_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEFREE_DETECTOR_BACKEND", "fortran")
    result = project.runpytest_subprocess("--race")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*racefree: RACEFREE_DETECTOR_BACKEND='fortran': expected one of*"])
    assert "Traceback" not in result.stderr.str()


LOST_UPDATE_TEST = """
    import threading

    class Counter:
        def __init__(self):
            self.n = 0

    def bump(c):
        c.n += 1

    def test_counter():
        c = Counter()
        threads = [threading.Thread(target=bump, args=(c,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert c.n == 2  # the GIL build never loses this one by itself
"""


def test_race_confirm_gives_each_race_a_verdict_from_a_directed_rerun(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_counter=LOST_UPDATE_TEST)
    result = pytester.runpytest_subprocess("--race", "--race-confirm", "--race-seed", "5")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "CONFIRMED (attempt 1): Counter.n written 1 by" in out, out
    assert "after both threads read 0" in out
    assert "replay: pytest test_counter.py::test_counter --race --race-confirm --race-seed 5" in out


def test_without_race_confirm_no_verdict_is_given(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_counter=LOST_UPDATE_TEST)
    result = pytester.runpytest_subprocess("--race")
    result.assert_outcomes(failed=1)
    assert "CONFIRMED" not in result.stdout.str() and "Not confirmed" not in result.stdout.str()


# -- a race is reported once per session: say which other tests hit it (issue 9) ----------------------

AGAIN_TESTS = COUNTER_TESTS + """

    def test_unlocked_again():
        hammer(Counter())
"""


def test_the_summary_names_the_other_tests_that_hit_a_reported_race(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(counter=COUNTER, test_counter=AGAIN_TESTS)
    result = pytester.runpytest_subprocess("--race", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    failure = out.split("_ test_unlocked _")[1]
    assert "(a race fails only the first test that hits it: the racefree summary at the end names " in failure
    result.stdout.fnmatch_lines([
        "*- racefree -*",
        "racefree: lost-update on Counter.n at counter.py:9, counter.py:9: reported in "
        "test_counter.py::test_unlocked; also hit by test_counter.py::test_unlocked_again",
        "racefree: Found 1 data race(s)",
    ])


def test_xdist_controller_prints_the_summary_of_all_workers(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makeini(INI)
    pytester.makepyfile(counter=COUNTER, test_counter=COUNTER_TESTS,
                        test_more="from test_counter import hammer, Counter\n\n"
                                  "def test_more():\n    hammer(Counter())\n")
    result = pytester.runpytest_subprocess("--race", "-n", "2", "-p", "xdist", "--dist", "loadfile",
                                           "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=2)
    # each worker failed its own racy test; the controller counts the one race once, and names both tests
    result.stdout.fnmatch_lines([
        "*- racefree -*",
        "racefree: lost-update on Counter.n at counter.py:9, counter.py:9: reported in test_*::test_*; "
        "also hit by test_*::test_*",
        "racefree: Found 1 data race(s)",
    ])


def test_xdist_controller_adds_up_what_the_workers_ignored(fake: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    for name in ("a", "b"):
        fake.makepyfile(**{f"test_{name}": "import pytest\nfrom racefree_fake_engine import race\n\n"
                                           f"@pytest.mark.race_ignore\ndef test_{name}():\n"
                                           f"    race('{name.upper()}.x')\n"})
    result = run_fake(fake, "--race", "-n", "2", "-p", "xdist", "--dist", "loadfile")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*- racefree -*", "racefree: 2 race(s) ignored by @pytest.mark.race_ignore",
                                 "racefree: Found 0 data race(s)"])
