"""``python -m tracker.cli``: the tracker command line (errors as one line, see ``main``)."""

import sys

from tracker.cli import main

sys.exit(main())
