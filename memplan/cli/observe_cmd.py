"""``memplan observe``: print what a kernel reported (files, a snapshot directory, or the live system)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from memplan.cli.exits import PLAIN_EXITS
from memplan.cli.options import add_format, new_subparser


def register(subparsers: Any) -> None:
    """Add the ``observe`` sub-command."""
    p = new_subparser(
        subparsers,
        "observe",
        help="read /proc/iomem, /proc/meminfo, cma debugfs/sysfs, dmesg and the booted DTB",
        description=(
            "Read observed kernel state and print what it says about reserved memory and CMA. "
            "PATH may be a snapshot directory (iomem, meminfo, dmesg[.txt], cma/, mm-cma/, fdt) "
            "or single files (recognised by name or content)."
        ),
        epilog=PLAIN_EXITS,
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="snapshot directories or observed files")
    p.add_argument("--live", action="store_true", help="observe the running system")
    add_format(p, ("text", "json"))
    p.add_argument(
        "--page-size", type=int, default=None, help="page size for debugfs page counts (default 4096)"
    )
    p.add_argument(
        "--save", metavar="DIR", help="with --live: also copy what was read into snapshot directory DIR"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Observe and print; exit 0, or 2 when no input was named."""
    from memplan.errors import UsageError
    from memplan.observe import read_live, read_observed, render_observed_text
    from memplan.observe._common import check_page_size
    from memplan.observe.snapshot import save_live_snapshot

    if args.page_size is not None:
        check_page_size(args.page_size, "--page-size")
    if args.live and args.paths:
        raise UsageError("give either --live or PATH..., not both")
    if args.save and not args.live:
        raise UsageError("--save needs --live")
    if args.save:
        for d in save_live_snapshot(args.save):
            if d.severity != "info":
                print(f"memplan: {d}", file=sys.stderr)
    if args.live:
        observed = read_live(page_size=args.page_size)
    elif args.paths:
        observed = read_observed(args.paths, page_size=args.page_size or 4096)
    else:
        raise UsageError("nothing to observe: give --live or one or more PATHs")
    if args.format == "json":
        sys.stdout.write(json.dumps(observed.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_observed_text(observed))
    return 0
