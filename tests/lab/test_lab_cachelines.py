"""Cache-line layout exactly as in the module, topology parsing, and the verdict for each topology."""

from __future__ import annotations

from pathlib import Path

import pytest

from racefree.lab.cachelines import (
    CacheLinePaddedCounters,
    CacheTopology,
    FalseSharingExample,
    false_sharing_verdict,
    layout_of,
    read_topology,
)


def test_layouts_match_the_go_structs() -> None:
    adjacent, padded = layout_of(FalseSharingExample), layout_of(CacheLinePaddedCounters)
    assert (adjacent.size, adjacent.offsets) == (32, (0, 8, 16, 24))
    assert (padded.size, padded.offsets) == (200, (0, 64, 128, 192))


def test_lines_touched_depends_on_alignment() -> None:
    adjacent, padded = layout_of(FalseSharingExample), layout_of(CacheLinePaddedCounters)
    assert adjacent.lines_touched(64) == 1
    assert adjacent.lines_touched(64, base_offset=48) == 2  # straddles a boundary when misaligned
    assert padded.lines_touched(64) == 4
    assert padded.lines_touched(64, base_offset=40) == 4


def _fake_sysfs(root: Path, cpus: int, caches: list[tuple[int, str, str]]) -> Path:
    """caches: (level, type, shared_cpu_list template with {cpu}) for each cpu."""
    for cpu in range(cpus):
        for i, (level, kind, shared) in enumerate(caches):
            d = root / f"cpu{cpu}" / "cache" / f"index{i}"
            d.mkdir(parents=True)
            (d / "level").write_text(f"{level}\n")
            (d / "type").write_text(f"{kind}\n")
            (d / "shared_cpu_list").write_text(shared.format(cpu=cpu) + "\n")
            (d / "coherency_line_size").write_text("64\n")
            (d / "size").write_text("32K\n")
    return root


@pytest.fixture
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("racefree.lab.cachelines._usable_cpus", lambda: (0, 1))


def test_private_l1_l2_shared_l3(tmp_path: Path, two_cpus: None) -> None:
    root = _fake_sysfs(tmp_path, 2, [(1, "Data", "{cpu}"), (1, "Instruction", "{cpu}"),
                                     (2, "Unified", "{cpu}"), (3, "Unified", "0-1")])
    topo = read_topology(root)
    assert topo.line_size == 64
    assert topo.private_data_levels() == [1, 2]
    assert topo.shared_data_levels() == [3]
    assert "L3 32K shared by CPUs {0,1}" in topo.summary()
    v = false_sharing_verdict(3.0, topo, workers=4)
    assert v.code == "visible" and "through L3" in v.text
    assert false_sharing_verdict(1.05, topo, workers=4).code == "not-observed"


def test_workers_that_took_turns_prove_nothing(tmp_path: Path, two_cpus: None) -> None:
    root = _fake_sysfs(tmp_path, 2, [(1, "Data", "{cpu}"), (3, "Unified", "0-1")])
    topo = read_topology(root)
    v = false_sharing_verdict(1.02, topo, workers=4, parallelism=1.0)
    assert v.code == "no-parallelism" and "1.00 CPUs' worth" in v.text
    # a clear slowdown is still reported as false sharing, and full parallelism without one is not
    assert false_sharing_verdict(2.5, topo, workers=4, parallelism=1.1).code == "visible"
    assert false_sharing_verdict(1.02, topo, workers=4, parallelism=1.9).code == "not-observed"


def test_all_caches_shared_means_the_effect_vanishes(tmp_path: Path, two_cpus: None) -> None:
    root = _fake_sysfs(tmp_path, 2, [(1, "Data", "0,1"), (2, "Unified", "0-1")])
    topo = read_topology(root)
    assert topo.private_data_levels() == []
    v = false_sharing_verdict(1.0, topo, workers=4)
    assert v.code == "vanished-shared-caches" and "vanishes" in v.text


def test_missing_sysfs_is_reported_not_invented(tmp_path: Path, two_cpus: None) -> None:
    topo = read_topology(tmp_path / "nothing")
    assert topo.caches == () and topo.line_size is None
    assert topo.summary() == "cache topology not reported by the OS"
    assert false_sharing_verdict(2.0, topo, workers=4).code == "unknown-topology"


def test_one_cpu_cannot_show_false_sharing() -> None:
    topo = CacheTopology(cpus=(0,), caches=(), source="test")
    assert false_sharing_verdict(1.0, topo, workers=4).code == "single-cpu"


def test_real_topology_line_size_matches_the_os() -> None:
    topo = read_topology()
    index0 = Path("/sys/devices/system/cpu/cpu0/cache/index0/coherency_line_size")
    if not index0.exists() or 0 not in topo.cpus:
        pytest.skip("this OS does not report cache line sizes for cpu0")
    assert topo.line_size == int(index0.read_text())
    assert set(topo.as_dict()) >= {"summary", "cpus", "line_size", "private_data_levels", "caches"}
