"""Put the run's public keys into a configuration template: fill-keys.py TEMPLATE OUTPUT.

WEST_KEY and EAST_KEY become the contents of $WORKDIR/west.pubkey and $WORKDIR/east.pubkey.
"""

import os
import sys
from pathlib import Path

workdir = Path(os.environ["WORKDIR"])
text = Path(sys.argv[1]).read_text()
for name in ("west", "east"):
    text = text.replace(f"{name.upper()}_KEY", (workdir / f"{name}.pubkey").read_text().strip())
Path(sys.argv[2]).write_text(text)
