"""One way to load a Device Tree file: a ``.dtb`` (recognised by its magic) or ``.dts`` source.

:func:`load_device_tree` is what the ``memplan dts`` command and :func:`memplan.resolve` both
use, so a path behaves the same everywhere: a directory or a missing file is a clear
:class:`~memplan.errors.DtsError`, a blob is decoded whatever its name, source is run through
the C preprocessor and parsed with ``/include/`` resolved next to the board file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import attrs

from memplan.dts.dtb import FDT_MAGIC, read_dtb
from memplan.dts.dtcversion import DEFAULT_DTC, DtcVersion
from memplan.dts.includes import IncludePolicy
from memplan.dts.tree import Tree
from memplan.errors import DtsError
from memplan.model import Diagnostic
from memplan.source import Source


@attrs.frozen
class LoadedTree:
    """A tree plus how it was obtained.

    ``kind`` is ``dts`` or ``dtb``; ``files`` every file read; ``tool`` the preprocessor
    that ran (DTS only); ``diagnostics`` the preprocessor's warnings (not repeated in
    ``tree.warnings``).
    """

    tree: Tree
    kind: str
    files: tuple[str, ...]
    tool: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()


def is_dtb_file(path: str | os.PathLike[str]) -> bool:
    """True when the file starts with the flattened device tree magic ``0xd00dfeed``."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    return len(head) == 4 and int.from_bytes(head, "big") == FDT_MAGIC


def check_input_file(path: str | os.PathLike[str]) -> str:
    """``path`` as a string when it names a regular file; else :class:`DtsError` saying
    "is a directory", "no such file" or "not a regular file", with the path as its source."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise DtsError("is a directory, not a Device Tree file", Source("file", file=name))
    if not os.path.exists(name):
        raise DtsError(f"no such file: {name}", Source.at(name, 1))
    if not os.path.isfile(name):
        raise DtsError(f"not a regular file: {name}", Source("file", file=name))
    return name


def load_device_tree(
    path: str | os.PathLike[str], include_dirs: Sequence[str | os.PathLike[str]] = (), cpp: str = "auto",
    *, symbols: bool = False, overlay: bool = False,
    include_roots: Sequence[str | os.PathLike[str]] | None = None, dtc: DtcVersion = DEFAULT_DTC,
) -> LoadedTree:
    """Read ``path`` as a DTB (by its magic, whatever the name) or as DTS source (preprocessed
    with ``cpp``, then parsed; ``/include/`` is looked up next to the file, then in
    ``include_dirs``). ``symbols`` adds ``/__symbols__`` to source as ``dtc -@`` does (a blob
    keeps what it has); ``overlay`` reads a blob without dtc's checks (libfdt judges overlays).
    ``include_roots`` confines every read, this file's included (:mod:`memplan.dts.includes`);
    ``dtc`` is the dtc whose rules the source follows (:mod:`memplan.dts.dtcversion`).
    Raises :class:`~memplan.errors.DtsError` for unusable input."""
    from memplan.dts.parser import parse_text
    from memplan.dts.preprocess import preprocess

    name = check_input_file(path)
    policy = IncludePolicy.make(include_roots)
    if not policy.inside(name):
        raise policy.outside_error("Device Tree file", name, Source("file", file=name))
    try:
        blob = is_dtb_file(name)
    except OSError as err:
        raise DtsError(f"cannot read: {err.strerror or err}", Source("file", file=name)) from None
    if blob:
        data = policy.read_bytes(name, "Device Tree blob", Source("file", file=name))  # size-bounded
        return LoadedTree(read_dtb(data, filename=name, checks=not overlay), "dtb", (name,))
    dirs = [os.fspath(d) for d in include_dirs]
    pre = preprocess(name, include_dirs=dirs, cpp=cpp, include_roots=include_roots)
    tree = parse_text(pre.text, name, dirs, base_dir=Path(name).parent, symbols=symbols,
                      include_roots=include_roots, dtc=dtc)
    extra = tuple(f for f in dict.fromkeys(tree.files) if f not in pre.files)
    return LoadedTree(tree, "dts", pre.files + extra, pre.tool, pre.diagnostics)


def load_device_tree_stdin(
    data: bytes, include_dirs: Sequence[str | os.PathLike[str]] = (), cpp: str = "auto",
    *, symbols: bool = False, overlay: bool = False,
    include_roots: Sequence[str | os.PathLike[str]] | None = None, dtc: DtcVersion = DEFAULT_DTC,
) -> LoadedTree:
    """:func:`load_device_tree` of ``data`` read from standard input: a blob by its magic, else
    DTS source named ``<stdin>`` that cpp and the parser treat as cpp and dtc treat their own
    standard input (includes next to it are looked up in the current directory, then in
    ``include_dirs``; ``include_roots`` confines every include read; ``dtc`` as there)."""
    from memplan.dts.includes import STDIN_NAME
    from memplan.dts.parser import parse_text
    from memplan.dts.preprocess import preprocess_stdin

    if len(data) >= 4 and int.from_bytes(data[:4], "big") == FDT_MAGIC:
        return LoadedTree(read_dtb(data, filename=STDIN_NAME, checks=not overlay), "dtb", (STDIN_NAME,))
    dirs = [os.fspath(d) for d in include_dirs]
    pre = preprocess_stdin(data, include_dirs=dirs, cpp=cpp, include_roots=include_roots)
    tree = parse_text(pre.text, STDIN_NAME, dirs, base_dir=os.getcwd(), symbols=symbols,
                      include_roots=include_roots, dtc=dtc)
    extra = tuple(f for f in dict.fromkeys(tree.files) if f not in pre.files)
    return LoadedTree(tree, "dts", pre.files + extra, pre.tool, pre.diagnostics)
