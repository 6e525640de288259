"""Facts about the running interpreter that every report states."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from dataclasses import asdict, dataclass


def is_free_threaded_build() -> bool:
    """True when this interpreter was built with ``--disable-gil`` (PEP 703)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """True when the GIL is on right now (always true on a default build)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


@dataclass(frozen=True)
class BuildInfo:
    """The interpreter a measurement was taken on."""

    implementation: str
    version: str
    executable: str
    free_threaded_build: bool
    gil_enabled: bool
    cpu_count: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def describe(self) -> str:
        build = "free-threaded build" if self.free_threaded_build else "default (GIL) build"
        gil = "GIL enabled" if self.gil_enabled else "GIL disabled"
        return f"{self.implementation} {self.version} · {build} · {gil} · {self.cpu_count} CPUs"


def build_info() -> BuildInfo:
    """Describe the running interpreter."""
    return BuildInfo(
        implementation=platform.python_implementation(),
        version=platform.python_version(),
        executable=sys.executable,
        free_threaded_build=is_free_threaded_build(),
        gil_enabled=gil_enabled(),
        cpu_count=os.cpu_count() or 1,
    )
