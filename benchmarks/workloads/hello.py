"""An almost empty program: the fixed cost of starting under the detector.

Category: startup (reported, no target).
"""
# category: startup
# races: no
from __future__ import annotations

import threading


def main() -> None:
    t = threading.Thread(target=print, args=("hello",))
    t.start()
    t.join()


if __name__ == "__main__":
    main()
