"""``pytest --race`` and potential deadlocks: the test during which a lock-order cycle closed fails.

Through pytester, in a subprocess (the detector patches ``threading``), with the
real detector, like the integration half of ``tests/test_pytest_plugin.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"
INI = "[pytest]\naddopts = --strict-markers -p no:cacheprovider\nfilterwarnings = error\n"

LOCKS = """
    import threading

    A = None
    B = None


    def make():
        global A, B
        A, B = threading.Lock(), threading.Lock()


    def nested(x, y):
        with x:
            with y:  # noqa: SIM117
                pass


    def in_thread(fn, *args):
        t = threading.Thread(target=fn, args=args)
        t.start()
        t.join()
"""

TESTS = """
    import pytest

    import locks


    def test_a_then_b():
        locks.make()
        locks.in_thread(locks.nested, locks.A, locks.B)


    def test_b_then_a():
        locks.in_thread(locks.nested, locks.B, locks.A)


    def test_after():
        pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(locks=LOCKS, test_locks=TESTS)
    return pytester


def test_the_test_that_closes_the_cycle_fails_with_the_report(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("--race", "-rA")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    failure = out.split("_ test_b_then_a _")[1]
    assert "racefree: potential deadlock detected during call of test_locks.py::test_b_then_a" in failure
    assert "WARNING: POTENTIAL DEADLOCK (lock-order inversion)" in failure
    assert "Cycle in lock order graph: M1 => M2 => M1" in failure
    source = (project.path / "locks.py").read_text().splitlines()
    outer, inner = (next(i for i, line in enumerate(source, 1) if line.strip().startswith(f"with {v}:"))
                    for v in ("x", "y"))
    assert f"locks.py:{outer}" in failure and f"locks.py:{inner}" in failure
    assert "_pytest" not in failure and "pluggy" not in failure
    result.stdout.fnmatch_lines(["racefree: Found 0 data race(s) and 1 potential deadlock(s)",
                                 "PASSED test_locks.py::test_a_then_b", "PASSED test_locks.py::test_after"])


def test_the_off_switch_and_the_marker(project: pytest.Pytester) -> None:
    project.runpytest_subprocess("--race", "--race-no-lock-order").assert_outcomes(passed=3)
    project.makepyfile(conftest="""
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                if item.name == "test_b_then_a":
                    item.add_marker(pytest.mark.race_ignore)
    """)
    result = project.runpytest_subprocess("--race")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["racefree: 1 potential deadlock(s) ignored by @pytest.mark.race_ignore"])
    assert "race(s) ignored" not in result.stdout.str()


def test_suppressed_and_written_to_sarif(project: pytest.Pytester) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    project.runpytest_subprocess("--race", "--race-sarif", "out.sarif").assert_outcomes(passed=2, failed=1)
    log = json.loads((project.path / "out.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "lock-order-inversion"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "locks.py"

    (project.path / "racefree.toml").write_text(
        '[[suppress]]\nkind = "lock-order-inversion"\nsite = "locks.py:nested"\nreason = "test"\n')
    suppressed = project.runpytest_subprocess("--race")
    suppressed.assert_outcomes(passed=3)
    suppressed.stdout.fnmatch_lines(["racefree: 1 potential deadlock(s) suppressed by racefree.toml"])


def test_a_cycle_closed_between_tests_fails_the_session(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(locks=LOCKS, conftest="""
        import locks

        def pytest_sessionstart(session):
            pass

        def pytest_collection_finish(session):
            locks.make()
            locks.in_thread(locks.nested, locks.A, locks.B)
            locks.in_thread(locks.nested, locks.B, locks.A)
    """, test_fine="def test_fine():\n    pass\n")
    result = pytester.runpytest_subprocess("--race")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*racefree: races not attributed to a running test*",
                                 "racefree: potential deadlock detected before the first test*",
                                 "WARNING: POTENTIAL DEADLOCK (lock-order inversion)"])
