"""``memplan dts``: read a ``.dts`` (through the C preprocessor) or a ``.dtb``; summarise it or write a DTB.

The summary (:mod:`memplan.cli.dts_summary`) lists what the memory planner will read.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from memplan.cli.exits import exit_help
from memplan.cli.options import (
    add_dtc_kernel_version,
    add_dtc_version,
    add_gate_options,
    add_include_dirs,
    add_overlays,
    new_subparser,
)

__all__ = ["CPP_CHOICES", "register", "run"]

CPP_CHOICES = ("auto", "system", "pcpp", "none")

DTS_EXITS = exit_help(
    "  0  read (and written); no diagnostic at the --fail-on level (default: no error)",
    "  1  a diagnostic at the --fail-on level (the summary or the DTB is still written)",
)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``memplan dts``."""
    from memplan.argnames import cli_spelling
    from memplan.cli.early import start_cpp

    start_cpp(args.file, args.include_dirs, args.cpp, args.include_roots)
    with cli_spelling():  # messages name the options (--dtc-version), not the API's keywords
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import attrs

    from memplan.cli.dts_summary import load_tree, summarize
    from memplan.cli.gate import gate_status, kept
    from memplan.cli.inputs import STDIN, check_include_dirs, include_roots, overlay_specs
    from memplan.dts.dtcversion import choose_dtc, with_dtc_reason
    from memplan.dts.load import is_dtb_file
    from memplan.errors import DtsError, UsageError
    from memplan.source import Source

    dirs = check_include_dirs(args.include_dirs)
    roots = include_roots(args)
    # --dtc-version, else the dtc the --kernel-version carries in scripts/dtc (as resolve and check)
    dtc, note = choose_dtc(args.dtc_version, args.kernel_version)
    specs = []
    try:
        if args.file == STDIN:
            from memplan.dts.load import load_device_tree_stdin

            loaded = load_device_tree_stdin(sys.stdin.buffer.read(), dirs, args.cpp, symbols=args.symbols,
                                            include_roots=roots, dtc=dtc)
        else:
            loaded = load_tree(args.file, dirs, args.cpp, symbols=args.symbols, include_roots=roots, dtc=dtc)
        if args.overlays:
            from memplan.dts.overlay_input import apply_overlay_specs

            specs = overlay_specs(args.overlays)
            apply_overlay_specs(loaded.tree, specs, dirs, args.cpp, include_roots=roots, dtc=dtc)
            loaded = attrs.evolve(loaded, files=(*loaded.files, *(s.path for s in specs)))
    except DtsError as err:
        raise with_dtc_reason(err, note) from None
    if note is not None and (loaded.kind == "dts" or not all(is_dtb_file(s.path) for s in specs)):
        loaded = attrs.evolve(loaded, diagnostics=(note, *loaded.diagnostics))  # some source was compiled
    if args.output:
        if os.path.isdir(args.output):
            where = Source("file", file=args.output)
            raise UsageError(f"-o: {args.output!r} is a directory, not a file", where)
        blob = loaded.tree.to_dtb()
        with open(args.output, "wb") as fh:
            fh.write(blob)
        print(f"wrote {args.output} ({len(blob)} bytes)")
        # as dtc does when it compiles: the warnings go to standard error
        diagnostics = kept((*loaded.diagnostics, *loaded.tree.warnings), args.ignore)
        for d in diagnostics:
            if d.severity != "info":
                print(f"memplan: {d}", file=sys.stderr)
        return gate_status(diagnostics, args.fail_on)
    summary = summarize(loaded, frozenset(args.ignore))
    print(summary.text)
    return gate_status(summary.diagnostics, args.fail_on)


def register(subparsers: Any) -> None:
    """Add the ``dts`` subcommand."""
    p = new_subparser(
        subparsers,
        "dts",
        help="read a .dts/.dtb and summarise it, or compile it to a .dtb",
        description=(
            "Read a Device Tree: a .dts is run through the C preprocessor the way kbuild does "
            "(cpp -nostdinc -undef -D__DTS__ -x assembler-with-cpp) and parsed; a .dtb "
            "(recognised by its 0xd00dfeed magic) is decoded. Without --output, print a summary."
        ),
        epilog=DTS_EXITS,
    )
    p.add_argument("file", metavar="FILE", help=".dts or .dtb file; - reads standard input")
    add_include_dirs(p)
    p.add_argument("-o", "--output", dest="output", metavar="OUT.dtb", help="write the compiled DTB here")
    p.add_argument(
        "-@", "--symbols", dest="symbols", action="store_true",
        help="add /__symbols__ (every label and its path) as dtc -@ does, so the tree can take overlays",
    )
    add_overlays(p)
    add_dtc_version(p, default="the dtc in scripts/dtc of the --kernel-version, else 1.6.1")
    add_dtc_kernel_version(p)
    p.add_argument(
        "--cpp", choices=CPP_CHOICES, default="auto",
        help="preprocessor: system cpp when installed, else pcpp (auto); or force one; none = no cpp",
    )
    add_gate_options(p)
    p.set_defaults(func=run)
