"""dtc's semantic passes over a parsed draft (in dtc's order) and the conversion to a :class:`Tree`.

:class:`Resolver` runs, like dtc's checks that stop the build: duplicate node and property
names and bad name characters, ``name`` properties (dropped when equal to the base name),
duplicate labels, explicit ``phandle``/``linux,phandle`` values, phandle references (new
phandles numbered as dtc assigns them, in tree order of the referring properties), path
references (full path strings inserted, later offsets shifted), then ``/omit-if-no-ref/``
removal. :func:`build_tree` turns the live draft into the public model; for a ``/plugin/``
it adds dtc's ``__fixups__`` and ``__local_fixups__`` nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from memplan.dts.draft import (
    PATH_REF,
    PHANDLE_REF,
    DraftNode,
    DraftProp,
    LabelIndex,
    Pos,
    Ref,
    delete_node,
    find_ref,
)
from memplan.dts.tree import MemReserve, Node, Property, Tree
from memplan.errors import DtsError, LabelError
from memplan.model import Diagnostic


class Parser(Protocol):
    """What the semantic passes read from a finished parse (:class:`memplan.dts.parser.Parser`)."""

    plugin: bool
    root: DraftNode | None
    memreserves: list[tuple[int, int, list[str], Pos]]
    files: list[str]
    index: LabelIndex
    warnings: list[Diagnostic]

__all__ = ["BAD_NODE_CHAR", "BAD_PROP_CHAR", "Resolver", "build_tree"]

BAD_NODE_CHAR = re.compile(r"[^a-zA-Z0-9,._+@-]")
BAD_PROP_CHAR = re.compile(r"[^a-zA-Z0-9,._+*#?-]")


class Resolver:
    """The semantic passes dtc runs after parsing, in dtc's order."""

    def __init__(self, parser: Parser) -> None:
        assert parser.root is not None
        self.parser = parser
        self.root = parser.root
        self.used: set[int] = set()
        self.next_phandle = 1
        self.label_index: dict[str, DraftNode] | None = None
        #: The live nodes in pre-order while :meth:`run` is running (no pass before the
        #: ``/omit-if-no-ref/`` removal adds or deletes a node, so one walk serves them all).
        self._nodes: list[DraftNode] | None = None
        #: ``dtc -@``: a labelled ``/omit-if-no-ref/`` node is kept (an overlay may use it).
        self.keep_labelled = False

    def live(self) -> Iterator[DraftNode]:
        """Every live node, pre-order."""
        if self._nodes is not None:
            yield from self._nodes
            return
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend([c for c in reversed(node.children) if not c.deleted])

    def run(self) -> None:
        """All passes, in dtc's order; raises the first error dtc would report."""
        self._nodes = list(self.live())
        try:
            self.check_duplicates()
            self.name_properties()
            self.duplicate_labels()
            self.explicit_phandles()
            self.phandle_references()
            self.path_references()
        finally:
            self._nodes = None
        for node in list(self.live()):
            if node.deleted or not node.omit or node.referenced:
                continue
            if not (self.keep_labelled and any(node.labels.values())):
                delete_node(node)

    def check_duplicates(self) -> None:
        """Duplicate node/property names and bad name characters (errors in dtc too)."""
        for node in self.live():
            if node.parent is not None:
                bad = BAD_NODE_CHAR.search(node.name)
                if bad is not None:
                    raise DtsError(f"{node.path()}: bad character '{bad.group(0)}' in node name",
                                   node.pos.source())
                if node.name.count("@") > 1:
                    raise DtsError(f"{node.path()}: multiple '@' characters in node name", node.pos.source())
            names = [prop.name for prop in node.props if not prop.deleted]
            if BAD_PROP_CHAR.search("".join(names)) is not None:
                for prop in node.live_props():
                    bad = BAD_PROP_CHAR.search(prop.name)
                    if bad is not None:
                        raise DtsError(f"{node.path()}: bad character '{bad.group(0)}' in property name "
                                       f"'{prop.name}'", prop.pos.source())
            children = node.children
            if len({child.name for child in children}) == len(children) and len(set(names)) == len(names):
                continue  # no two children and no two properties share a name
            # like dtc: a live child clashes with any later sibling, even a /delete-node/ marker;
            # the first live child with a later namesake is reported, at that namesake (one
            # backward pass finds each child's next namesake, so this is linear)
            next_same: list[int | None] = [None] * len(children)
            last_seen: dict[str, int] = {}
            for i in range(len(children) - 1, -1, -1):
                next_same[i] = last_seen.get(children[i].name)
                last_seen[children[i].name] = i
            for i, child in enumerate(children):
                j = next_same[i]
                if not child.deleted and j is not None:
                    raise DtsError(f"duplicate node name '{child.name}' in {node.path()}",
                                   children[j].pos.source())
            seen: set[str] = set()
            for prop in node.live_props():
                if prop.name in seen:
                    raise DtsError(f"duplicate property name '{prop.name}' in {node.path()}",
                                   prop.pos.source())
                seen.add(prop.name)

    def name_properties(self) -> None:
        """A ``name`` property equal to the node's base name is dropped; any other value is an error."""
        for node in self.live():
            prop = node.prop("name")
            if prop is None:
                continue
            base = node.name.partition("@")[0].encode("utf-8", "surrogateescape")
            if bytes(prop.value) != base + b"\0":
                shown = bytes(prop.value).split(b"\0")[0].decode("utf-8", "replace")
                raise DtsError(f"{node.path()}: \"name\" property is incorrect (\"{shown}\" instead of "
                               "the base node name)", prop.pos.source())
            node.props.remove(prop)

    def duplicate_labels(self) -> None:
        """A label on two different nodes, properties or values is an error."""
        owners: dict[str, tuple[object, Pos, str]] = {}

        def claim(label: str, owner: object, pos: Pos, what: str) -> None:
            prev = owners.get(label)
            if prev is None:
                owners[label] = (owner, pos, what)
            elif prev[0] is not owner:
                raise LabelError(f"duplicate label '{label}' on {prev[2]} and {what}", pos.source())

        for node in self.live():
            if not node.labels and not any(prop.labels or prop.value_labels for prop in node.props):
                continue  # nothing to claim
            path = node.path()
            for label, live in node.labels.items():
                if live:
                    claim(label, node, node.label_pos.get(label, node.pos), path)
            for prop in node.live_props():
                for label, live in prop.labels.items():
                    if live:
                        claim(label, prop, prop.pos, f"property '{prop.name}' of {path}")
                for label, lpos in prop.value_labels:
                    claim(label, lpos, lpos, f"a value of property '{prop.name}' of {path}")

    def _explicit(self, node: DraftNode, name: str) -> int:
        prop = node.prop(name)
        if prop is None:
            return 0
        if len(prop.value) != 4:
            raise DtsError(f"bad length ({len(prop.value)}) '{name}' property", prop.pos.source())
        for ref in prop.refs:
            if ref.kind == PHANDLE_REF:
                if find_ref(self.root, ref.target, self.parser.index) is not node:
                    raise LabelError(f"'{name}' is a reference to another node", prop.pos.source())
                return 0
        value = int.from_bytes(prop.value, "big")
        if value in (0, 0xFFFFFFFF):
            raise DtsError(f"bad value (0x{value:x}) in '{name}' property", prop.pos.source())
        return value

    def explicit_phandles(self) -> None:
        """Record ``phandle``/``linux,phandle`` values given in the source; check them as dtc does."""
        owner: dict[int, DraftNode] = {}
        for node in self.live():
            if not any(p.name == "phandle" or p.name == "linux,phandle" for p in node.props):
                continue
            phandle = self._explicit(node, "phandle")
            legacy = self._explicit(node, "linux,phandle")
            if not phandle and not legacy:
                continue
            if phandle and legacy and phandle != legacy:
                raise DtsError("mismatching 'linux,phandle' and 'phandle' properties", node.pos.source())
            value = phandle or legacy
            other = owner.get(value)
            if other is not None and other is not node:
                raise DtsError(f"{node.path()} has duplicated phandle 0x{value:x} (seen before at "
                               f"{other.path()})", node.pos.source())
            owner[value] = node
            node.phandle = value
            self.used.add(value)

    def phandle_of(self, node: DraftNode) -> int:
        """``node``'s phandle, numbering it (and adding a ``phandle`` property) as dtc does."""
        if node.phandle:
            return node.phandle
        while self.next_phandle in self.used:
            self.next_phandle += 1
        node.phandle = self.next_phandle
        self.used.add(node.phandle)
        if node.prop("phandle") is None:
            node.props.append(DraftProp("phandle", node.pos, bytearray(node.phandle.to_bytes(4, "big"))))
        return node.phandle

    def phandle_references(self) -> None:
        """Fill each ``<&ref>`` cell, numbering unnumbered targets in dtc's order."""
        for node in self.live():
            for prop in node.props:
                if prop.deleted:
                    continue
                for ref in prop.refs:
                    if ref.kind != PHANDLE_REF:
                        continue
                    target = find_ref(self.root, ref.target, self.parser.index)
                    if target is None:
                        if self.parser.plugin:
                            continue
                        raise LabelError(f"reference to non-existent node or label '{ref.target}'",
                                         ref.pos.source())
                    value = self.phandle_of(target)
                    target.referenced = True
                    if not isinstance(prop.value, bytearray):
                        prop.value = bytearray(prop.value)
                    prop.value[ref.offset : ref.offset + 4] = value.to_bytes(4, "big")

    def path_references(self) -> None:
        """Insert the full path string of each ``&ref`` outside ``< >``; later offsets shift."""
        for node in self.live():
            for prop in node.live_props():
                if not prop.refs or not any(r.kind == PATH_REF for r in prop.refs):
                    continue
                old = bytes(prop.value)
                value = bytearray()
                copied = 0
                shift = 0
                for ref in prop.refs:
                    if ref.kind != PATH_REF:
                        ref.offset += shift
                        continue
                    target = find_ref(self.root, ref.target, self.parser.index)
                    if target is None:
                        raise LabelError(f"reference to non-existent node or label '{ref.target}'",
                                         ref.pos.source())
                    target.referenced = True
                    value += old[copied : ref.offset]
                    copied = ref.offset
                    path = target.path().encode("utf-8", "surrogateescape") + b"\0"
                    value += path
                    ref.offset += shift
                    shift += len(path)
                value += old[copied:]
                prop.value = value

    def overlay_fixups(self) -> tuple[list[tuple[str, str, Ref]], list[tuple[DraftNode, str, int]]]:
        """A plugin's unresolved references (``__fixups__``) and resolved ones (``__local_fixups__``)."""
        unresolved: list[tuple[str, str, Ref]] = []
        local: list[tuple[DraftNode, str, int]] = []
        for node in self.live():
            for prop in node.live_props():
                for ref in prop.refs:
                    if ref.kind != PHANDLE_REF:
                        continue
                    if find_ref(self.root, ref.target, self.parser.index) is None:
                        unresolved.append((ref.target, f"{node.path()}:{prop.name}:{ref.offset}", ref))
                    else:
                        local.append((node, prop.name, ref.offset))
        return unresolved, local


def build_tree(parser: Parser, resolver: Resolver) -> Tree:
    """The live draft as a :class:`Tree` (with overlay fixups for a ``/plugin/``)."""
    tree = Tree(plugin=parser.plugin, warnings=list(parser.warnings), files=list(parser.files))
    for address, size, labels, pos in parser.memreserves:
        tree.memreserves.append(MemReserve(address, size, tuple(labels), pos.source()))
    root = resolver.root
    _convert(tree, root, tree.root)
    if parser.plugin:
        _add_fixups(tree, *resolver.overlay_fixups())
    return tree


def _convert(tree: Tree, top: DraftNode, top_node: Node) -> None:
    """``top``'s live content into ``top_node`` (and its live children below it), in pre-order,
    with an explicit stack (any depth, whatever Python's recursion limit).

    A module function, not a closure: a nested function that calls itself is a reference
    cycle, which would keep the whole tree alive until the cyclic garbage collector runs."""
    todo = [(top, top_node)]
    while todo:
        draft, node = todo.pop()
        pos = draft.pos
        node.source = pos.map.source(pos.offset)
        if draft.labels:
            node.labels = [name for name, live in draft.labels.items() if live]
            for label in node.labels:
                if label not in tree.labels:
                    tree.labels[label] = node
                    tree.label_sources[label] = draft.label_pos.get(label, draft.pos).source()
        if draft.phandle:
            node.phandle = draft.phandle
            tree.phandles.setdefault(draft.phandle, node)
        props = node.properties
        for prop in draft.props:
            if not prop.deleted:
                labels = tuple([name for name, live in prop.labels.items() if live]) if prop.labels else ()
                pos = prop.pos
                props[prop.name] = Property(prop.name, bytes(prop.value), pos.map.source(pos.offset), labels)
        children = node.children
        pending = []
        for child in draft.children:
            if not child.deleted:
                sub = Node(child.name, parent=node)
                children[child.name] = sub
                pending.append((child, sub))
        todo.extend(reversed(pending))


def _add_fixups(tree: Tree, unresolved: list[tuple[str, str, Ref]],
                local: list[tuple[DraftNode, str, int]]) -> None:
    """dtc's overlay bookkeeping: ``__fixups__`` (label -> ``path:property:offset`` strings) and
    ``__local_fixups__`` (a mirror of the referring nodes, each property listing its offsets)."""
    if unresolved:
        fixups = tree.root.add_child("__fixups__")
        for label, entry, ref in unresolved:
            old = fixups.properties.get(label)
            value = (old.value if old is not None else b"") + entry.encode("utf-8", "surrogateescape") + b"\0"
            fixups.properties[label] = Property(label, value, ref.pos.source())
    if local:
        top = tree.root.add_child("__local_fixups__")
        for draft, name, offset in local:
            node = top
            for part in draft.path().split("/"):
                if part:
                    node = node.add_child(part)
            old = node.properties.get(name)
            value = (old.value if old is not None else b"") + offset.to_bytes(4, "big")
            node.properties[name] = Property(name, value, draft.pos.source())
