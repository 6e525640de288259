"""SARIF output: valid against the official 2.1.0 schema, and carrying both accesses."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from racefree.detector.findings import Access, Frame, Race
from racefree.detector.sarif import RULES, SRCROOT, to_sarif

# The OASIS SARIF 2.1.0 (errata 01) JSON schema, vendored: tests never touch the network.
SCHEMA_PATH = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _race(tmp: Path, kind: Any = "lost-update", location: str = "Counter.n", count: int = 1) -> Race:
    src = str(tmp / "pkg" / "counter.py")
    test = str(tmp / "tests" / "test_counter.py")
    return Race(
        kind=kind,
        location=location,
        current=Access(
            "write",
            "Thread-2 (work)",
            (Frame(src, 12, "bump"), Frame(test, 30, "work")),
            thread_created_at=(Frame(test, 40, "test_counter"),),
        ),
        previous=Access(
            "read",
            "Thread-1 (work)",
            (Frame(src, 11, "bump"), Frame(test, 30, "work")),
            thread_created_at=(Frame(test, 40, "test_counter"),),
        ),
        count=count,
    )


def _result(doc: dict[str, Any], i: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = doc["runs"][0]["results"][i]
    return result


def test_every_kind_and_odd_paths_validate(tmp_path: Path, validator: jsonschema.Draft4Validator) -> None:
    races = [_race(tmp_path, kind, f"global v{i}", count=i + 1) for i, kind in enumerate(RULES)]
    # a file outside the base, a pseudo-file, and an access with no user frame at all
    races.append(
        Race(
            "data-race",
            "dict registry['a b']",
            Access("write", "MainThread", (Frame("/elsewhere/lib with space.py", 3, "f"),)),
            Access("read", "T", (Frame("<string>", 1, "<module>"),)),
        )
    )
    races.append(Race("data-race", "global g", Access("write", "A", ()), Access("write", "B", ())))
    doc = to_sarif(races, "strict", "0.1.0", base=tmp_path)
    validator.validate(json.loads(json.dumps(doc)))
    assert len(doc["runs"][0]["results"]) == len(races)


def test_empty_run_validates(tmp_path: Path, validator: jsonschema.Draft4Validator) -> None:
    doc = to_sarif([], "python", "0.1.0", base=tmp_path)
    validator.validate(doc)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["properties"] == {"mode": "python"}


def test_the_validator_rejects_a_broken_log(tmp_path: Path, validator: jsonschema.Draft4Validator) -> None:
    doc = to_sarif([_race(tmp_path)], "python", "0.1.0", base=tmp_path)
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_primary_is_current_access_and_related_is_previous(tmp_path: Path) -> None:
    doc = to_sarif([_race(tmp_path)], "python", "0.1.0", base=tmp_path)
    result = _result(doc)
    assert result["ruleId"] == "lost-update"
    (primary,) = result["locations"]
    assert primary["physicalLocation"] == {
        "artifactLocation": {"uri": "pkg/counter.py", "uriBaseId": SRCROOT},
        "region": {"startLine": 12},
    }
    assert primary["logicalLocations"] == [{"name": "bump", "kind": "function"}]
    related = {loc["id"]: loc for loc in result["relatedLocations"]}
    assert related[1]["physicalLocation"]["region"] == {"startLine": 11}
    assert related[1]["message"]["text"] == "previous read by thread Thread-1 (work)"
    assert related[2]["physicalLocation"]["artifactLocation"]["uri"] == "tests/test_counter.py"
    assert "[previous read by thread Thread-1 (work)](1)" in result["message"]["text"]
    assert result["message"]["text"].startswith("Lost update on Counter.n: write by thread Thread-2")


def test_both_stacks_innermost_first(tmp_path: Path) -> None:
    result = _result(to_sarif([_race(tmp_path)], "python", "0.1.0", base=tmp_path))
    current, previous = result["stacks"]
    lines = [[f["location"]["physicalLocation"]["region"]["startLine"] for f in s["frames"]] for s in (
        current, previous)]
    assert lines == [[12, 30], [11, 30]]
    assert current["message"]["text"] == "current access: write by thread Thread-2 (work)"


def test_uris_relative_to_base_only_below_it(tmp_path: Path) -> None:
    race = Race(
        "data-race",
        "global g",
        Access("write", "A", (Frame("/elsewhere/lib with space.py", 3, "f"),)),
        Access("read", "B", (Frame("<string>", 1, "<module>"),)),
    )
    doc = to_sarif([race], "strict", "0.1.0", base=tmp_path)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == tmp_path.resolve().as_uri() + "/"
    result = run["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "file:///elsewhere/lib%20with%20space.py"
    }
    assert result["relatedLocations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "%3Cstring%3E"}


def test_base_defaults_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    primary = _result(to_sarif([_race(tmp_path)], "python", "0.1.0"))["locations"][0]
    assert primary["physicalLocation"]["artifactLocation"]["uri"] == "pkg/counter.py"


def test_rules_are_stable_and_indexed(tmp_path: Path) -> None:
    races = [_race(tmp_path, kind) for kind in reversed(list(RULES))]
    doc = to_sarif(races, "strict", "9.9", base=tmp_path)
    driver = doc["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("racefree", "9.9")
    assert [r["id"] for r in driver["rules"]] == ["data-race", "lost-update", "check-then-act", "iteration",
                                                  "lock-order-inversion"]
    for result in doc["runs"][0]["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_fingerprint_ignores_access_order_but_not_location(tmp_path: Path) -> None:
    race = _race(tmp_path)
    swapped = Race(race.kind, race.location, race.previous, race.current)
    other = _race(tmp_path, location="Counter.m")
    fps = [
        _result(to_sarif([r], "python", "0.1.0", base=tmp_path))["partialFingerprints"]["raceKey/v1"]
        for r in (race, swapped, other)
    ]
    assert fps[0] == fps[1] != fps[2]


def test_count_is_reported(tmp_path: Path) -> None:
    result = _result(to_sarif([_race(tmp_path, count=7)], "python", "0.1.0", base=tmp_path))
    assert result["occurrenceCount"] == 7
    assert "(7 times)" in result["message"]["text"]


def test_read_keys_and_partial_stacks(tmp_path: Path, validator: jsonschema.Draft4Validator) -> None:
    race = _race(tmp_path, location="dict counts[*]")
    race.container, race.keys, race.key_sample = "dict counts", 7, ("'a'", "'b'", "'c'", "'d'", "'e'")
    race.previous = replace(race.previous, op="write", partial="cut at 24 frames")
    race.read = Access("read", "Thread-2 (work)", (Frame(str(tmp_path / "pkg" / "counter.py"), 10, "bump"),))
    doc = to_sarif([race], "python", "0.1.0", base=tmp_path)
    validator.validate(doc)
    result = _result(doc)
    assert "(7 keys of dict counts: 'a', 'b', 'c', 'd', 'e', ...)" in result["message"]["text"]
    assert "[its read by thread Thread-2 (work)](4)" in result["message"]["text"]
    read = next(loc for loc in result["relatedLocations"] if loc["id"] == 4)
    assert read["physicalLocation"]["region"]["startLine"] == 10
    assert len(result["stacks"]) == 3 and result["stacks"][2]["message"]["text"].startswith("read of the")
    props = result["properties"]
    assert (props["keys"], props["keySample"]) == (7, ["'a'", "'b'", "'c'", "'d'", "'e'"])
    assert props["read"] == {"thread": "Thread-2 (work)", "at": f"{tmp_path / 'pkg' / 'counter.py'}:10",
                             "by": "current"}
    assert props["partialStacks"] == {"previous": "cut at 24 frames"}
    # the same pair of sites on other keys of the container is the same race for code scanning
    one_key = _race(tmp_path, location="dict counts['z']")
    one_key.container = "dict counts"
    one_key.previous = replace(one_key.previous, op="write")
    assert (_result(to_sarif([one_key], "python", "0.1.0", base=tmp_path))["partialFingerprints"]
            == result["partialFingerprints"])
