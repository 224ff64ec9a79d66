"""The Device Tree front end: DTS source and DTB blobs into one :class:`Tree` model.

``parse_dts(path, include_dirs=...)`` runs the C preprocessor and parses the result;
``parse_dts(text=..., filename=...)`` parses text directly. ``read_dtb`` reads a compiled
blob, ``write_dtb`` / ``Tree.to_dtb()`` write one. ``load_device_tree(path, include_dirs, cpp)``
reads a file of either kind (a blob is recognised by its magic), as the CLI and the facade do.

The names are imported on first use (PEP 562), so a submodule such as
:mod:`memplan.dts.cpprun` can be imported without the parser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memplan.dts.dtb import read_dtb, write_dtb
    from memplan.dts.load import LoadedTree, load_device_tree
    from memplan.dts.parser import parse_dts, parse_text
    from memplan.dts.tree import MemReserve, Node, Property, Tree

#: Where each public name lives (imported on first access).
_HOMES: dict[str, str] = {
    "read_dtb": "memplan.dts.dtb",
    "write_dtb": "memplan.dts.dtb",
    "LoadedTree": "memplan.dts.load",
    "load_device_tree": "memplan.dts.load",
    "parse_dts": "memplan.dts.parser",
    "parse_text": "memplan.dts.parser",
    "MemReserve": "memplan.dts.tree",
    "Node": "memplan.dts.tree",
    "Property": "memplan.dts.tree",
    "Tree": "memplan.dts.tree",
}

__all__ = [
    "LoadedTree",
    "MemReserve",
    "Node",
    "Property",
    "Tree",
    "load_device_tree",
    "parse_dts",
    "parse_text",
    "read_dtb",
    "write_dtb",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module("memplan.dts.dtb")  # registers the writer behind Tree.to_dtb()
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
