"""netns tier: every scenario directory of testing/impair (fault injection with whack --impair) with numbered host scripts.

Each runs in a lab of its own (labs/), on the host kernel or inside User-Mode-Linux when it
needs ESP and the host kernel has none. Needs root; skips with the reason otherwise. One at a
time: ``pytest testing/impair -k NAME``; ``--update-golden`` rewrites the transcripts.
"""

from pathlib import Path

import pytest

from labs.golden import check_scenario
from labs.scenario import find_scenarios

HERE = Path(__file__).resolve().parent
SCENARIOS = find_scenarios(HERE)


@pytest.mark.root
@pytest.mark.parametrize("directory", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_netns_scenario(directory, tmp_path, request):
    check_scenario(directory, tmp_path, request.config.getoption("--update-golden"))
