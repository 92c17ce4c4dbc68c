"""``python -m bot`` is the ``backup-fix`` command."""

import sys

from bot.cli import main

sys.exit(main())
