"""Start the C preprocessor on the board before the rest of memplan is imported.

A ``.dts`` goes through ``cpp`` before it is parsed. The command starts it right after reading
its options (:func:`start_cpp`); the preprocessor then runs while Python imports the parser
and the resolver, and :func:`memplan.dts.cpprun.run_cpp` takes the running process when the
same command comes up (same bounds; the output is the same). When the guess is wrong (a blob,
an option that changes the command), nothing takes the process and the command stops it on
exit (:func:`stop_unused`). Only the standard library and :mod:`memplan.dts.cpprun` are imported.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["start_cpp", "start_prediction_cpp", "stop_unused"]

_FDT_MAGIC = b"\xd0\x0d\xfe\xed"


def start_cpp(board: str, include_dirs: Sequence[str], cpp: str = "auto",
              include_roots: Sequence[str] | None = None) -> None:
    """Start the system ``cpp`` on ``board`` (named as the loader will name it) with
    ``include_dirs``, when the loader will run exactly that: a regular file that is not a blob,
    ``cpp`` auto or system, no include roots (those vet the includes first) and every include
    folder there. Anything else starts nothing."""
    if cpp not in ("auto", "system") or include_roots or board == "-":
        return
    if not all(os.path.isdir(d) for d in include_dirs):
        return
    try:
        if not os.path.isfile(board):
            return
        with open(board, "rb") as fh:
            if fh.read(4) == _FDT_MAGIC:
                return
    except OSError:
        return
    from memplan.dts import cpprun

    exe = cpprun.find_system_cpp()
    if exe is not None:
        cpprun.prestart(cpprun.cpp_command(exe, board, [os.fspath(d) for d in include_dirs]))


def start_prediction_cpp(args: argparse.Namespace) -> None:
    """:func:`start_cpp` for the ``--dts`` of a prediction (``resolve``, ``check``), named as
    :func:`memplan.resolve` names it (a :class:`~pathlib.Path` of the option's value)."""
    if args.dts is not None and args.dts != "-":
        from pathlib import Path

        start_cpp(os.fspath(Path(args.dts)), args.include_dirs, include_roots=args.include_roots)


def stop_unused() -> None:
    """Stop a preprocessor :func:`start_cpp` started that the run did not use."""
    cpprun = sys.modules.get("memplan.dts.cpprun")
    if cpprun is not None:
        cpprun.discard_prestarted()
