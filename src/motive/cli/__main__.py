"""``python -m motive.cli``: the ``motive`` command."""

import sys

from motive.cli import main

sys.exit(main())
