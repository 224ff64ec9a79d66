"""A ``.dtb`` compiled with ``dtc -@`` carries the labels of its source: its ``__symbols__`` node
becomes ``Tree.labels``, ``Tree.label_sources`` (the entry's byte offset) and the nodes' ``labels``;
an overlay applied onto such a base behaves as on the source; broken entries are handled as
libfdt handles them (judged by ``fdtoverlay`` at test time)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from memplan.cli import main
from memplan.dts import parse_text, read_dtb
from memplan.dts.overlay import apply_overlay
from memplan.dts.tree import Tree
from memplan.errors import OverlayError

HERE = Path(__file__).resolve().parent / "overlays"
BASE = HERE / "base.dts"
OK = sorted((HERE / "ok").glob("*.dtso"))

pytestmark = pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc is needed")


def _dtc(src: Path, out: Path, *flags: str) -> Path:
    res = subprocess.run(["dtc", "-q", *flags, "-I", "dts", "-O", "dtb", "-o", str(out), str(src)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return out


def label_view(tree: Tree) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``{label: node path}`` and ``{node path: its labels in order}`` (labelled nodes only)."""
    by_label = {label: node.path for label, node in tree.labels.items()}
    by_node = {node.path: list(node.labels) for node in tree.walk() if node.labels}
    return by_label, by_node


@pytest.mark.parametrize("src", [BASE, *OK], ids=lambda p: p.stem)
def test_labels_from_the_blob_equal_the_sources(src: Path, tmp_path: Path) -> None:
    from_source = parse_text(src.read_text(), str(src), symbols=True)
    blob = _dtc(src, tmp_path / "x.dtb", "-@")
    from_blob = read_dtb(blob, checks=src == BASE)
    assert label_view(from_blob) == label_view(from_source)
    assert not [w for w in from_blob.warnings if w.code == "dtb-symbol-unusable"]
    for label, where in from_blob.label_sources.items():
        symbols = from_blob.find("/__symbols__")
        assert symbols is not None
        assert where.kind == "dtb" and where.file == str(blob)
        assert where.offset == symbols.properties[label].source.offset and where.offset is not None
    assert set(from_blob.label_sources) == set(from_blob.labels)


def test_blob_without_symbols_has_no_labels(tmp_path: Path) -> None:
    tree = read_dtb(_dtc(BASE, tmp_path / "plain.dtb"))
    assert tree.labels == {} and tree.label_sources == {}
    assert not any(node.labels for node in tree.walk())


def test_resolve_reads_the_blob_like_its_source(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    blob = _dtc(BASE, tmp_path / "base.dtb", "-@")
    outputs = []
    for base in (str(BASE), str(blob)):
        assert main(["resolve", "--dts", base, "--arch", "arm64", "--kernel-version", "6.6",
                     "--format", "json"]) in (0, 1)
        outputs.append(capsys.readouterr().out)
    # every region and finding is the same; only the sources differ (file:line against offsets)
    from_source, from_blob = (_without_sources(json.loads(text)) for text in outputs)
    assert from_source == from_blob
    assert '"kind": "dtb"' in outputs[1] and '"kind": "dtb"' not in outputs[0]


def _without_sources(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_sources(v) for k, v in value.items() if k != "source"}
    if isinstance(value, list):
        return [_without_sources(v) for v in value]
    return value


@pytest.mark.parametrize("overlay", ["01-cma-size-by-label", "16-chain-a-defines-label",
                                     "29-label-shadows-base", "07-mixed-references"])
def test_overlay_onto_a_blob_base_like_onto_the_source(overlay: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str], fdto: str) -> None:
    base_blob = _dtc(BASE, tmp_path / "base.dtb", "-@")
    src = HERE / "ok" / f"{overlay}.dtso"
    dtbo = _dtc(src, tmp_path / "ov.dtbo", "-@")
    res = subprocess.run([fdto, "-i", str(base_blob), "-o", str(tmp_path / "ref.dtb"), str(dtbo)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    ref = read_dtb(tmp_path / "ref.dtb")
    out = tmp_path / "memplan.dtb"
    assert main(["dts", str(base_blob), "--overlay", str(src), "-o", str(out)]) == 0, capsys.readouterr().err
    assert read_dtb(out).to_dtb() == ref.to_dtb()
    # the label tables after the overlay: as with the source base (labels of the base keep their
    # blob offsets, the overlay's point at the overlay's text)
    on_source = parse_text(BASE.read_text(), str(BASE), symbols=True)
    on_blob = read_dtb(base_blob)
    for tree in (on_source, on_blob):
        apply_overlay(tree, parse_text(src.read_text(), str(src), symbols=True), str(src))
    assert label_view(on_blob) == label_view(on_source)
    for label, where in on_blob.label_sources.items():
        expected = on_source.label_sources[label]
        if expected.file == str(src):
            assert where == expected
        else:
            assert where.file == str(base_blob) and where.offset is not None


BROKEN = """/dts-v1/;
/ {
	aliases { serial0 = "/soc/uart@1000"; };
	soc { uart: uart@1000 { reg = <0x1000 0x100>; }; other { }; };
	__symbols__ {
		dangling = "/soc/missing";
		cells = <0x2f736f63>;
		empty;
		relative = "soc/other";
		by_alias = "serial0";
		two = "/soc/other", "/nowhere";
	};
};
"""

OVERLAY_REF = """/dts-v1/;
/plugin/;
&{{/soc/other}} {{ user = <&{label}>; }};
"""


def test_broken_symbols_give_positioned_warnings_not_labels(tmp_path: Path) -> None:
    src = tmp_path / "broken.dts"
    src.write_text(BROKEN)
    blob = _dtc(src, tmp_path / "broken.dtb")
    tree = read_dtb(blob)
    table = tree.find("/__symbols__")
    assert table is not None
    warned = {w.message.split("'")[1]: w for w in tree.warnings if w.code == "dtb-symbol-unusable"}
    assert set(warned) == {"dangling", "cells", "empty", "relative"}
    for label, w in warned.items():
        assert w.severity == "warning"
        assert w.source is not None and w.source.file == str(blob)
        assert w.source.offset == table.properties[label].source.offset
        assert label not in tree.labels
    assert "/soc/missing" in warned["dangling"].message
    # as libfdt reads an entry: a path through an alias, and the first of several strings
    assert tree.labels["by_alias"].path == "/soc/uart@1000"
    assert tree.labels["two"].path == "/soc/other"
    assert "two" in tree.labels["two"].labels


@pytest.mark.parametrize("label", ["dangling", "cells", "empty", "relative", "by_alias", "two", "absent"])
def test_overlay_using_a_broken_entry_fails_as_in_fdtoverlay(label: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             fdto: str) -> None:
    src = tmp_path / "broken.dts"
    src.write_text(BROKEN)
    base_blob = _dtc(src, tmp_path / "broken.dtb")
    ov_src = tmp_path / "uses.dtso"
    ov_src.write_text(OVERLAY_REF.format(label=label))
    dtbo = _dtc(ov_src, tmp_path / "uses.dtbo", "-@")
    res = subprocess.run([fdto, "-i", str(base_blob), "-o", str(tmp_path / "ref.dtb"), str(dtbo)],
                         capture_output=True, text=True, check=False)
    code = main(["dts", str(base_blob), "--overlay", str(dtbo), "-o", str(tmp_path / "out.dtb")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if res.returncode == 0:
        assert code == 0, err
        assert read_dtb(tmp_path / "out.dtb").to_dtb() == read_dtb(tmp_path / "ref.dtb").to_dtb()
        return
    assert code == 2
    assert f"overlay {dtbo}:" in err
    with pytest.raises(OverlayError) as raised:
        apply_overlay(read_dtb(base_blob), read_dtb(dtbo, checks=False), str(dtbo))
    found = re.search(r"(FDT_ERR_\w+)", res.stderr)
    if found is not None:
        assert f"libfdt: {found.group(1)}" in raised.value.message
    assert raised.value.source is not None and raised.value.source.file in (str(dtbo), str(base_blob))


SIBLINGS = """/dts-v1/;
/ {
	reserved-memory { vga: fb@9f000000 { reg = <0x9f000000 0x100000>; }; gfx: fb { size = <0x100000>; }; };
};
"""


def test_label_names_the_exact_node_dtc_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              fdto: str) -> None:
    # as in aspeed-bmc-opp-romulus: "gfx = /reserved-memory/fb" while fb@9f000000 comes first
    src = tmp_path / "siblings.dts"
    src.write_text(SIBLINGS)
    blob = _dtc(src, tmp_path / "siblings.dtb", "-@")
    tree = read_dtb(blob)
    assert label_view(tree) == label_view(parse_text(SIBLINGS, str(src)))
    assert tree.labels["gfx"].path == "/reserved-memory/fb"
    # an overlay that uses the label follows libfdt's first-match lookup, as fdtoverlay does
    ov_src = tmp_path / "uses.dtso"
    ov_src.write_text(OVERLAY_REF.replace("/soc/other", "/reserved-memory").format(label="gfx"))
    dtbo = _dtc(ov_src, tmp_path / "uses.dtbo", "-@")
    res = subprocess.run([fdto, "-i", str(blob), "-o", str(tmp_path / "ref.dtb"), str(dtbo)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert main(["dts", str(blob), "--overlay", str(dtbo), "-o", str(tmp_path / "out.dtb")]) == 0
    capsys.readouterr()
    assert read_dtb(tmp_path / "out.dtb").to_dtb() == read_dtb(tmp_path / "ref.dtb").to_dtb()


def test_entries_are_found_as_tree_find_finds_them_in_wide_nodes() -> None:
    # a node with many children: every entry is looked up once, through a base-name index
    from memplan.dts.bloblabels import labels_from_symbols
    from memplan.dts.tree import Property

    tree = Tree()
    wide = tree.root.add_child("wide")
    for i in range(3000):
        wide.add_child(f"n@{i:x}")
    wide.add_child("plain")
    tree.root.add_child("aliases").properties["w"] = Property("w", b"/wide\0")
    table = tree.root.add_child("__symbols__")
    paths = ["/wide/n", "/wide/n@5", "/wide/n@bb8", "/wide/plain", "/wide/missing", "w/n@7", "w/none",
             "/wide/n/deeper", "nowhere/n"]
    paths += [f"/wide/n@{i:x}" for i in range(0, 3000, 7)]
    for i, path in enumerate(paths):
        table.properties[f"l{i}"] = Property(f"l{i}", path.encode() + b"\0")
    warnings = labels_from_symbols(tree)
    for i, path in enumerate(paths):
        expected = tree.find(path)
        assert tree.labels.get(f"l{i}") is expected, path
    assert len(warnings) == sum(1 for p in paths if tree.find(p) is None) == 5
