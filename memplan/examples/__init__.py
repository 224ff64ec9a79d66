"""The example boards shipped inside the package (read with :mod:`importlib.resources`).

``memplan.example("evk")`` gives the paths of the bundled board, so that the README's first
command (``memplan resolve --example evk``) and the example notebook work from an installed
wheel, outside a source checkout::

    board = memplan.example("evk")
    plan = memplan.resolve(**board.inputs(), kernel_version="6.1")
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import NamedTuple

__all__ = ["EXAMPLES", "Example", "example"]

#: The bundled example boards, by name.
EXAMPLES: tuple[str, ...] = ("evk",)


class Example(NamedTuple):
    """The files of one bundled example board."""

    #: The example's name (``evk``).
    name: str
    #: The board ``.dts`` (it ``#include``\\ s files from :attr:`include_dirs`).
    dts: Path
    #: The kernel defconfig that goes with it.
    config: Path
    #: Include directories for the ``.dts``.
    include_dirs: tuple[Path, ...]

    def inputs(self) -> dict[str, object]:
        """The keyword arguments of :func:`memplan.resolve` for this board: ``dts``, ``config`` and
        ``include_dirs``."""
        return {"dts": self.dts, "config": self.config, "include_dirs": list(self.include_dirs)}


def example(name: str = "evk") -> Example:
    """The bundled example board ``name`` (see :data:`EXAMPLES`).

    Raises :class:`~memplan.errors.MemplanError` for an unknown name, or when the package is
    installed in a form whose files are not on disk (a zip archive).
    """
    from memplan.errors import MemplanError

    if name not in EXAMPLES:
        raise MemplanError(f"no example board {name!r} (the bundled examples: {', '.join(EXAMPLES)})")
    folder = resources.files(__name__).joinpath(name)
    if not isinstance(folder, os.PathLike):
        raise MemplanError(f"example {name!r}: the package's files are not on disk ({folder})")
    root = Path(os.fspath(folder))
    dts, config = root / "board.dts", root / "defconfig"
    if not (dts.is_file() and config.is_file()):
        raise MemplanError(f"example {name!r}: {root} is incomplete (board.dts, defconfig)")
    return Example(name, dts, config, (root,))
