"""The bench's tests import it as ``testing.bench`` (as ``python -m testing.bench`` runs it):
put the checkout's root on the path also when pytest is started without ``python -m``."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
