"""``python -m tracker``: the tracker command line."""

import sys

from tracker.cli import main

sys.exit(main())
