"""Lock order through ``racefree run`` (rewritten code): explicit acquire sites, raw locks, a queue's mutex,
and cycles made by one thread alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from racefree.detector import speedups


@pytest.fixture(params=["c", "python"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "c" and speedups._load()[0] is None:
        pytest.skip("C fast path not built")
    return str(request.param)


def deadlocks(tmp_path: Path, source: str, backend: str) -> list[dict[str, Any]]:
    (tmp_path / "prog.py").write_text(source)
    command = [sys.executable, "-m", "racefree", "run", "--format", "json", "--output", "out.json", "prog.py"]
    env = {**os.environ, speedups.ENV: backend}
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode in (0, 66), done.stderr
    found: list[dict[str, Any]] = json.loads((tmp_path / "out.json").read_text())["deadlocks"]
    return found


SEQUENTIAL = """
for f in (first, second):
    t = threading.Thread(target=f, name=f.__name__)
    t.start()
    t.join()
"""


def test_explicit_acquire_sites_are_the_programs_lines(tmp_path: Path, backend: str) -> None:
    source = """import threading
a, b = threading.Lock(), threading.Lock()
def first():
    a.acquire()   # line 4
    b.acquire()   # line 5
    b.release()
    a.release()
def second():
    with b:
        with a:
            pass
""" + SEQUENTIAL
    (d,) = deadlocks(tmp_path, source, backend)
    by_thread = {e["thread"]: e for e in d["edges"]}
    assert by_thread["first"]["held_stack"][0]["line"] == 4
    assert by_thread["first"]["acquired_stack"][0]["line"] == 5


MAKERS = ["threading._allocate_lock()", "_thread.allocate_lock()", "_thread.RLock()"]


@pytest.mark.parametrize("maker", MAKERS)
def test_raw_and_thread_module_locks_are_in_the_graph(tmp_path: Path, backend: str, maker: str) -> None:
    source = f"""import _thread, threading
a, b = {maker}, {maker}
def first():
    with a:
        b.acquire()
        b.release()
def second():
    with b:
        with a:
            pass
""" + SEQUENTIAL
    assert len(deadlocks(tmp_path, source, backend)) == 1


def test_with_queue_mutex_against_put_under_a_lock(tmp_path: Path, backend: str) -> None:
    source = """import queue, threading
q = queue.Queue()
user = threading.Lock()
def first():
    with q.mutex:
        with user:
            pass
def second():
    with user:
        q.put(1)
""" + SEQUENTIAL
    (d,) = deadlocks(tmp_path, source, backend)
    assert {e["thread"] for e in d["edges"]} == {"first", "second"}


def test_a_cycle_of_one_thread_is_not_reported(tmp_path: Path, backend: str) -> None:
    source = """import threading
a, b = threading.Lock(), threading.Lock()
with a:
    with b:
        pass
with b:
    with a:
        pass
"""
    assert deadlocks(tmp_path, source, backend) == []
