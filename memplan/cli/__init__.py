"""The ``memplan`` command: a thin layer over the library. Commands decide nothing themselves.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds an
``argparse`` sub-parser whose ``func`` default takes the parsed arguments and returns the
exit status (:mod:`memplan.cli.exits`; each subcommand's ``--help`` lists its own). The
shared options are defined once in :mod:`memplan.cli.options`.

Start-up matters (a build runs memplan once per board): this package and the subcommand
modules import only the standard library's ``argparse``; each ``run`` imports the parts of
memplan it needs.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import sys
from collections.abc import Callable, Sequence

from memplan import __version__
from memplan.cli.exits import EXIT_FINDINGS, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_USAGE

__all__ = [
    "COMMAND_MODULES",
    "EXIT_FINDINGS",
    "EXIT_INCONCLUSIVE",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "dts_cmd",
    "resolve_cmd",
    "observe_cmd",
    "check_cmd",
    "lint_cmd",
    "collect_cmd",
)
#: Each subcommand's module (``<name>_cmd``), so a run builds only the parser it uses.
_COMMANDS = {module.removesuffix("_cmd"): module for module in COMMAND_MODULES}
#: Subcommands that read one board: the cyclic garbage collector is paused while they run. It
#: would walk every imported object again and again (a few percent of a run) and find next to
#: nothing; it is resumed afterwards, so whatever a run leaves is collected as usual.
_ONE_BOARD = frozenset({"dts", "resolve", "check"})

_EPILOG = (
    "exit status (each command's --help says what 1 and 3 mean for it):\n"
    "  0  success\n"
    "  1  findings: diagnostics at the --fail-on level (dts, resolve, lint, check), a mismatch (check)\n"
    "  2  unusable input (a missing file, a bad option value, input that cannot be parsed)\n"
    "  3  inconclusive: nothing observed could confirm or refute the prediction (check)"
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand, or only with ``command`` (what a
    run of that subcommand needs: the other sub-parsers are not built)."""
    parser = argparse.ArgumentParser(
        prog="memplan",
        description="Predict the physical memory layout (reserved memory, CMA) a Linux kernel will build.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"memplan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES if command is None else (_COMMANDS[command],):
        module = importlib.import_module(f"memplan.cli.{name}")
        module.register(sub)
    return parser


def _escape_unprintable_output() -> None:
    """Print what the output encoding cannot hold as escapes (``\\udcff`` for a non-UTF-8 byte
    of a file name or ``--cmdline``, which Python keeps as a surrogate) instead of failing
    with UnicodeEncodeError under a strict UTF-8 stdout."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a stream that cannot change
                reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (also used by the console script)."""
    _escape_unprintable_output()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list == ["--version"]:  # the fast path: no parser to build
        sys.stdout.write(f"memplan {__version__}\n")
        return EXIT_OK
    # `memplan COMMAND ...` builds only that sub-parser; anything else (--help, a typo) gets all
    command = args_list[0] if args_list and args_list[0] in _COMMANDS else None
    parser = build_parser(command)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:  # --help, or a usage error argparse has already printed
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from memplan.cli.early import stop_unused

    pause = command in _ONE_BOARD and gc.isenabled()
    if pause:
        gc.disable()
    try:
        return func(args)
    except Exception as err:
        # memplan.errors is imported here, not before the run: the subcommand starts the C
        # preprocessor before it imports the rest (memplan.cli.early)
        from memplan.errors import MemplanError

        if isinstance(err, BrokenPipeError):  # pragma: no cover - e.g. `memplan ... | head`
            return EXIT_OK
        if isinstance(err, MemplanError | OSError):
            print(f"memplan: error: {err}", file=sys.stderr)
            return EXIT_USAGE
        raise
    finally:
        stop_unused()
        if pause:
            gc.enable()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
