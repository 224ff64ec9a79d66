"""The labels of a tree read from a blob: its ``/__symbols__`` node, read back as ``dtc -@`` wrote it.

A blob keeps no labels, but one compiled with ``-@`` lists each of them in ``/__symbols__`` as a
property named after the label holding the labelled node's path, in tree order and, within a
node, newest label first. :func:`labels_from_symbols` turns that table back into
:attr:`Tree.labels <memplan.dts.tree.Tree.labels>`, :attr:`Tree.label_sources
<memplan.dts.tree.Tree.label_sources>` (the entry's byte offset in the blob) and the nodes'
``labels``, so a ``.dtb`` carries the labels its source had.

An entry is read as libfdt reads it when an overlay needs the label (``fdt_getprop`` and
``fdt_path_offset``): the text up to the first NUL, a path from the root or one starting with an
alias. dtc and libfdt accept any blob whatever its ``__symbols__`` hold and fail only when an
overlay uses a broken entry (``FDT_ERR_NOTFOUND``/``FDT_ERR_BADPATH``), so a broken entry here is
not an error either: it gives no label and a ``dtb-symbol-unusable`` warning at its offset. The
entry itself stays in the tree, so an overlay that uses it fails as with ``fdtoverlay``.

One difference is kept on purpose: a path component without a unit address names the node of
exactly that name when there is one (:meth:`Tree.find <memplan.dts.tree.Tree.find>`): the node
dtc wrote the path for. libfdt takes the first sibling whose name matches with any unit address
(``gfx_memory = "/reserved-memory/framebuffer"`` after a ``framebuffer@9f000000``, as in two
aspeed boards); an overlay's ``__fixups__`` still follow libfdt's rule.
"""

from __future__ import annotations

from memplan.diagnostics import diag
from memplan.dts.overlay import path_lookup
from memplan.dts.tree import Node, Property, Tree
from memplan.model import Diagnostic
from memplan.source import shorten

__all__ = ["labels_from_symbols"]

_SYMBOLS = "/__symbols__"


def _unusable(prop: Property, why: str) -> Diagnostic:
    label = prop.name
    return diag("dtb-symbol-unusable", f"{_SYMBOLS} entry '{label}' {why}: the blob has no label "
                f"'{label}' (an overlay that uses it fails as with fdtoverlay)", prop.source, _SYMBOLS)


class _Lookup:
    """:meth:`Tree.find <memplan.dts.tree.Tree.find>` for many paths: a name without a unit address
    is matched through a per-node index of base names (built once per node), so that the
    entries of a blob are looked up in time linear in their length however wide its nodes are."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.bases: dict[int, dict[str, Node]] = {}
        self.aliases: dict[str, str] | None = None

    def child(self, node: Node, name: str) -> Node | None:
        found = node.children.get(name)
        if found is not None or "@" in name:
            return found
        index = self.bases.get(id(node))
        if index is None:
            index = {}
            for each in node.children.values():
                index.setdefault(each.basename, each)
            self.bases[id(node)] = index
        return index.get(name)

    def find(self, path: str) -> Node | None:
        node: Node | None = self.tree.root
        if not path.startswith("/"):
            if self.aliases is None:
                self.aliases = self.tree.aliases
            alias, _slash, path = path.partition("/")
            target = self.aliases.get(alias)
            if target is None or not target.startswith("/"):
                return None
            node = self.find(target)
        for part in path.split("/"):
            if node is None:
                return None
            if part:
                node = self.child(node, part)
        return node


def labels_from_symbols(tree: Tree) -> list[Diagnostic]:
    """Fill ``tree``'s label tables from its ``/__symbols__`` node (none: nothing to do); the
    warnings for entries that name no node."""
    table = path_lookup(tree, _SYMBOLS)
    if table is None:
        return []
    warnings: list[Diagnostic] = []
    lookup = _Lookup(tree)
    for label, prop in table.properties.items():
        value = prop.value
        nul = value.find(b"\0")
        if nul < 0:
            why = "is empty" if not value else "is not a NUL-terminated string"
            warnings.append(_unusable(prop, why))
            continue
        path = value[:nul].decode("utf-8", "surrogateescape")
        node = lookup.find(path) if path else None
        if node is None:
            warnings.append(_unusable(prop, f"names {shorten(path)!r}, which is not a node of the tree"))
            continue
        if label not in node.labels:
            node.labels.append(label)
        tree.labels.setdefault(label, node)
        tree.label_sources.setdefault(label, prop.source)
    return warnings
