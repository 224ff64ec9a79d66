"""``memplan resolve``: the layout a kernel builds from a Device Tree, a command line and a .config.

Exit status: 0 no error diagnostics, 1 error diagnostics (the layout is still printed),
2 unusable input.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from memplan.errors import CmdlineError
from memplan.source import Source

FORMATS = ("text", "json", "iomem", "dmesg", "svg", "explain")

#: Options passed to :func:`memplan.resolve` under the same name.
RESOLVE_OPTIONS = ("dts", "dtb", "config", "arch", "kernel_version", "precedence", "include_dirs", "memory")


def register(subparsers: Any) -> None:
    """Add the ``resolve`` sub-command."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "resolve",
        help="predict the memory layout (reserved memory, CMA) and which CMA pool wins",
        description="Predict the physical memory layout a Linux kernel builds: /memory, /reserved-memory, "
        "/memreserve/, the global CMA pool (DTS vs cma= vs Kconfig, by kernel version), mem=, memmap= "
        "(x86), crashkernel=. Kernels 5.6 and later let cma= win over a linux,cma-default node; "
        "older kernels (and --precedence seed) let the Device Tree win.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--dts", metavar="FILE", help="Device Tree source (run through the C preprocessor)")
    src.add_argument("--dtb", metavar="FILE", help="compiled Device Tree blob")
    p.add_argument(
        "-I",
        dest="include_dirs",
        action="append",
        default=[],
        metavar="DIR",
        help="include directory for the DTS (repeatable)",
    )
    cl = p.add_mutually_exclusive_group()
    cl.add_argument(
        "--cmdline", metavar="S", help="command line from the boot loader (replaces /chosen/bootargs)"
    )
    cl.add_argument("--cmdline-file", metavar="F", help="read the boot loader command line from a file")
    p.add_argument("--config", metavar="F", help="kernel .config or defconfig")
    p.add_argument(
        "--arch", metavar="A", help="arm, arm64, riscv or x86 (default: from the .config or the DT)"
    )
    p.add_argument("--kernel-version", metavar="V", help="e.g. 6.1 (default: from the .config header)")
    p.add_argument(
        "--precedence",
        choices=("auto", "seed", "kernel"),
        default="auto",
        help="global CMA precedence: kernel rule for the version, or the documented DTS > CMDLINE > "
        "DEFCONFIG (default auto: kernel when the version is known)",
    )
    p.add_argument("--memory", metavar="SIZE", help="RAM size (e.g. 4G); required on x86, replaces /memory")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.set_defaults(func=run)


def read_cmdline_file(path: str) -> str:
    """The boot loader command line stored in ``path`` (UTF-8 text, surrounding blanks removed).

    Shared by ``memplan resolve`` and ``memplan check``. Raises :class:`CmdlineError` naming the
    file for a directory, a missing or unreadable file, and binary or non-UTF-8 content (with
    the byte offset of the first bad byte).
    """
    where = Source("file", file=path)
    if os.path.isdir(path):
        raise CmdlineError("--cmdline-file: is a directory, not a file", where)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise CmdlineError("--cmdline-file: no such file", where) from None
    except OSError as err:
        raise CmdlineError(f"--cmdline-file: cannot read: {err.strerror or err}", where) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CmdlineError(
            f"--cmdline-file: binary data (NUL byte at offset {nul}); expected the command line as text",
            Source("file", file=path, offset=nul),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CmdlineError(
            f"--cmdline-file: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})",
            Source("file", file=path, offset=err.start),
        ) from None
    return text.strip()


def _render(plan: Any, fmt: str) -> str:
    if fmt == "json":
        return str(plan.to_json()) + "\n"
    if fmt == "iomem":
        from memplan.render.iomem import render_iomem

        return render_iomem(plan)
    if fmt == "dmesg":
        from memplan.render.dmesg import render_dmesg

        return render_dmesg(plan)
    if fmt == "svg":
        return str(plan.to_svg())
    if fmt == "explain":
        return str(plan.explain())
    from memplan.render.text import render_text

    return render_text(plan)


def run(args: argparse.Namespace) -> int:
    """Resolve and print; returns the exit status."""
    from memplan.api import resolve

    loader = args.cmdline
    if args.cmdline_file:
        loader = read_cmdline_file(args.cmdline_file)
    # The options carry the facade's own parameter names; only the command line is read here.
    options = {name: getattr(args, name) for name in RESOLVE_OPTIONS}
    plan = resolve(cmdline=loader, **options)
    text = _render(plan, args.format)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0 if plan.ok else 1
