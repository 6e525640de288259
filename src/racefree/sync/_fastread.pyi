from typing import Any

class PublishedValue:
    """A published object reference read by one C call (base of racefree.sync.Snapshot)."""

    _value: Any
    def get(self) -> Any: ...
