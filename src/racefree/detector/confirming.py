"""Whether this run is a confirming child of ``racefree run --confirm``: the parent-child contract.

The parent (:mod:`racefree.detector.confirm`) starts each directed run with two
environment variables: the race to confirm (``ENV_TARGET``, a JSON
:class:`~racefree.detector.confirm.Target`) and where the child writes its
outcome (``ENV_OUT``).  Every ``racefree run`` asks :func:`confirming_child`;
this module is kept apart so that a run that is not a child imports neither the
scheduler nor the parent's machinery.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from racefree.detector.schedule import Child

ENV_TARGET = "RACEFREE_CONFIRM_TARGET"
ENV_OUT = "RACEFREE_CONFIRM_OUT"


def confirming_child() -> Child | None:
    """The directed scheduler of this run when it is a confirming child; None (importing nothing) if not."""
    if ENV_TARGET not in os.environ and ENV_OUT not in os.environ:
        return None
    from racefree.detector.schedule import Child

    return Child.from_environ()
