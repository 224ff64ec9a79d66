"""``__symbols__``: the label table ``dtc -@`` writes into a tree, so overlays can refer to labels.

Each live label of a live node becomes a string property of ``/__symbols__`` holding the node's
full path, in tree order (pre-order) and, within a node, in dtc's label order (the newest label
first). A label already present as a property of ``/__symbols__`` is kept as written (dtc
warns). Every labelled node gets a phandle, numbered as dtc numbers new phandles. A tree
without any label gets no ``__symbols__`` node.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from memplan.diagnostics import diag
from memplan.dts.draft import DraftNode, DraftProp
from memplan.model import Diagnostic

if TYPE_CHECKING:
    from memplan.dts.semantics import Resolver

__all__ = ["SYMBOLS", "generate_symbols"]

#: The node name dtc uses for the label table.
SYMBOLS = "__symbols__"


def _live(node: DraftNode) -> Iterator[DraftNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in reversed(current.children) if not c.deleted)


def _labels(node: DraftNode) -> list[str]:
    return [name for name, live in node.labels.items() if live]


def generate_symbols(resolver: Resolver) -> list[Diagnostic]:
    """Add ``/__symbols__`` to the resolved draft (phandles for labelled nodes); the warnings."""
    root = resolver.root
    if not any(_labels(n) for n in _live(root)):
        return []
    table = next((c for c in root.children if not c.deleted and c.name == SYMBOLS), None)
    if table is None:
        table = DraftNode(SYMBOLS, root.pos)
        table.parent = root
        root.children.append(table)
    warnings: list[Diagnostic] = []
    written = {p.name: p for p in table.live_props()}
    for node in _live(root):
        labels = _labels(node)
        if not labels:
            continue
        path = node.path().encode("utf-8", "surrogateescape") + b"\0"
        for label in labels:
            existing = written.get(label)
            if existing is not None:
                warnings.append(diag(
                    "dtc-symbol-exists",
                    f"label '{label}' already exists in /{SYMBOLS}; its entry is kept as written",
                    existing.pos.source(), f"/{SYMBOLS}"))
                continue
            entry = DraftProp(label, node.label_pos.get(label, node.pos), bytearray(path))
            table.props.append(entry)
            written[label] = entry
        resolver.phandle_of(node)
    return warnings
