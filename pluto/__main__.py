import sys

from pluto.main import main

sys.exit(main())
