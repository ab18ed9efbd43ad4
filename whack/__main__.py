import sys

from whack.main import main

sys.exit(main())
