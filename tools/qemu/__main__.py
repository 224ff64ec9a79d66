"""``python -m tools.qemu``: record scenario fixtures."""

import sys

from tools.qemu.record import main

sys.exit(main())
