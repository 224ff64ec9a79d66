"""Files read by dtc-level /include/ and /incbin/ are recorded on the tree."""

from __future__ import annotations

from pathlib import Path

from memplan.dts import parse_dts


def test_tree_records_include_and_incbin_files(tmp_path: Path) -> None:
    (tmp_path / "part.dtsi").write_text("/ { part { }; };\n")
    (tmp_path / "blob.bin").write_bytes(b"\x01\x02")
    board = tmp_path / "board.dts"
    board.write_text('/dts-v1/;\n/include/ "part.dtsi"\n/ { data = /incbin/("blob.bin"); };\n')
    tree = parse_dts(board, cpp="none")
    assert [Path(f).name for f in tree.files] == ["part.dtsi", "blob.bin"]
    assert tree.node("/").get("data") is not None
    assert tree.find("/part") is not None


def test_text_without_includes_reads_no_files() -> None:
    tree = parse_dts(text="/dts-v1/; / { };", filename="x.dts")
    assert tree.files == []
