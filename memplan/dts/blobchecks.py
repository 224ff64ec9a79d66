"""The checks dtc runs on a tree read from a blob (``dtc -I dtb``) that stop it with an error.

A ``.dtb`` is not trusted more than source: dtc refuses a blob whose node or property names
have characters outside the Device Tree alphabet, a node name with two ``@``, a ``name``
property that disagrees with the node name, and malformed or duplicated ``phandle`` values.
:func:`check_blob_tree` applies the same rules, in dtc's order (one check over the whole tree
before the next), and raises a :class:`~memplan.errors.DtbError` at the offending node or
property. Like dtc it drops a ``name`` property equal to the node's base name.
"""

from __future__ import annotations

from memplan.dts.semantics import BAD_NODE_CHAR, BAD_PROP_CHAR
from memplan.dts.tree import Node, Property, Tree
from memplan.errors import DtbError

__all__ = ["check_blob_tree"]


def _where(node: Node) -> str:
    # dtc names a blob's root by its own name when it has one
    return node.path if node.parent is not None or not node.name else "/" + node.name


def _names(tree: Tree) -> None:
    nodes = list(tree.walk())
    for node in nodes:
        bad = BAD_NODE_CHAR.search(node.name)
        if bad is not None:
            raise DtbError(f"{_where(node)}: bad character '{bad.group(0)}' in node name", node.source)
    for node in nodes:
        if node.name.count("@") > 1:
            raise DtbError(f"{_where(node)}: multiple '@' characters in node name", node.source)
    for node in nodes:
        for prop in node.properties.values():
            bad = BAD_PROP_CHAR.search(prop.name)
            if bad is not None:
                raise DtbError(f"{_where(node)}: bad character {bad.group(0)!r} in property name "
                               f"{prop.name!r}", prop.source)


def _name_properties(tree: Tree) -> None:
    for node in tree.walk():
        prop = node.properties.get("name")
        if prop is None:
            continue
        base = node.basename.encode("utf-8", "surrogateescape")
        if prop.value != base + b"\0":
            shown = prop.value.split(b"\0")[0].decode("utf-8", "replace")
            raise DtbError(f"{_where(node)}: \"name\" property is incorrect (\"{shown}\" instead of the base "
                           "node name)", prop.source)
        del node.properties["name"]


def _explicit(node: Node, prop: Property | None) -> int:
    if prop is None:
        return 0
    if len(prop.value) != 4:
        raise DtbError(f"{_where(node)}: bad length ({len(prop.value)}) '{prop.name}' property", prop.source)
    value = int.from_bytes(prop.value, "big")
    if value in (0, 0xFFFFFFFF):
        raise DtbError(f"{_where(node)}: bad value (0x{value:x}) in '{prop.name}' property", prop.source)
    return value


def _phandles(tree: Tree) -> None:
    owner: dict[int, Node] = {}
    for node in tree.walk():
        phandle = _explicit(node, node.properties.get("phandle"))
        legacy = _explicit(node, node.properties.get("linux,phandle"))
        if phandle and legacy and phandle != legacy:
            raise DtbError(f"{_where(node)}: mismatching 'phandle' and 'linux,phandle' properties",
                           node.source)
        value = phandle or legacy
        if not value:
            continue
        other = owner.get(value)
        if other is not None:
            raise DtbError(f"{_where(node)}: duplicated phandle 0x{value:x} (seen before at {_where(other)})",
                           node.source)
        owner[value] = node


def check_blob_tree(tree: Tree) -> None:
    """Raise :class:`~memplan.errors.DtbError` where dtc refuses the blob; drop redundant ``name``."""
    _names(tree)
    _name_properties(tree)
    _phandles(tree)
