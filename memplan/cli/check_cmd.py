"""``memplan check``: resolve a prediction and compare it with an observed boot.

Exit status: 0 the kernel agrees with the prediction, 1 a mismatch (a region moved, resized,
missing or unexpected, or a different global CMA area), 2 unusable input.

``--tolerate-modelled`` accepts address differences of regions whose placement memplan only
models (their address depends on early allocations it cannot see); they are still listed.
When ``--kernel-version`` is not given, the observed kernel's version is used for the
prediction (and said so in the report).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from memplan.cli.resolve_cmd import read_cmdline_file
from memplan.errors import MemplanError
from memplan.plan import Plan


def add_resolve_arguments(p: argparse.ArgumentParser) -> None:
    """The inputs of a prediction, with the same names as ``memplan resolve`` (whose module
    does not expose a registration helper), plus ``--cmdline-from-observed``."""
    p.add_argument("--dts", help="board .dts (run through the C preprocessor)")
    p.add_argument("--dtb", help="compiled board .dtb")
    p.add_argument(
        "-I",
        "--include",
        dest="include_dirs",
        action="append",
        default=[],
        metavar="DIR",
        help="include directory for the DTS (repeatable)",
    )
    p.add_argument("--cmdline", help="kernel command line given by the bootloader")
    p.add_argument("--cmdline-file", help="file holding the bootloader command line")
    p.add_argument(
        "--cmdline-from-observed",
        action="store_true",
        help="use the observed 'Kernel command line:' as the bootloader command line",
    )
    p.add_argument("--config", help="kernel .config or defconfig")
    p.add_argument("--arch", help="architecture (arm, arm64, riscv, x86)")
    p.add_argument("--kernel-version", help="kernel version to predict for (default: the observed one)")
    p.add_argument(
        "--precedence",
        choices=("auto", "seed", "kernel"),
        default="auto",
        help="global CMA precedence model (default auto: the kernel rule for the version)",
    )
    p.add_argument("--memory", metavar="SIZE", help="RAM size (e.g. 4G); required on x86, replaces /memory")


def register(subparsers: Any) -> None:
    """Add the ``check`` sub-command."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="compare memplan's prediction with an observed boot (exit 1 on mismatch)",
        description="Resolve the layout from the inputs and compare it with observed kernel state.",
    )
    p.add_argument(
        "--observed",
        nargs="+",
        required=True,
        metavar="DIR|FILE",
        help="snapshot directories or observed files",
    )
    add_resolve_arguments(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument(
        "--tolerate-modelled",
        action="store_true",
        help="do not fail on address differences of 'modelled' placements",
    )
    p.add_argument("--page-size", type=int, default=4096, help="page size for debugfs page counts")
    p.set_defaults(func=run)


def resolve_from_args(args: argparse.Namespace, kernel_version: str | None, cmdline: str | None) -> Plan:
    """Call :func:`memplan.resolve` with the command-line inputs."""
    resolve = getattr(importlib.import_module("memplan"), "resolve", None)
    if resolve is None:
        try:
            resolve = importlib.import_module("memplan.api").resolve
        except (ImportError, AttributeError) as err:
            raise MemplanError("the resolver (memplan.resolve) is not available in this build") from err
    kwargs: dict[str, Any] = {
        "dts": args.dts,
        "dtb": args.dtb,
        "cmdline": cmdline,
        "config": args.config,
        "arch": args.arch,
        "kernel_version": kernel_version,
        "precedence": args.precedence,
        "include_dirs": list(args.include_dirs),
        "memory": args.memory,
    }
    result = resolve(**{k: v for k, v in kwargs.items() if v is not None})
    if not isinstance(result, Plan):
        raise MemplanError("memplan.resolve did not return a Plan")
    return result


def run(args: argparse.Namespace) -> int:
    """Observe, resolve, compare, print; exit 0 on agreement, 1 on mismatch."""
    from memplan.observe import read_observed

    if args.dts and args.dtb:
        raise MemplanError("give either --dts or --dtb, not both")
    observed = read_observed(args.observed, page_size=args.page_size)
    sources = [args.cmdline is not None, args.cmdline_file is not None, args.cmdline_from_observed]
    if sum(sources) > 1:
        raise MemplanError("give only one of --cmdline, --cmdline-file, --cmdline-from-observed")
    cmdline: str | None = args.cmdline
    if args.cmdline_file is not None:
        cmdline = read_cmdline_file(args.cmdline_file)
    if args.cmdline_from_observed:
        if observed.cmdline is None:
            raise MemplanError("--cmdline-from-observed: the observed boot log has no 'Kernel command line:'")
        cmdline = observed.cmdline
    version = args.kernel_version
    note = None
    if version is None and observed.kernel_version is not None:
        version = str(observed.kernel_version)
        note = f"predicting for the observed kernel version {version}"
    plan = resolve_from_args(args, version, cmdline)
    comparison = plan.compare(observed, tolerate_modelled=args.tolerate_modelled)
    if args.format == "json":
        data = comparison.to_dict()
        data["plan_kernel_version_from_observed"] = note is not None
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        if note:
            sys.stdout.write(f"({note})\n")
        sys.stdout.write(comparison.to_text())
    return 0 if comparison.ok else 1
