"""The parser's working tree: nodes and properties as dtc holds them before its semantic passes.

Unlike the final :class:`~memplan.dts.tree.Tree`, a draft keeps deleted entries (only marked
as deleted, so that a later redefinition returns at its old position) and keeps references
inside property values unresolved (:class:`Ref`: a phandle cell or a path string to insert).
:func:`merge_nodes` merges one block into another as dtc's ``merge_nodes`` does;
:func:`find_ref` resolves ``label``, ``/path`` and ``label/sub/path`` in the live tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from memplan.dts.lexer import SourceMap
from memplan.source import LazySource, Source

__all__ = [
    "NO_LABELS",
    "PATH_REF",
    "PHANDLE_REF",
    "DraftNode",
    "DraftProp",
    "LabelIndex",
    "Pos",
    "Ref",
    "add_label",
    "add_prop_label",
    "add_ref",
    "add_value_label",
    "delete_node",
    "delete_prop",
    "find_ref",
    "first_named",
    "merge_nodes",
    "pos_at",
]

#: :attr:`Ref.kind`: a 32-bit phandle cell inside ``< >``.
PHANDLE_REF = 0
#: :attr:`Ref.kind`: a path string inserted outside ``< >``.
PATH_REF = 1


class Pos(LazySource):
    """A position in the parsed text: a :class:`~memplan.source.LazySource` (a source map and an
    offset, located only when read). The final tree keeps these very objects as its nodes' and
    properties' sources (no second object per node or property)."""

    __slots__ = ()

    def source(self) -> Source:
        """The :class:`~memplan.source.Source` of this position: itself."""
        return self


_new = object.__new__
_set_state = object.__setattr__


def pos_at(smap: SourceMap, offset: int) -> Pos:
    """The position of ``offset`` in the text ``smap`` maps (``Pos(smap, offset)``)."""
    pos: Pos = _new(Pos)
    _set_state(pos, "_state", (smap, offset))
    return pos


class Ref:
    """A reference inside a property value: a phandle cell or a path string."""

    __slots__ = ("kind", "offset", "pos", "target")

    def __init__(self, kind: int, offset: int, target: str, pos: Pos) -> None:
        self.kind = kind
        self.offset = offset
        self.target = target
        self.pos = pos


class _NoLabels(dict[str, bool]):
    """The labels of every property that has none: one empty mapping for all of them (most
    properties have no label; :func:`add_prop_label` gives a property its own dict first)."""

    __slots__ = ()

    def __setitem__(self, key: str, value: bool) -> None:
        raise TypeError("the shared empty labels of a property are never written (add_prop_label)")


#: :attr:`DraftProp.labels` of a property without labels (never written).
NO_LABELS: dict[str, bool] = _NoLabels()


class DraftProp:
    """A property as parsed: raw value bytes so far, unresolved references, labels, deletion mark."""

    __slots__ = ("deleted", "labels", "name", "pos", "refs", "value", "value_labels")

    def __init__(self, name: str, pos: Pos, value: bytearray | bytes | None = None,
                 deleted: bool = False) -> None:
        self.name = name
        self.pos = pos
        #: a bytearray while the parser may still append to it; a value read in one piece is
        #: kept as the bytes it was read as
        self.value: bytearray | bytes = value if value is not None else bytearray()
        #: empty tuples until the first entry (most properties have neither): see
        #: :func:`add_ref`, :func:`add_value_label`
        self.refs: list[Ref] | tuple[()] = ()
        #: :data:`NO_LABELS` until the first one (see :func:`add_prop_label`)
        self.labels: dict[str, bool] = NO_LABELS
        self.value_labels: list[tuple[str, Pos]] | tuple[()] = ()
        self.deleted = deleted


class DraftNode:
    """A node as parsed: properties and children in order, deleted ones kept (marked)."""

    __slots__ = (
        "_by_name",
        "_indexed",
        "children",
        "dead",
        "deleted",
        "label_pos",
        "labels",
        "name",
        "omit",
        "parent",
        "phandle",
        "pos",
        "props",
        "referenced",
    )

    def __init__(self, name: str, pos: Pos, deleted: bool = False) -> None:
        self.name = name
        self.pos = pos
        self.props: list[DraftProp] = []
        self.children: list[DraftNode] = []
        self.labels: dict[str, bool] = {}
        self.label_pos: dict[str, Pos] = {}
        self.parent: DraftNode | None = None
        self.deleted = deleted
        self.dead = False
        self.omit = False
        self.referenced = False
        self.phandle = 0
        self._by_name: dict[str, list[DraftNode]] = {}
        self._indexed = 0

    def named_children(self, name: str) -> list[DraftNode]:
        """The children called ``name`` in order, deleted ones included. ``children`` only ever
        grows at the end, so the index is extended with the new entries on each call: a lookup
        costs O(1) amortised instead of a scan of every sibling."""
        children = self.children
        for child in children[self._indexed :]:
            self._by_name.setdefault(child.name, []).append(child)
        self._indexed = len(children)
        return self._by_name.get(name, [])

    def is_live(self, root: DraftNode) -> bool:
        """Reachable from ``root`` through nodes that are neither deleted nor merged away."""
        node = self
        while True:
            if node.deleted or node.dead:
                return False
            if node.parent is None:
                return node is root
            node = node.parent

    def live_children(self) -> Iterator[DraftNode]:
        """The children not deleted."""
        return (c for c in self.children if not c.deleted)

    def live_props(self) -> Iterator[DraftProp]:
        """The properties not deleted."""
        return (p for p in self.props if not p.deleted)

    def prop(self, name: str) -> DraftProp | None:
        """The live property called ``name``, or ``None``."""
        for p in self.props:
            if not p.deleted and p.name == name:
                return p
        return None

    def path(self) -> str:
        """The full path of this node in the draft tree."""
        if self.parent is None:
            return "/"
        parts = []
        node: DraftNode | None = self
        while node is not None and node.parent is not None:
            parts.append(node.name)
            node = node.parent
        return "/" + "/".join(reversed(parts))


def add_ref(prop: DraftProp, *refs: Ref) -> None:
    """Append ``refs`` to ``prop``'s references."""
    if isinstance(prop.refs, list):
        prop.refs.extend(refs)
    else:
        prop.refs = list(refs)


def add_value_label(prop: DraftProp, label: str, pos: Pos) -> None:
    """Append the label ``label`` at ``pos`` inside ``prop``'s value."""
    if isinstance(prop.value_labels, list):
        prop.value_labels.append((label, pos))
    else:
        prop.value_labels = [(label, pos)]


def add_label(labels: dict[str, bool], name: str) -> None:
    """Give ``labels`` the live label ``name``."""
    labels[name] = True


def add_prop_label(prop: DraftProp, name: str) -> None:
    """Give ``prop`` the live label ``name`` (its own dict of labels made at the first)."""
    if prop.labels is NO_LABELS:
        prop.labels = {name: True}
    else:
        prop.labels[name] = True


class LabelIndex:
    """Every node that ever carried a label, for fast label lookups in the live tree."""

    def __init__(self) -> None:
        self.nodes: dict[str, list[DraftNode]] = {}

    def add(self, node: DraftNode, label: str) -> None:
        """Record that ``node`` carries ``label``.

        A new label goes first, an existing one is revived in place: ``node.labels`` keeps
        dtc's label list order, which is the order of the ``__symbols__`` entries.
        """
        if label in node.labels:
            node.labels[label] = True
        else:
            node.labels = {label: True, **node.labels}
        owners = self.nodes.setdefault(label, [])
        if node not in owners:
            owners.append(node)

    def find(self, root: DraftNode, label: str) -> DraftNode | None:
        """dtc's ``get_node_by_label``: the first live node (pre-order) with a live ``label``."""
        live = [n for n in self.nodes.get(label, ()) if n.labels.get(label) and n.is_live(root)]
        if len(live) <= 1:
            return live[0] if live else None
        return find_label(root, label)


def delete_prop(prop: DraftProp) -> None:
    """Mark ``prop`` deleted; its labels stop being live."""
    prop.deleted = True
    for name in prop.labels:
        prop.labels[name] = False


def delete_node(node: DraftNode) -> None:
    """Mark ``node`` and everything under it deleted; their labels stop being live (an
    explicit stack: any depth)."""
    todo = [node]
    while todo:
        node = todo.pop()
        node.deleted = True
        todo.extend(child for child in node.children if not child.deleted)
        for prop in node.props:
            if not prop.deleted:
                delete_prop(prop)
        for name in node.labels:
            node.labels[name] = False


_Named = TypeVar("_Named", DraftProp, DraftNode)


def first_named(items: list[_Named], name: str) -> _Named | None:
    """The first entry called ``name``, deleted ones included (dtc's ``*_withdel`` walks)."""
    return next((item for item in items if item.name == name), None)


def merge_nodes(old: DraftNode, new: DraftNode, index: LabelIndex) -> None:
    """Merge ``new`` into ``old`` exactly as dtc's ``merge_nodes`` does.

    A property of ``new`` replaces the same-named one of ``old`` in place (reviving it when
    it was deleted) or is appended; a ``/delete-property/`` or ``/delete-node/`` marker
    deletes the same-named entry; a child of ``new`` merges into the same-named child of
    ``old`` or is appended. Iterative (a list of the pairs still to merge): any depth.
    """
    _merge_props(old, new, index)
    # the blocks being merged, each with the children of ``new`` still to take (an explicit
    # stack in place of dtc's recursion: the same order, any depth)
    stack = [(old, iter(new.children))]
    while stack:
        old, children = stack[-1]
        for nchild in children:
            same = old.named_children(nchild.name)
            ochild = same[0] if same else None
            if nchild.deleted:
                if ochild is not None:
                    delete_node(ochild)
            elif ochild is None:
                nchild.parent = old
                old.children.append(nchild)
            else:
                _merge_props(ochild, nchild, index)
                stack.append((ochild, iter(nchild.children)))
                break
        else:
            stack.pop()


def _merge_props(old: DraftNode, new: DraftNode, index: LabelIndex) -> None:
    """The node-level part of :func:`merge_nodes`: labels and properties of ``new`` into ``old``."""
    old.deleted = False
    new.dead = True
    for name in new.labels:
        index.add(old, name)
        old.label_pos.setdefault(name, new.label_pos[name])
    first_prop: dict[str, DraftProp] = {}
    for existing in old.props:
        first_prop.setdefault(existing.name, existing)
    for nprop in new.props:
        oprop = first_prop.get(nprop.name)
        if nprop.deleted:
            if oprop is not None:
                delete_prop(oprop)
        elif oprop is None:
            old.props.append(nprop)
            first_prop[nprop.name] = nprop
        else:
            for name in nprop.labels:
                add_prop_label(oprop, name)
            oprop.value = nprop.value
            oprop.refs = nprop.refs
            oprop.value_labels = nprop.value_labels
            oprop.pos = nprop.pos
            oprop.deleted = False


def find_path(node: DraftNode | None, path: str) -> DraftNode | None:
    """The live node at ``path`` below ``node`` (exact names), or ``None``."""
    for part in path.split("/"):
        if node is None:
            return None
        if not part:
            continue
        node = next((c for c in node.named_children(part) if not c.deleted), None)
    if node is not None and node.deleted:
        return None
    return node


def find_label(node: DraftNode, label: str) -> DraftNode | None:
    """The first live node, in pre-order from ``node``, carrying the live label ``label``."""
    todo = [node]
    while todo:
        node = todo.pop()
        if node.labels.get(label):
            return node
        todo.extend(child for child in reversed(node.children) if not child.deleted)
    return None


def find_ref(root: DraftNode | None, ref: str, index: LabelIndex) -> DraftNode | None:
    """dtc's ``get_node_by_ref``: ``/path``, ``label`` or ``label/sub/path`` in the live tree."""
    if root is None:
        return None
    if ref == "/":
        return root
    if ref.startswith("/"):
        return find_path(root, ref)
    label, slash, rest = ref.partition("/")
    target = index.find(root, label)
    if target is None or not slash:
        return target
    return find_path(target, rest)
