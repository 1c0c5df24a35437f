"""``python -m tracker.cli``: the tracker command line."""

import sys

from tracker.cli import main

sys.exit(main())
