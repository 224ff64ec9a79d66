"""dtc parity beyond the corpus, judged by dtc at test time.

Array elements out of range, the name and phandle checks dtc applies to a ``.dtb`` input, and
a blob whose root node has a name. Every input is written here; dtc decides what is right.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from memplan.cli import main
from memplan.dts import parse_text, read_dtb
from memplan.errors import DtbError, DtsSyntaxError

DTC = shutil.which("dtc")
needs_dtc = pytest.mark.skipif(DTC is None, reason="dtc is not installed")

# values whose top bits are neither all clear nor all set are out of range; negatives that fit are fine
ARRAY_VALUES = [
    "< 0x100000000 >",
    "/bits/ 16 < 0x10000 >",
    "/bits/ 8 <256>",
    "< (-0xffffffff - 2) >",
    "< (-0xffffffff - 1) >",
    "< (-0xffffffff) >",
    "< (-1) >",
    "/bits/ 8 <(-1)>",
    "/bits/ 8 <(-256)>",
    "/bits/ 8 <(-257)>",
    "/bits/ 8 <0xff 0x1ff>",
    "/bits/ 16 <(-0x10000)>",
    "/bits/ 16 <(-0x10001)>",
    "/bits/ 16 <(0xffffffffffff8000)>",
    "/bits/ 16 <(0xfffffffffffe0000)>",
    "/bits/ 64 <0xffffffffffffffff (-1)>",
    "<(0xffffffffffffffff + 1)>",
    "< 1 2 (0x100000000 | 5) >",
    "/bits/ 32 <0xffffffff 0x1ffffffff>",
    "< 'a' (~0) >",
    "< (1 ? 0x100000000 : 0) >",
]


def _dtc(src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert DTC is not None
    return subprocess.run([DTC, *args, str(src)], capture_output=True, text=True, check=False, cwd=src.parent)


@needs_dtc
@pytest.mark.parametrize("value", ARRAY_VALUES)
def test_array_element_range_matches_dtc(value: str, tmp_path: Path) -> None:
    text = f"/dts-v1/;\n/ {{\n\tp = {value};\n}};\n"
    src = tmp_path / "t.dts"
    src.write_text(text)
    res = _dtc(src, "-q", "-I", "dts", "-O", "dtb", "-b", "0", "-o", str(tmp_path / "t.dtb"))
    if res.returncode == 0:
        assert parse_text(text, str(src)).to_dtb() == (tmp_path / "t.dtb").read_bytes()
        return
    found = re.search(r":(\d+)\.(\d+)-\d+ Value out of range for (\d+)-bit array element", res.stderr)
    assert found is not None, res.stderr
    with pytest.raises(DtsSyntaxError) as err:
        parse_text(text, str(src))
    assert err.value.message == f"Value out of range for {found.group(3)}-bit array element"
    assert err.value.source is not None
    assert (err.value.source.line, err.value.source.column) == (int(found.group(1)), int(found.group(2)))


# ---------------------------------------------------------------------------- blobs built by hand

def _blob(root: str, nodes: list[tuple[str, list[tuple[str, bytes]]]]) -> bytes:
    """A version-17 blob: the root called ``root`` with these children (each with properties);
    property names go through the strings block as written (no validation)."""
    strings = bytearray()
    offsets: dict[str, int] = {}
    body = bytearray()

    def name(text: str) -> None:
        raw = text.encode() + b"\0"
        body.extend(struct.pack(">I", 1) + raw + b"\0" * (-len(raw) % 4))

    def prop(pname: str, value: bytes) -> None:
        if pname not in offsets:
            offsets[pname] = len(strings)
            strings.extend(pname.encode() + b"\0")
        body.extend(struct.pack(">III", 3, len(value), offsets[pname]) + value + b"\0" * (-len(value) % 4))

    name(root)
    for child, props in nodes:
        name(child)
        for pname, value in props:
            prop(pname, value)
        body.extend(struct.pack(">I", 2))
    body.extend(struct.pack(">II", 2, 9))
    rsv = bytes(16)
    off_struct = 40 + len(rsv)
    off_strings = off_struct + len(body)
    total = off_strings + len(strings)
    header = struct.pack(">10I", 0xD00DFEED, total, off_struct, off_strings, 40, 17, 16, 0,
                         len(strings), len(body))
    return header + rsv + bytes(body) + bytes(strings)


def _u32(v: int) -> bytes:
    return v.to_bytes(4, "big")


BAD_BLOBS: dict[str, tuple[str, list[tuple[str, list[tuple[str, bytes]]]], str]] = {
    "dollar-node": ("", [("sub$node", [])], "bad character '$' in node name"),
    "two-ats": ("", [("subnode@1@2", [])], "multiple '@' characters in node name"),
    "dollar-prop": ("", [("ok", [("prop$erty", _u32(1))])], "bad character '$' in property name"),
    "at-prop": ("", [("ok", [("p@q", _u32(1))])], "bad character '@' in property name"),
    "space-node": ("", [("a b", [])], "bad character ' ' in node name"),
    "bad-root-name": ("a$b", [], "bad character '$' in node name"),
    "root-two-ats": ("a@1@2", [], "multiple '@' characters in node name"),
    "dup-prop": ("", [("ok", [("x", _u32(1)), ("x", _u32(2))])], "duplicate property name 'x'"),
    "dup-phandle": ("", [("a", [("phandle", _u32(1))]), ("b", [("phandle", _u32(1))])],
                    "duplicated phandle 0x1"),
    "phandle-zero": ("", [("a", [("phandle", _u32(0))])], "bad value (0x0) in 'phandle'"),
    "phandle-ones": ("", [("a", [("linux,phandle", _u32(0xFFFFFFFF))])], "bad value (0xffffffff)"),
    "phandle-length": ("", [("a", [("phandle", b"\0\0\1")])], "bad length (3) 'phandle'"),
    "phandle-mismatch": ("", [("a", [("phandle", _u32(1)), ("linux,phandle", _u32(2))])],
                         "mismatching 'phandle' and 'linux,phandle'"),
    "name-prop": ("", [("a@1", [("name", b"b\0")])], '"name" property is incorrect ("b"'),
}

GOOD_BLOBS: dict[str, tuple[str, list[tuple[str, list[tuple[str, bytes]]]]]] = {
    "root-named": ("rootname", [("ok", [("x", _u32(1))])]),
    "root-unit": ("x@1", []),
    "name-prop-equal": ("", [("a@1", [("name", b"a\0"), ("reg", _u32(1))])]),
    "odd-but-legal": ("", [("a,b._+-@1", [("#x?*,._+-", b"")])]),
    "same-phandles": ("", [("a", [("phandle", _u32(7)), ("linux,phandle", _u32(7))])]),
}


@needs_dtc
@pytest.mark.parametrize("case", sorted(BAD_BLOBS))
def test_blob_rejected_like_dtc(case: str, tmp_path: Path) -> None:
    root, nodes, message = BAD_BLOBS[case]
    path = tmp_path / f"{case}.dtb"
    path.write_bytes(_blob(root, nodes))
    res = _dtc(path, "-I", "dtb", "-O", "dtb", "-o", str(tmp_path / "out.dtb"))
    assert res.returncode != 0, "dtc accepted a blob the test expects it to reject"
    with pytest.raises(DtbError) as err:
        read_dtb(path)
    assert message in err.value.message
    assert err.value.source is not None and err.value.source.file == str(path)
    assert err.value.source.offset is not None and err.value.source.offset >= 56


@needs_dtc
@pytest.mark.parametrize("case", sorted(GOOD_BLOBS))
def test_blob_round_trip_matches_dtc(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, nodes = GOOD_BLOBS[case]
    path = tmp_path / "in.dtb"
    path.write_bytes(_blob(root, nodes))
    ref = tmp_path / "ref.dtb"
    res = _dtc(path, "-q", "-I", "dtb", "-O", "dtb", "-o", str(ref))
    assert res.returncode == 0, res.stderr
    assert read_dtb(path).to_dtb() == ref.read_bytes()
    out = tmp_path / "out.dtb"
    assert main(["dts", str(path), "-o", str(out)]) == 0
    assert out.read_bytes() == ref.read_bytes()
    capsys.readouterr()


def test_named_root_keeps_its_name() -> None:
    tree = read_dtb(_blob("board", [("x", [])]))
    assert tree.root.name == "board" and tree.root.path == "/"
    assert tree.find("/x") is not None
    assert read_dtb(tree.to_dtb()).root.name == "board"


def test_source_checks_still_reject_bad_names(dtc_rejects: Callable[[str], str]) -> None:
    text = "/dts-v1/;\n/ { a@1@2 { }; };\n"
    dtc_rejects(text)
    with pytest.raises(Exception, match="multiple '@'"):
        parse_text(text, "t.dts")


def test_booted_tree_is_read_without_dtc_checks(tmp_path: Path) -> None:
    # a tree the kernel booted (a snapshot's /sys/firmware/fdt) is what it is: no dtc verdict
    from memplan.model import Diagnostic
    from memplan.observe.snapshot import fdt_from_bytes

    blob = _blob("", [("sub$node", [("prop$erty", _u32(1))])])
    notes: list[Diagnostic] = []
    tree = fdt_from_bytes(blob, "fdt", notes)
    assert tree is not None and tree.find("/sub$node") is not None and notes == []
