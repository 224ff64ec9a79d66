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
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import Any, Protocol

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
from memplan.dts.tree import MemReserve, Node, Property, Tree, UnsealedProperty, new_child
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
_new_object = object.__new__
#: A live property with references (phandles or paths) and its node.
_PropRefs = tuple[DraftNode, DraftProp]
#: Two '@' in one of the node names joined by '/'.
_TWO_AT = re.compile(r"@[^/]*@")


class Resolver:
    """The semantic passes dtc runs after parsing, in dtc's order.

    :meth:`run` walks the tree once (:meth:`_survey`): the name checks are made on all names at
    once, and each later pass is given only the nodes it has work on (a ``name`` property, a
    label, an explicit phandle, a reference, ``/omit-if-no-ref/``). When the survey sees
    anything the name checks could refuse, the exact node-by-node check runs instead, so the
    first error is dtc's first error.
    """

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
        #: References already looked up while :meth:`run` is running (no node is added,
        #: deleted or relabelled meanwhile, so a reference always finds the same node).
        self._found: dict[str, DraftNode | None] | None = None
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

    def find(self, ref: str) -> DraftNode | None:
        """The node ``ref`` (``label``, ``/path`` or ``label/sub/path``) names in the live tree."""
        found = self._found
        if found is None:
            return find_ref(self.root, ref, self.parser.index)
        if ref not in found:
            found[ref] = find_ref(self.root, ref, self.parser.index)
        return found[ref]

    def _remember_labels(self, first: dict[str, DraftNode]) -> None:
        """Seed the lookups of :meth:`find` with plain labels: ``first`` maps each live label to
        the first live node (pre-order) carrying it, which is what dtc's ``get_node_by_label``
        (and :func:`find_ref`) find."""
        assert self._found is not None
        self._found.update(first)

    def run(self) -> None:
        """All passes, in dtc's order; raises the first error dtc would report."""
        work = _survey(self.root)
        self._nodes = work.nodes
        self._found = {}
        self._remember_labels(work.first_labelled)
        try:
            if work.suspect:
                self.check_duplicates()
            refs = work.refs
            if work.named:
                self.name_properties(work.named)
                refs = [(node, prop) for node, prop in refs if prop in node.props]  # not a dropped one
            if not work.distinct_labels:
                self.duplicate_labels(_labelled(work.nodes))
            self.explicit_phandles(work.explicit)
            self.path_references(self.phandle_references(refs))
        finally:
            self._nodes = None
            self._found = None
        for node in work.omitted:
            if node.deleted or node.referenced:
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

    def name_properties(self, nodes: Iterable[DraftNode]) -> None:
        """A ``name`` property equal to the node's base name is dropped; any other value is an
        error (``nodes``: the live nodes with a ``name`` property, in tree order)."""
        for node in nodes:
            prop = node.prop("name")
            if prop is None:
                continue
            base = node.name.partition("@")[0].encode("utf-8", "surrogateescape")
            if bytes(prop.value) != base + b"\0":
                shown = bytes(prop.value).split(b"\0")[0].decode("utf-8", "replace")
                raise DtsError(f"{node.path()}: \"name\" property is incorrect (\"{shown}\" instead of "
                               "the base node name)", prop.pos.source())
            node.props.remove(prop)

    def duplicate_labels(self, nodes: Iterable[DraftNode]) -> None:
        """A label on two different nodes, properties or values is an error (``nodes``: the live
        nodes with a label on them, their properties or values, in tree order)."""
        # label -> (owner, where, node, property, what: 0 node, 1 property, 2 value); the
        # message is only written when a label is claimed twice
        owners: dict[str, tuple[object, Pos, DraftNode, str, int]] = {}

        def claim(label: str, owner: object, pos: Pos, node: DraftNode, prop: str, what: int) -> None:
            prev = owners.get(label)
            if prev is None:
                owners[label] = (owner, pos, node, prop, what)
            elif prev[0] is not owner:
                first = _label_owner(*prev[2:])
                raise LabelError(f"duplicate label '{label}' on {first} and {_label_owner(node, prop, what)}",
                                 pos.source())

        for node in nodes:
            for label, live in node.labels.items():
                if live:
                    claim(label, node, node.label_pos.get(label, node.pos), node, "", 0)
            for prop in node.props:
                if prop.deleted:
                    continue
                for label, live in prop.labels.items():
                    if live:
                        claim(label, prop, prop.pos, node, prop.name, 1)
                for label, lpos in prop.value_labels:
                    claim(label, lpos, lpos, node, prop.name, 2)

    def _explicit(self, node: DraftNode, name: str) -> int:
        prop = node.prop(name)
        if prop is None:
            return 0
        if len(prop.value) != 4:
            raise DtsError(f"bad length ({len(prop.value)}) '{name}' property", prop.pos.source())
        for ref in prop.refs:
            if ref.kind == PHANDLE_REF:
                if self.find(ref.target) is not node:
                    raise LabelError(f"'{name}' is a reference to another node", prop.pos.source())
                return 0
        value = int.from_bytes(prop.value, "big")
        if value in (0, 0xFFFFFFFF):
            raise DtsError(f"bad value (0x{value:x}) in '{name}' property", prop.pos.source())
        return value

    def explicit_phandles(self, nodes: Iterable[DraftNode]) -> None:
        """Record ``phandle``/``linux,phandle`` values given in the source; check them as dtc does
        (``nodes``: the live nodes with either property, in tree order)."""
        owner: dict[int, DraftNode] = {}
        for node in nodes:
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

    def phandle_references(self, refs: Iterable[_PropRefs]) -> list[_PropRefs]:
        """Fill each ``<&ref>`` cell, numbering unnumbered targets in dtc's order (``refs``: the
        live properties with references and their nodes, in tree order). Returns those with a
        path reference, for :meth:`path_references`."""
        find = self.find
        # the cell of each reference text met so far (its node's phandle: once numbered, a
        # node keeps its phandle)
        cells: dict[str, bytes] = {}
        with_paths: list[_PropRefs] = []
        for node, prop in refs:
            paths = False
            for ref in prop.refs:
                if ref.kind != PHANDLE_REF:
                    paths = True
                    continue
                cell = cells.get(ref.target)
                if cell is None:
                    target = find(ref.target)
                    if target is None:
                        if self.parser.plugin:
                            continue
                        raise LabelError(f"reference to non-existent node or label '{ref.target}'",
                                         ref.pos.source())
                    phandle = target.phandle or self.phandle_of(target)
                    cell = cells[ref.target] = phandle.to_bytes(4, "big")
                    target.referenced = True
                if not isinstance(prop.value, bytearray):
                    prop.value = bytearray(prop.value)
                prop.value[ref.offset : ref.offset + 4] = cell
            if paths:
                with_paths.append((node, prop))
        return with_paths

    def path_references(self, refs: Iterable[_PropRefs]) -> None:
        """Insert the full path string of each ``&ref`` outside ``< >``; later offsets shift
        (``refs``: the live properties with a path reference and their nodes, in tree order)."""
        for _node, prop in refs:
            old = bytes(prop.value)
            value = bytearray()
            copied = 0
            shift = 0
            for ref in prop.refs:
                if ref.kind != PATH_REF:
                    ref.offset += shift
                    continue
                target = self.find(ref.target)
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


def _label_owner(node: DraftNode, prop: str, what: int) -> str:
    """What carries a label, as dtc's duplicate-label message names it."""
    if what == 0:
        return node.path()
    if what == 1:
        return f"property '{prop}' of {node.path()}"
    return f"a value of property '{prop}' of {node.path()}"


class _Work:
    """What :func:`_survey` found: the nodes each pass has work on, in tree order."""

    __slots__ = ("distinct_labels", "explicit", "first_labelled", "named", "nodes", "omitted", "refs",
                 "suspect")

    def __init__(self) -> None:
        #: every live node, pre-order
        self.nodes: list[DraftNode] = []
        #: some name may be refused (a bad character, two '@', two children or two
        #: properties with one name): the exact node-by-node check must decide
        self.suspect = False
        self.named: list[DraftNode] = []
        self.explicit: list[DraftNode] = []
        #: the live properties with references (phandles or paths) and their nodes
        self.refs: list[_PropRefs] = []
        #: no label is claimed twice (live labels of nodes and live properties, value labels;
        #: when this is false, :meth:`Resolver.duplicate_labels` decides)
        self.distinct_labels = True
        #: each live node label -> the first live node (pre-order) carrying it
        self.first_labelled: dict[str, DraftNode] = {}
        self.omitted: list[DraftNode] = []


_NAME = attrgetter("name")


def _survey(root: DraftNode) -> _Work:
    """One walk over the live nodes (pre-order, from ``root``; an explicit stack: any depth) for
    every pass of :meth:`Resolver.run`. The name checks run on all names at once: a character outside a
    class is found in the distinct names joined, and two '@' in the node names joined by '/'
    (which no name without a bad character holds).

    Written for speed (a board has hundreds of nodes and over a thousand properties): no
    comprehension per node (each is a function call), and what only rare boards have (a
    ``name`` or explicit ``phandle`` property, a label claimed twice) is looked for once in the
    whole tree, the nodes concerned only when it is there."""
    work = _Work()
    nodes = work.nodes
    refs = work.refs
    omitted = work.omitted
    claimed: list[str] = []  # every label claim, for the duplicate check
    first = work.first_labelled
    prop_names: list[str] = []
    stack = [root]
    pop = stack.pop
    push = stack.append
    while stack:
        node = pop()
        nodes.append(node)
        children = node.children
        if children:
            if len(children) > 1 and len(set(map(_NAME, children))) != len(children):
                work.suspect = True
            for child in reversed(children):
                if not child.deleted:
                    push(child)
        labels = node.labels
        if labels:
            for label, live in labels.items():
                if live:
                    claimed.append(label)
                    if label not in first:
                        first[label] = node
        props = node.props
        if props:
            names = []
            for prop in props:
                if prop.deleted:
                    continue
                names.append(prop.name)
                if prop.refs:
                    refs.append((node, prop))
                if prop.labels:
                    for label, live in prop.labels.items():
                        if live:
                            claimed.append(label)
                if prop.value_labels:
                    for label, _pos in prop.value_labels:
                        claimed.append(label)
            if len(set(names)) != len(names):
                work.suspect = True
            prop_names += names
        if node.omit:
            omitted.append(node)
    node_names = list(map(_NAME, nodes))
    del node_names[:1]  # the root's name is not checked
    if BAD_NODE_CHAR.search("".join(node_names)) or _TWO_AT.search("/".join(node_names)):
        work.suspect = True
    distinct = set(prop_names)
    if BAD_PROP_CHAR.search("".join(distinct)):
        work.suspect = True
    if "name" in distinct:
        work.named = _with_property(nodes, ("name",))
    if "phandle" in distinct or "linux,phandle" in distinct:
        work.explicit = _with_property(nodes, ("phandle", "linux,phandle"))
    work.distinct_labels = len(set(claimed)) == len(claimed)
    return work


def _with_property(nodes: Iterable[DraftNode], names: tuple[str, ...]) -> list[DraftNode]:
    """The nodes of ``nodes`` with a live property called one of ``names``."""
    return [node for node in nodes if any(prop.name in names and not prop.deleted for prop in node.props)]


def _labelled(nodes: Iterable[DraftNode]) -> list[DraftNode]:
    """The nodes of ``nodes`` with a label on them, their live properties or their values."""
    return [node for node in nodes if node.labels or any(
        (prop.labels or prop.value_labels) and not prop.deleted for prop in node.props)]


def build_tree(parser: Parser, resolver: Resolver) -> Tree:
    """The live draft as a :class:`Tree` (with overlay fixups for a ``/plugin/``)."""
    tree = Tree(plugin=parser.plugin, warnings=list(parser.warnings), files=list(parser.files))
    for address, size, labels, pos in parser.memreserves:
        tree.memreserves.append(MemReserve(address, size, tuple(labels), pos))
    root = resolver.root
    _convert(tree, root, tree.root)
    if parser.plugin:
        _add_fixups(tree, *resolver.overlay_fixups())
    return tree


def _convert(tree: Tree, top: DraftNode, top_node: Node) -> None:
    """``top``'s live content into ``top_node`` (and its live children below it), in pre-order,
    with an explicit stack (any depth, whatever Python's recursion limit).

    A module function, not a closure: a nested function that calls itself is a reference
    cycle, which would keep the whole tree alive until the cyclic garbage collector runs.
    Written for speed (a board has hundreds of nodes and over a thousand properties): no
    comprehension per node or property (each is a function call), properties made as
    :func:`~memplan.dts.tree.make_property` makes them (written out here: the call was a fifth
    of the conversion), a value copied only when it is still a ``bytearray``, nodes made with
    :func:`~memplan.dts.tree.new_child`."""
    tree_labels = tree.labels
    label_sources = tree.label_sources
    phandles = tree.phandles
    todo = [(top, top_node)]
    pop = todo.pop
    while todo:
        draft, node = pop()
        node.source = draft.pos
        labels = draft.labels
        if labels:
            live_labels = node.labels = []
            for label, live in labels.items():
                if live:
                    live_labels.append(label)
                    if label not in tree_labels:
                        tree_labels[label] = node
                        label_sources[label] = draft.label_pos.get(label, draft.pos)
        if draft.phandle:
            node.phandle = draft.phandle
            phandles.setdefault(draft.phandle, node)
        props = node.properties
        for prop in draft.props:
            if not prop.deleted:
                value = prop.value
                made: Any = _new_object(UnsealedProperty)
                made.name = name = prop.name
                made.value = value if value.__class__ is bytes else bytes(value)
                made.source = prop.pos
                made.labels = _live_labels(prop.labels) if prop.labels else ()
                made.__class__ = Property
                props[name] = made
        if draft.children:
            children = node.children
            pending = []
            for child in draft.children:
                if not child.deleted:
                    sub = children[child.name] = new_child(node, child.name)
                    pending.append((child, sub))
            todo.extend(reversed(pending))


def _live_labels(labels: dict[str, bool]) -> tuple[str, ...]:
    return tuple([name for name, live in labels.items() if live])


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
