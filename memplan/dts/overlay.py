"""Device Tree overlays applied to a base tree, with the rules libfdt's ``fdt_overlay_apply`` follows.

An overlay (``dtc -@`` output of a ``/plugin/`` source, a ``.dtbo``) holds fragments: nodes with
a ``target`` phandle or a ``target-path`` and an ``__overlay__`` child whose properties and
children are merged into the target. Applying one, in libfdt's order:

1. every ``phandle``/``linux,phandle`` of the overlay is raised by the base's largest phandle;
2. the cells ``__local_fixups__`` lists (references inside the overlay) are raised the same way;
3. each ``__fixups__`` entry (``label = "path:property:offset"...``) gets the phandle of the
   base node the base's ``__symbols__`` names for that label; then an overlay node merged into
   a base node that already has a phandle loses its own, and the overlay's references to it
   take the base's (libfdt 1.7.1 and later, so that a labelled ``__overlay__`` does not renumber
   its target; libfdt 1.6 overwrote the base's phandle);
4. each fragment's ``__overlay__`` is merged into its target (a new property or child goes
   first, before the existing ones; an existing one is replaced in place or merged);
5. the overlay's ``__symbols__`` that point into an ``__overlay__`` are rewritten to the path in
   the base and added to the base's ``__symbols__`` (created when missing), so a later overlay
   can use them; memplan also adds those labels to :attr:`Tree.labels` and the nodes' ``labels``
   (replacing a base label of the same name, as the symbol does), with the overlay's position of
   each in :attr:`Tree.label_sources`.

Everything libfdt refuses raises :class:`~memplan.errors.OverlayError` naming the overlay file
(and the property or node at fault). Merged properties and nodes keep their own
:class:`~memplan.source.Source`, so a region an overlay changes points at the overlay's text.
"""

from __future__ import annotations

import attrs

from memplan.diagnostics import diag
from memplan.dts.tree import Node, Property, Tree
from memplan.errors import OverlayError
from memplan.model import Diagnostic
from memplan.source import Source

__all__ = ["apply_overlay", "apply_overlays", "get_phandle", "path_lookup", "set_property", "subnode"]

_MAX_PHANDLE = 0xFFFFFFFE


def _fail(name: str, message: str, source: Source | None) -> OverlayError:
    return OverlayError(f"overlay {name}: {message}", source)


# ---------------------------------------------------------------- libfdt-style lookups

def _name_matches(node_name: str, wanted: str) -> bool:
    """libfdt's name rule: equal, or ``wanted`` has no unit address and ``node_name`` is ``wanted@...``."""
    if node_name == wanted:
        return True
    return "@" not in wanted and node_name.startswith(wanted) and node_name[len(wanted)] == "@"


def subnode(node: Node, wanted: str, pending: _Pending | None = None) -> Node | None:
    """The first child of ``node`` whose name matches ``wanted`` as libfdt matches names
    (``pending``: children added but not yet moved to the front)."""
    if "@" in wanted:  # only the exact name can match
        return node.children.get(wanted)
    for child in (pending.children(node) if pending is not None else node.children.values()):
        if _name_matches(child.name, wanted):
            return child
    return None


def _alias(tree: Tree, name: str) -> str | None:
    aliases = subnode(tree.root, "aliases")
    prop = aliases.properties.get(name) if aliases is not None else None
    if prop is None or not prop.value:
        return None
    return prop.value.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def path_lookup(tree: Tree, path: str, depth: int = 0, pending: _Pending | None = None) -> Node | None:
    """libfdt's ``fdt_path_offset``: ``/a/b`` component by component, or ``alias/rest``."""
    node: Node | None = tree.root
    rest = path
    if not path.startswith("/"):
        alias, _slash, rest = path.partition("/")
        target = _alias(tree, alias)
        if target is None or depth > 8:
            return None
        node = path_lookup(tree, target, depth + 1, pending)
    for part in rest.split("/"):
        if node is None:
            return None
        if part:
            node = subnode(node, part, pending)
    return node


class _Pending:
    """New properties and children, appended while an overlay is applied and moved to the front
    (newest first, as libfdt inserts them) once it is done: linear instead of quadratic."""

    def __init__(self) -> None:
        self.props: dict[int, tuple[Node, int]] = {}
        self.kids: dict[int, tuple[Node, int]] = {}

    def set_property(self, node: Node, prop: Property) -> None:
        if prop.name not in node.properties:
            self.props.setdefault(id(node), (node, len(node.properties)))
        node.properties[prop.name] = prop

    def add_child(self, node: Node, child: Node) -> None:
        self.kids.setdefault(id(node), (node, len(node.children)))
        node.children[child.name] = child

    def children(self, node: Node) -> list[Node]:
        """``node``'s children in their final order."""
        kids = list(node.children.values())
        entry = self.kids.get(id(node))
        if entry is None:
            return kids
        return kids[entry[1] :][::-1] + kids[: entry[1]]

    def finish(self) -> None:
        for node, old in self.props.values():
            items = list(node.properties.items())
            node.properties = dict(items[old:][::-1] + items[:old])
        for node, old in self.kids.values():
            kids = list(node.children.items())
            node.children = dict(kids[old:][::-1] + kids[:old])
        self.props.clear()
        self.kids.clear()


def get_phandle(node: Node) -> int:
    """libfdt's ``fdt_get_phandle``: ``phandle`` (or else ``linux,phandle``) when 4 bytes, else 0."""
    for name in ("phandle", "linux,phandle"):
        prop = node.properties.get(name)
        if prop is not None and len(prop.value) == 4:
            return int.from_bytes(prop.value, "big")
    return 0


def _by_phandle(tree: Tree, phandle: int) -> Node | None:
    return next((n for n in tree.walk() if get_phandle(n) == phandle), None)


def _strings(prop: Property) -> str:
    return prop.value.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- the mutable overlay copy

def _copy(top: Node, top_parent: Node | None) -> Node:
    """A copy of the subtree ``top`` (properties shared, nodes new), with an explicit stack."""
    first: Node | None = None
    todo = [(top, top_parent)]
    while todo:
        node, parent = todo.pop()
        twin = Node(node.name, parent=parent, source=node.source)
        twin.properties = dict(node.properties)
        twin.labels = list(node.labels)
        twin.phandle = node.phandle
        if first is None:
            first = twin
        elif parent is not None:
            parent.children[node.name] = twin
        todo.extend((child, twin) for child in reversed(node.children.values()))
    assert first is not None
    return first


def _set(node: Node, name: str, value: bytes) -> None:
    node.properties[name] = attrs.evolve(node.properties[name], value=value)


def _patch(node: Node, prop: Property, offset: int, cell: int) -> bytes:
    value = prop.value[:offset] + cell.to_bytes(4, "big") + prop.value[offset + 4 :]
    _set(node, prop.name, value)
    return value


class _Apply:
    def __init__(self, base: Tree, overlay: Tree, name: str) -> None:
        self.base = base
        self.ov = Tree(root=_copy(overlay.root, None))
        self.name = name
        self.phandles: dict[int, Node] = {}
        self.pending = _Pending()
        self.new_labels: list[tuple[str, Node | None, Source]] = []
        self.notes: list[Diagnostic] = []

    def fail(self, message: str, source: Source | None) -> OverlayError:
        return _fail(self.name, message, source)

    def by_phandle(self, phandle: int) -> Node | None:
        """The base node with ``phandle`` (an index kept up to date by the merge; checked on use)."""
        if not self.phandles:
            for each in self.base.walk():
                self.phandles.setdefault(get_phandle(each), each)
        found = self.phandles.get(phandle)
        if found is not None and get_phandle(found) == phandle:
            return found
        return _by_phandle(self.base, phandle)

    # 1. phandles of the overlay move above the base's
    def adjust_phandles(self, delta: int) -> None:
        for node in self.ov.walk():
            for pname in ("phandle", "linux,phandle"):
                prop = node.properties.get(pname)
                if prop is None:
                    continue
                if len(prop.value) != 4:
                    raise self.fail(f"{node.path}: '{pname}' is {len(prop.value)} bytes, not one cell "
                                    "(libfdt: FDT_ERR_BADPHANDLE)", prop.source)
                value = int.from_bytes(prop.value, "big") + delta
                if value > _MAX_PHANDLE:
                    raise self.fail(f"{node.path}: '{pname}' + {delta} leaves the phandle range "
                                    "(libfdt: FDT_ERR_NOPHANDLES)", prop.source)
                _set(node, pname, value.to_bytes(4, "big"))

    # 2. references inside the overlay follow
    def local_fixups(self, delta: int) -> None:
        fixups = subnode(self.ov.root, "__local_fixups__")
        if fixups is None:
            return
        stack = [(fixups, self.ov.root)]
        while stack:
            fix, node = stack.pop()
            for pname, entry in fix.properties.items():
                if len(entry.value) % 4:
                    raise self.fail(f"__local_fixups__ entry {fix.path}:{pname} is {len(entry.value)} bytes, "
                                    "not a list of cells (libfdt: FDT_ERR_BADOVERLAY)", entry.source)
                prop = node.properties.get(pname)
                if prop is None:
                    raise self.fail(f"__local_fixups__ names {node.path}:{pname}, which the overlay does not "
                                    "have (libfdt: FDT_ERR_BADOVERLAY)", entry.source)
                for i in range(0, len(entry.value), 4):
                    offset = int.from_bytes(entry.value[i : i + 4], "big")
                    if offset + 4 > len(prop.value):
                        raise self.fail(f"__local_fixups__ offset {offset} is outside {node.path}:{pname} "
                                        f"({len(prop.value)} bytes) (libfdt: FDT_ERR_BADOVERLAY)",
                                        entry.source)
                    cell = (int.from_bytes(prop.value[offset : offset + 4], "big") + delta) & 0xFFFFFFFF
                    _patch(node, prop, offset, cell)
                    prop = node.properties[pname]
            for child in reversed(fix.children.values()):
                target = subnode(node, child.name)
                if target is None:
                    raise self.fail(f"__local_fixups__ node {child.path} has no counterpart in the overlay "
                                    "(libfdt: FDT_ERR_BADOVERLAY)", child.source)
                stack.append((child, target))

    # 3. references to the base, through its __symbols__
    def fixups(self) -> None:
        fixups = subnode(self.ov.root, "__fixups__")
        if fixups is None:
            return
        symbols = path_lookup(self.base, "/__symbols__")
        for label, entry in fixups.properties.items():
            value = entry.value
            if not value:
                raise self.fail(f"__fixups__ entry '{label}' is empty (libfdt: FDT_ERR_BADOVERLAY)",
                                entry.source)
            while value:
                nul = value.find(b"\0")
                if nul < 0:
                    raise self.fail(f"__fixups__ entry '{label}' is not NUL-terminated (libfdt: "
                                    "FDT_ERR_BADOVERLAY)", entry.source)
                text = value[:nul].decode("utf-8", "surrogateescape")
                value = value[nul + 1 :]
                self.fixup_one(symbols, label, text, entry)

    def _parse_fixup(self, label: str, text: str, entry: Property) -> tuple[str, str, int]:
        path, sep, rest = text.partition(":")
        pname, sep2, number = rest.partition(":")
        digits = number.lstrip(" \t\n\r\f\v+")
        if not sep or not rest or not sep2 or not pname or not digits.isdigit() or not digits.isascii():
            raise self.fail(f"__fixups__ entry '{label}': {text!r} is not 'path:property:offset' "
                            "(libfdt: FDT_ERR_BADOVERLAY)", entry.source)
        return path, pname, int(digits)

    def fixup_one(self, symbols: Node | None, label: str, text: str, entry: Property) -> None:
        path, pname, offset = self._parse_fixup(label, text, entry)
        if symbols is None:
            raise self.fail(f"needs the label '{label}' but the base tree has no __symbols__ (compile it "
                            "with -@) (libfdt: FDT_ERR_NOTFOUND)", entry.source)
        sym = symbols.properties.get(label)
        if sym is None:
            raise self.fail(f"label '{label}' is not in the base tree's __symbols__ "
                            "(libfdt: FDT_ERR_NOTFOUND)", entry.source)
        target_path = _strings(sym)
        target = path_lookup(self.base, target_path)
        if target is None:
            code = "FDT_ERR_NOTFOUND" if target_path.startswith("/") else "FDT_ERR_BADPATH"
            raise self.fail(f"label '{label}' names {target_path!r}, which is not in the base tree "
                            f"(libfdt: {code})", sym.source)
        phandle = get_phandle(target)
        if not phandle:
            raise self.fail(f"label '{label}' names {target.path}, which has no phandle (libfdt: "
                            "FDT_ERR_NOTFOUND)", target.source)
        node = path_lookup(self.ov, path)
        if node is None:
            raise self.fail(f"__fixups__ entry '{label}' names {path!r}, which is not in the overlay "
                            "(libfdt: FDT_ERR_BADOVERLAY)", entry.source)
        prop = node.properties.get(pname)
        if prop is None:
            raise self.fail(f"__fixups__ entry '{label}' names {node.path}:{pname}, which does not exist "
                            "(libfdt: FDT_ERR_NOTFOUND)", entry.source)
        if offset + 4 > len(prop.value):
            raise self.fail(f"__fixups__ entry '{label}': offset {offset} is outside {node.path}:{pname} "
                            f"({len(prop.value)} bytes) (libfdt: FDT_ERR_NOSPACE)", entry.source)
        _patch(node, prop, offset, phandle)

    # 4a. a node that already has a phandle keeps it (libfdt 1.7.1+ overlay_prevent_phandle_overwrite)
    def keep_base_phandles(self) -> None:
        for fragment in self.ov.root.children.values():
            body = subnode(fragment, "__overlay__")
            if body is None:
                continue
            try:
                target, _path = self.target(fragment)
            except OverlayError:
                continue  # not there yet (an earlier fragment may create it); merge() decides
            stack = [(target, body)]
            while stack:
                base_node, ov_node = stack.pop()
                kept, mine = get_phandle(base_node), get_phandle(ov_node)
                if kept and mine:
                    message = (f"overlay {self.name}: {base_node.path} keeps its phandle 0x{kept:x} "
                               f"(libfdt 1.7.1 and later); an older libfdt gives it the overlay's "
                               f"0x{mine:x} or fails (FDT_ERR_NOTFOUND)")
                    self.notes.append(diag("overlay-phandle-kept", message, ov_node.source, base_node.path))
                    self.retarget_local_references(mine, kept)
                    ov_node.properties.pop("phandle", None)
                    ov_node.properties.pop("linux,phandle", None)
                for child in ov_node.children.values():
                    twin = subnode(base_node, child.name)
                    if twin is not None:
                        stack.append((twin, child))

    def retarget_local_references(self, old: int, new: int) -> None:
        """Cells ``__local_fixups__`` lists that hold ``old`` now hold ``new``."""
        fixups = subnode(self.ov.root, "__local_fixups__")
        stack = [(fixups, self.ov.root)] if fixups is not None else []
        while stack:
            fix, node = stack.pop()
            for pname, entry in fix.properties.items():
                prop = node.properties.get(pname)
                for i in range(0, len(entry.value) - 3, 4):
                    offset = int.from_bytes(entry.value[i : i + 4], "big")
                    if prop is not None and int.from_bytes(prop.value[offset : offset + 4], "big") == old:
                        _patch(node, prop, offset, new)
                        prop = node.properties[pname]
            for child in fix.children.values():
                twin = subnode(node, child.name)
                if twin is not None:
                    stack.append((child, twin))

    # 4b. fragments
    def target(self, fragment: Node) -> tuple[Node, str | None]:
        prop = fragment.properties.get("target")
        phandle = 0
        if prop is not None:
            if len(prop.value) != 4 or prop.value == b"\xff\xff\xff\xff":
                raise self.fail(f"{fragment.path}: bad 'target' (an unresolved or malformed phandle) "
                                "(libfdt: FDT_ERR_BADPHANDLE)", prop.source)
            phandle = int.from_bytes(prop.value, "big")
        if phandle:
            node = self.by_phandle(phandle)
            if node is None:
                raise self.fail(f"{fragment.path}: no node of the base tree has phandle 0x{phandle:x} "
                                "(libfdt: FDT_ERR_NOTFOUND)", prop.source if prop is not None else None)
            return node, None
        path_prop = fragment.properties.get("target-path")
        if path_prop is None:
            raise self.fail(f"{fragment.path}: neither 'target' nor 'target-path' "
                            "(libfdt: FDT_ERR_BADOVERLAY)", fragment.source)
        path = _strings(path_prop)
        node = path_lookup(self.base, path, pending=self.pending)
        if node is None:
            raise self.fail(f"{fragment.path}: target-path {path!r} is not in the base tree (libfdt: "
                            f"{'FDT_ERR_NOTFOUND' if path.startswith('/') else 'FDT_ERR_BADPATH'})",
                            path_prop.source)
        return node, path

    def merge(self) -> None:
        for fragment in self.ov.root.children.values():
            body = subnode(fragment, "__overlay__")
            if body is None:
                continue
            target, _path = self.target(fragment)
            _merge_node(target, body, self.phandles, self.pending)

    # 5. symbols
    def symbols(self) -> None:
        table = subnode(self.ov.root, "__symbols__")
        if table is None:
            return
        root_sym = subnode(self.base.root, "__symbols__", self.pending)
        if root_sym is None:
            root_sym = Node("__symbols__", parent=self.base.root, source=table.source)
            self.pending.add_child(self.base.root, root_sym)
        for label, prop in table.properties.items():
            value = prop.value
            if not value or value.find(b"\0") != len(value) - 1 or not value.startswith(b"/"):
                raise self.fail(f"__symbols__ entry '{label}' is not a path string "
                                "(libfdt: FDT_ERR_BADVALUE)", prop.source)
            path = value[:-1].decode("utf-8", "surrogateescape")
            frag_name, slash, inner = path[1:].partition("/")
            if not slash:
                continue
            if inner == "__overlay__":
                rel = ""
            elif inner.startswith("__overlay__/"):
                rel = inner[len("__overlay__/") :]
            else:
                continue
            fragment = subnode(self.ov.root, frag_name)
            if fragment is None or subnode(fragment, "__overlay__") is None:
                raise self.fail(f"__symbols__ entry '{label}' points into {frag_name!r}, which is not a "
                                "fragment (libfdt: FDT_ERR_BADOVERLAY)", prop.source)
            target, target_path = self.target(fragment)
            base_path = target_path if target_path is not None else target.path
            full = base_path + ("/" if len(base_path) > 1 else "") + rel
            value = full.encode("utf-8", "surrogateescape") + b"\0"
            self.pending.set_property(root_sym, Property(label, value, prop.source))
            self.new_labels.append((label, path_lookup(self.base, full, pending=self.pending), prop.source))

    # 6. the labels the overlay brought, in the tree's label tables (after libfdt's work)
    def labels(self) -> None:
        base = self.base
        for label, node, source in self.new_labels:
            old = base.labels.get(label)
            if old is not None and old is not node and label in old.labels:
                old.labels.remove(label)  # the overlay's symbol replaced the base's
            if node is None:
                base.labels.pop(label, None)
                base.label_sources.pop(label, None)
                continue
            if label not in node.labels:
                node.labels.insert(0, label)
            base.labels[label] = node
            base.label_sources[label] = source


def set_property(node: Node, prop: Property) -> None:
    """libfdt's ``fdt_setprop``: replace in place, or add before every existing property."""
    if prop.name in node.properties:
        node.properties[prop.name] = prop
    else:
        node.properties = {prop.name: prop, **node.properties}


def _merge_node(target: Node, body: Node, phandles: dict[int, Node], pending: _Pending) -> None:
    """``body`` merged into ``target`` as libfdt's overlay_apply_node does, children depth first
    in order (an explicit stack of the open levels: any depth)."""
    _merge_level(target, body, phandles, pending)
    stack = [(target, iter(body.children.values()))]
    while stack:
        target, children = stack[-1]
        for child in children:
            existing = subnode(target, child.name, pending)
            if existing is None:
                existing = Node(child.name, parent=target, source=child.source)
                existing.labels = list(child.labels)
                pending.add_child(target, existing)
            _merge_level(existing, child, phandles, pending)
            stack.append((existing, iter(child.children.values())))
            break
        else:
            stack.pop()


def _merge_level(target: Node, body: Node, phandles: dict[int, Node], pending: _Pending) -> None:
    """The properties of ``body`` into ``target`` (one level of :func:`_merge_node`)."""
    for prop in body.properties.values():
        pending.set_property(target, prop)
    if phandles and ("phandle" in body.properties or "linux,phandle" in body.properties):
        phandles.setdefault(get_phandle(target), target)
    if body.properties:
        # the node now says what the overlay wrote: its regions and findings point there
        target.source = next(iter(body.properties.values())).source


def apply_overlay(base: Tree, overlay: Tree, name: str) -> list[Diagnostic]:
    """Apply ``overlay`` (a compiled overlay tree) to ``base`` in place, as ``fdt_overlay_apply``;
    returns the notes met (``overlay-phandle-kept``: where libfdt versions differ).

    ``name`` (the overlay's file) starts every error message. Raises
    :class:`~memplan.errors.OverlayError` wherever libfdt fails; ``base`` is then unusable.
    """
    job = _Apply(base, overlay, name)
    delta = max((get_phandle(n) for n in base.walk()), default=0)
    job.adjust_phandles(delta)
    job.local_fixups(delta)
    job.fixups()
    job.keep_base_phandles()
    job.merge()
    job.symbols()
    job.pending.finish()
    job.labels()
    base.rebuild_tables()
    return job.notes


def apply_overlays(base: Tree, overlays: list[tuple[Tree, str]]) -> list[Diagnostic]:
    """Apply each ``(overlay, name)`` in order, like ``fdtoverlay -i base ov1 ov2 ...``; the notes."""
    notes: list[Diagnostic] = []
    for overlay, name in overlays:
        notes.extend(apply_overlay(base, overlay, name))
    return notes
