"""``python -m racefree`` is the ``racefree`` command."""

import sys

from racefree.cli import main

sys.exit(main())
