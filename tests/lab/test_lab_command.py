"""`racefree lab` end to end (quick, once per interpreter), its JSON, exit codes and usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import racefree.lab
from racefree.cli import main
from racefree.lab import command, exercises
from racefree.lab.threads import Check


def _get(doc: dict[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


FIGURES = [
    # every exercise states the interpreter
    *(f"exercises.{ex}.build.{k}" for ex in ("ex1", "ex2", "ex3")
      for k in ("implementation", "version", "free_threaded_build", "gil_enabled", "cpu_count")),
    # exercise 1
    "exercises.ex1.data_race.expected", "exercises.ex1.data_race.unsafe.actual",
    "exercises.ex1.data_race.unsafe.lost", "exercises.ex1.data_race.unsafe.duration_s",
    "exercises.ex1.false_sharing.workers", "exercises.ex1.false_sharing.increments_per_worker",
    "exercises.ex1.false_sharing.adjacent_s", "exercises.ex1.false_sharing.padded_s",
    "exercises.ex1.false_sharing.ratio", "exercises.ex1.false_sharing.verdict",
    "exercises.ex1.false_sharing.explanation", "exercises.ex1.false_sharing.topology.summary",
    "exercises.ex1.false_sharing.kernel", "exercises.ex1.cache_lines.line_size",
    # exercise 2
    "exercises.ex2.atomic_vs_mutex.atomic.duration_s", "exercises.ex2.atomic_vs_mutex.mutex.duration_s",
    "exercises.ex2.atomic_vs_mutex.mutex_over_atomic", "exercises.ex2.workload.duration_s",
    "exercises.ex2.workload.samples.0.tasks_processed", "exercises.ex2.workload.config_reads",
    # exercise 3
    *(f"exercises.ex3.configuration.{impl}.{k}" for impl in ("config_store", "rwlock", "plain_lock")
      for k in ("duration_s", "reads", "writes", "read_write_ratio", "ops_per_s", "vs_plain_lock")),
    "exercises.ex3.registry.runs.0.lost_type_counts", "exercises.ex3.registry.runs.0.listing_errors",
    "exercises.ex3.registry.runs.0.lost_registrations",
    *(f"exercises.ex3.processors.runs.{i}.{k}" for i in range(4)
      for k in ("duration_s", "tasks_processed", "lost_tasks", "errors_occurred", "lost_errors")),
]


def test_quick_lab_end_to_end_writes_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lab.json"
    assert main(["lab", "--quick", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    for title in ("Exercise 1", "Exercise 2", "Exercise 3", "False sharing", "Monitor", "Final metrics",
                  "Task registry", "Interface races", "checks of the safe components passed"):
        assert title in text
    doc = json.loads(out.read_text())
    assert doc["ok"] is True and doc["scale"]["name"] == "quick"
    assert all(c["ok"] for c in doc["checks"]) and len(doc["checks"]) > 20
    missing = [p for p in FIGURES if _get(doc, p) is None and not p.startswith("exercises.ex1.false")]
    assert missing == []
    ex1, ex2 = doc["exercises"]["ex1"], doc["exercises"]["ex2"]
    # the cache-layout numbers, exactly as in the module
    assert ex1["cache_lines"]["FalseSharingExample"] == {"size": 32, "offsets": [0, 8, 16, 24],
                                                          "lines_touched_when_aligned": 1}
    assert ex1["cache_lines"]["CacheLinePaddedCounters"] == {"size": 200, "offsets": [0, 64, 128, 192],
                                                              "lines_touched_when_aligned": 4}
    race = ex1["data_race"]
    assert race["expected"] == 100_000 and race["unsafe"]["lost"] == 100_000 - race["unsafe"]["actual"]
    fs = ex1["false_sharing"]
    if fs["kernel"] is None:
        assert fs["verdict"] == "no-kernel"
    else:
        assert fs["ratio"] == pytest.approx(fs["adjacent_s"] / fs["padded_s"])
        assert fs["verdict"] in {"visible", "not-observed", "no-parallelism", "vanished-shared-caches",
                                 "single-cpu", "unknown-topology"}
        assert fs["parallelism"] > 0
    final = ex2["workload"]["final"]
    assert (final["tasks_processed"], final["errors"], final["bytes_processed"], final["requests"]) == (
        2000, 100, 2_048_000, 2000)
    assert set(final["tasks_by_type"].values()) == {400}
    assert len(ex2["workload"]["samples"]) == 10


def test_exercise_names_match_the_runner() -> None:
    assert tuple(exercises.EXERCISES) == command.EXERCISE_NAMES


def test_a_wrong_total_exits_1_and_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def broken(scale: Any, ui: Any) -> tuple[dict[str, Any], list[Check]]:
        return {"n": float("inf")}, [Check("ex1 something", 10, 9)]

    monkeypatch.setitem(exercises.EXERCISES, "ex1", broken)
    out = tmp_path / "x.json"
    assert main(["lab", "ex1", "--quick", "--json", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == "racefree lab: WRONG TOTAL: ex1 something: expected 10, got 9\n"
    doc = json.loads(out.read_text())
    assert doc["ok"] is False and doc["exercises"]["ex1"] == {"n": None}  # no Infinity in JSON


def test_unknown_exercise_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lab", "ex9"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'ex9'" in err


@pytest.mark.parametrize("target", ["missing-dir/out.json", "."])
def test_unwritable_json_target_is_one_line_exit_2(target: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / target)
    assert main(["lab", "--quick", "--json", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("racefree lab: error: --json ") and err.count("\n") == 1


def test_all_is_pinned_and_resolves() -> None:
    assert racefree.lab.__all__ == [
        "EXERCISES", "FULL", "QUICK", "AtomicCounter", "CacheLinePaddedCounters", "CacheTopology", "Check",
        "ConfigurationManager", "FalseSharingExample", "IncrementKernel", "KernelChoice", "LabResult",
        "LabUI", "LockedConfigurationManager", "MutexCounter", "NullUI", "RichUI", "Scale",
        "false_sharing_verdict", "layout_of", "load_kernel", "read_topology", "run_lab", "run_threads",
        "write_json",
    ]
    for name in racefree.lab.__all__:
        assert getattr(racefree.lab, name) is not None
    with pytest.raises(AttributeError):
        racefree.lab.no_such_name


def test_building_the_cli_does_not_import_the_lab_modules() -> None:
    code = ("import sys, racefree.cli; racefree.cli.build_parser(); "
            "print(sorted(m for m in sys.modules if m.startswith('racefree.lab.') "
            "and m != 'racefree.lab.command'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
