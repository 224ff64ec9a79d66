"""DTB reading and writing: byte-exact round trips against dtc, and malformed blobs."""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memplan.dts import MemReserve, Node, Property, Tree, parse_text, read_dtb, write_dtb
from memplan.dts.dtb import FDT_MAGIC
from memplan.errors import DtbError

H = "/dts-v1/;\n"
SAMPLE = H + """/memreserve/ 0x10000000 0x4000;
/memreserve/ 0x20000000 0x100;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	model = "test board";
	compatible = "vendor,board", "vendor,soc";
	memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x80000000>; };
	reserved-memory {
		#address-cells = <2>; #size-cells = <2>; ranges;
		cma: linux,cma { compatible = "shared-dma-pool"; reusable; size = <0 0x4000000>; linux,cma-default; };
	};
	dev { memory-region = <&cma>; blob = [de ad be ef 01]; name-suffix-test; test = <1>; };
};
"""


def test_read_dtc_output_and_write_identical_bytes(dtc_dtb: Callable[..., bytes]) -> None:
    blob = dtc_dtb(SAMPLE)
    tree = read_dtb(blob)
    assert tree.to_dtb() == blob
    assert [(m.address, m.size) for m in tree.memreserves] == [(0x10000000, 0x4000), (0x20000000, 0x100)]
    cma = tree.node("/reserved-memory/linux,cma")
    assert cma.phandle == 1 and tree.phandles[1] is cma
    assert tree.node("/dev").properties["memory-region"].as_phandles() == [1]
    assert tree.node("/dev").properties["blob"].value == bytes.fromhex("deadbeef01")
    assert tree.root.properties["compatible"].as_strings() == ["vendor,board", "vendor,soc"]
    src = cma.properties["size"].source
    assert src.kind == "dtb" and src.offset is not None and src.offset > 40


def test_parsed_source_and_dtc_blob_give_the_same_tree(dtc_dtb: Callable[..., bytes]) -> None:
    parsed = parse_text(SAMPLE, "s.dts")
    assert parsed.to_dtb() == dtc_dtb(SAMPLE)


def test_written_blob_decompiles_like_dtcs_own(tmp_path: Path, dtc_dtb: Callable[..., bytes]) -> None:
    dtc = shutil.which("dtc")
    assert dtc is not None
    ours = tmp_path / "ours.dtb"
    write_dtb(parse_text(SAMPLE, "s.dts"), ours)
    theirs = tmp_path / "theirs.dtb"
    theirs.write_bytes(dtc_dtb(SAMPLE))

    def decompile(path: Path) -> str:
        cmd = [dtc, "-q", "-I", "dtb", "-O", "dts", str(path)]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    assert decompile(ours) == decompile(theirs)
    assert read_dtb(ours).node("/memory@40000000").properties["reg"].as_int(2) == [0x40000000, 0x80000000]


def test_string_table_shares_suffixes() -> None:
    tree = Tree()
    tree.root.properties["linux,phandle"] = Property("linux,phandle", b"\0\0\0\1")
    tree.root.properties["phandle"] = Property("phandle", b"\0\0\0\1")
    blob = tree.to_dtb()
    size_strings = struct.unpack_from(">I", blob, 32)[0]
    assert size_strings == len(b"linux,phandle\0")
    assert read_dtb(blob).root.properties["phandle"].as_u32() == 1


def test_header_layout() -> None:
    blob = Tree(memreserves=[MemReserve(0x1000, 0x2000)]).to_dtb()
    magic, total, off_struct, off_strings, off_rsv, version, last, cpuid, size_strings, size_struct = (
        struct.unpack_from(">10I", blob, 0))
    assert (magic, version, last, cpuid, off_rsv) == (FDT_MAGIC, 17, 16, 0, 40)
    assert off_struct == 40 + 2 * 16
    assert total == len(blob) == off_strings + size_strings
    assert off_strings == off_struct + size_struct


def _blob(*, magic: int = FDT_MAGIC, version: int = 17, tokens: bytes | None = None,
          strings: bytes = b"") -> bytes:
    struct_block = tokens if tokens is not None else struct.pack(">II", 1, 0) + struct.pack(">II", 2, 9)
    off_struct = 40 + 16
    off_strings = off_struct + len(struct_block)
    total = off_strings + len(strings)
    header = struct.pack(">10I", magic, total, off_struct, off_strings, 40, version, 16, 0, len(strings),
                         len(struct_block))
    return header + bytes(16) + struct_block + strings


def test_minimal_handmade_blob_reads() -> None:
    tree = read_dtb(_blob())
    assert tree.root.children == {} and tree.root.properties == {}


@pytest.mark.parametrize(
    ("blob", "message", "offset"),
    [
        (b"\xd0\x0d", "too short", 0),
        (_blob(magic=0x12345678), "bad magic 0x12345678", 0),
        (_blob(version=3), "unsupported blob version 3", 20),
        (_blob(tokens=struct.pack(">II", 1, 0) + struct.pack(">I", 7)), "unknown structure token 0x7", 64),
        (_blob(tokens=struct.pack(">II", 1, 0) + struct.pack(">III", 3, 0, 50) + struct.pack(">II", 2, 9)),
         "outside the strings block", 64),
        (_blob(tokens=struct.pack(">II", 1, 0) + struct.pack(">I", 9)), "inside a node", 64),
        (_blob(tokens=struct.pack(">II", 1, 0)), "without FDT_END", 64),
    ],
)
def test_malformed_blobs(blob: bytes, message: str, offset: int) -> None:
    with pytest.raises(DtbError) as info:
        read_dtb(blob, filename="bad.dtb")
    assert message in info.value.message
    assert info.value.source is not None and info.value.source.offset == offset
    assert str(info.value).startswith(f"bad.dtb+0x{offset:x}: ")


@pytest.mark.skipif(shutil.which("dtc") is None, reason="no dtc")
def test_blob_deeper_than_any_dts_block_is_read_as_dtc_reads_it(tmp_path: Path) -> None:
    """dtc -I dtb reads blobs far deeper than its DTS parser builds in one block (3,330 levels)."""
    levels = 5_000
    tokens = struct.pack(">II", 1, 0) + struct.pack(">II", 1, 0x61000000) * levels
    tokens += struct.pack(">I", 2) * (levels + 1) + struct.pack(">I", 9)
    blob = _blob(tokens=tokens)
    path = tmp_path / "deep.dtb"
    path.write_bytes(blob)
    res = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dtb", str(path)], capture_output=True, check=False)
    assert res.returncode == 0, res.stderr
    tree = read_dtb(blob)
    assert sum(1 for _ in tree.walk()) == levels + 1
    assert tree.to_dtb() == res.stdout


def test_truncated_real_blob(dtc_dtb: Callable[..., bytes]) -> None:
    blob = dtc_dtb(SAMPLE)
    with pytest.raises(DtbError, match="exceeds"):
        read_dtb(blob[:-10])


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789,-_", min_size=1, max_size=12)
_CHECKED_PROPERTIES = frozenset({"name", "phandle", "linux,phandle"})


@st.composite
def _trees(draw: st.DrawFn) -> Tree:
    tree = Tree()
    nodes = [tree.root]
    for _ in range(draw(st.integers(0, 12))):
        parent = draw(st.sampled_from(nodes))
        name = draw(_names)
        if name not in parent.children:
            nodes.append(parent.add_child(name))
    for node in nodes:
        for _ in range(draw(st.integers(0, 4))):
            # name/phandle values are judged by dtc's blob checks (tests/dts/test_dts_parity.py)
            pname = draw(_names.filter(lambda n: n not in _CHECKED_PROPERTIES))
            node.properties[pname] = Property(pname, draw(st.binary(max_size=20)))
    tree.memreserves = [MemReserve(a, s) for a, s in draw(st.lists(
        st.tuples(st.integers(1, 2**64 - 1), st.integers(0, 2**64 - 1)), max_size=3))]
    return tree


def _shape(node: Node) -> object:
    return (node.name, [(p.name, p.value) for p in node.properties.values()],
            [_shape(c) for c in node.children.values()])


@settings(max_examples=60, deadline=None)
@given(_trees())
def test_write_read_round_trip(tree: Tree) -> None:
    blob = tree.to_dtb()
    back = read_dtb(blob)
    assert _shape(back.root) == _shape(tree.root)
    assert [(m.address, m.size) for m in back.memreserves] == [(m.address, m.size) for m in tree.memreserves]
    assert back.to_dtb() == blob
