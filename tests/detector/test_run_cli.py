"""``racefree run``: runs programs exactly as ``python`` does, reports races, rejects bad input.

Each test writes a small program to ``tmp_path`` and runs ``python -m racefree
run ...`` in a subprocess (the runner replaces ``__main__``, ``sys.argv`` and
``sys.path[0]``, which must not happen inside pytest), usually side by side with
plain ``python`` on the same program.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

RACY = """
import threading
class Counter:
    def __init__(self):
        self.n = 0
def work(c):
    c.n += 1
c = Counter()
threads = [threading.Thread(target=work, args=(c,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(c.n)
"""

INTROSPECT = """
import sys
print(sys.argv)
print(sys.path[0])
print(__name__, __file__, __package__, __spec__ and __spec__.name, __cached__)
print(sorted(k for k in globals() if k.startswith("__")), type(__builtins__).__name__)
print(sys.modules["__main__"] is sys.modules[__name__])
"""


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def racefree_run(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "racefree", "run", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=60)


def python(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=60)


# --- python compatibility ------------------------------------------------------------
def test_script_sees_what_python_gives_it(tmp_path: Path) -> None:
    write(tmp_path, "sub/prog.py", INTROSPECT)
    ours = racefree_run(tmp_path, "sub/prog.py", "a", "--flag", "-m")
    plain = python(tmp_path, "sub/prog.py", "a", "--flag", "-m")
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert str(tmp_path / "sub") in ours.stdout


def test_module_sees_what_python_dash_m_gives_it(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/tool.py", INTROSPECT)
    write(tmp_path, "pkg/__main__.py", INTROSPECT)
    for target in ("pkg.tool", "pkg"):
        ours = racefree_run(tmp_path, "-m", target, "x", "--mode", "strict")
        plain = python(tmp_path, "-m", target, "x", "--mode", "strict")
        assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr)


def test_stdin_and_stdout_are_the_process_own(tmp_path: Path) -> None:
    write(tmp_path, "echo.py", "import sys\nfor line in sys.stdin:\n    print(line.strip().upper())\n")
    ours = racefree_run(tmp_path, "echo.py", stdin="hello\nworld\n")
    assert (ours.returncode, ours.stdout) == (0, "HELLO\nWORLD\n")


@pytest.mark.parametrize(
    "body",
    [
        "import sys; sys.exit(3)",
        "import sys; sys.exit('bad things')",
        "import sys; sys.exit(None)",
        "raise SystemExit(256 + 7)",
        "def f():\n    raise ValueError('boom')\nf()",
        "try:\n    {}['k']\nexcept KeyError as e:\n    raise RuntimeError('wrapped') from e",
        "class O: pass\ndef f(o):\n    return o.a.b + 1\nf(O())",
        "class O: pass\nprint(O().missing)",
        "def f(d):\n    x = 1\n    d['a']['b'] += x\nf({'a': {}})",
        "def f(items):\n    for i in range(3):\n        items[i] += 1\nf([1])",
    ],
    ids=["exit-int", "exit-message", "exit-none", "exit-truncated", "exception", "chained",
         "attr-in-function", "attr-at-module-level", "augmented-item", "index-error"],
)
def test_exit_status_and_tracebacks_match_python(tmp_path: Path, body: str) -> None:
    write(tmp_path, "prog.py", body + "\n")
    ours = racefree_run(tmp_path, "prog.py")
    plain = python(tmp_path, "prog.py")
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr)


def test_module_level_helpers_change_only_the_caret_lines_of_tracebacks(tmp_path: Path) -> None:
    # module-level code has no hidden temporaries: `items[i] += 1` becomes one helper call, so
    # python cannot underline the subscript inside it; everything else is identical
    write(tmp_path, "prog.py", "items = [1]\nfor i in range(3):\n    items[i] += 1\n")
    ours = racefree_run(tmp_path, "prog.py")
    plain = python(tmp_path, "prog.py")

    def without_carets(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip(" ~^")]

    assert ours.returncode == plain.returncode == 1
    assert without_carets(ours.stderr) == without_carets(plain.stderr)


def test_tracebacks_through_instrumented_calls_hide_racefree_frames(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", "d = {}\nd.pop('missing')\n")
    ours = racefree_run(tmp_path, "prog.py")
    assert ours.returncode == 1
    assert "racefree" not in ours.stderr and ours.stderr.endswith("KeyError: 'missing'\n")
    assert 'File "' + str(tmp_path / "prog.py") + '", line 2, in <module>' in ours.stderr


def test_non_daemon_threads_are_waited_for_and_daemons_abandoned(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", """
        import threading, time
        def late():
            time.sleep(0.2)
            print("late")
        threading.Thread(target=late).start()
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        print("main done")
    """)
    ours = racefree_run(tmp_path, "prog.py")
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, "main done\nlate\n", "")


def test_race_free_program_output_is_unchanged(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", RACY.replace("c.n += 1", "with lock:\n        c.n += 1").replace(
        "import threading", "import threading\nlock = threading.Lock()"))
    ours = racefree_run(tmp_path, "prog.py")
    plain = python(tmp_path, "prog.py")
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr)


# --- reporting ---------------------------------------------------------------------------
def test_race_is_reported_on_stderr_with_exit_66(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", RACY)
    ours = racefree_run(tmp_path, "prog.py")
    assert ours.returncode == 66
    assert ours.stdout in ("1\n", "2\n")  # the race may really lose the update
    assert "WARNING: DATA RACE" in ours.stderr and "Counter.n" in ours.stderr
    assert ours.stderr.rstrip().endswith("Found 1 data race(s)")


def test_races_in_the_user_own_modules_are_found(tmp_path: Path) -> None:
    write(tmp_path, "lib/counting.py", """
        import threading
        class Counter:
            def __init__(self):
                self.n = 0
        def work(c):
            c.n += 1
        def go():
            c = Counter()
            threads = [threading.Thread(target=work, args=(c,)) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    """)
    write(tmp_path, "main.py", "import sys\nsys.path.insert(0, 'lib')\nimport counting\ncounting.go()\n")
    ours = racefree_run(tmp_path, "--format", "json", "main.py")
    assert ours.returncode == 66, ours.stderr
    document = json.loads(ours.stderr)
    assert [r["location"] for r in document["races"]] == ["Counter.n"]
    assert document["races"][0]["current"]["stack"][0]["file"] == str(tmp_path / "lib" / "counting.py")


def test_exitcode_option_and_json_output_file(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", RACY)
    ours = racefree_run(tmp_path, "--mode", "strict", "--format", "json", "--output", "out.json",
                        "--exitcode", "9", "prog.py")
    assert (ours.returncode, ours.stderr) == (9, "")
    document = json.loads((tmp_path / "out.json").read_text())
    assert document["version"] == 1 and document["mode"] == "strict"
    assert {r["kind"] for r in document["races"]} == {"data-race"}


def test_no_race_keeps_the_program_exit_code_and_writes_an_empty_json(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", "import sys\nsys.exit(5)\n")
    ours = racefree_run(tmp_path, "--format", "json", "--output", "out.json", "prog.py")
    assert ours.returncode == 5
    assert json.loads((tmp_path / "out.json").read_text()) == {"version": 1, "mode": "python", "races": [],
                                                              "deadlocks": []}


def test_stress_prints_the_seed(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", "print('ok')\n")
    ours = racefree_run(tmp_path, "--stress", "--seed", "1234", "prog.py")
    assert ours.returncode == 0 and "seed 1234" in ours.stderr and ours.stdout == "ok\n"


# --- bad input: one line, exit 2 -----------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "racefree run: error: can't open file 'missing.py': no such file"),
        (["bad.py"], "racefree run: error: syntax error in {tmp}/bad.py, line 2: "),
        (["--bogus", "x.py"], "racefree: error: unrecognized arguments: --bogus"),
        (["-m", "no_such_module_xyz"], "racefree run: error: no module named 'no_such_module_xyz'"),
        (["-m"], "racefree run: error: argument -m: expected a module name"),
        ([], "racefree run: error: no program given"),
        (["--mode", "loose", "x.py"], "racefree: error: argument --mode: invalid choice: 'loose'"),
        (["--output", "/no/such/dir/out", "x.py"], "racefree run: error: cannot write --output"),
        (["--seed", "3", "x.py"], "racefree run: error: --seed only applies with --stress or --confirm"),
    ],
    ids=["missing", "syntax", "unknown-option", "missing-module", "dash-m-alone", "nothing", "bad-mode",
         "bad-output", "seed-without-stress"],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path, "bad.py", "x = 1\ndef f(:\n")
    write(tmp_path, "x.py", "")
    ours = racefree_run(tmp_path, *args)
    assert ours.returncode == 2
    assert ours.stderr.count("\n") == 1 and "Traceback" not in ours.stderr
    assert ours.stderr.startswith(message.format(tmp=tmp_path)), ours.stderr


def test_console_script_runs_programs_like_python(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "racefree"
    if not script.exists():
        pytest.skip("the racefree console script is not installed in this environment")
    write(tmp_path, "prog.py", INTROSPECT)
    ours = subprocess.run([str(script), "run", "prog.py", "z"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    plain = python(tmp_path, "prog.py", "z")
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr)


@pytest.mark.parametrize("launcher", ["console-script", "dash-m"])
def test_report_stacks_end_where_the_program_begins(tmp_path: Path, launcher: str) -> None:
    # Frames of whatever launched racefree (the console script, runpy, the CLI)
    # are not the program's: no stack in the report may show them.
    script = Path(sys.executable).parent / "racefree"
    if launcher == "console-script" and not script.exists():
        pytest.skip("the racefree console script is not installed in this environment")
    write(tmp_path, "prog.py", RACY)
    cmd = [str(script)] if launcher == "console-script" else [sys.executable, "-m", "racefree"]
    done = subprocess.run([*cmd, "run", "prog.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 66, done.stderr
    frames = [line.strip() for line in done.stderr.splitlines() if line.startswith("  ")]
    assert frames, done.stderr
    assert all(str(tmp_path / "prog.py") in line for line in frames), done.stderr
    assert "created at:" in done.stderr


def test_sarif_format(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", RACY)
    ours = racefree_run(tmp_path, "--format", "sarif", "--output", "out.sarif", "prog.py")
    assert ours.returncode == 66
    log = json.loads((tmp_path / "out.sarif").read_text())
    assert log["version"] == "2.1.0"
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["lost-update"]


def test_suppressed_race_keeps_the_program_exit_code(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", RACY)
    write(tmp_path, "accepted.toml", """
        [[suppress]]
        location = "Counter.n"
        reason = "a demo counter"
    """)
    ours = racefree_run(tmp_path, "--suppressions", "accepted.toml", "prog.py")
    assert ours.returncode == 0
    assert "WARNING: DATA RACE" not in ours.stderr
    assert "1 race(s) suppressed" in ours.stderr


def test_malformed_suppressions_are_bad_input(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", "print('never runs')\n")
    write(tmp_path, "bad.toml", "[[suppress]]\nlocation = 'x'\n")
    ours = racefree_run(tmp_path, "--suppressions", "bad.toml", "prog.py")
    assert (ours.returncode, ours.stdout) == (2, "")
    assert ours.stderr.count("\n") == 1 and ours.stderr.startswith("racefree run: error: ")


def test_a_bad_detector_backend_setting_is_bad_input(tmp_path: Path) -> None:
    write(tmp_path, "prog.py", "print('ran')\n")
    done = subprocess.run([sys.executable, "-m", "racefree", "run", "prog.py"], cwd=tmp_path,
                          env={**os.environ, "RACEFREE_DETECTOR_BACKEND": "fortran"},
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("racefree run: error: RACEFREE_DETECTOR_BACKEND='fortran': "
                           "expected one of auto, c, python\n")
