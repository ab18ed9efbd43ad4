"""Where the known-answer vectors are: tests/vectors/, a copy of the team's shared/vectors/.

The copy lives in the repository so that a clean checkout (CI) has it; PLUTO_VECTORS points the
tests at another copy, for example the shared folder itself, to check they are still in step.
"""

import os
from pathlib import Path

VECTORS = Path(os.environ.get("PLUTO_VECTORS", Path(__file__).resolve().parent / "vectors"))
