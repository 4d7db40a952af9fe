"""Regression gate: the CSL test suite's bibliography fixtures that evidence's engine passes keep passing.

The list (tests/data/csl_suite_passes.txt) was made by the runner in tests/csl_suite.py; bench/csl.py reports the
pass rate over all 199 bibliography fixtures. A change to how lists are formatted that breaks a fixture fails here.
"""

from pathlib import Path

import pytest
from csl_suite import FIXTURES, run_fixture

PASSES = Path(__file__).parent / "data" / "csl_suite_passes.txt"

pytestmark = pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/test-corpora is not beside the checkout")


def passing() -> list[str]:
    return [line.strip() for line in PASSES.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_the_gate_holds_most_of_the_suite():
    assert len(passing()) >= 170


@pytest.mark.parametrize("name", passing())
def test_csl_suite_fixture_formats_as_the_suite_expects(name):
    got, expected = run_fixture(name)
    assert got == expected
