import os
import sys

import pytest

from racefree._build import build_info, gil_enabled, is_free_threaded_build


def test_build_info_describes_this_interpreter():
    info = build_info()
    assert info.executable == sys.executable
    assert info.free_threaded_build == is_free_threaded_build()
    assert info.gil_enabled == gil_enabled()
    assert "CPUs" in info.describe()


@pytest.mark.skipif(os.environ.get("RACEFREE_REQUIRE_GIL_DISABLED") != "1", reason="GIL build run")
def test_gil_is_really_off_on_the_free_threaded_run():
    assert is_free_threaded_build()
    assert sys._is_gil_enabled() is False
