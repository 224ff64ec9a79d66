"""``python -m memplan`` runs the CLI."""

import sys

from memplan.cli import main

sys.exit(main())
