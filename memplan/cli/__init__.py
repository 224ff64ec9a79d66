"""The ``memplan`` command: a thin layer over the library. Commands decide nothing themselves.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds an
``argparse`` sub-parser whose ``func`` default takes the parsed arguments and returns the
exit status. Exit status: 0 success, 1 the layout has error diagnostics (or a mismatch),
2 unusable input (a :class:`~memplan.errors.MemplanError`, printed without a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from memplan import __version__
from memplan.errors import MemplanError

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = ("dts_cmd", "resolve_cmd", "observe_cmd", "check_cmd", "lint_cmd")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="memplan",
        description="Predict the physical memory layout (reserved memory, CMA) a Linux kernel will build.",
    )
    parser.add_argument("--version", action="version", version=f"memplan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"memplan.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (also used by the console script)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return func(args)
    except MemplanError as err:
        print(f"memplan: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - e.g. `memplan ... | head`
        return EXIT_OK
    except OSError as err:
        print(f"memplan: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
