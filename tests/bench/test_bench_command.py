"""``racefree bench``: runs end to end at a tiny size, writes every ratio to JSON, rejects bad options.

No timing assertions: only the shape and arithmetic of the results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from racefree.bench.suites import SUITES
from racefree.cli import main
from racefree.sync import backend_info

TINY = ["--quick", "--ops", "64", "--repeats", "1", "--threads", "1,2,8"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    code = main(["bench", *TINY, "--json", str(out)])
    return code, json.loads(out.read_text(encoding="utf-8"))


def test_quick_run_succeeds(tiny_run: tuple[int, dict[str, Any]]) -> None:
    code, data = tiny_run
    assert code == 0
    assert data["quick"] is True and data["total_ops"] == 64 and data["repeats"] == 1
    assert data["backend"]["name"] == backend_info().name
    assert data["build"]["version"]


def test_json_holds_every_suite_row_and_thread_count(tiny_run: tuple[int, dict[str, Any]]) -> None:
    _, data = tiny_run
    assert set(data["suites"]) == set(SUITES)
    for key, suite in data["suites"].items():
        expected_threads = list(SUITES[key].fixed_threads or (1, 2, 8))
        assert suite["threads"] == expected_threads
        names = [row["name"] for row in suite["rows"]]
        assert suite["baseline"] in names
        for row in suite["rows"]:
            assert set(row["ns_per_op"]) == set(row["ratio"]) == {str(t) for t in expected_threads}
            assert all(len(s) == 1 for s in row["samples"].values())


def test_every_ratio_is_ns_over_the_baseline_at_the_same_thread_count(
    tiny_run: tuple[int, dict[str, Any]],
) -> None:
    _, data = tiny_run
    for suite in data["suites"].values():
        base = next(r for r in suite["rows"] if r["name"] == suite["baseline"])
        assert all(v == 1.0 for v in base["ratio"].values())
        for row in suite["rows"]:
            for t, ratio in row["ratio"].items():
                assert ratio == pytest.approx(row["ns_per_op"][t] / base["ns_per_op"][t])


def test_json_judges_every_target(tiny_run: tuple[int, dict[str, Any]]) -> None:
    _, data = tiny_run
    targets = {t["key"]: t for t in data["targets"]}
    assert set(targets) == {
        "atomic-int", "map-read-heavy", "rwlock-read", "sharded-scaling", "config-store", "config-rwlock",
        "snapshot-get",
    }
    for t in targets.values():
        assert t["status"] in ("PASS", "MISS", "N/A")
        assert t["value"] is not None  # 1, 2 and 8 threads measured: every target has its input
    atomic = data["suites"]["counter"]["rows"][0]
    assert targets["atomic-int"]["value"] == max(atomic["ratio"].values())


def test_core_rows_are_always_present(tiny_run: tuple[int, dict[str, Any]]) -> None:
    _, data = tiny_run
    counter = [r["name"] for r in data["suites"]["counter"]["rows"]]
    assert counter[0] == f"AtomicInt.increment [{backend_info().name}]"
    assert {"ShardedCounter.add", "ShardedCounter.handle().add", "Lock+int", "itertools.count"} <= set(
        counter
    )
    config = data["suites"]["config"]
    assert config["threads"] == [2, 8, 50]  # the lab's shape: many more threads than CPUs at 50
    assert [r["name"] for r in config["rows"]] == [
        "ConfigStore", "RWLock + dict", "Lock + dict", "dict (unsynchronized)"
    ]
    assert [r["name"] for r in data["suites"]["snapshot"]["rows"]] == ["Snapshot.get()", "plain attribute"]
    mapping = {r["name"] for r in data["suites"]["map"]["rows"]}
    assert {"ConcurrentMap", "dict (unsynchronized)", "Lock + dict", "copy-on-write dict"} <= mapping


def test_json_to_stdout_keeps_the_tables_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", *TINY, "--suite", "rwlock", "--json", "-"])
    captured = capsys.readouterr()
    assert code == 0
    data = json.loads(captured.out)
    assert list(data["suites"]) == ["rwlock"]
    assert "Uncontended lock round-trip" in captured.err
    assert "Targets" in captured.err


def test_tables_name_the_backend_and_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", *TINY, "--suite", "counter"]) == 0
    out = capsys.readouterr().out
    assert f"racefree.sync back-end: {backend_info().describe()}" in out
    assert f"AtomicInt.increment [{backend_info().name}]" in out
    for verdict_line in (
        "AtomicInt.increment vs Lock+int",
        "ShardedCounter speed-up 1 -> 2 threads (handle)",
    ):
        assert verdict_line in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--threads", "a,2"],
            "racefree bench: error: --threads wants comma-separated positive integers, got 'a,2'\n",
        ),
        (["--threads", "0"], "racefree bench: error: --threads wants integers between 1 and 256, got '0'\n"),
        (["--ops", "0"], "racefree bench: error: --ops must be a positive integer, got 0\n"),
        (["--repeats", "-1"], "racefree bench: error: --repeats must be a positive integer, got -1\n"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", *argv]) == 2
    assert capsys.readouterr().err == message


def test_unwritable_json_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing-dir" / "out.json"
    assert main(["bench", *TINY, "--json", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"racefree bench: error: cannot write --json file '{target}': ")
    assert err.count("\n") == 1


def test_unknown_suite_is_rejected_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["bench", "--suite", "nope"])
    assert info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
