"""Every reference form dtc 1.7 reads in braces: ``&{/path}``, ``&{label}`` and the
label-relative ``&{label/sub/path}`` — at the top level, after a label, after /delete-node/
and /omit-if-no-ref/, and inside property values. The oracle is the kernel tree's own dtc
1.7.0 (Debian's dtc 1.6.1 refuses ``&{label/path}``), so the comparison runs only where that
tree is unpacked; the plain tests below always run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from memplan.dts import parse_text
from memplan.errors import DtsSyntaxError, LabelError, MemplanError

KERNEL_DTC = Path(os.environ.get("MEMPLAN_KERNEL_DTC", "/work/linux-6.12/scripts/dtc/dtc"))
H = "/dts-v1/;\n/ { a: n { s@1,2 { x; }; t { }; }; };\n"

ACCEPTED = {
    "label-relative": H + "&{a/s@1,2} { y; };",
    "label-relative-trailing-slashes": H + "&{a//s@1,2/} { y; };",
    "label-in-braces": H + "&{a} { y; };",
    "path": H + "&{/n/t} { y; };",
    "root-path": H + "&{/} { y; };",
    "labelled": H + "b: &{a/t} { y; }; &b { z; };",
    "chained": H + "&{a/t} { l: u { }; }; &{l} { w; }; &{a/t/u} { v; };",
    "delete-node": H + "/delete-node/ &{a/t};",
    "omit-if-no-ref": H + "&{/} { p = <&{a/t}>; }; /omit-if-no-ref/ &{a/s@1,2}; /omit-if-no-ref/ &{a/t};",
    "values": "/dts-v1/;\n/ { p = <&{a/s} 1 &{a}>; q = &{a//s/}; r = \"x\", &{a/s}; a: n { s { }; }; };",
    "plugin-path": "/dts-v1/;\n/plugin/;\n&{/a/s} { y; };",
}

REJECTED = {
    "label-relative-missing": (H + "&{a/nope} { y; };", LabelError, "'a/nope'"),
    "dot-dot": (H + "&{a/s@1,2/..} { y; };", LabelError, "'a/s@1,2/..'"),
    "no-such-label": (H + "&{b/s@1,2} { y; };", LabelError, "'b/s@1,2'"),
    "value-missing": ("/dts-v1/;\n/ { p = <&{a/nope}>; a: n { }; };", MemplanError, "'a/nope'"),
    "plugin-relative": ("/dts-v1/;\n/plugin/;\n&{a/s} { y; };", LabelError, "plugin"),
    "empty": (H + "&{} { y; };", DtsSyntaxError, "&{}"),
}


def _kernel_dtc(tmp_path: Path, text: str) -> bytes | None:
    """The DTB the kernel's dtc builds from ``text``, or ``None`` when it refuses the text."""
    if not os.access(KERNEL_DTC, os.X_OK):
        pytest.skip(f"the kernel tree's dtc 1.7 is not built at {KERNEL_DTC} (set MEMPLAN_KERNEL_DTC)")
    src = tmp_path / "in.dts"
    src.write_text(text + "\n")
    out = tmp_path / "out.dtb"
    cmd = [str(KERNEL_DTC), "-q", "-I", "dts", "-O", "dtb", "-b", "0", "-o", str(out), str(src)]
    res = subprocess.run(cmd, capture_output=True, check=False)
    return out.read_bytes() if res.returncode == 0 else None


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_kernel_dtc_builds_the_same_blob(name: str, tmp_path: Path) -> None:
    text = ACCEPTED[name]
    expected = _kernel_dtc(tmp_path, text)
    assert expected is not None, "the kernel's dtc refused an input this test expects it to accept"
    assert parse_text(text).to_dtb() == expected


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_kernel_dtc_rejects_too(name: str, tmp_path: Path) -> None:
    text, error, needle = REJECTED[name]
    with pytest.raises(error) as info:
        parse_text(text)
    assert needle in str(info.value)
    # (dtc 1.7.0 lexes '&{}' and then aborts on an assertion: a refusal too)
    assert _kernel_dtc(tmp_path, text) is None


def test_label_relative_merge_lands_in_the_subnode() -> None:
    tree = parse_text(H + "x: &{a/s@1,2} { y = <7>; };\n&{a/t} { z; };\n")
    s = tree.root.children["n"].children["s@1,2"]
    assert list(s.properties) == ["x", "y"]
    assert s.properties["y"].as_u32() == 7
    assert "x" in s.labels
    assert list(tree.root.children["n"].children["t"].properties) == ["z"]


def test_label_relative_value_references() -> None:
    tree = parse_text("/dts-v1/;\n/ { p = <&{a/s}>; q = &{a/s}; a: n { s { }; }; };\n")
    s = tree.root.children["n"].children["s"]
    assert tree.root.properties["q"].as_string() == "/n/s"
    assert tree.root.properties["p"].as_u32() == s.properties["phandle"].as_u32()


def test_empty_braces_name_their_position() -> None:
    with pytest.raises(DtsSyntaxError) as info:
        parse_text(H + "&{} { y; };\n", filename="board.dts")
    assert info.value.source is not None
    assert (info.value.source.file, info.value.source.line, info.value.source.column) == ("board.dts", 3, 1)
