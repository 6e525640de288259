"""Suppressions: loading, matching, unused entries, and one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from racefree.detector.findings import Access, Frame, Kind, Race
from racefree.detector.suppressions import SuppressionError, Suppressions, discover, load, load_for
from racefree.errors import UsageError

DATA = Path(__file__).parent.parent / "data" / "suppressions"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(DATA / "racefree.toml", tmp_path / "racefree.toml")
    return tmp_path


def _race(
    root: Path,
    location: str = "Stats.hits",
    kind: Kind = "lost-update",
    cur: tuple[str, int, str] = ("app/stats.py", 10, "record"),
    prev: tuple[str, int, str] = ("app/stats.py", 10, "record"),
) -> Race:
    def access(op: str, where: tuple[str, int, str]) -> Access:
        file, line, func = where
        return Access(op, "T", (Frame(str(root / file), line, func), Frame(str(root / "main.py"), 3, "run")))  # type: ignore[arg-type]

    return Race(kind, location, access("write", cur), access("read", prev))


def test_sample_file_loads_with_line_numbers(project: Path) -> None:
    supp = load("racefree.toml", project)
    assert [e.origin for e in supp.entries] == [
        "racefree.toml:3", "racefree.toml:8", "racefree.toml:12", "racefree.toml:17"]
    first = supp.entries[0]
    assert (first.location, first.kind, first.site) == ("Stats.hits", "lost-update", None)
    assert first.reason.startswith("approximate metrics")


def test_location_and_kind(project: Path) -> None:
    supp = load("racefree.toml", project)
    hit = _race(project)
    other_kind = _race(project, kind="check-then-act")
    other_loc = _race(project, location="Stats.misses")
    kept, suppressed = supp.apply([hit, other_kind, other_loc])
    assert kept == [other_kind, other_loc]
    assert [(r, e.origin) for r, e in suppressed] == [(hit, "racefree.toml:3")]


def test_location_glob_and_literal_brackets(project: Path) -> None:
    supp = load("racefree.toml", project)
    legacy = _race(project, "global legacy_total", "data-race")
    cfg = _race(project, "dict registry['cfg']", "data-race", cur=("app/config.py", 41, "load"))
    cfg_other_key = _race(project, "dict registry['cfh']", "data-race", cur=("app/config.py", 41, "load"))
    kept, suppressed = supp.apply([legacy, cfg, cfg_other_key])
    assert kept == [cfg_other_key]  # "[...]" is not a character class
    assert [e.origin for _, e in suppressed] == ["racefree.toml:17", "racefree.toml:12"]


def test_site_by_function_matches_either_access_at_any_depth(project: Path) -> None:
    supp = load("racefree.toml", project)
    # "app/cache.py:warm" matches src/app/cache.py (depth) on the *previous* access only
    prev_warm = _race(project, "Cache.data", "data-race", cur=("src/app/loader.py", 5, "load"),
                      prev=("src/app/cache.py", 9, "warm"))
    neither = _race(project, "Cache.data", "data-race", cur=("src/app/loader.py", 5, "load"),
                    prev=("src/app/cache.py", 9, "cool"))
    similar_name = _race(project, "Cache.data", "data-race", cur=("src/myapp/cache.py", 9, "warm"),
                         prev=("x.py", 1, "f"))
    kept, suppressed = supp.apply([prev_warm, neither, similar_name])
    assert [r for r, _ in suppressed] == [prev_warm]
    assert kept == [neither, similar_name]


def test_site_by_line_needs_the_exact_line(project: Path) -> None:
    supp = load("racefree.toml", project)
    wrong_line = _race(project, "dict registry['cfg']", "data-race", cur=("app/config.py", 42, "load"))
    kept, _ = supp.apply([wrong_line])
    assert kept == [wrong_line]


def test_unused_entries_are_remembered_across_calls(project: Path) -> None:
    supp = load("racefree.toml", project)
    supp.apply([_race(project)])
    supp.apply([_race(project, "global legacy_x", "data-race")])
    assert [e.origin for e in supp.unused()] == ["racefree.toml:8", "racefree.toml:12"]
    lines = supp.summary_lines(suppressed=2)
    assert lines[0] == "racefree: 2 race(s) suppressed by racefree.toml"
    assert lines[1] == "racefree: racefree.toml:8: suppression matched no race (site 'app/cache.py:warm')"
    assert len(lines) == 3


def test_pyproject_inline_array(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.racefree]\nsuppress = [\n'
        '  {location = "Stats.*", reason = "metrics"},\n'
        '  {site = "app.py:7", kind = "iteration", reason = "snapshot"},\n]\n'
    )
    supp = load_for(None, tmp_path)
    assert [e.origin for e in supp.entries] == [
        "pyproject.toml: [tool.racefree] suppress[0]", "pyproject.toml: [tool.racefree] suppress[1]"]
    assert supp.entries[1].kind == "iteration"


def test_pyproject_array_of_tables(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.racefree]\n\n[[tool.racefree.suppress]]\nlocation = "a"\nreason = "r"\n'
    )
    assert [e.origin for e in load("pyproject.toml", tmp_path).entries] == ["pyproject.toml:3"]


def test_discovery_walks_up_and_prefers_racefree_toml(tmp_path: Path) -> None:
    sub = tmp_path / "pkg" / "deep"
    sub.mkdir(parents=True)
    assert discover(sub) is None or not str(discover(sub)).startswith(str(tmp_path))
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert discover(sub) == (tmp_path / "pyproject.toml").resolve()
    assert len(load_for(None, sub)) == 0  # a pyproject without [tool.racefree]: nothing suppressed
    (tmp_path / "racefree.toml").write_text('[[suppress]]\nlocation = "a"\nreason = "r"\n')
    assert discover(sub) == (tmp_path / "racefree.toml").resolve()
    assert len(load_for(None, sub)) == 1


def test_discovery_stops_at_the_first_project(tmp_path: Path) -> None:
    (tmp_path / "racefree.toml").write_text('[[suppress]]\nlocation = "a"\nreason = "r"\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    assert len(load_for(None, inner)) == 0


def test_explicit_file_wins_over_discovery(project: Path) -> None:
    other = project / "ci-races.toml"
    other.write_text('[[suppress]]\nlocation = "x"\nreason = "r"\n')
    supp = load_for("ci-races.toml", project)
    assert [e.location for e in supp.entries] == ["x"]
    assert isinstance(supp, Suppressions)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[suppress]]\nlocation = "a"\nreason = "r"\nkind = \n',
         "racefree.toml: invalid TOML: Invalid value (at line 4, column 8)"),
        ('[[suppress]]\nlocation = "a"\nreason = "r"\n\n[[suppress]]\nsite = "x.py:3"\n',
         "racefree.toml:5: a suppression needs a 'reason' (why the race is accepted)"),
        ('[[suppress]]\nreason = "   "\nlocation = "a"\n',
         "racefree.toml:1: a suppression needs a 'reason' (why the race is accepted)"),
        ('[[suppress]]\nreason = "r"\n',
         "racefree.toml:1: a suppression needs a 'location' or a 'site' (or both)"),
        ('[[suppress]]\nlocaton = "a"\nreason = "r"\n',
         "racefree.toml:1: unknown key 'locaton' (known: location, site, kind, reason)"),
        ('[[suppress]]\nlocation = "a"\nkind = "race"\nreason = "r"\n',
         "racefree.toml:1: unknown kind 'race' (known: data-race, lost-update, check-then-act, iteration, "
         "lock-order-inversion)"),
        ('[[suppress]]\nsite = "stats.py"\nreason = "r"\n',
         "racefree.toml:1: site 'stats.py' must be PATH:LINE or PATH:FUNCTION"),
        ('[[suppress]]\nsite = "stats.py:"\nreason = "r"\n',
         "racefree.toml:1: site 'stats.py:' must be PATH:LINE or PATH:FUNCTION"),
        ('[[suppress]]\nlocation = 3\nreason = "r"\n',
         "racefree.toml:1: 'location' must be a string"),
        ('[[supress]]\nlocation = "a"\nreason = "r"\n',
         "racefree.toml: unknown key 'supress' in the top level (known: suppress)"),
        ('suppress = "all"\n',
         "racefree.toml: 'suppress' must be an array of tables ([[suppress]] entries)"),
        ('suppress = ["a"]\n',
         "racefree.toml: suppress[0]: a suppression must be a table, not str"),
    ],
)
def test_malformed_file_is_one_line_naming_the_place(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "racefree.toml").write_text(text)
    with pytest.raises(SuppressionError) as info:
        load_for(None, tmp_path)
    assert str(info.value) == message
    assert "\n" not in str(info.value)
    assert isinstance(info.value, UsageError)  # the CLI turns it into exit code 2


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(SuppressionError, match=r"^nope.toml: suppressions file not found$"):
        load_for("nope.toml", tmp_path)


def test_cli_reports_suppression_error_as_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from racefree import cli
    from racefree.detector import command

    def run(args: object) -> int:
        raise SuppressionError("racefree.toml:4: a suppression needs a 'reason' (why the race is accepted)")

    monkeypatch.setattr(command, "run", run)
    assert cli.main(["run", "x.py"]) == 2
    assert capsys.readouterr().err == (
        "racefree run: error: racefree.toml:4: a suppression needs a 'reason' (why the race is accepted)\n")


def test_front_door_exports() -> None:
    import racefree.detector as front

    assert {"SuppressionError", "Suppressions", "load_for", "to_sarif"} <= set(front.__all__)
    assert front.load_for is load_for and front.Suppressions is Suppressions


def _group(root: Path, keys: tuple[str, ...], count: int) -> Race:
    race = _race(root, "set seen[*]", "check-then-act")
    race.container, race.keys, race.key_sample = "set seen", count, keys
    return race


def test_a_race_on_many_keys_is_accepted_by_its_container_pattern(tmp_path: Path) -> None:
    from racefree.detector.suppressions import Suppression

    by_container = Suppressions([Suppression("fine", location="set seen[*]")])
    assert by_container.apply([_group(tmp_path, ("0", "1"), 200)]).kept == []
    assert by_container.apply([_race(tmp_path, "set seen[3]")]).kept == []  # one key: today's location
    # a pattern naming keys accepts the group only when every key is listed and matches
    keys = Suppressions([Suppression("fine", location="set seen['?']")])
    assert keys.apply([_group(tmp_path, ("'a'", "'b'", "'c'"), 3)]).kept == []
    assert len(keys.apply([_group(tmp_path, ("'a'", "'bb'", "'c'"), 3)]).kept) == 1
    many = _group(tmp_path, ("'a'", "'b'", "'c'", "'d'", "'e'"), 200)
    assert keys.apply([many]).kept == [many]
    assert Suppressions([Suppression("fine", location="set other*")]).apply([many]).kept == [many]


def test_a_pyproject_without_a_racefree_table_is_not_parsed(tmp_path: Path) -> None:
    # not TOML at all, but nothing in it can be a [tool.racefree] table: no error, nothing loaded
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "racefree-user"\nbroken = \n'
                                             '[tool.ruff]\nline-length = 110\n')
    assert len(load_for(None, tmp_path)) == 0


@pytest.mark.parametrize("text", [
    '[tool.racefree]\nsuppress = [{location = "a", reason = "r"}]\n',
    '[ tool . "racefree" ]\nsuppress = [{location = "a", reason = "r"}]\n',
    '[[tool.racefree.suppress]]\nlocation = "a"\nreason = "r"\n',
    '[tool]\nracefree = {suppress = [{location = "a", reason = "r"}]}\n',
    'tool = {racefree = {suppress = [{location = "a", reason = "r"}]}}\n',
    'tool.racefree.suppress = [{location = "a", reason = "r"}]\n',
])
def test_every_spelling_of_the_table_is_still_read(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text + '\n[project]\nname = "x"\n')
    assert len(load_for(None, tmp_path)) == 1
