"""Flattened device tree blobs: read a ``.dtb`` (or raw bytes) into a :class:`Tree`, write one back.

The writer lays the blob out the way ``dtc -I dts -O dtb -b 0`` does (version 17, last
compatible version 16, header, memory-reservation block, structure block, strings block,
strings shared by exact-suffix match), so a tree parsed from source produces the same bytes.

The blob (every integer big-endian)::

    blob    := header rsvmap struct strings
    header  := magic totalsize off_struct off_strings off_rsvmap version last_comp_version
               boot_cpuid size_strings size_struct                  (ten u32; magic 0xd00dfeed)
    rsvmap  := ( address:u64 size:u64 )* 0:u64 0:u64
    struct  := NOP* node NOP* END
    node    := BEGIN_NODE name NUL pad4 ( prop | node | NOP )* END_NODE
    prop    := PROP length:u32 name_offset:u32 value[length] pad4
    strings := ( name NUL )*

with the tokens BEGIN_NODE = 1, END_NODE = 2, PROP = 3, NOP = 4, END = 9 (u32 each). The
reader accepts versions 16 and later; anything malformed is a
:class:`~memplan.errors.DtbError` carrying the byte offset of the problem. The labels of a blob
compiled with ``-@`` are read back from its ``/__symbols__`` (:mod:`memplan.dts.bloblabels`).
"""

from __future__ import annotations

import os
import struct

from memplan.dts.blobchecks import check_blob_tree
from memplan.dts.bloblabels import labels_from_symbols
from memplan.dts.checks import address_warnings
from memplan.dts.depthcheck import unflatten_depth_warnings
from memplan.dts.tree import MemReserve, Node, Property, Tree, register_dtb_writer
from memplan.errors import DtbError
from memplan.source import Source

__all__ = ["FDT_MAGIC", "dtb_bytes", "read_dtb", "write_dtb"]

FDT_MAGIC = 0xD00DFEED
_BEGIN_NODE = 1
_END_NODE = 2
_PROP = 3
_NOP = 4
_END = 9
_HEADER = struct.Struct(">10I")
_HEADER_SIZE = 40
_U32 = struct.Struct(">I")
_RSV = struct.Struct(">QQ")
_PROP_HEAD = struct.Struct(">III")


def _pad4(n: int) -> int:
    return (n + 3) & ~3


def read_dtb(data: bytes | bytearray | str | os.PathLike[str], *, filename: str | None = None,
             checks: bool = True) -> Tree:
    """Read a flattened device tree from a file path or from raw bytes (e.g. ``/sys/firmware/fdt``).

    Raises :class:`~memplan.errors.DtbError` (with the byte offset) on a malformed blob, and,
    with ``checks`` (the default), where ``dtc -I dtb`` refuses the tree
    (:mod:`memplan.dts.blobchecks`). Overlays are read without them: libfdt judges those.
    """
    if isinstance(data, (bytes, bytearray)):
        blob = bytes(data)
        name = filename or "<dtb>"
    else:
        name = filename or os.fspath(data)
        with open(data, "rb") as fh:
            blob = fh.read()
    return _Reader(blob, name, checks).read()


class _Reader:
    def __init__(self, blob: bytes, name: str, checks: bool = True) -> None:
        self.blob = blob
        self.name = name
        self.checks = checks

    def _src(self, offset: int) -> Source:
        return Source("dtb", file=self.name, offset=offset)

    def _fail(self, message: str, offset: int) -> DtbError:
        return DtbError(message, self._src(offset))

    def read(self) -> Tree:
        blob = self.blob
        if len(blob) < _HEADER_SIZE:
            raise self._fail(f"blob too short for a header ({len(blob)} bytes)", 0)
        (magic, total, off_struct, off_strings, off_rsv, version, _last, boot_cpuid, size_strings,
         size_struct) = _HEADER.unpack_from(blob, 0)
        if magic != FDT_MAGIC:
            raise self._fail(f"bad magic 0x{magic:08x} (expected 0x{FDT_MAGIC:08x})", 0)
        if version < 16:
            raise self._fail(f"unsupported blob version {version} (need 16 or later)", 20)
        if total > len(blob):
            raise self._fail(f"header totalsize {total} exceeds the {len(blob)} bytes given", 4)
        if version < 17:
            size_struct = total - off_struct
        for what, off, size in (("structure", off_struct, size_struct), ("strings", off_strings,
                                                                          size_strings)):
            if off + size > total:
                raise self._fail(f"{what} block [{off}, {off + size}) outside the blob", 8)
        tree = Tree(boot_cpuid=boot_cpuid, filename=self.name)
        self._read_rsvmap(tree, off_rsv, total)
        strings = blob[off_strings : off_strings + size_strings]
        self._read_struct(tree, off_struct, off_struct + size_struct, strings)
        if self.checks:
            check_blob_tree(tree)
        tree.rebuild_tables()
        tree.warnings.extend(labels_from_symbols(tree))
        tree.warnings.extend(address_warnings(tree))
        tree.warnings.extend(unflatten_depth_warnings(tree))
        return tree

    def _read_rsvmap(self, tree: Tree, pos: int, end: int) -> None:
        while True:
            if pos + 16 > end:
                raise self._fail("memory reservation block has no terminating entry", pos)
            address, size = _RSV.unpack_from(self.blob, pos)
            if address == 0 and size == 0:
                return
            tree.memreserves.append(MemReserve(address, size, source=self._src(pos)))
            pos += 16

    def _cstring(self, pos: int, end: int) -> tuple[str, int]:
        nul = self.blob.find(b"\0", pos, end)
        if nul < 0:
            raise self._fail("unterminated node name", pos)
        return self.blob[pos:nul].decode("utf-8", errors="surrogateescape"), nul + 1

    def _read_struct(self, tree: Tree, pos: int, end: int, strings: bytes) -> None:
        blob = self.blob
        stack: list[Node] = []
        node: Node | None = None
        root_done = False
        names: dict[int, str] = {}
        while pos + 4 <= end:
            token_at = pos
            (token,) = _U32.unpack_from(blob, pos)
            pos += 4
            if token == _BEGIN_NODE:
                name, after = self._cstring(pos, end)
                pos = _pad4(after)
                if node is None:
                    if root_done:
                        raise self._fail("more than one root node", token_at)
                    root_done = True
                    node = tree.root
                    node.name = name
                    node.source = self._src(token_at)
                    stack.append(node)
                    continue
                if name in node.children:
                    raise self._fail(f"duplicate node name '{name}' under {node.path}", token_at)
                child = Node(name, parent=node, source=self._src(token_at))
                node.children[name] = child
                stack.append(child)
                node = child
            elif token == _END_NODE:
                if not stack:
                    raise self._fail("unbalanced end of node", token_at)
                stack.pop()
                node = stack[-1] if stack else None
            elif token == _PROP:
                if node is None:
                    raise self._fail("property outside any node", token_at)
                if pos + 8 > end:
                    raise self._fail("truncated property header", token_at)
                _, length, nameoff = _PROP_HEAD.unpack_from(blob, token_at)
                pos += 8
                if pos + length > end:
                    raise self._fail("property value runs past the structure block", token_at)
                pname = names.get(nameoff)
                if pname is None:
                    nul = strings.find(b"\0", nameoff)
                    if nameoff >= len(strings) or nul < 0:
                        raise self._fail(f"property name offset {nameoff} outside the strings block",
                                         token_at)
                    pname = strings[nameoff:nul].decode("utf-8", errors="surrogateescape")
                    names[nameoff] = pname
                if pname in node.properties:
                    raise self._fail(f"duplicate property name '{pname}' in {node.path}", token_at)
                node.properties[pname] = Property(pname, blob[pos : pos + length], self._src(token_at))
                pos = _pad4(pos + length)
            elif token == _NOP:
                continue
            elif token == _END:
                if stack:
                    raise self._fail("end of structure block inside a node", token_at)
                return
            else:
                raise self._fail(f"unknown structure token 0x{token:x}", token_at)
        raise self._fail("structure block ends without FDT_END", pos)


#: Names up to this many bytes (NUL included) have their suffixes indexed in the string table.
_INDEXED_NAME = 64


class StringTable:
    """The blob's strings block, built as dtc builds it: a name reuses the first place where it
    (with its NUL) already occurs in the table, else it is appended.

    Such a place always ends at a NUL, so it is a suffix of a stored name. Every suffix of up to
    :data:`_INDEXED_NAME` bytes is indexed as its name is stored (earliest first), so a lookup
    is a dict hit instead of a scan of the whole table (which is quadratic with 100,000
    distinct names); a longer name is still found by a scan.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self._offsets: dict[str, int] = {}
        self._suffixes: dict[bytes, int] = {}

    def offset(self, name: str) -> int:
        """The offset of ``name`` in the table, storing it first when needed."""
        off = self._offsets.get(name)
        if off is not None:
            return off
        raw = name.encode("utf-8", errors="surrogateescape") + b"\0"
        off = self._suffixes.get(raw, -1) if len(raw) <= _INDEXED_NAME else self.data.find(raw)
        if off < 0:
            off = len(self.data)
            self.data.extend(raw)
            for k in range(max(0, len(raw) - _INDEXED_NAME), len(raw)):
                self._suffixes.setdefault(raw[k:], off + k)
        self._offsets[name] = off
        return off


def dtb_bytes(tree: Tree, *, boot_cpuid: int | None = None) -> bytes:
    """Serialise ``tree`` as a version-17 flattened device tree blob, byte-compatible with dtc."""
    table = StringTable()
    string_offset = table.offset
    strings = table.data

    out = bytearray()
    pack_u32 = _U32.pack
    pack_prop = _PROP_HEAD.pack

    # pre-order with an explicit stack (any depth, as the reader reads any depth): a node, or
    # None for the END_NODE that closes the node opened before its children
    todo: list[Node | None] = [tree.root]
    while todo:
        node = todo.pop()
        if node is None:
            out.extend(pack_u32(_END_NODE))
            continue
        raw = node.name.encode("utf-8", errors="surrogateescape")
        out.extend(pack_u32(_BEGIN_NODE))
        out.extend(raw)
        out.extend(b"\0" * (_pad4(len(raw) + 1) - len(raw)))
        for prop in node.properties.values():
            value = prop.value
            out.extend(pack_prop(_PROP, len(value), string_offset(prop.name)))
            out.extend(value)
            if len(value) & 3:
                out.extend(b"\0" * (4 - (len(value) & 3)))
        todo.append(None)
        todo.extend(reversed(node.children.values()))
    out.extend(pack_u32(_END))
    rsv = bytearray()
    for entry in tree.memreserves:
        rsv.extend(_RSV.pack(entry.address, entry.size))
    rsv.extend(_RSV.pack(0, 0))
    off_rsv = _HEADER_SIZE
    off_struct = off_rsv + len(rsv)
    off_strings = off_struct + len(out)
    total = off_strings + len(strings)
    cpuid = tree.boot_cpuid if boot_cpuid is None else boot_cpuid
    header = _HEADER.pack(FDT_MAGIC, total, off_struct, off_strings, off_rsv, 17, 16, cpuid,
                          len(strings), len(out))
    return bytes(header + rsv + out + strings)


def write_dtb(tree: Tree, path: str | os.PathLike[str]) -> None:
    """Write ``tree`` to ``path`` as a ``.dtb``."""
    with open(path, "wb") as fh:
        fh.write(dtb_bytes(tree))


register_dtb_writer(dtb_bytes)
