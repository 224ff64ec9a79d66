"""Top-level blocks parsed once per process and replayed when the same text comes again.

A lint parses hundreds of boards in a few processes, in path order: neighbouring boards include
the same SoC ``.dtsi`` files through the same chain, so most of their preprocessed text is made
of the very same top-level blocks (``/ { ... };``, ``&label { ... };``), often at another
offset. What the parser builds for such a block (:meth:`memplan.dts.parser.Parser.nodedef`: a
fresh draft subtree, before it is merged into the tree) depends only on

* the block's text, from the cursor after the ``/`` or the reference to the ``;`` after its
  ``}`` (its positions are offsets into that text),
* the count of dtc's parser stack at its start (which decides where dtc's stack would
  overflow), and the dtc version's rules (one :class:`BlockCache` per parser setting);

so once parsed it is kept as a :class:`Block` -- nodes, properties, values, references, labels
and deletion markers, positions as offsets from the block's start -- and the next time that
text stands at the cursor, :func:`replay` builds the same draft subtree again (new objects, the
positions in the current text's source map, the labels registered in the parser's label index
in the order the parse registers them), which costs about a quarter of parsing it. Merging it,
``/delete-node/``, label and reference resolution then run as for a parsed block.

Nothing is kept for a block whose parse raised, warned, read another file (``/include/``,
``/incbin/``) or reached past its own text. The cache is bounded (:data:`MAX_TEXT` characters
of block text, least recently used blocks dropped first) and lives only as long as the
process: a cold run parses everything.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from sys import intern

from memplan.dts.draft import NO_LABELS, DraftNode, DraftProp, LabelIndex, Pos, Ref
from memplan.dts.lexer import SourceMap
from memplan.source import LazySource

__all__ = ["MAX_TEXT", "MIN_TEXT", "Block", "BlockCache", "ExprMemo", "cache_for", "clear", "paused",
           "record", "replay"]

#: Most characters of block text one :class:`BlockCache` keeps (the structures kept take about 8
#: bytes a character: some 16 MB). Boards come in path order, so the blocks a board can reuse are
#: those of the last few boards: on Linux 6.12's arm64 boards, one lint worker's boards replay 66.5 %
#: of their text with 1,000,000 and the same with 16,000,000 (63 % with 250,000).
MAX_TEXT = 2_000_000
#: Blocks shorter than this are parsed each time (their parse costs about what a lookup does).
MIN_TEXT = 48
#: Characters of text at the cursor that make the lookup key (cut after the first ``};`` in it,
#: so a short block's key does not depend on the text after it).
KEY_TEXT = 64
#: Most blocks :meth:`BlockCache.worth_keeping` remembers as met once (all forgotten when full).
MAX_ONCE = 65536
#: Blocks kept under one key (different blocks with the same first characters).
PER_KEY = 4

_new = object.__new__
_set_state = object.__setattr__

#: A property: name, position, value, deleted, labels, references (kind, offset, target,
#: position), value labels (label, position); positions as offsets from the block's start.
#: A plain property (not deleted, no labels or references) is kept as its first three.
_PropRec = (tuple[str, int, bytes]
            | tuple[str, int, bytes, bool, tuple[str, ...], tuple[tuple[int, int, str, int], ...],
                    tuple[tuple[str, int], ...]])
#: A node (pre-order): name, position, deleted, omitted, index of its parent (-1: the block's
#: own node), properties, labels, label positions.
_NodeRec = tuple[str, int, bool, bool, int, tuple[_PropRec, ...], tuple[str, ...],
                 tuple[tuple[str, int], ...]]


class Block:
    """What parsing one top-level block built, to be built again by :func:`replay`."""

    __slots__ = ("labelled", "nodes", "sp_out", "text")

    def __init__(self, text: str, nodes: tuple[_NodeRec, ...], labelled: tuple[int, ...],
                 sp_out: int) -> None:
        #: the block's text from the cursor at its start through the ';' after its '}'
        self.text = text
        self.nodes = nodes
        #: the nodes (indices into ``nodes``) with labels, in the order the parse registered them
        self.labelled = labelled
        #: dtc's parser stack count after the block, relative to before it
        self.sp_out = sp_out


def block_key(text: str, pos: int) -> str:
    """The lookup key of the block that would start at ``pos``: its first characters (up to
    :data:`KEY_TEXT`, through the first ``};`` among them)."""
    end = pos + KEY_TEXT
    close = text.find("};", pos, end)
    return text[pos : close + 2 if close >= 0 else end]


class BlockCache:
    """The blocks of one parser setting (key: :func:`block_key` and the stack count at the
    start), least recently used first, at most :data:`MAX_TEXT` characters of text in all."""

    __slots__ = ("_blocks", "_once", "_size", "exprs", "hits", "limit", "replayed")

    def __init__(self, limit: int = MAX_TEXT) -> None:
        self._blocks: OrderedDict[tuple[str, int], list[Block]] = OrderedDict()
        self._size = 0
        self.limit = limit
        #: the plain ``( expr )`` cells read so far (:class:`ExprMemo`)
        self.exprs = ExprMemo()
        #: the blocks of a board's own file parsed once and not kept (:meth:`worth_keeping`):
        #: hashes of their text and stack count
        self._once: set[int] = set()
        #: blocks found (replayed) so far, and their characters
        self.hits = 0
        self.replayed = 0

    def __len__(self) -> int:
        return sum(len(blocks) for blocks in self._blocks.values())

    @property
    def size(self) -> int:
        """Characters of block text kept."""
        return self._size

    def find(self, text: str, pos: int, sp: int) -> Block | None:
        """The block whose text stands at ``pos`` of ``text`` and was parsed at stack count ``sp``."""
        key = (block_key(text, pos), sp)
        blocks = self._blocks.get(key)
        if blocks is None:
            return None
        for block in blocks:
            # (a block is a whole grammar item, so two that differ differ within the shorter)
            if text.startswith(block.text, pos):
                self._blocks.move_to_end(key)
                self.hits += 1
                self.replayed += len(block.text)
                return block
        return None

    def worth_keeping(self, smap: SourceMap, start: int, end: int, sp: int) -> bool:
        """Whether the block just parsed from ``start`` to ``end`` of ``smap``'s text (at stack
        count ``sp``) is to be kept. A block of an included file is (the next boards are likely
        to include that file too); a block of the parsed file itself only when it is met the
        second time: a lint reads each board file once, and most of their blocks never come
        again (those that do -- a board file another board includes -- are kept then)."""
        if not smap.in_main_file(start):
            return True
        key = hash((smap.text[start:end], sp))
        once = self._once
        if key in once:
            once.discard(key)
            return True
        if len(once) >= MAX_ONCE:
            once.clear()
        once.add(key)
        return False

    def add(self, text: str, pos: int, sp: int, block: Block) -> None:
        """Keep ``block``, parsed at ``pos`` of ``text`` with stack count ``sp``."""
        size = len(block.text)
        if size > self.limit:
            return
        key = (block_key(text, pos), sp)
        blocks = self._blocks.setdefault(key, [])
        self._blocks.move_to_end(key)
        blocks.insert(0, block)
        self._size += size
        if len(blocks) > PER_KEY:
            self._size -= len(blocks.pop().text)
        while self._size > self.limit:
            _, dropped = self._blocks.popitem(last=False)
            self._size -= sum(len(b.text) for b in dropped)


class ExprMemo:
    """The plain parenthesised expressions in cells read so far (``(1 << 4)``, ``(((97) << 8) |
    2)``: the same few come again and again across a lint's boards) and what reading each gave.

    Such an expression's value, where it ends and how it moves dtc's parser stack depend only on
    its own text (from its ``(`` through the matching ``)``: numbers, operators, parentheses and
    blanks, nothing after it read), so a text seen before is answered from here when it stands
    at the cursor again and dtc's stack has room for the deepest point its reading reached.
    Bounded: texts up to :data:`EXPR_TEXT` characters, at most :data:`MAX_EXPRS` of them, all
    dropped when full."""

    __slots__ = ("_found", "hits")

    def __init__(self) -> None:
        #: text -> (value, stack change, deepest stack reached; both relative to the start)
        self._found: dict[str, tuple[int, int, int]] = {}
        #: expressions answered from here so far
        self.hits = 0

    def __len__(self) -> int:
        return len(self._found)

    def find(self, text: str, pos: int, room: int) -> tuple[int, int, int] | None:
        """``(end, value, stack change)`` of the expression whose ``(`` is at ``pos`` of
        ``text``, when it was read before and its deepest point fits in the ``room`` left on
        dtc's stack; else ``None``.

        (Its text is cut at the ``)`` that balances the ``(``: a text read before is a whole
        expression, so the text at ``pos`` that equals one is read exactly as that one was.)"""
        end = _balanced_end(text, pos)
        if end < 0:
            return None
        found = self._found.get(text[pos:end])
        if found is None or found[2] > room:
            return None
        self.hits += 1
        return end, found[0], found[1]

    def add(self, text: str, pos: int, end: int, value: int, sp_change: int, peak: int) -> None:
        """Keep what reading ``text[pos:end]`` gave."""
        if end - pos > EXPR_TEXT:
            return
        found = self._found
        if len(found) >= MAX_EXPRS:
            found.clear()
        found[text[pos:end]] = (value, sp_change, peak)


#: Most expressions one :class:`ExprMemo` keeps.
MAX_EXPRS = 4096
#: Longest expression text one :class:`ExprMemo` keeps (and looks for).
EXPR_TEXT = 256


def _balanced_end(text: str, pos: int) -> int:
    """The offset after the ``)`` that balances the ``(`` at ``pos``, within :data:`EXPR_TEXT`
    characters (-1: none there)."""
    limit = pos + EXPR_TEXT
    find = text.find
    depth = 0
    at = pos
    while True:
        close = find(")", at, limit)
        if close < 0:
            return -1
        opened = find("(", at, close)
        if opened >= 0:
            depth += 1
            at = opened + 1
            continue
        depth -= 1
        at = close + 1
        if depth == 0:
            return at


#: The caches of this process, by the one parser setting that changes what a block parses to
#: (dtc >= 1.7's truncation of out-of-range cells).
_CACHES: dict[bool, BlockCache] = {}
_PAUSED: list[bool] = []


def cache_for(truncate_cells: bool) -> BlockCache | None:
    """The cache of parsers with this setting (``None`` while :func:`paused`)."""
    if _PAUSED:
        return None
    cache = _CACHES.get(truncate_cells)
    if cache is None:
        cache = _CACHES[truncate_cells] = BlockCache()
    return cache


@contextmanager
def paused() -> Iterator[None]:
    """Parse everything, replay and keep nothing, while inside (for comparisons and benchmarks)."""
    _PAUSED.append(True)
    try:
        yield
    finally:
        _PAUSED.pop()


def clear() -> None:
    """Drop every block kept (the next parses are cold)."""
    _CACHES.clear()


def record(top: DraftNode, text: str, start: int, end: int, smap: SourceMap, sp_change: int) -> Block | None:
    """The :class:`Block` of the subtree ``top`` the parser just built from ``text[start:end]``
    (every position in ``smap``), or ``None`` when something in it cannot be replayed (a
    position in another text, one already read, a label no longer live).

    (The walk and a plain property's record written out: a block has many properties.)"""
    records: list[_NodeRec] = []
    todo: list[tuple[DraftNode, int]] = [(top, -1)]
    pop = todo.pop
    push = todo.append
    while todo:
        node, parent = pop()
        where = _offset(node.pos, smap, start) if parent >= 0 else 0  # (the top's: see replay())
        if where is None or (node.labels and not all(node.labels.values())):
            return None
        props: list[_PropRec] = []
        for prop in node.props:
            if prop.deleted or prop.labels or prop.refs or prop.value_labels:
                rec = _prop_record(prop, smap, start)
                if rec is None:
                    return None
                props.append(rec)
                continue
            # a plain property, the common case (_prop_record written out)
            state = prop.pos._state
            if len(state) != 2 or state[0] is not smap:
                return None
            # (property names repeat: one string for all of them)
            props.append((intern(prop.name), state[1] - start, bytes(prop.value)))
        label_pos = []
        for label, lpos in node.label_pos.items():
            at = _offset(lpos, smap, start)
            if at is None:
                return None
            label_pos.append((label, at))
        index = len(records)
        records.append((intern(node.name), where, node.deleted, node.omit, parent, tuple(props),
                        tuple(node.labels), tuple(label_pos)))
        children = node.children
        for i in range(len(children) - 1, -1, -1):
            push((children[i], index))
    labelled = tuple(i for i in _post_order(records) if records[i][6])
    return Block(text[start:end], tuple(records), labelled, sp_change)


def _post_order(records: list[_NodeRec]) -> list[int]:
    """The indices of ``records`` (a pre-order) in post-order: the order in which the parser
    finishes the nodes (and registers their labels)."""
    out: list[int] = []
    open_: list[int] = []  # the chain of ancestors of the current node
    for i, rec in enumerate(records):
        parent = rec[4]
        while open_ and open_[-1] != parent:
            out.append(open_.pop())
        open_.append(i)
    out.extend(reversed(open_))
    return out


def _offset(pos: Pos, smap: SourceMap, start: int) -> int | None:
    state = pos._state
    if len(state) != 2 or state[0] is not smap:
        return None
    offset = state[1]
    assert isinstance(offset, int)
    return offset - start


def _prop_record(prop: DraftProp, smap: SourceMap, start: int) -> _PropRec | None:
    where = _offset(prop.pos, smap, start)
    if where is None or not all(prop.labels.values()):
        return None
    name = intern(prop.name)  # (property names repeat: one string for all of them)
    if not (prop.deleted or prop.labels or prop.refs or prop.value_labels):
        return name, where, bytes(prop.value)  # a plain property, the common case
    refs = []
    for ref in prop.refs:
        at = _offset(ref.pos, smap, start)
        if at is None:
            return None
        refs.append((ref.kind, ref.offset, ref.target, at))
    value_labels = []
    for label, lpos in prop.value_labels:
        at = _offset(lpos, smap, start)
        if at is None:
            return None
        value_labels.append((label, at))
    return (name, where, bytes(prop.value), prop.deleted, tuple(prop.labels), tuple(refs),
            tuple(value_labels))


def replay(block: Block, smap: SourceMap, start: int, top: Pos, made: list[DraftNode],
           index: LabelIndex) -> DraftNode:
    """Build ``block``'s subtree again for the text at ``start`` of ``smap``'s text: the same
    nodes, properties, values, references and labels the parse builds, positions in ``smap``
    (``top``: the block's own node's, which is where its ``/`` or reference stands, not part
    of the block's text); every node appended to ``made`` and the labels registered in
    ``index``, in the parse's order. Returns the block's own node.

    (One loop, the objects made as their constructors make them, written out: this is the
    whole cost of a replayed block.)"""
    new = _new
    set_pos = _POS_STATE
    nodes: list[DraftNode] = []
    append = nodes.append
    for name, where, deleted, omit, parent, props, _labels, label_pos in block.nodes:
        if parent >= 0:
            pos: Pos = new(Pos)
            set_pos(pos, (smap, start + where))
        else:
            pos = top
        node = DraftNode(name, pos, deleted)
        if omit:
            node.omit = True
        if label_pos:
            positions = {}
            for label, at in label_pos:
                lpos: Pos = new(Pos)
                set_pos(lpos, (smap, start + at))
                positions[label] = lpos
            node.label_pos = positions
        if props:
            kept = node.props
            for rec in props:
                ppos: Pos = new(Pos)
                set_pos(ppos, (smap, start + rec[1]))
                if len(rec) == 3:  # a plain property (DraftProp(name, pos, value) written out)
                    prop = new(DraftProp)
                    prop.name = rec[0]
                    prop.pos = ppos
                    prop.value = rec[2]
                    prop.refs = ()
                    prop.labels = NO_LABELS
                    prop.value_labels = ()
                    prop.deleted = False
                    kept.append(prop)
                    continue
                pname, _, value, pdeleted, plabels, refs, value_labels = rec
                prop = DraftProp(pname, ppos, value, pdeleted)
                if plabels:
                    prop.labels = dict.fromkeys(plabels, True)
                if refs:
                    made_refs = []
                    for kind, offset, target, at in refs:
                        rpos: Pos = new(Pos)
                        set_pos(rpos, (smap, start + at))
                        made_refs.append(Ref(kind, offset, target, rpos))
                    prop.refs = made_refs
                if value_labels:
                    prop.value_labels = [(label, _pos(smap, start + at)) for label, at in value_labels]
                kept.append(prop)
        if parent >= 0:
            owner = nodes[parent]
            node.parent = owner
            owner.children.append(node)
        append(node)
    made.extend(nodes)
    # the labels, as the parse registers them (LabelIndex.add written out for a new node: its
    # labels in the order the parse gives them, each node listed once under each of them)
    records = block.nodes
    owners = index.nodes
    for i in block.labelled:
        node = nodes[i]
        labels = records[i][6]
        node.labels = dict.fromkeys(labels, True)
        for label in reversed(labels):
            listed = owners.get(label)
            if listed is None:
                owners[label] = [node]
            else:
                listed.append(node)
    return nodes[0]


#: Sets a position's state (the slot's own setter: cheaper than ``object.__setattr__``).
_POS_STATE = LazySource.__dict__["_state"].__set__


def _pos(smap: SourceMap, offset: int) -> Pos:
    pos: Pos = _new(Pos)
    _POS_STATE(pos, (smap, offset))
    return pos
