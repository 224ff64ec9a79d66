"""``memplan collect``: print the snapshot script for targets without Python.

On the target: ``sh collect.sh [OUT.tar.gz]`` (busybox ``sh`` suffices); then, anywhere with
memplan: ``memplan check OUT.tar.gz`` or ``memplan observe OUT.tar.gz``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from memplan.cli.exits import PLAIN_EXITS
from memplan.cli.options import new_subparser


def register(subparsers: Any) -> None:
    """Add the ``collect`` sub-command."""
    p = new_subparser(
        subparsers,
        "collect",
        help="print a shell script that snapshots a target's memory layout into a .tar.gz",
        description=(
            "Print a POSIX shell script (busybox sh and applets suffice, no Python) that writes one "
            ".tar.gz snapshot on the target: /proc/iomem, /proc/meminfo, /proc/zoneinfo, /proc/cmdline, "
            "the boot log, /sys/firmware/fdt, the cma debugfs and sysfs, uname -r and the kernel .config. "
            "Run it there as 'sh collect.sh [OUT.tar.gz]' (as root to get everything), then "
            "'memplan check OUT.tar.gz' here."
        ),
        epilog=PLAIN_EXITS,
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the script to FILE (executable) instead of stdout"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the script; exit 0."""
    from memplan.collect import collect_script

    text = collect_script()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(args.output, 0o755)
    else:
        sys.stdout.write(text)
    return 0
