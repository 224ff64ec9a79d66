"""The Device Tree front end: DTS source and DTB blobs into one :class:`Tree` model.

``parse_dts(path, include_dirs=...)`` runs the C preprocessor and parses the result;
``parse_dts(text=..., filename=...)`` parses text directly. ``read_dtb`` reads a compiled
blob, ``write_dtb`` / ``Tree.to_dtb()`` write one. ``load_device_tree(path, include_dirs, cpp)``
reads a file of either kind (a blob is recognised by its magic), as the CLI and the facade do.
"""

from __future__ import annotations

from memplan.dts.dtb import read_dtb, write_dtb
from memplan.dts.load import LoadedTree, load_device_tree
from memplan.dts.parser import parse_dts, parse_text
from memplan.dts.tree import MemReserve, Node, Property, Tree

__all__ = [
    "LoadedTree",
    "MemReserve", "Node", "Property", "Tree", "load_device_tree",
    "parse_dts", "parse_text", "read_dtb", "write_dtb"]
