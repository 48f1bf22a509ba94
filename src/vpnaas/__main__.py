"""``python -m vpnaas``: the same as the ``vpnaas`` command."""

import sys

from vpnaas.cli import main

sys.exit(main())
