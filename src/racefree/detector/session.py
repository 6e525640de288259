"""One detector run: the object both front ends, ``racefree run`` and ``pytest --race``, drive.

A :class:`Session` owns what a run needs besides the program: the
:class:`~racefree.detector.engine.Detector`, the accepted races (the
suppressions file), and, when this process is a confirming child of
``--confirm``, the directed schedule it must follow.  It hands out findings
with the suppressions applied (counting what they accepted), attaches
``--confirm`` verdicts, and renders findings in every format through one
renderer per format (:func:`render`).  It knows nothing of how the program
runs (:mod:`racefree.detector.program`) or of pytest.

Lifecycle: ``Session(...)`` (bad input raises :class:`~racefree.errors.UsageError`:
an unknown mode, a ``RACEFREE_DETECTOR_BACKEND`` this installation cannot give,
a malformed suppressions file) → :meth:`~Session.start` → the program runs →
:meth:`~Session.program_finished` → :meth:`~Session.stop` (idempotent).
Findings may be taken at any point (:meth:`~Session.take_races`,
:meth:`~Session.take_deadlocks`): each is handed out once.

Not thread-safe: one thread (the CLI's, pytest's main thread) drives a session;
the detector it owns records every thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from racefree.errors import UsageError

if TYPE_CHECKING:
    from racefree.detector.engine import Detector
    from racefree.detector.findings import Deadlock, Race
    from racefree.detector.schedule import Child
    from racefree.detector.suppressions import Finding, Suppressions

__all__ = ["FORMATS", "Session", "render", "sarif_log"]

Format = Literal["text", "json", "sarif"]
FORMATS: tuple[Format, ...] = ("text", "json", "sarif")



def sarif_log(
    races: Sequence[Race], mode: str, *, deadlocks: Sequence[Deadlock] = (), base: str | None = None
) -> dict[str, Any]:
    """The SARIF 2.1.0 log of `races` and `deadlocks` (a dict: xdist merges workers' logs before writing)."""
    from racefree import __version__
    from racefree.detector.sarif import to_sarif

    return to_sarif(list(races), mode, __version__, base=base, deadlocks=deadlocks)  # type: ignore[arg-type]


def render(
    fmt: str,
    races: Sequence[Race],
    mode: str,
    *,
    deadlocks: Sequence[Deadlock] = (),
    base: str | None = None,
    notes: Callable[[Race | Deadlock], str | None] | None = None,
) -> str:
    """The report document of `races` and `deadlocks` in `fmt` (``text``, ``json`` or ``sarif``).

    ``text`` is Go's layout (:func:`racefree.detector.format.format_report`), empty
    when there is nothing to report; `notes` gives a line to print before a block.
    ``json`` is :func:`~racefree.detector.findings.to_json_document`, ``sarif``
    :func:`sarif_log` (URIs relative to `base`, default the working directory).
    """
    import json

    if fmt == "json":
        from racefree.detector.findings import to_json_document

        doc = to_json_document(list(races), mode, deadlocks)  # type: ignore[arg-type]
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif_log(races, mode, deadlocks=deadlocks, base=base), indent=2) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if not races and not deadlocks:
        return ""
    from racefree.detector.format import format_report

    return format_report(list(races), deadlocks=deadlocks, notes=notes)


class Session:
    """The detector, the suppressions and the ``--confirm`` child role of one run.

    `mode`, `stress`, `seed` and `lock_order` are the :class:`Detector`'s.
    The suppressions come from `suppressions_file` (read relative to `cwd`) or,
    without one, from the ``racefree.toml`` or ``[tool.racefree]`` found upwards
    from `search_from` (default `cwd`, default the working directory).
    """

    def __init__(
        self,
        mode: str = "python",
        *,
        stress: bool = False,
        seed: int | None = None,
        lock_order: bool = True,
        suppressions_file: str | os.PathLike[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        search_from: str | os.PathLike[str] | None = None,
    ) -> None:
        from racefree.detector.confirming import confirming_child
        from racefree.detector.engine import Detector
        from racefree.detector.speedups import BackendError
        from racefree.detector.suppressions import load_for

        if suppressions_file is not None:
            self.suppressions: Suppressions = load_for(suppressions_file, cwd)
        else:
            self.suppressions = load_for(None, search_from if search_from is not None else cwd)
        try:
            self.detector: Detector = Detector(mode, stress=stress, seed=seed,  # type: ignore[arg-type]
                                               lock_order=lock_order)
        except BackendError as exc:  # RACEFREE_DETECTOR_BACKEND asks for what is not there
            raise UsageError(str(exc)) from None
        except ValueError as exc:  # a mode that does not exist
            raise UsageError(str(exc)) from None
        self.mode = mode
        self.stress = stress
        # this process is a confirming child of --confirm: it follows the directed schedule it was given
        self.child: Child | None = confirming_child()
        self._finished = False  # program_finished was called
        self.suppressed = 0  # races the suppressions accepted so far
        self.suppressed_deadlocks = 0  # potential deadlocks likewise

    def __repr__(self) -> str:
        child = " confirming-child" if self.child is not None else ""
        return (f"<Session mode={self.mode}{child} {self.detector!r} suppressed={self.suppressed}"
                f"+{self.suppressed_deadlocks}>")

    @property
    def seed(self) -> int | None:
        """The stress seed (chosen at random when ``stress`` was asked without one)."""
        return self.detector.seed

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start recording (and, in a confirming child, the directed schedule)."""
        try:
            self.detector.start()
        except RuntimeError as exc:  # another detector is active: `racefree run -m pytest --race`, say
            raise UsageError(f"cannot start the detector: {exc}") from None
        if self.child is not None:
            self.child.start()

    def program_finished(self, status: int) -> None:
        """The program ended with `status`: a confirming child writes its verdict for the parent."""
        if self.child is not None and not self._finished:
            self._finished = True
            self.child.finish(status)

    def stop(self) -> None:
        """Stop recording (idempotent); findings not yet taken stay available."""
        self.detector.stop()

    # -- findings ----------------------------------------------------------------------------------

    def take_races(self, trim: Callable[[Race], Race] | None = None) -> list[Race]:
        """The races first found since the previous call, each `trim`-med, minus those suppressed."""
        found = self.detector.take_new_races()
        kept, suppressed = self._apply([trim(r) for r in found] if trim is not None else found)
        self.suppressed += suppressed
        return kept

    def take_deadlocks(self, trim: Callable[[Deadlock], Deadlock] | None = None) -> list[Deadlock]:
        """Like :meth:`take_races`, for potential deadlocks."""
        found = self.detector.take_new_deadlocks()
        kept, suppressed = self._apply([trim(d) for d in found] if trim is not None else found)
        self.suppressed_deadlocks += suppressed
        return kept

    def _apply(self, found: list[Finding]) -> tuple[list[Finding], int]:
        if not found or not self.suppressions.entries:
            return found, 0
        applied = self.suppressions.apply(found)
        return applied.kept, len(applied.suppressed)

    def confirm(
        self,
        races: Sequence[Race],
        child_argv: Sequence[str],
        *,
        seed: int,
        replay: str,
        attempts: int | None = None,
        timeout: float | None = None,
        cwd: str | None = None,
    ) -> None:
        """``--confirm``: re-run `child_argv` under a directed schedule per race; attach each verdict.

        Nothing to do in a confirming child (it does not confirm in turn).
        """
        from racefree.detector import confirm

        if not races or self.child is not None:
            return
        options: dict[str, Any] = {"seed": seed, "replay": replay, "cwd": cwd}
        if attempts is not None:
            options["attempts"] = attempts
        if timeout is not None:
            options["timeout"] = timeout
        verdicts = confirm.confirm_races(races, child_argv, **options)
        for race, verdict in zip(races, verdicts):
            race.extra["confirmation"] = verdict

    @property
    def confirming_child(self) -> bool:
        """Whether this process is a confirming child of ``--confirm`` (it follows, never confirms)."""
        return self.child is not None

    # -- rendering ---------------------------------------------------------------------------------

    def render(
        self,
        fmt: str,
        races: Sequence[Race],
        deadlocks: Sequence[Deadlock] = (),
        *,
        base: str | None = None,
        notes: Callable[[Race | Deadlock], str | None] | None = None,
    ) -> str:
        """:func:`render` in this session's mode."""
        return render(fmt, races, self.mode, deadlocks=deadlocks, base=base, notes=notes)

    def sarif_log(
        self, races: Sequence[Race], deadlocks: Sequence[Deadlock] = (), *, base: str | None = None
    ) -> dict[str, Any]:
        """:func:`sarif_log` in this session's mode."""
        return sarif_log(races, self.mode, deadlocks=deadlocks, base=base)

    def summary_lines(self) -> list[str]:
        """How many findings the suppressions accepted, and each entry that matched nothing."""
        return self.suppressions.summary_lines(self.suppressed, self.suppressed_deadlocks)
