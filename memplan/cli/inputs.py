"""From parsed command-line options to the inputs of :func:`memplan.resolve`.

File arguments are always paths: a path that does not exist is an error naming the option and
the path, and ``-`` reads standard input (at most one option may take it). Hints for common
mix-ups (a ``.dtsi`` given as the board, DTS source given to ``--dtb``) go to standard error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memplan.errors import CmdlineError, DtsError, UsageError
from memplan.source import Source

if TYPE_CHECKING:
    from memplan.dts.tree import Tree
    from memplan.version import KernelVersion

__all__ = [
    "STDIN",
    "check_include_dirs",
    "existing_file",
    "hint",
    "overlay_specs",
    "prediction_kwargs",
    "read_cmdline_file",
]

#: The file name that means standard input.
STDIN = "-"
_FDT_MAGIC = b"\xd0\x0d\xfe\xed"


def hint(message: str) -> None:
    """Print a hint for the user on standard error."""
    print(f"memplan: hint: {message}", file=sys.stderr)


class _Stdin:
    """Standard input, which only one option of a run may read."""

    def __init__(self) -> None:
        self.taken_by: str | None = None

    def read(self, option: str) -> bytes:
        if self.taken_by is not None:
            raise UsageError(f"{option}: standard input (-) is already read by {self.taken_by}")
        self.taken_by = option
        return sys.stdin.buffer.read()


def existing_file(option: str, value: str) -> Path:
    """``value`` as the path of an existing regular file, else a :class:`UsageError` naming it."""
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{option}: is a directory, not a file", Source("file", file=value))
    if not path.is_file():
        raise UsageError(f"{option}: no such file", Source("file", file=value))
    return path


def check_include_dirs(values: list[str], option: str = "--include") -> list[str]:
    """The ``-I``/``--include`` (or ``--include-root``) folders, each of which must exist."""
    for d in values:
        if not os.path.isdir(d):
            what = "is a file, not a folder" if os.path.exists(d) else "no such folder"
            raise UsageError(f"{option}: {what}", Source("file", file=d))
    return list(values)


def include_roots(args: argparse.Namespace) -> list[str] | None:
    """The ``--include-root`` folders (each must exist), or ``None`` when none was given."""
    roots: list[str] | None = getattr(args, "include_roots", None)
    return None if roots is None else check_include_dirs(roots, "--include-root")


def _stdin_dts(data: bytes, args: argparse.Namespace) -> Tree | bytes:
    """DTS source from standard input, preprocessed and parsed as cpp and dtc read their own
    standard input (``<stdin>``; includes next to it are looked up in the current directory,
    then in the --include folders; --include-root confines them); a blob is passed on as bytes.
    The preprocessor's warnings come first in the tree's warnings."""
    if data[:4] == _FDT_MAGIC:
        return data
    from memplan.dts.dtcversion import choose_dtc, with_dtc_reason
    from memplan.dts.load import load_device_tree_stdin

    # --dtc-version is parsed by its option; else the --kernel-version's own dtc (a bad version is
    # refused later, by resolve, with the other arguments)
    dtc, note = choose_dtc(getattr(args, "dtc_version", None), _kernel_version(args))
    try:
        loaded = load_device_tree_stdin(data, check_include_dirs(args.include_dirs), symbols=bool(
            getattr(args, "overlays", None)), include_roots=include_roots(args), dtc=dtc)
    except DtsError as err:
        raise with_dtc_reason(err, note) from None
    loaded.tree.warnings[:0] = [*([note] if note is not None else []), *loaded.diagnostics]
    return loaded.tree


def _kernel_version(args: argparse.Namespace) -> KernelVersion | None:
    from memplan.errors import MemplanError
    from memplan.version import KernelVersion

    try:
        return KernelVersion.coerce(getattr(args, "kernel_version", None))
    except MemplanError:
        return None


def _dts(value: str, stdin: _Stdin) -> Path | bytes:
    """The --dts path, or the bytes of standard input (read here, parsed by :func:`_stdin_dts`
    once every option has taken its input)."""
    if value == STDIN:
        return stdin.read("--dts")
    path = existing_file("--dts", value)
    if path.suffix == ".dtsi":
        hint(f"{value} is an include file (.dtsi); pass the board .dts that includes it with --dts")
    return path


def _looks_like_dts(head: bytes, path: Path) -> bool:
    return path.suffix in (".dts", ".dtsi") or b"/dts-v1/" in head


def _dtb(value: str, stdin: _Stdin) -> Path | bytes:
    if value == STDIN:
        data = stdin.read("--dtb")
        if data[:4] != _FDT_MAGIC and b"/dts-v1/" in data[:4096]:
            raise UsageError("--dtb: standard input holds Device Tree source, not a blob; use --dts -")
        return data
    path = existing_file("--dtb", value)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head[:4] != _FDT_MAGIC and _looks_like_dts(head, path):
        raise UsageError(
            "--dtb: this is Device Tree source, not a compiled blob (no 0xd00dfeed magic); "
            "pass it with --dts",
            Source("file", file=value),
        )
    return path


def _config(value: str, stdin: _Stdin) -> Path | str:
    if value == STDIN:
        data = stdin.read("--config")
        text = data.decode("utf-8", errors="surrogateescape")
        # A newline makes the facade read it as text, never as a file name.
        return text if text.endswith("\n") else text + "\n"
    return existing_file("--config", value)


def read_cmdline_file(path: str, stdin: _Stdin | None = None) -> str:
    """The boot loader command line stored in ``path`` (``-``: standard input), surrounding blanks
    removed. Raises :class:`CmdlineError` naming the file for a directory, a missing or unreadable
    file, and binary or non-UTF-8 content (with the byte offset of the first bad byte)."""
    where = Source("file", file=path)
    if path == STDIN:
        data = (stdin or _Stdin()).read("--cmdline-file")
        where = Source("file", file="<stdin>")
    else:
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
            Source("file", file=where.file, offset=nul),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CmdlineError(
            f"--cmdline-file: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})",
            Source("file", file=where.file, offset=err.start),
        ) from None
    return text.strip()


def overlay_specs(values: list[str]) -> list[Any]:
    """The ``--overlay`` values as :class:`~memplan.dts.overlay_input.OverlaySpec`, each file existing."""
    from memplan.dts.overlay_input import parse_overlay_spec

    specs = [parse_overlay_spec(v) for v in values]
    for spec in specs:
        existing_file("--overlay", spec.path)
    return specs


def prediction_kwargs(args: argparse.Namespace, *, observed_cmdline: str | None = None) -> dict[str, Any]:
    """The keyword arguments of :func:`memplan.resolve` for the options of
    :func:`memplan.cli.options.add_prediction_inputs` (``kernel_version`` as given; the caller may
    replace it). ``observed_cmdline`` is used with ``--cmdline-from-observed``."""
    stdin = _Stdin()
    kwargs: dict[str, Any] = {
        "include_dirs": check_include_dirs(args.include_dirs),
        "include_roots": include_roots(args),
        "arch": args.arch,
        "kernel_version": args.kernel_version,
        "precedence": args.precedence,
        "memory": args.memory,
        "dtc_version": getattr(args, "dtc_version", None),
    }
    if args.example is not None:
        from memplan.examples import example

        board = example(args.example)
        kwargs["dts"] = board.dts
        kwargs["config"] = board.config
        kwargs["include_dirs"] = [*kwargs["include_dirs"], *map(str, board.include_dirs)]
    if args.dts is not None:
        kwargs["dts"] = _dts(args.dts, stdin)
    if args.dtb is not None:
        kwargs["dtb"] = _dtb(args.dtb, stdin)
    if args.config is not None:
        kwargs["config"] = _config(args.config, stdin)
    if getattr(args, "overlays", None):
        kwargs["overlays"] = overlay_specs(args.overlays)
    cmdline: str | None = args.cmdline
    if args.cmdline_file is not None:
        cmdline = read_cmdline_file(args.cmdline_file, stdin)
    if getattr(args, "cmdline_from_observed", False):
        if observed_cmdline is None:
            raise UsageError("--cmdline-from-observed: the observed boot log has no 'Kernel command line:'")
        cmdline = observed_cmdline
    kwargs["cmdline"] = cmdline
    if isinstance(kwargs.get("dts"), bytes):
        kwargs["dts"] = _stdin_dts(kwargs["dts"], args)
    return {k: v for k, v in kwargs.items() if v is not None}
