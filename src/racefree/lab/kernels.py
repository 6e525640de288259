"""Native increment kernels for the false-sharing experiment.

False sharing is a cost of cache-line traffic, a few nanoseconds per access; a
Python-level loop spends ~50 ns per iteration in the interpreter and hides it.
So the experiment runs the module's inner loop — ``atomic.AddInt64(&c, 1)``,
`n` times — as native code called through :mod:`ctypes`.  ``ctypes`` releases
the GIL for the duration of a foreign call, so the workers' loops run in
parallel on the default build as well as on a free-threaded one.

Back-ends, all behind :class:`IncrementKernel`; :func:`load_kernel` picks the
first that works and says why it fell back:

1. ``machine-code`` — twelve bytes of x86-64 (``lock add qword [rdi], 1``
   in a counted loop) copied into an anonymous ``mmap`` page that is then made
   read+execute with ``mprotect``.  Needs nothing but the standard library on
   x86-64 Linux.
2. ``cc`` — a six-line C function using ``__atomic_fetch_add``, compiled with the
   system C compiler (``cc``/``gcc``/``clang``) into a temporary shared library.
   Any architecture with a compiler.
3. none — :func:`load_kernel` returns ``None`` with the reasons; the lab then
   reports that it could not measure false sharing instead of inventing a figure.

Invariants: a loaded kernel's code pages and library handles are kept alive in
module globals (``_KEEP``) for the life of the process, appended under ``_lock``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["IncrementKernel", "KernelChoice", "load_kernel"]

# void kernel(int64_t *counter /* rdi */, int64_t n /* rsi */)
_X86_64_CODE = bytes([
    0x48, 0x85, 0xF6,              # test rsi, rsi
    0x74, 0x0A,                    # jz   done
    0xF0, 0x48, 0x83, 0x07, 0x01,  # loop: lock add qword [rdi], 1
    0x48, 0xFF, 0xCE,              # dec  rsi
    0x75, 0xF6,                    # jnz  loop
    0xC3,                          # done: ret
])

_C_SOURCE = """\
#include <stdint.h>
void racefree_increment(int64_t *counter, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        __atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
}
"""

_KernelFn = Callable[[int, int], None]
_PROTOTYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64)

_lock = threading.Lock()
_KEEP: list[object] = []  # guarded by _lock: code pages and libraries that must outlive every call


@dataclass(frozen=True)
class IncrementKernel:
    """``increment(address, n)``: atomically add 1 to the int64 at `address`, `n` times.

    Runs without the GIL.  `backend` names how it was built.
    """

    backend: str
    _fn: _KernelFn

    def increment(self, address: int, n: int) -> None:
        self._fn(address, n)


@dataclass(frozen=True)
class KernelChoice:
    """The kernel chosen (or None) and why each earlier back-end was skipped."""

    kernel: IncrementKernel | None
    notes: tuple[str, ...]


def _machine_code_kernel() -> IncrementKernel:
    if not sys.platform.startswith("linux"):
        raise OSError(f"machine-code kernel supports Linux only, not {sys.platform}")
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64"):
        raise OSError(f"machine-code kernel is x86-64 only, not {machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    mprotect = libc.mprotect
    mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    mprotect.restype = ctypes.c_int
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    page.write(_X86_64_CODE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    if mprotect(address, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
        raise OSError(ctypes.get_errno(), "mprotect(PROT_EXEC) refused")
    fn = _PROTOTYPE(address)
    with _lock:
        _KEEP.append(page)
    return IncrementKernel("machine-code (x86-64, lock add)", fn)


def _find_compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def _compiled_kernel() -> IncrementKernel:
    compiler = _find_compiler()
    if compiler is None:
        raise OSError("no C compiler (cc, gcc, clang) on PATH")
    workdir = tempfile.mkdtemp(prefix="racefree-kernel-")
    src = os.path.join(workdir, "kernel.c")
    lib = os.path.join(workdir, "kernel.so")
    with open(src, "w") as f:
        f.write(_C_SOURCE)
    proc = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", lib, src],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise OSError(f"{compiler} failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    handle = ctypes.CDLL(lib)
    fn = handle.racefree_increment
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    fn.restype = None
    with _lock:
        _KEEP.append(handle)
    shutil.rmtree(workdir, ignore_errors=True)  # the mapping stays valid after unlink
    return IncrementKernel(f"compiled with {compiler} (__atomic_fetch_add)", fn)


_BACKENDS: tuple[tuple[str, Callable[[], IncrementKernel]], ...] = (
    ("machine-code", _machine_code_kernel),
    ("cc", _compiled_kernel),
)


def _self_test(kernel: IncrementKernel) -> None:
    cell = ctypes.c_int64(40)
    kernel.increment(ctypes.addressof(cell), 2)
    kernel.increment(ctypes.addressof(cell), 0)
    if cell.value != 42:
        raise OSError(f"kernel self-test failed: 40 + 2 gave {cell.value}")


def load_kernel(prefer: str | None = None) -> KernelChoice:
    """Load the first working back-end (or only `prefer`, by name); never raises."""
    notes: list[str] = []
    for name, build in _BACKENDS:
        if prefer is not None and name != prefer:
            continue
        try:
            kernel = build()
            _self_test(kernel)
        except (OSError, ValueError, subprocess.SubprocessError, AttributeError) as exc:
            notes.append(f"{name}: {exc}")
            continue
        return KernelChoice(kernel, tuple(notes))
    return KernelChoice(None, tuple(notes))
