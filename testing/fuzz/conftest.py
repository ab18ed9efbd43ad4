"""Options of the fuzz tier: ``--long`` (or PLUTO_FUZZ_LONG=1) raises the input counts.

The normal test run collects these tests with their bounded counts (CI: well under a minute);
``tox -e fuzz -- --long`` runs the full counts (about 10^6 inputs per codec).
"""

from __future__ import annotations

import os
import sys

import pytest

# The sample messages live beside the unit tests.
_TESTS = os.path.join(os.path.dirname(__file__), "..", "..", "tests")
if os.path.abspath(_TESTS) not in map(os.path.abspath, sys.path):
    sys.path.insert(0, os.path.abspath(_TESTS))


def pytest_addoption(parser: pytest.Parser) -> None:
    try:
        parser.addoption("--long", action="store_true", default=False,
                         help="fuzz: run the full input counts (10^6 per codec, 10^5 live "
                              "messages); same as PLUTO_FUZZ_LONG=1")
    except ValueError:
        pass  # registered already by another conftest


def long_run(config: pytest.Config) -> bool:
    if os.environ.get("PLUTO_FUZZ_LONG", "") not in ("", "0"):
        return True
    try:
        return bool(config.getoption("--long"))
    except ValueError:  # this conftest was not loaded early enough to add the option
        return False


@pytest.fixture(scope="session")
def fuzz_long(request: pytest.FixtureRequest) -> bool:
    return long_run(request.config)
