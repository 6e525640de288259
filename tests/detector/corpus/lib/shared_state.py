"""Module-level state shared by threads of ``race_module_global_via_attribute``."""

count = 0


def bump():
    global count
    count += 1  # [libbump]


def read_count():
    return count  # [libread]
