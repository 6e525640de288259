"""TestRaceModuleGlobalViaAttribute: ``mod.count += 1`` here and ``global count; count += 1`` in the module.

An attribute of a module object is that module's global: both sides are ``global count``,
and the helper module is instrumented because it is the user's own code.
"""
# expect python: lost-update global count @ attrinc,libbump
# expect strict: data-race global count @ attrinc,libbump
import threading

from lib import shared_state


def via_attribute():
    shared_state.count += 1  # [attrinc]


def main():
    a = threading.Thread(target=via_attribute, name="A")
    b = threading.Thread(target=shared_state.bump, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(shared_state.read_count())


if __name__ == "__main__":
    main()
