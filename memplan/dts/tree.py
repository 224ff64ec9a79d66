"""The Device Tree model: :class:`Tree`, :class:`Node`, :class:`Property`, :class:`MemReserve`.

Both front ends (DTS source and compiled DTB) produce this model. Nodes keep their
children and properties in Device Tree order; property values are the raw bytes a DTB
would hold (big-endian cells, NUL-terminated strings), with typed readers on top.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

import attrs

from memplan.errors import DtsError
from memplan.model import Diagnostic
from memplan.source import Source

#: The DTB writer, set by :mod:`memplan.dts.dtb` when it is imported (``import memplan.dts`` does).
_DTB_WRITER: list[Callable[[Tree], bytes]] = []

__all__ = ["MemReserve", "Node", "Property", "Tree", "UnsealedProperty", "make_property", "new_child"]

_NO_SOURCE = Source.builtin("no source")


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


@attrs.frozen(init=False)
class Property:
    """One property: its name, raw value bytes, where it was defined and its labels.

    The readers check the value's length and raise :class:`~memplan.errors.DtsError`
    (naming the property and its source) when the value has the wrong shape.
    """

    name: str
    value: bytes = b""
    source: Source = _NO_SOURCE
    labels: tuple[str, ...] = ()

    def __init__(self, name: str, value: bytes = b"", source: Source = _NO_SOURCE,
                 labels: tuple[str, ...] = ()) -> None:
        # written out (a tree has thousands): each field set through its slot, as frozen
        # attrs classes are set up, without looking the slot up by name each time
        _set_name(self, name)
        _set_value(self, value)
        _set_source(self, source)
        _set_labels(self, labels)

    def _fail(self, what: str) -> DtsError:
        return DtsError(f"property '{self.name}' {what} (value is {len(self.value)} bytes)", self.source)

    @property
    def is_empty(self) -> bool:
        """True for a property with no value (a boolean flag such as ``no-map``)."""
        return not self.value

    def as_u32(self) -> int:
        """The value as exactly one 32-bit cell."""
        if len(self.value) != 4:
            raise self._fail("is not a single 32-bit cell")
        return int.from_bytes(self.value, "big")

    def as_u64(self) -> int:
        """The value as exactly one 64-bit number (two cells)."""
        if len(self.value) != 8:
            raise self._fail("is not a single 64-bit value")
        return int.from_bytes(self.value, "big")

    def as_cells(self) -> list[int]:
        """The value as a list of 32-bit cells."""
        value = self.value
        if len(value) % 4:
            raise self._fail("is not a list of 32-bit cells")
        return [int.from_bytes(value[i : i + 4], "big") for i in range(0, len(value), 4)]

    def as_int(self, cells: int) -> list[int]:
        """The value as integers of ``cells`` 32-bit cells each (e.g. ``reg`` addresses)."""
        if cells < 1:
            raise DtsError(f"property '{self.name}': cannot group values of {cells} cells", self.source)
        width = 4 * cells
        value = self.value
        if len(value) % width:
            raise self._fail(f"is not a list of {cells}-cell values")
        return [int.from_bytes(value[i : i + width], "big") for i in range(0, len(value), width)]

    def as_pairs(self, acells: int, scells: int) -> list[tuple[int, int]]:
        """The value as ``(address, size)`` pairs of ``acells`` + ``scells`` cells (``reg``,
        ``alloc-ranges``); an empty value or a length that is not a whole number of pairs raises."""
        width = 4 * (acells + scells)
        value = self.value
        if acells < 0 or scells < 0 or width == 0 or not value or len(value) % width:
            raise self._fail(f"is not a list of <{acells}-cell address, {scells}-cell size> pairs")
        split = 4 * acells
        return [
            (int.from_bytes(value[i : i + split], "big"), int.from_bytes(value[i + split : i + width], "big"))
            for i in range(0, len(value), width)
        ]

    def as_number(self, cells: int) -> int:
        """The value as exactly one number of ``cells`` 32-bit cells (``size``, ``alignment``)."""
        values = self.as_int(cells) if cells > 0 else []
        if len(values) != 1:
            raise self._fail(f"is not a single {cells}-cell value")
        return values[0]

    def as_string(self) -> str:
        """The value as one NUL-terminated string."""
        value = self.value
        if not value or value[-1] != 0 or 0 in value[:-1]:
            raise self._fail("is not a single NUL-terminated string")
        return _decode(value[:-1])

    def as_strings(self) -> list[str]:
        """The value as a list of NUL-terminated strings (empty value: empty list)."""
        value = self.value
        if not value:
            return []
        if value[-1] != 0:
            raise self._fail("is not a list of NUL-terminated strings")
        return [_decode(part) for part in value[:-1].split(b"\0")]

    def as_phandles(self) -> list[int]:
        """The value as a list of phandles (32-bit cells)."""
        return self.as_cells()


_new_object = object.__new__
_set_name = Property.__dict__["name"].__set__
_set_value = Property.__dict__["value"].__set__
_set_source = Property.__dict__["source"].__set__
_set_labels = Property.__dict__["labels"].__set__


class UnsealedProperty(Property):
    """:class:`Property` with plain attribute stores, for the builders of whole trees only (see
    :func:`make_property`; an object is never left with this class)."""

    __slots__ = ()
    __setattr__ = object.__setattr__
    __delattr__ = object.__delattr__


def make_property(name: str, value: bytes, source: Source, labels: tuple[str, ...]) -> Property:
    """``Property(name, value, source, labels)`` at about half the cost, for the builders of
    whole trees (a board has over a thousand properties). A frozen class can set its fields only
    through its slots' descriptors (a method call each); its twin without the frozen
    ``__setattr__`` (same slots, no fields of its own) sets them as plain attribute stores, and
    the finished object is then given its real class (allowed: the layouts are the same)."""
    prop: Any = _new_object(UnsealedProperty)
    prop.name = name
    prop.value = value
    prop.source = source
    prop.labels = labels
    prop.__class__ = Property
    return cast(Property, prop)


@attrs.frozen
class MemReserve:
    """A ``/memreserve/`` entry (DTB memory-reservation block): ``[address, address + size)``."""

    address: int
    size: int
    labels: tuple[str, ...] = ()
    source: Source = _NO_SOURCE


#: The ``status`` values of an enabled node: "okay" and "ok", NUL-terminated.
_ENABLED_STATUS = (b"okay\0", b"ok\0")

#: Longest parent path a node keeps its own path below (see :attr:`Node.path`).
_KEPT_PATH = 1024


class _PathChain:
    """The path last asked below a node whose path is kept (its *anchor*): the nodes from the
    anchor's child down to the one asked, and where each one's own path ends in that text.

    Asking the path of every node of a deep tree (in any walk order that visits a parent
    before its children, or nodes near one another) then builds each path from the longest
    known prefix: the Python work per node is the steps to the chain, not the node's depth.
    """

    __slots__ = ("base", "ends", "nodes", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.base = len(text)  # the anchor's own path (no trailing '/') is text[:base]
        self.nodes: list[Node] = []
        self.ends: list[int] = []


@attrs.define(eq=False, repr=False, init=False)
class Node:
    """A node of the tree; ``name`` is the full node name (``memory@40000000``).

    ``children`` and ``properties`` are dictionaries in Device Tree order. ``source`` is
    where the node was first defined.
    """

    name: str
    parent: Node | None = None
    children: dict[str, Node] = attrs.field(factory=dict)
    properties: dict[str, Property] = attrs.field(factory=dict)
    labels: list[str] = attrs.field(factory=list)
    phandle: int | None = None
    source: Source = _NO_SOURCE
    #: The full path, kept when it is short (every real node's is); ``None`` below a long one.
    _path: str | None = attrs.field(init=False, default=None)
    #: Below a long path: the nearest ancestor whose path is kept, and the depth below it.
    _anchor: Node | None = attrs.field(init=False, default=None)
    _depth: int = attrs.field(init=False, default=0)
    #: On a node whose path is kept: the path last asked below it (see :class:`_PathChain`).
    _chain: _PathChain | None = attrs.field(init=False, default=None)

    def __init__(self, name: str, parent: Node | None = None, children: dict[str, Node] | None = None,
                 properties: dict[str, Property] | None = None, labels: list[str] | None = None,
                 phandle: int | None = None, source: Source = _NO_SOURCE) -> None:
        # written out (a tree is built a node at a time): the fields above, their defaults
        self.name = name
        self.parent = parent
        self.children = {} if children is None else children
        self.properties = {} if properties is None else properties
        self.labels = [] if labels is None else labels
        self.phandle = phandle
        self.source = source
        self._place()

    def __attrs_post_init__(self) -> None:
        """Set the path fields again from the parent's: called on a renamed node and each node
        below it, it also drops the paths built from the old name (kept below the nearest
        ancestor whose path is kept)."""
        self._place()
        if self._anchor is not None:
            self._anchor._chain = None

    def _place(self) -> None:
        """The path fields from the parent's: the path itself when short, else the anchor."""
        self._anchor = None
        self._depth = 0
        self._chain = None
        parent = self.parent
        if parent is None:
            self._path = "/"
        elif parent.parent is None:
            self._path = "/" + self.name
        else:
            above = parent._path
            if above is not None and len(above) < _KEPT_PATH:
                self._path = f"{above}/{self.name}"
                return
            self._path = None
            if above is not None:
                self._anchor = parent
                self._depth = 1
            else:
                self._anchor = parent._anchor
                self._depth = parent._depth + 1

    @property
    def path(self) -> str:
        """The full path (``/soc/uart@1000``). Kept in the node up to :data:`_KEPT_PATH`
        characters; a deeper node's is built on each use from the path last asked below the
        same ancestor (:class:`_PathChain`), so memory stays linear in the tree's size however
        deep it is (a kept path for each of 3,000 nested nodes with long names would be
        gigabytes), and asking every node's path costs the paths' length, not a walk to the
        top for each."""
        if self._path is not None:
            return self._path
        anchor = self._anchor
        assert anchor is not None and anchor._path is not None
        chain = anchor._chain
        if chain is None:
            chain = anchor._chain = _PathChain(anchor._path.rstrip("/"))
        nodes = chain.nodes
        found = -1  # the deepest of this node and its ancestors on the chain (-1: the anchor)
        names: list[str] = []
        added: list[Node] = []
        node: Node = self
        while True:
            index = node._depth - 1
            if index < len(nodes) and nodes[index] is node:
                found = index
                break
            names.append(node.name)
            added.append(node)
            parent = node.parent
            assert parent is not None  # below the anchor, every node has its parent
            if parent is anchor:
                break
            node = parent
        ends = chain.ends
        end = ends[found] if found >= 0 else chain.base
        if not names:
            return chain.text[:end]
        names.append(chain.text[:end])
        del nodes[found + 1 :]
        del ends[found + 1 :]
        for node in reversed(added):
            end += 1 + len(node.name)
            nodes.append(node)
            ends.append(end)
        chain.text = "/".join(reversed(names))
        return chain.text

    def __repr__(self) -> str:
        return f"<Node {self.path}>"

    @property
    def basename(self) -> str:
        """The name without the unit address (``memory`` for ``memory@40000000``)."""
        return self.name.partition("@")[0]

    @property
    def unit_address(self) -> str | None:
        """The unit address text after ``@``, or ``None``."""
        _base, at, unit = self.name.partition("@")
        return unit if at else None

    def get(self, name: str) -> Property | None:
        """The property called ``name``, or ``None``."""
        return self.properties.get(name)

    def has(self, name: str) -> bool:
        """True when the node has a property called ``name``."""
        return name in self.properties

    def _cells(self, name: str, default: int) -> int:
        prop = self.properties.get(name)
        return default if prop is None else prop.as_u32()

    @property
    def address_cells(self) -> int:
        """``#address-cells`` this node declares for its children (default 2)."""
        return self._cells("#address-cells", 2)

    @property
    def size_cells(self) -> int:
        """``#size-cells`` this node declares for its children (default 1)."""
        return self._cells("#size-cells", 1)

    @property
    def is_enabled(self) -> bool:
        """True when ``status`` is absent, ``"okay"`` or ``"ok"``."""
        prop = self.properties.get("status")
        # the value as bytes: what as_string() reads as "okay" or "ok" (anything else, malformed
        # values included, is not enabled), without decoding it
        return prop is None or prop.value in _ENABLED_STATUS

    def child(self, name: str) -> Node | None:
        """The child ``name``; a name without ``@`` also matches ``name@unit`` (first match)."""
        found = self.children.get(name)
        if found is not None or "@" in name:
            return found
        for child in self.children.values():
            if child.basename == name:
                return child
        return None

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, depth first in DT order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children.values()))

    def add_child(self, name: str, source: Source = _NO_SOURCE) -> Node:
        """Create (or return the existing) child called ``name``."""
        existing = self.children.get(name)
        if existing is not None:
            return existing
        child = Node(name, parent=self, source=source)
        self.children[name] = child
        return child


def new_child(parent: Node, name: str) -> Node:
    """A new node called ``name`` below ``parent`` (not yet in its ``children``): what
    ``Node(name, parent=parent)`` makes, made faster for the builders of whole trees (no keyword
    call, no call of :meth:`Node._place` for the usual short path)."""
    node: Node = _new_object(Node)
    node.name = name
    node.parent = parent
    node.children = {}
    node.properties = {}
    node.labels = []
    node.phandle = None
    node.source = _NO_SOURCE
    node._anchor = None
    node._depth = 0
    node._chain = None
    above = parent._path
    if parent.parent is None:
        node._path = "/" + name
    elif above is not None and len(above) < _KEPT_PATH:
        node._path = f"{above}/{name}"
    else:
        node._place()
    return node


@attrs.define(eq=False, repr=False)
class Tree:
    """A whole Device Tree: the root node, memory reservations, label/phandle tables, warnings."""

    root: Node = attrs.field(factory=lambda: Node(""))
    memreserves: list[MemReserve] = attrs.field(factory=list)
    labels: dict[str, Node] = attrs.field(factory=dict)
    #: Where each label of :attr:`labels` is defined (a source label, or an applied overlay's
    #: ``__symbols__`` entry: the overlay file and line, or a ``.dtbo``'s byte offset).
    label_sources: dict[str, Source] = attrs.field(factory=dict)
    phandles: dict[int, Node] = attrs.field(factory=dict)
    warnings: list[Diagnostic] = attrs.field(factory=list)
    #: Files read by dtc-level ``/include/`` and ``/incbin/`` (the C preprocessor's are in
    #: :attr:`memplan.dts.preprocess.Preprocessed.files`).
    files: list[str] = attrs.field(factory=list)
    boot_cpuid: int = 0
    plugin: bool = False
    #: The file the tree was read from (the board ``.dts`` or the ``.dtb``), when known.
    filename: str | None = None

    def __repr__(self) -> str:
        return f"<Tree {sum(1 for _ in self.walk())} nodes>"

    @property
    def aliases(self) -> dict[str, str]:
        """``/aliases``: alias name -> path string (non-string properties are skipped)."""
        node = self.root.children.get("aliases")
        out: dict[str, str] = {}
        if node is None:
            return out
        for name, prop in node.properties.items():
            try:
                out[name] = prop.as_string()
            except DtsError:
                continue
        return out

    def walk(self) -> Iterator[Node]:
        """Every node, depth first in DT order, root first."""
        return self.root.walk()

    def find(self, path: str) -> Node | None:
        """The node at ``path`` (``/soc/uart@1000``), or ``None``.

        A path that does not start with ``/`` starts with an alias (``serial0`` or
        ``serial0/child``). A component without ``@`` also matches a node with a unit
        address, like libfdt's path lookup.
        """
        if not path.startswith("/"):
            alias, slash, rest = path.partition("/")
            target = self.aliases.get(alias)
            if target is None or not target.startswith("/"):
                return None
            base = self.find(target)
            return base if base is None or not slash else self._descend(base, rest)
        return self._descend(self.root, path)

    @staticmethod
    def _descend(node: Node | None, path: str) -> Node | None:
        for part in path.split("/"):
            if not part or node is None:
                continue
            node = node.child(part)
        return node

    def node(self, path: str) -> Node:
        """Like :meth:`find` but raises ``KeyError`` when there is no such node."""
        found = self.find(path)
        if found is None:
            raise KeyError(path)
        return found

    def label(self, name: str) -> Node:
        """The node carrying label ``name`` (``KeyError`` when unknown)."""
        return self.labels[name]

    def to_dtb(self) -> bytes:
        """The tree as a flattened device tree blob (version 17), laid out as dtc does
        (:func:`memplan.dts.dtb.dtb_bytes`, registered by that module: ``tree`` sits below ``dtb``)."""
        return _DTB_WRITER[0](self)

    def rebuild_tables(self) -> None:
        """Recompute :attr:`phandles` from the nodes' ``phandle``/``linux,phandle`` properties."""
        self.phandles = {}
        for node in self.walk():
            prop = node.properties.get("phandle") or node.properties.get("linux,phandle")
            if prop is not None and len(prop.value) == 4:
                node.phandle = int.from_bytes(prop.value, "big")
            if node.phandle is not None:
                self.phandles.setdefault(node.phandle, node)


def register_dtb_writer(writer: Callable[[Tree], bytes]) -> None:
    """Set the function behind :meth:`Tree.to_dtb`."""
    _DTB_WRITER[:] = [writer]
