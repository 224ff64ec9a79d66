"""A recursive-descent parser for DTS v1 source, producing a :class:`~memplan.dts.tree.Tree`.

Grammar (as dtc accepts it)::

    file       := header+ memreserve* tree
    header     := '/dts-v1/' ';' ( '/plugin/' ';' )?
    memreserve := label* '/memreserve/' prim prim ';'
    tree       := ( '/' nodedef | ref nodedef ) top*
    top        := '/' nodedef | label? ref nodedef | '/delete-node/' ref ';'
                | '/omit-if-no-ref/' ref ';'
    nodedef    := '{' propdef* subnode* '}' ';'
    propdef    := label* ( NAME ( '=' value ( ',' value )* )? ';' | '/delete-property/' NAME ';' )
    subnode    := ( label | '/omit-if-no-ref/' )* ( NAME nodedef | '/delete-node/' NAME ';' )
    value      := label* ( STRING | ( '/bits/' NUMBER )? '<' cell* '>' | '[' BYTES ']' | ref
                | '/incbin/' '(' STRING ( ',' prim ',' prim )? ')' ) label*
    cell       := label | ref | prim
    prim       := NUMBER | CHAR | '(' expr ')'

``/include/ "file"`` may appear between any two tokens. Each block is built as its own
node and merged into the tree the way dtc merges (properties replaced in place, deleted
entries only marked, so a redefinition returns at the old position). After parsing, the
semantic passes run in dtc's order: duplicate names, ``name`` properties, duplicate labels,
explicit phandles, phandle references (numbering new phandles as dtc does), path
references, ``/omit-if-no-ref/``.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path

from memplan.dts import expr
from memplan.dts.checks import address_warnings
from memplan.dts.lexer import (
    BYTE_TOKEN,
    LABEL,
    NAME,
    SKIP,
    TOKEN,
    SourceMap,
    char_value,
    int_value,
    string_bytes,
)
from memplan.dts.tree import MemReserve, Node, Property, Tree
from memplan.errors import DtsError, DtsSyntaxError, IncludeError, LabelError
from memplan.model import Diagnostic
from memplan.source import Source

__all__ = ["parse_dts", "parse_text"]

_PHANDLE_REF = 0
_PATH_REF = 1
_MAX_NESTING = 400
_MAX_INCLUDE_DEPTH = 100
_BAD_NODE_CHAR = re.compile(r"[^a-zA-Z0-9,._+@-]")
_BAD_PROP_CHAR = re.compile(r"[^a-zA-Z0-9,._+*#?-]")
_SKIP_START = frozenset(" \t\r\n\f\v/#")


class _Pos:
    """A lazily resolved position: a source map and an offset in its text."""

    __slots__ = ("map", "offset")

    def __init__(self, smap: SourceMap, offset: int) -> None:
        self.map = smap
        self.offset = offset

    def source(self) -> Source:
        return self.map.source(self.offset)


class _Ref:
    """A reference inside a property value: a phandle cell or a path string."""

    __slots__ = ("kind", "offset", "pos", "target")

    def __init__(self, kind: int, offset: int, target: str, pos: _Pos) -> None:
        self.kind = kind
        self.offset = offset
        self.target = target
        self.pos = pos


class _Prop:
    __slots__ = ("deleted", "labels", "name", "pos", "refs", "value", "value_labels")

    def __init__(self, name: str, pos: _Pos, value: bytearray | None = None, deleted: bool = False) -> None:
        self.name = name
        self.pos = pos
        self.value = value if value is not None else bytearray()
        self.refs: list[_Ref] = []
        self.labels: dict[str, bool] = {}
        self.value_labels: list[tuple[str, _Pos]] = []
        self.deleted = deleted


class _Node:
    __slots__ = (
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

    def __init__(self, name: str, pos: _Pos, deleted: bool = False) -> None:
        self.name = name
        self.pos = pos
        self.props: list[_Prop] = []
        self.children: list[_Node] = []
        self.labels: dict[str, bool] = {}
        self.label_pos: dict[str, _Pos] = {}
        self.parent: _Node | None = None
        self.deleted = deleted
        self.dead = False
        self.omit = False
        self.referenced = False
        self.phandle = 0

    def is_live(self, root: _Node) -> bool:
        """Reachable from ``root`` through nodes that are neither deleted nor merged away."""
        node = self
        while True:
            if node.deleted or node.dead:
                return False
            if node.parent is None:
                return node is root
            node = node.parent

    def live_children(self) -> Iterator[_Node]:
        return (c for c in self.children if not c.deleted)

    def live_props(self) -> Iterator[_Prop]:
        return (p for p in self.props if not p.deleted)

    def prop(self, name: str) -> _Prop | None:
        for p in self.props:
            if not p.deleted and p.name == name:
                return p
        return None

    def path(self) -> str:
        if self.parent is None:
            return "/"
        parts = []
        node: _Node | None = self
        while node is not None and node.parent is not None:
            parts.append(node.name)
            node = node.parent
        return "/" + "/".join(reversed(parts))


def _add_label(labels: dict[str, bool], name: str) -> None:
    labels[name] = True


class _LabelIndex:
    """Every node that ever carried a label, for fast label lookups in the live tree."""

    def __init__(self) -> None:
        self.nodes: dict[str, list[_Node]] = {}

    def add(self, node: _Node, label: str) -> None:
        node.labels[label] = True
        owners = self.nodes.setdefault(label, [])
        if node not in owners:
            owners.append(node)

    def find(self, root: _Node, label: str) -> _Node | None:
        """dtc's ``get_node_by_label``: the first live node (pre-order) with a live ``label``."""
        live = [n for n in self.nodes.get(label, ()) if n.labels.get(label) and n.is_live(root)]
        if len(live) <= 1:
            return live[0] if live else None
        return _find_label(root, label)


def _delete_prop(prop: _Prop) -> None:
    prop.deleted = True
    for name in prop.labels:
        prop.labels[name] = False


def _delete_node(node: _Node) -> None:
    node.deleted = True
    for child in node.children:
        if not child.deleted:
            _delete_node(child)
    for prop in node.props:
        if not prop.deleted:
            _delete_prop(prop)
    for name in node.labels:
        node.labels[name] = False


def _merge(old: _Node, new: _Node, index: _LabelIndex) -> None:
    """Merge ``new`` into ``old`` exactly as dtc's ``merge_nodes`` does."""
    old.deleted = False
    new.dead = True
    for name in new.labels:
        index.add(old, name)
        old.label_pos.setdefault(name, new.label_pos[name])
    for nprop in new.props:
        if nprop.deleted:
            for oprop in old.props:
                if oprop.name == nprop.name:
                    _delete_prop(oprop)
                    break
            continue
        for oprop in old.props:
            if oprop.name == nprop.name:
                for name in nprop.labels:
                    _add_label(oprop.labels, name)
                oprop.value = nprop.value
                oprop.refs = nprop.refs
                oprop.value_labels = nprop.value_labels
                oprop.pos = nprop.pos
                oprop.deleted = False
                break
        else:
            old.props.append(nprop)
    for nchild in new.children:
        if nchild.deleted:
            for ochild in old.children:
                if ochild.name == nchild.name:
                    _delete_node(ochild)
                    break
            continue
        for ochild in old.children:
            if ochild.name == nchild.name:
                _merge(ochild, nchild, index)
                break
        else:
            nchild.parent = old
            old.children.append(nchild)


class _Frame:
    """One open input (the main text or an ``/include/``d file)."""

    __slots__ = ("directory", "map", "pos", "real", "text")

    def __init__(self, smap: SourceMap, directory: Path, real: Path | None) -> None:
        self.map = smap
        self.text = smap.text
        self.pos = 0
        self.directory = directory
        self.real = real


class _Parser:
    """The recursive-descent parser; one instance parses one input."""

    def __init__(self, text: str, filename: str, include_dirs: Sequence[Path], base_dir: Path,
                 real: Path | None) -> None:
        self.include_dirs = list(include_dirs)
        self.roots = [Path(os.path.normpath(os.path.abspath(d))) for d in (base_dir, *self.include_dirs)]
        self.frame = _Frame(SourceMap(text, filename), base_dir, real)
        self.text = text
        self.pos = 0
        self.stack: list[_Frame] = []
        self.plugin = False
        self.root: _Node | None = None
        self.memreserves: list[tuple[int, int, list[str], _Pos]] = []
        self.fragments = 0
        self.depth = 0
        self.files: list[str] = []
        self.index = _LabelIndex()
        self.warnings: list[Diagnostic] = []

    # ----------------------------------------------------------------- positions and errors

    def here(self, pos: int | None = None) -> _Pos:
        return _Pos(self.frame.map, self.pos if pos is None else pos)

    def error_at(self, message: str, pos: int) -> DtsSyntaxError:
        return DtsSyntaxError(message, self.frame.map.source(pos))

    def _describe(self) -> str:
        if self.pos >= len(self.text):
            return "end of input"
        m = TOKEN.match(self.text, self.pos) or NAME.match(self.text, self.pos)
        found = m.group(0) if m else self.text[self.pos]
        if len(found) > 40:
            found = found[:37] + "..."
        return repr(found)

    def unexpected(self, wanted: str) -> DtsSyntaxError:
        return self.error_at(f"expected {wanted}, found {self._describe()}", self.pos)

    # ----------------------------------------------------------------- token level

    def skip(self) -> None:
        """Skip blanks/comments/markers; follow ``/include/`` and the end of included files."""
        while True:
            text = self.text
            pos = self.pos
            if pos < len(text) and text[pos] not in _SKIP_START:
                return
            skipped = SKIP.match(text, self.pos)
            pos = skipped.end() if skipped is not None else self.pos
            self.pos = pos
            if pos >= len(text):
                if not self.stack:
                    return
                self.frame = self.stack.pop()
                self.text = self.frame.text
                self.pos = self.frame.pos
                continue
            if text[pos] == "/":
                if text.startswith("/include/", pos):
                    self._include(pos)
                    continue
                if text.startswith("/*", pos):
                    raise self.error_at("unterminated comment", pos)
            return

    def peek_char(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> tuple[str, str, int] | None:
        """The next token as ``(kind, text, offset)`` without consuming it."""
        self.skip()
        m = TOKEN.match(self.text, self.pos)
        if m is None:
            return None
        kind = m.lastgroup
        assert kind is not None
        return kind, m.group(kind) if kind == "label" else m.group(0), self.pos

    def accept(self, char: str) -> bool:
        """Consume the one-character token ``char`` if it is next."""
        self.skip()
        if self.text.startswith(char, self.pos):
            self.pos += 1
            return True
        return False

    def expect(self, char: str, wanted: str | None = None) -> None:
        if not self.accept(char):
            raise self.unexpected(wanted or f"'{char}'")

    def labels(self) -> list[tuple[str, int]]:
        """Zero or more ``label:`` definitions."""
        out: list[tuple[str, int]] = []
        while True:
            self.skip()
            m = LABEL.match(self.text, self.pos)
            if m is None:
                return out
            out.append((m.group(1), self.pos))
            self.pos = m.end()

    def keyword(self) -> str | None:
        """The ``/keyword/`` at the cursor (not consumed), if any."""
        self.skip()
        if not self.text.startswith("/", self.pos):
            return None
        m = TOKEN.match(self.text, self.pos)
        if m is not None and m.lastgroup == "keyword":
            return m.group(0)
        return None

    def take_keyword(self, word: str) -> bool:
        if self.keyword() == word:
            self.pos += len(word)
            return True
        return False

    def name(self, what: str) -> tuple[str, int]:
        self.skip()
        m = NAME.match(self.text, self.pos)
        if m is None:
            raise self.unexpected(what)
        start = self.pos
        self.pos = m.end()
        return m.group(1), start

    def ref(self) -> tuple[str, int] | None:
        """A ``&label`` / ``&{/path}`` reference at the cursor (consumed), else ``None``."""
        self.skip()
        if not self.text.startswith("&", self.pos):
            return None
        m = TOKEN.match(self.text, self.pos)
        if m is None or m.lastgroup != "ref":
            return None
        start = self.pos
        self.pos = m.end()
        raw = m.group(0)
        return (raw[2:-1] if raw.startswith("&{") else raw[1:]), start

    def string(self) -> tuple[str, int] | None:
        self.skip()
        if not self.text.startswith('"', self.pos):
            return None
        m = TOKEN.match(self.text, self.pos)
        if m is None or m.lastgroup != "string":
            raise self.error_at("unterminated string", self.pos)
        start = self.pos
        self.pos = m.end()
        return m.group(0), start

    # ----------------------------------------------------------------- expressions (expr.ExprSource)

    def peek_op(self) -> tuple[str, int] | None:
        self.skip()
        m = TOKEN.match(self.text, self.pos)
        if m is None or m.lastgroup != "op":
            return None
        return m.group(0), self.pos

    def take_op(self, op: str) -> None:
        self.pos += len(op)

    def expect_op(self, op: str) -> None:
        peeked = self.peek_op()
        if peeked is None or peeked[0] != op:
            raise self.unexpected(f"'{op}'")
        self.pos += len(op)

    def _enter(self, pos: int) -> None:
        """One more level of node or parenthesis nesting; deeper than any real tree is an error
        (checked explicitly so it never depends on Python's recursion limit)."""
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise self.error_at(
                f"nodes or expressions nested too deeply (more than {_MAX_NESTING} levels)", pos
            )

    def primary(self) -> int:
        """``integer_prim``: a number, a character literal or ``( expr )``."""
        self.skip()
        m = TOKEN.match(self.text, self.pos)
        if m is not None:
            kind = m.lastgroup
            if kind == "number":
                start = self.pos
                self.pos = m.end()
                return int_value(m.group(0), self.frame.map.source(start))
            if kind == "char":
                start = self.pos
                self.pos = m.end()
                return char_value(m.group(0), self.frame.map.source(start))
            if kind == "op" and m.group(0) == "(":
                self._enter(self.pos)
                self.pos += 1
                value = expr.evaluate(self)
                self.expect_op(")")
                self.depth -= 1
                return value
        raise self.unexpected("a number, a character literal or '('")

    # ----------------------------------------------------------------- includes

    def _resolve_include(self, name: str, pos: int) -> Path:
        candidates = [Path(name)] if os.path.isabs(name) else [
            self.frame.directory / name, *(d / name for d in self.include_dirs)]
        for cand in candidates:
            if cand.is_file():
                # judged on the spelled path (symlinks inside a root are trusted, ".." is not)
                spelled = Path(os.path.normpath(os.path.abspath(cand)))
                if not any(spelled.is_relative_to(root) for root in self.roots):
                    raise IncludeError(
                        f"include '{name}' resolves to {spelled}, outside the include roots "
                        f"({', '.join(str(r) for r in self.roots)})",
                        self.frame.map.source(pos),
                    )
                return cand
        searched = ", ".join(str(c.parent) for c in candidates)
        raise IncludeError(f"include file '{name}' not found (searched {searched})",
                           self.frame.map.source(pos))

    def _include(self, pos: int) -> None:
        self.pos = pos + len("/include/")
        found = self.string()
        if found is None:
            raise self.unexpected("a file name string after /include/")
        name = string_bytes(found[0]).decode("utf-8", errors="surrogateescape")
        path = self._resolve_include(name, found[1])
        real = path.resolve()
        chain = [f.real for f in self.stack] + [self.frame.real]
        if real in chain:
            names = [str(p) for p in chain[chain.index(real):] if p is not None] + [str(real)]
            raise IncludeError("include cycle: " + " -> ".join(names), self.frame.map.source(found[1]))
        if len(self.stack) >= _MAX_INCLUDE_DEPTH:
            raise IncludeError("includes nested too deeply", self.frame.map.source(found[1]))
        try:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as err:
            raise IncludeError(f"cannot read include '{name}': {err.strerror}",
                               self.frame.map.source(found[1])) from None
        self.frame.pos = self.pos
        self.stack.append(self.frame)
        self.files.append(str(path))
        self.frame = _Frame(SourceMap(text, str(path)), path.parent, real)
        self.text = text
        self.pos = 0

    def _incbin(self, name: str, pos: int, offset: int | None, length: int | None) -> bytes:
        candidates = [Path(name)] if os.path.isabs(name) else [
            self.frame.directory / name, *(d / name for d in self.include_dirs)]
        for cand in candidates:
            if cand.is_file():
                data = cand.read_bytes()
                self.files.append(str(cand))
                if offset is None:
                    return data
                assert length is not None
                return data[offset : offset + length]
        raise IncludeError(f"/incbin/ file '{name}' not found", self.frame.map.source(pos))

    # ----------------------------------------------------------------- grammar

    def parse(self) -> None:
        self.skip()
        if self.keyword() != "/dts-v1/":
            raise self.unexpected("'/dts-v1/;' at the start of the file")
        first = True
        while self.take_keyword("/dts-v1/"):
            self.expect(";")
            plugin = self.take_keyword("/plugin/")
            if plugin:
                self.expect(";")
            if not first and plugin != self.plugin:
                raise self.error_at("header flags don't match earlier ones", self.pos)
            self.plugin = self.plugin or plugin
            first = False
        self._memreserves()
        self._devicetree()

    def _memreserves(self) -> None:
        while True:
            self.skip()
            start = self.pos
            labels = self.labels()
            if not self.take_keyword("/memreserve/"):
                self.pos = start
                return
            at = self.here(start)
            address = self.primary()
            size = self.primary()
            self.expect(";")
            self.memreserves.append((address, size, [name for name, _lpos in labels], at))

    def _devicetree(self) -> None:
        while True:
            self.skip()
            if self.pos >= len(self.text):
                break
            start = self.pos
            c = self.text[start]
            if c == "/" and self.keyword() is None:
                self.pos += 1
                node = self.nodedef("", start)
                if self.root is None:
                    self.root = node
                else:
                    _merge(self.root, node, self.index)
                continue
            if c == "/":
                word = self.keyword()
                if word in ("/delete-node/", "/omit-if-no-ref/") and self.root is not None:
                    self.pos += len(word or "")
                    ref = self.ref()
                    if ref is None:
                        raise self.unexpected("a &label or &{/path} reference")
                    self.expect(";")
                    target = self._lookup_or_fail(ref)
                    if word == "/delete-node/":
                        _delete_node(target)
                    else:
                        target.omit = True
                    continue
                if word == "/memreserve/":
                    raise self.error_at("/memreserve/ must come before the first node", start)
                raise self.unexpected("'/ {', a &reference or the end of input")
            labels = self.labels()
            ref = self.ref()
            if ref is None or len(labels) > 1:
                wanted = "a &reference after the label" if labels else "'/ {' or a &reference"
                raise self.unexpected(wanted)
            node = self.nodedef("", ref[1])
            self._merge_into_ref(ref, node, labels)
        if self.root is None:
            raise self.unexpected("a root node '/ { ... };'")

    def _lookup(self, ref: str) -> _Node | None:
        return _find_ref(self.root, ref, self.index) if self.root is not None else None

    def _lookup_or_fail(self, ref: tuple[str, int]) -> _Node:
        target = self._lookup(ref[0])
        if target is None:
            raise LabelError(f"label or path '{ref[0]}' not found", self.frame.map.source(ref[1]))
        return target

    def _merge_into_ref(self, ref: tuple[str, int], node: _Node, labels: list[tuple[str, int]]) -> None:
        name, pos = ref
        target = self._lookup(name)
        is_path = name.startswith("/")
        relative = not is_path and "/" in name
        if self.plugin and relative:
            raise LabelError(f"label-relative reference '{name}' is not supported in a plugin",
                             self.frame.map.source(pos))
        if target is not None and not (self.plugin and is_path and not labels):
            for label, lpos in labels:
                self.index.add(target, label)
                target.label_pos.setdefault(label, self.here(lpos))
            _merge(target, node, self.index)
            return
        if not self.plugin or labels:
            raise LabelError(f"label or path '{name}' not found", self.frame.map.source(pos))
        self._orphan(node, name, pos)

    def _orphan(self, node: _Node, ref: str, pos: int) -> None:
        """A plugin's ``&ref { ... }``: a ``fragment@N`` node with the target and ``__overlay__``."""
        if self.root is None:
            self.root = _Node("", self.here(pos))
        frag = _Node(f"fragment@{self.fragments}", self.here(pos))
        self.fragments += 1
        if ref.startswith("/"):
            prop = _Prop("target-path", self.here(pos), bytearray(ref.encode() + b"\0"))
        else:
            prop = _Prop("target", self.here(pos), bytearray(b"\xff\xff\xff\xff"))
            prop.refs.append(_Ref(_PHANDLE_REF, 0, ref, self.here(pos)))
        frag.props.append(prop)
        node.name = "__overlay__"
        node.parent = frag
        frag.children.append(node)
        frag.parent = self.root
        self.root.children.append(frag)

    def nodedef(self, name: str, start: int) -> _Node:
        """``'{' propdef* subnode* '}' ';'`` (the cursor is before the brace)."""
        node = _Node(name, self.here(start))
        self.expect("{", "'{'")
        self._enter(start)
        seen_child = False
        text_props = node.props
        while True:
            c = self.peek_char()
            if c == "}":
                self.pos += 1
                self.expect(";", "';' after '}'")
                self.depth -= 1
                return node
            if not c:
                raise self.unexpected("'}'")
            item_start = self.pos
            labels = self.labels()
            omit = False
            word = self.keyword()
            while word == "/omit-if-no-ref/":
                self.pos += len(word)
                omit = True
                labels.extend(self.labels())
                word = self.keyword()
            if word == "/delete-property/" and not omit:
                if seen_child:
                    raise self.error_at("properties must precede subnodes", item_start)
                self.pos += len(word)
                pname, ppos = self.name("a property name after /delete-property/")
                self.expect(";")
                prop = _Prop(pname, self.here(ppos), deleted=True)
                for label, _lpos in labels:
                    _add_label(prop.labels, label)
                text_props.append(prop)
                continue
            if word == "/delete-node/":
                self.pos += len(word)
                cname, cpos = self.name("a node name after /delete-node/")
                self.expect(";")
                child = _Node(cname, self.here(cpos), deleted=True)
                self._label_node(child, labels)
                child.omit = omit
                child.parent = node
                node.children.append(child)
                seen_child = True
                continue
            if word is not None:
                raise self.unexpected("a property or node definition")
            pname, ppos = self.name("a property or node name, or '}'")
            c = self.peek_char()
            if c == "{":
                child = self.nodedef(pname, ppos)
                self._label_node(child, labels)
                child.omit = omit
                child.parent = node
                node.children.append(child)
                seen_child = True
                continue
            if omit:
                raise self.unexpected("'{' (/omit-if-no-ref/ applies to nodes)")
            if seen_child:
                raise self.error_at("properties must precede subnodes", item_start)
            prop = _Prop(pname, self.here(ppos))
            for label, _lpos in labels:
                _add_label(prop.labels, label)
            if c == "=":
                self.pos += 1
                self.propdata(prop)
                self.expect(";", "';' or ',' after the property value")
            elif c == ";":
                self.pos += 1
            else:
                raise self.unexpected("'=', ';' or '{' after the name")
            text_props.append(prop)

    def _label_node(self, node: _Node, labels: list[tuple[str, int]]) -> None:
        for label, lpos in labels:
            self.index.add(node, label)
            node.label_pos.setdefault(label, self.here(lpos))

    def propdata(self, prop: _Prop) -> None:
        """``value (',' value)*`` appended to ``prop.value``."""
        value = prop.value
        while True:
            self._value_labels(prop)
            self.skip()
            start = self.pos
            c = self.text[start : start + 1]
            if c == '"':
                found = self.string()
                assert found is not None
                value += string_bytes(found[0], self.frame.map.source(start))
                value.append(0)
            elif c == "<":
                self.pos += 1
                self.cells(prop, 32)
            elif c == "[":
                self.pos += 1
                self.bytestring(prop)
            elif c == "&":
                ref = self.ref()
                if ref is None:
                    raise self.unexpected("a property value")
                prop.refs.append(_Ref(_PATH_REF, len(value), ref[0], self.here(start)))
            elif c == "/":
                word = self.keyword()
                if word == "/bits/":
                    self.pos += len(word)
                    self.skip()
                    bits_at = self.pos
                    tok = self.token()
                    if tok is None or tok[0] != "number":
                        raise self.unexpected("the element size after /bits/")
                    self.pos += len(tok[1])
                    bits = int_value(tok[1], self.frame.map.source(bits_at))
                    if bits not in (8, 16, 32, 64):
                        raise self.error_at("array elements must be 8, 16, 32 or 64 bits", bits_at)
                    self.expect("<", "'<' after /bits/ N")
                    self.cells(prop, bits)
                elif word == "/incbin/":
                    self.pos += len(word)
                    self._incbin_value(prop)
                else:
                    raise self.unexpected("a property value")
            else:
                raise self.unexpected("a property value (string, <cells>, [bytes] or &reference)")
            self._value_labels(prop)
            if not self.accept(","):
                return

    def _value_labels(self, prop: _Prop) -> None:
        for label, lpos in self.labels():
            prop.value_labels.append((label, self.here(lpos)))

    def _incbin_value(self, prop: _Prop) -> None:
        self.expect("(", "'(' after /incbin/")
        found = self.string()
        if found is None:
            raise self.unexpected("a file name string")
        name = string_bytes(found[0]).decode("utf-8", errors="surrogateescape")
        offset = length = None
        if self.accept(","):
            offset = self.primary()
            self.expect(",")
            length = self.primary()
        self.expect(")")
        prop.value += self._incbin(name, found[1], offset, length)

    def cells(self, prop: _Prop, bits: int) -> None:
        """The inside of ``< ... >`` after the ``<``, through the ``>``."""
        values: list[int] = []
        mask = (1 << bits) - 1
        base = len(prop.value)
        text = self.text
        while True:
            self.skip()
            text = self.text
            pos = self.pos
            c = text[pos : pos + 1]
            if c == ">":
                self.pos += 1
                break
            if c == "&":
                ref = self.ref()
                if ref is None:
                    raise self.unexpected("a cell value or '>'")
                if bits != 32:
                    raise self.error_at("references are only allowed in arrays with 32-bit elements", pos)
                prop.refs.append(_Ref(_PHANDLE_REF, base + 4 * len(values), ref[0], self.here(pos)))
                values.append(mask)
                continue
            m = TOKEN.match(text, pos)
            kind = m.lastgroup if m is not None else None
            if kind == "label":
                assert m is not None
                prop.value_labels.append((m.group("label"), self.here(pos)))
                self.pos = m.end()
                continue
            if kind not in ("number", "char") and not (kind == "op" and c == "("):
                raise self.unexpected("a cell value or '>'")
            value = self.primary()
            if value > mask and (value | mask) != expr.MASK64:
                # dtc 1.6 stops here; later dtc (and the kernel's own copy) warns and truncates
                self.warnings.append(Diagnostic(
                    "warning", "dtc-value-truncated",
                    f"value 0x{value:016x} truncated to 0x{value & mask:0{bits // 4}x} "
                    f"(a {bits}-bit array element)", self.frame.map.source(pos)))
            values.append(value & mask)
        if bits == 32:
            prop.value += struct.pack(f">{len(values)}I", *values)
        else:
            fmt = {8: "B", 16: "H", 64: "Q"}[bits]
            prop.value += struct.pack(f">{len(values)}{fmt}", *values)

    def bytestring(self, prop: _Prop) -> None:
        """The inside of ``[ ... ]`` after the ``[``, through the ``]``."""
        out = prop.value
        while True:
            self.skip()
            m = BYTE_TOKEN.match(self.text, self.pos)
            if m is None:
                raise self.unexpected("hex byte pairs or ']'")
            kind = m.lastgroup
            if kind == "end":
                self.pos = m.end()
                return
            if kind == "label":
                prop.value_labels.append((m.group("label"), self.here(self.pos)))
            else:
                out += bytes.fromhex(m.group("hex"))
            self.pos = m.end()


def _find_path(node: _Node | None, path: str) -> _Node | None:
    for part in path.split("/"):
        if node is None:
            return None
        if not part:
            continue
        node = next((c for c in node.children if not c.deleted and c.name == part), None)
    if node is not None and node.deleted:
        return None
    return node


def _find_label(node: _Node, label: str) -> _Node | None:
    if node.labels.get(label):
        return node
    for child in node.children:
        if not child.deleted:
            found = _find_label(child, label)
            if found is not None:
                return found
    return None


def _find_ref(root: _Node | None, ref: str, index: _LabelIndex) -> _Node | None:
    """dtc's ``get_node_by_ref``: ``/path``, ``label`` or ``label/sub/path`` in the live tree."""
    if root is None:
        return None
    if ref == "/":
        return root
    if ref.startswith("/"):
        return _find_path(root, ref)
    label, slash, rest = ref.partition("/")
    target = index.find(root, label)
    if target is None or not slash:
        return target
    return _find_path(target, rest)


class _Resolver:
    """The semantic passes dtc runs after parsing, in dtc's order."""

    def __init__(self, parser: _Parser) -> None:
        assert parser.root is not None
        self.parser = parser
        self.root = parser.root
        self.used: set[int] = set()
        self.next_phandle = 1
        self.label_index: dict[str, _Node] | None = None

    def live(self) -> Iterator[_Node]:
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(c for c in reversed(node.children) if not c.deleted)

    def run(self) -> None:
        self.check_duplicates()
        self.name_properties()
        self.duplicate_labels()
        self.explicit_phandles()
        self.phandle_references()
        self.path_references()
        for node in list(self.live()):
            if not node.deleted and node.omit and not node.referenced:
                _delete_node(node)

    def check_duplicates(self) -> None:
        """Duplicate node/property names and bad name characters (errors in dtc too)."""
        for node in self.live():
            if node.parent is not None:
                bad = _BAD_NODE_CHAR.search(node.name)
                if bad is not None:
                    raise DtsError(f"{node.path()}: bad character '{bad.group(0)}' in node name",
                                   node.pos.source())
                if node.name.count("@") > 1:
                    raise DtsError(f"{node.path()}: multiple '@' characters in node name", node.pos.source())
            for prop in node.live_props():
                bad = _BAD_PROP_CHAR.search(prop.name)
                if bad is not None:
                    raise DtsError(f"{node.path()}: bad character '{bad.group(0)}' in property name "
                                   f"'{prop.name}'", prop.pos.source())
            children = node.children
            for i, child in enumerate(children):
                if child.deleted:
                    continue
                # like dtc: a live child clashes with any later sibling, even a /delete-node/ marker
                for later in children[i + 1 :]:
                    if later.name == child.name:
                        raise DtsError(f"duplicate node name '{child.name}' in {node.path()}",
                                       later.pos.source())
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
        owners: dict[str, tuple[object, _Pos, str]] = {}

        def claim(label: str, owner: object, pos: _Pos, what: str) -> None:
            prev = owners.get(label)
            if prev is None:
                owners[label] = (owner, pos, what)
            elif prev[0] is not owner:
                raise LabelError(f"duplicate label '{label}' on {prev[2]} and {what}", pos.source())

        for node in self.live():
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

    def _explicit(self, node: _Node, name: str) -> int:
        prop = node.prop(name)
        if prop is None:
            return 0
        if len(prop.value) != 4:
            raise DtsError(f"bad length ({len(prop.value)}) '{name}' property", prop.pos.source())
        for ref in prop.refs:
            if ref.kind == _PHANDLE_REF:
                if _find_ref(self.root, ref.target, self.parser.index) is not node:
                    raise LabelError(f"'{name}' is a reference to another node", prop.pos.source())
                return 0
        value = int.from_bytes(prop.value, "big")
        if value in (0, 0xFFFFFFFF):
            raise DtsError(f"bad value (0x{value:x}) in '{name}' property", prop.pos.source())
        return value

    def explicit_phandles(self) -> None:
        owner: dict[int, _Node] = {}
        for node in self.live():
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

    def _phandle_of(self, node: _Node) -> int:
        if node.phandle:
            return node.phandle
        while self.next_phandle in self.used:
            self.next_phandle += 1
        node.phandle = self.next_phandle
        self.used.add(node.phandle)
        if node.prop("phandle") is None:
            node.props.append(_Prop("phandle", node.pos, bytearray(node.phandle.to_bytes(4, "big"))))
        return node.phandle

    def phandle_references(self) -> None:
        for node in self.live():
            for prop in node.props:
                if prop.deleted:
                    continue
                for ref in prop.refs:
                    if ref.kind != _PHANDLE_REF:
                        continue
                    target = _find_ref(self.root, ref.target, self.parser.index)
                    if target is None:
                        if self.parser.plugin:
                            continue
                        raise LabelError(f"reference to non-existent node or label '{ref.target}'",
                                         ref.pos.source())
                    value = self._phandle_of(target)
                    target.referenced = True
                    if not isinstance(prop.value, bytearray):
                        prop.value = bytearray(prop.value)
                    prop.value[ref.offset : ref.offset + 4] = value.to_bytes(4, "big")

    def path_references(self) -> None:
        """Insert the full path string of each ``&ref`` outside ``< >``; later offsets shift."""
        for node in self.live():
            for prop in node.live_props():
                if not any(r.kind == _PATH_REF for r in prop.refs):
                    continue
                old = bytes(prop.value)
                value = bytearray()
                copied = 0
                shift = 0
                for ref in prop.refs:
                    if ref.kind != _PATH_REF:
                        ref.offset += shift
                        continue
                    target = _find_ref(self.root, ref.target, self.parser.index)
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

    def overlay_fixups(self) -> tuple[list[tuple[str, str, _Ref]], list[tuple[_Node, str, int]]]:
        """A plugin's unresolved references (``__fixups__``) and resolved ones (``__local_fixups__``)."""
        unresolved: list[tuple[str, str, _Ref]] = []
        local: list[tuple[_Node, str, int]] = []
        for node in self.live():
            for prop in node.live_props():
                for ref in prop.refs:
                    if ref.kind != _PHANDLE_REF:
                        continue
                    if _find_ref(self.root, ref.target, self.parser.index) is None:
                        unresolved.append((ref.target, f"{node.path()}:{prop.name}:{ref.offset}", ref))
                    else:
                        local.append((node, prop.name, ref.offset))
        return unresolved, local


def _build_tree(parser: _Parser, resolver: _Resolver) -> Tree:
    tree = Tree(plugin=parser.plugin, warnings=list(parser.warnings), files=list(parser.files))
    for address, size, labels, pos in parser.memreserves:
        tree.memreserves.append(MemReserve(address, size, tuple(labels), pos.source()))
    root = resolver.root

    def convert(draft: _Node, node: Node) -> None:
        node.source = draft.pos.source()
        node.labels = [name for name, live in draft.labels.items() if live]
        for label in node.labels:
            tree.labels.setdefault(label, node)
        if draft.phandle:
            node.phandle = draft.phandle
            tree.phandles.setdefault(draft.phandle, node)
        props = node.properties
        for prop in draft.props:
            if not prop.deleted:
                labels = tuple(name for name, live in prop.labels.items() if live)
                props[prop.name] = Property(prop.name, bytes(prop.value), prop.pos.source(), labels)
        children = node.children
        for child in draft.children:
            if not child.deleted:
                sub = Node(child.name, parent=node)
                children[child.name] = sub
                convert(child, sub)

    convert(root, tree.root)
    if parser.plugin:
        _add_fixups(tree, *resolver.overlay_fixups())
    return tree


def _add_fixups(tree: Tree, unresolved: list[tuple[str, str, _Ref]],
                local: list[tuple[_Node, str, int]]) -> None:
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


def parse_text(text: str, filename: str = "<string>", include_dirs: Sequence[str | os.PathLike[str]] = (),
               base_dir: str | os.PathLike[str] | None = None) -> Tree:
    """Parse DTS ``text`` (already preprocessed, line markers allowed) into a :class:`Tree`.

    ``/include/`` and ``/incbin/`` are searched in ``base_dir`` (default: the directory of
    ``filename``, or the current directory) and then in ``include_dirs``.
    """
    dirs = [Path(d) for d in include_dirs]
    if base_dir is not None:
        base = Path(base_dir)
    elif filename and not filename.startswith("<"):
        base = Path(filename).parent
    else:
        base = Path.cwd()
    real = Path(filename).resolve() if filename and os.path.isfile(filename) else None
    parser = _Parser(text, filename, dirs, base, real)
    try:
        parser.parse()
        resolver = _Resolver(parser)
        resolver.run()
        tree = _build_tree(parser, resolver)
    except RecursionError:
        where = min(parser.pos, len(parser.text))
        raise parser.error_at("nodes or expressions nested too deeply", where) from None
    tree.warnings.extend(address_warnings(tree))
    return tree


def parse_dts(path: str | os.PathLike[str] | None = None, *, text: str | None = None,
              filename: str | None = None, include_dirs: Sequence[str | os.PathLike[str]] = (),
              cpp: str = "auto", defines: Sequence[str] = ()) -> Tree:
    """Parse a DTS file (through the C preprocessor) or DTS ``text`` into a :class:`Tree`.

    With ``path``, the file is preprocessed the way kbuild does (``include_dirs`` become
    ``-I`` directories and dtc ``-i`` directories). With ``text=``, the text is parsed as
    is (``filename`` names it in positions; GNU cpp line markers are honoured).
    ``cpp`` and ``defines`` are passed to :func:`memplan.dts.preprocess.preprocess`. The C
    preprocessor's warnings come first in ``tree.warnings``.
    """
    if (path is None) == (text is None):
        raise TypeError("parse_dts() takes either a path or text=, not both")
    if text is not None:
        return parse_text(text, filename or "<string>", include_dirs)
    assert path is not None
    from memplan.dts.preprocess import preprocess

    pre = preprocess(path, include_dirs=include_dirs, cpp=cpp, defines=defines)
    tree = parse_text(pre.text, filename or os.fspath(path), include_dirs,
                      base_dir=Path(os.fspath(path)).parent)
    tree.warnings[:0] = pre.diagnostics
    return tree
