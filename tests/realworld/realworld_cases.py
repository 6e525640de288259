"""Documented races fixed in released PyPI packages: the buggy release and the release with the fix.

Each case names the upstream issue or pull request, the two releases, the driver in drivers/ that
exercises the racy API from threads, and where the detector must report the race on the buggy
release: the kind, the location (as the report prints it) and the library function that makes the
racy access (the innermost frame of either stack of the report; both matched as substrings). On
the fixed release a python-mode run must be clean, unless the case says why the fix is incomplete
(`fix_incomplete`: then it is reported as the buggy one). A side that needs a detector feature not
built yet says which one in `needs_*`; the test marks that side xfail(strict=True), so it fails loudly
once the feature lands (then drop the reason). docs/detector.md ("Real-world check") lists the
same cases for readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    name: str  # also the driver: drivers/<name>_race.py
    project: str  # the PyPI name
    buggy: str
    fixed: str
    upstream: tuple[str, ...]  # issue / pull request links
    include: str  # --include glob: the package's import name
    kind: str  # expected report kind on the buggy release
    location: str  # part of the expected location, as printed
    file: str  # the library file of the racy access, relative to site-packages
    function: str  # part of its function's name, as printed
    extra: tuple[str, ...] = ()  # other pinned requirements of both releases (installed --no-deps)
    needs_buggy: str = ""  # detector feature the buggy side still needs (xfail until it lands)
    needs_fixed: str = ""  # same for the fixed side
    fix_incomplete: str = ""  # why the "fixed" release is still racy: then it must be reported too
    note: str = field(default="", compare=False)


CASES: tuple[Case, ...] = (
    Case(
        name="apipkg", project="apipkg", buggy="2.0.0", fixed="2.0.1",
        upstream=("https://github.com/pytest-dev/apipkg/pull/25",),
        include="apipkg*", kind="check-then-act", location="dict ApiModule.__map__['__onfirstaccess__']",
        file="apipkg/__init__.py", function="ApiModule.__makeattr",
        note="two threads resolving two lazy attributes both test and pop __onfirstaccess__",
    ),
    Case(
        name="ratelimit", project="ratelimit", buggy="1.3.0", fixed="1.4.1",
        upstream=("https://github.com/tomasbasham/ratelimit/pull/8",
                  "https://github.com/tomasbasham/ratelimit/issues/9"),
        include="ratelimit*", kind="check-then-act", location="list last_called[0]",
        file="ratelimit/__init__.py", function="rate_limited.<locals>.decorator.<locals>.wrapper",
        # the time stored is not computed from the one read (no lost update): the read decides
        # whether to wait, and the store after that decision is its act
        note="last_called[0] read to decide the wait, then rewritten after the call, with no lock",
    ),
    Case(
        name="pyee", project="pyee", buggy="8.0.1", fixed="8.1.0",
        upstream=("https://github.com/jfhbrook/pyee/issues/76", "https://github.com/jfhbrook/pyee/pull/77"),
        include="pyee*", kind="iteration", location="OrderedDict self._events[event]",
        file="pyee/_base.py", function="EventEmitter.remove_listener",
        note="emit() copies the handlers while another thread removes the once-handler",
    ),
    Case(
        name="multimethod", project="multimethod", buggy="1.9", fixed="1.9.1",
        upstream=("https://github.com/coady/multimethod/issues/77",),
        include="multimethod*", kind="iteration", location="multimethod self",
        file="multimethod/__init__.py", function="multimethod.parents",
        fix_incomplete=("the fix iterates list(self): one step under the GIL, but self is a dict subclass, "
                        "whose list() on 3.13t iterates step by step and raises RuntimeError when another "
                        "thread inserts (an exact dict's does not)"),
        note="parents() iterates the dispatch cache while another thread's miss inserts into it",
    ),
    Case(
        name="dateutil", project="python-dateutil", buggy="2.8.0", fixed="2.8.1",
        upstream=("https://github.com/dateutil/dateutil/issues/901",
                  "https://github.com/dateutil/dateutil/pull/973"),
        include="dateutil*", kind="check-then-act", location="OrderedDict tzoffset.__strong_cache",
        file="dateutil/tz/_factories.py", function="_TzOffsetFactory.__call__", extra=("six==1.16.0",),
        note="the strong cache is moved-to-end and trimmed with no lock",
    ),
    Case(
        name="lazy_loader", project="lazy_loader", buggy="0.3", fixed="0.4",
        upstream=("https://github.com/scientific-python/lazy-loader/pull/90",),
        include="lazy_loader*", kind="check-then-act", location="dict sys.modules['colorsys']",
        file="lazy_loader/__init__.py", function="load",
        note="try: return sys.modules[name] / except KeyError: ... sys.modules[name] = module",
    ),
    Case(
        name="cached_property", project="cached-property", buggy="1.1.0", fixed="1.2.0",
        upstream=("https://github.com/pydanny/cached-property/pull/18",),
        include="cached_property*", kind="check-then-act", location="Client._cache",
        file="cached_property.py", function="cached_property_with_ttl.__get__",
        note="two TTL properties (one lock each) create the object's shared _cache lazily",
    ),
    Case(
        name="tqdm", project="tqdm", buggy="4.32.1", fixed="4.32.2",
        upstream=("https://github.com/tqdm/tqdm/pull/754", "https://github.com/tqdm/tqdm/issues/481"),
        include="tqdm*", kind="iteration", location="_instances",
        file="tqdm/_tqdm.py", function="_get_free_pos",
        note="tqdm(disable=True) iterates the WeakSet of bars outside the lock other threads add under",
    ),
)
