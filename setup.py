"""Build script for the optional C extension; all metadata is in pyproject.toml.

``racefree.detector._speedups`` (the detector's same-epoch fast paths) is
optional: without a C compiler the install still succeeds and the detector
records through its pure-Python reference (``racefree.detector.speedups`` says so).
``racefree.sync._fastread`` (``Snapshot.get`` as one C call) is optional too:
without it ``Snapshot`` reads through a Python method (``racefree.sync.snapshot.READ_PATH``).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "racefree.detector._speedups",
            sources=["src/racefree/detector/_speedups.c"],
            optional=True,
        ),
        Extension(
            "racefree.sync._fastread",
            sources=["src/racefree/sync/_fastread.c"],
            optional=True,
        ),
    ]
)
