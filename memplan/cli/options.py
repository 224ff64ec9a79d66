"""The command-line options, written once and shared by every subcommand that takes them.

Each ``add_*`` function adds one group of options to a sub-parser; :mod:`memplan.cli.inputs`
turns the parsed values into the keyword arguments of :func:`memplan.resolve`. To add an input
option (e.g. an overlay), add it here and read it in ``memplan.cli.inputs``; every subcommand
that predicts a layout then has it under the same name.

Conventions: one long name per option everywhere (short aliases such as ``-I`` only beside
it); file arguments are paths, ``-`` meaning standard input. Nothing heavy is imported here.
"""

from __future__ import annotations

import argparse

__all__ = [
    "FAIL_ON_CHOICES",
    "PRECEDENCE_CHOICES",
    "add_board_inputs",
    "add_cmdline_inputs",
    "add_dtc_version",
    "add_format",
    "add_gate_options",
    "add_include_dirs",
    "add_kernel_inputs",
    "add_overlays",
    "add_prediction_inputs",
    "diagnostic_code",
    "new_subparser",
]

PRECEDENCE_CHOICES = ("auto", "seed", "kernel")
#: The ``--fail-on`` levels every gating subcommand takes (``lint`` adds its own before them).
FAIL_ON_CHOICES = ("error", "warning", "never")


def new_subparser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, *,
                  help: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """A sub-parser whose description and epilog (the exit statuses) keep their line breaks."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_include_dirs(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``-I``/``--include DIR`` (repeatable): where ``#include <...>`` and ``/include/`` look."""
    p.add_argument(
        "-I", "--include", dest="include_dirs", action="append", default=[], metavar="DIR",
        help="include directory for the DTS (repeatable; it must exist)",
    )
    p.add_argument(
        "--include-root", dest="include_roots", action="append", default=None, metavar="DIR",
        help="read Device Tree files, includes and /incbin/ data only from under DIR, after "
        "resolving symlinks, and never a device or FIFO (repeatable; by default includes are "
        "found as cpp and dtc find them)",
    )


def add_overlays(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--overlay FILE[:param=value,...]`` (repeatable): overlays applied to the board, in order."""
    p.add_argument(
        "--overlay", dest="overlays", action="append", default=[], metavar="FILE[:PARAM=VALUE,...]",
        help="apply this Device Tree overlay (.dtbo, or .dts/.dtso with /plugin/) as the boot loader "
        "does, in order (repeatable); Raspberry Pi parameters after a colon",
    )


def _dtc_version(text: str) -> object:
    from memplan.dts.dtcversion import parse_dtc_version
    from memplan.errors import MemplanError

    try:
        return parse_dtc_version(text)
    except MemplanError as err:
        raise argparse.ArgumentTypeError(err.message) from None


def add_dtc_version(p: argparse.ArgumentParser | argparse._ArgumentGroup, default: str = "1.6.1") -> None:
    """``--dtc-version VERSION``: the dtc whose rules Device Tree source follows where versions differ."""
    p.add_argument(
        "--dtc-version", dest="dtc_version", type=_dtc_version, default=None, metavar="VERSION",
        help=f"follow this dtc where dtc versions differ (default: {default}). Up to 1.6.1 an array "
        "element out of range is an error; 1.7.0 and later (in the kernel's own scripts/dtc since "
        "2023) keep its low bits with a warning",
    )


def _kernel_version(text: str) -> object:
    from memplan.errors import MemplanError
    from memplan.version import KernelVersion

    try:
        version = KernelVersion.parse(text)
    except MemplanError as err:
        raise argparse.ArgumentTypeError(err.message) from None
    problem = version.implausible()
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return version


def add_dtc_kernel_version(p: argparse.ArgumentParser) -> None:
    """``--kernel-version VERSION`` of ``memplan dts``: only which dtc the source follows (the copy
    in the release's ``scripts/dtc``), as ``resolve`` and ``check`` choose it."""
    p.add_argument(
        "--kernel-version", dest="kernel_version", type=_kernel_version, default=None, metavar="VERSION",
        help="the Linux release the source is built with (e.g. 6.2): follow the dtc in its scripts/dtc "
        "(--dtc-version wins)",
    )


def add_board_inputs(p: argparse.ArgumentParser) -> None:
    """The Device Tree: ``--dts``, ``--dtb`` or ``--example``, and ``--include``."""
    g = p.add_argument_group("Device Tree")
    src = g.add_mutually_exclusive_group()
    src.add_argument(
        "--dts", metavar="FILE", help="board .dts (run through the C preprocessor); - reads stdin"
    )
    src.add_argument("--dtb", metavar="FILE", help="compiled board .dtb; - reads stdin")
    src.add_argument(
        "--example", metavar="NAME",
        help="the example board shipped with memplan (evk): its .dts, includes and defconfig "
        "(--config replaces the defconfig)",
    )
    add_include_dirs(g)
    add_overlays(g)
    add_dtc_version(g, default="the dtc in scripts/dtc of the --kernel-version, else 1.6.1")


def add_cmdline_inputs(p: argparse.ArgumentParser, *, from_observed: bool = False) -> None:
    """The boot loader's command line: ``--cmdline``, ``--cmdline-file`` (and, for ``check``,
    ``--cmdline-from-observed``)."""
    g = p.add_argument_group("command line")
    cl = g.add_mutually_exclusive_group()
    cl.add_argument(
        "--cmdline", metavar="TEXT", help="command line from the boot loader (replaces /chosen/bootargs)"
    )
    cl.add_argument(
        "--cmdline-file", metavar="FILE", help="read the boot loader command line from FILE; - reads stdin"
    )
    if from_observed:
        cl.add_argument(
            "--cmdline-from-observed", action="store_true",
            help="use the observed 'Kernel command line:' as the boot loader command line",
        )


_VERSION_DEFAULT = "from the .config header"


def add_kernel_inputs(p: argparse.ArgumentParser, *, version_default: str = _VERSION_DEFAULT) -> None:
    """The kernel: ``--config``, ``--arch``, ``--kernel-version``, ``--precedence``, ``--memory``."""
    g = p.add_argument_group("kernel")
    g.add_argument(
        "--config", metavar="FILE", help="kernel .config or defconfig (gzip allowed); - reads stdin"
    )
    g.add_argument(
        "--arch", metavar="ARCH", help="arm, arm64, riscv or x86 (default: from the .config or the DT)"
    )
    g.add_argument("--kernel-version", metavar="VERSION", help=f"e.g. 6.1 (default: {version_default})")
    g.add_argument(
        "--precedence", choices=PRECEDENCE_CHOICES, default="auto",
        help="global CMA precedence: the kernel's rule for the version, or the documented "
        "DTS > CMDLINE > DEFCONFIG (default auto: kernel when the version is known)",
    )
    g.add_argument("--memory", metavar="SIZE", help="RAM size (e.g. 4G); required on x86, replaces /memory")


def add_prediction_inputs(
    p: argparse.ArgumentParser, *, from_observed: bool = False, version_default: str = _VERSION_DEFAULT
) -> None:
    """Every input of a prediction (what :func:`memplan.cli.inputs.prediction_kwargs` reads)."""
    add_board_inputs(p)
    add_cmdline_inputs(p, from_observed=from_observed)
    add_kernel_inputs(p, version_default=version_default)


def add_format(p: argparse.ArgumentParser, formats: tuple[str, ...], default: str = "text") -> None:
    """``--format`` with the subcommand's choices."""
    p.add_argument("--format", choices=formats, default=default, help=f"output format (default {default})")


def diagnostic_code(value: str) -> str:
    """An ``--ignore`` value: a code of the diagnostics registry (:mod:`memplan.diagnostics`).

    Anything else is a usage error naming the value and the nearest registered code, so a typo
    cannot silently ignore nothing. The registry is imported only when ``--ignore`` is given.
    """
    import difflib

    from memplan.diagnostics import CODES

    if value in CODES:
        return value
    nearest = difflib.get_close_matches(value.strip().lower(), list(CODES), n=1, cutoff=0.0)
    hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
    raise argparse.ArgumentTypeError(
        f"{value!r} is not a registered diagnostic code{hint} (the diagnostic catalogue, "
        "docs/diagnostics.md in the source release, lists every code)"
    )


def add_gate_options(
    p: argparse.ArgumentParser, *, what: str = "a diagnostic", levels: tuple[str, ...] = FAIL_ON_CHOICES,
    default: str = "error", default_means: str = "an error",
    never_means: str = "diagnostics do not change the exit status",
) -> None:
    """``--fail-on LEVEL`` and ``--ignore CODE`` (repeatable): what makes the exit status 1.

    ``what`` names what reaches a level (``"a diagnostic"``, ``"a board"``); ``levels`` are the
    choices (the shared ones, or a subcommand's own before them); ``default_means`` and
    ``never_means`` say in words what the default level catches and what ``never`` does.
    """
    g = p.add_argument_group("gate")
    g.add_argument(
        "--fail-on", choices=levels, default=default,
        help=f"exit 1 when {what} at this level or worse remains; never: {never_means} "
        f"(default {default}: {default_means})",
    )
    g.add_argument(
        "--ignore", metavar="CODE", action="append", default=[], type=diagnostic_code,
        help="leave out diagnostics with this registered code (e.g. memory-none), from the output "
        "and the exit status (repeatable; an unknown code is an error)",
    )
