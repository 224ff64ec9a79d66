"""The labels an applied overlay brings: in ``Tree.labels``, on the nodes, with the overlay's
file and line (``Tree.label_sources``), usable by later overlays and seen in ``explain``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import memplan
from memplan.dts import parse_text, read_dtb
from memplan.dts.overlay import apply_overlay
from memplan.dts.tree import Tree

HERE = Path(__file__).resolve().parent / "overlays"
BASE = HERE / "base.dts"
OK = HERE / "ok"


def _base() -> Tree:
    return parse_text(BASE.read_text(), str(BASE), symbols=True)


def _source_overlay(name: str) -> tuple[Tree, str]:
    path = OK / f"{name}.dtso"
    return parse_text(path.read_text(), str(path), symbols=True), str(path)


def test_base_labels_have_their_positions() -> None:
    tree = _base()
    src = tree.label_sources["cma"]
    assert (src.file, src.line, src.column) == (str(BASE), 39, 3)
    assert tree.labels["cma"] is tree.find("/reserved-memory/linux,cma")


def test_overlay_label_joins_the_tree_with_its_position() -> None:
    tree = _base()
    overlay, name = _source_overlay("16-chain-a-defines-label")
    assert "extra" not in tree.labels
    apply_overlay(tree, overlay, name)
    node = tree.find("/soc/extra@1a000")
    assert node is not None and tree.labels["extra"] is node and tree.label("extra") is node
    assert "extra" in node.labels
    src = tree.label_sources["extra"]
    assert (src.file, src.line, src.column) == (name, 4, 8)
    assert tree.root.children["__symbols__"].properties["extra"].as_string() == "/soc/extra@1a000"


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc is not installed")
def test_label_from_a_dtbo_points_at_its_symbols_entry(tmp_path: Path) -> None:
    blob = tmp_path / "a.dtbo"
    src = OK / "16-chain-a-defines-label.dtso"
    subprocess.run(["dtc", "-q", "-@", "-I", "dts", "-O", "dtb", "-o", str(blob), str(src)], check=True)
    tree = _base()
    apply_overlay(tree, read_dtb(blob, checks=False), str(blob))
    assert tree.labels["extra"] is tree.find("/soc/extra@1a000")
    where = tree.label_sources["extra"]
    assert where.file == str(blob) and where.offset is not None and where.offset > 0


def test_chain_later_overlays_use_and_change_an_earlier_label() -> None:
    tree = _base()
    for name in ("16-chain-a-defines-label", "17-chain-b-uses-label", "18-chain-c-references-label"):
        apply_overlay(tree, *_source_overlay(name))
    extra = tree.labels["extra"]
    assert extra.path == "/soc/extra@1a000"
    assert tree.label_sources["extra"].file == str(OK / "16-chain-a-defines-label.dtso")
    assert extra.properties["added-by"].source.file == str(OK / "17-chain-b-uses-label.dtso")
    consumer = tree.find("/soc/consumer@1b000")
    assert consumer is not None and extra.phandle is not None
    assert consumer.properties["provider"].as_u32() == extra.phandle


def test_overlay_label_replaces_a_base_label_of_the_same_name() -> None:
    tree = _base()
    old = tree.labels["uart0"]
    apply_overlay(tree, *_source_overlay("29-label-shadows-base"))
    new = tree.labels["uart0"]
    assert new.path == "/soc/serial@30000" and old.path == "/soc/serial@10000"
    assert "uart0" in new.labels and "uart0" not in old.labels
    assert tree.label_sources["uart0"].file == str(OK / "29-label-shadows-base.dtso")


def test_label_on_overlay_node_names_the_target() -> None:
    tree = _base()
    apply_overlay(tree, *_source_overlay("21-label-on-overlay-node"))
    target = tree.find("/soc/unlabelled")
    assert tree.labels["whole"] is target and target is not None and "whole" in target.labels
    assert tree.label_sources["whole"].file == str(OK / "21-label-on-overlay-node.dtso")


def test_region_changed_through_an_earlier_overlays_label(tmp_path: Path) -> None:
    """Overlay A adds a pool with a label, overlay B resizes it by that label: the region and
    ``explain`` name B's line for the size, and the node is A's."""
    a = tmp_path / "a.dtso"
    a.write_text("/dts-v1/;\n/plugin/;\n&reserved_memory {\n\tvpool: video@50000000 {\n"
                 "\t\treg = <0x0 0x50000000 0x0 0x800000>;\n\t\tno-map;\n\t};\n};\n")
    b = tmp_path / "b.dtso"
    b.write_text("/dts-v1/;\n/plugin/;\n&vpool {\n\treg = <0x0 0x50000000 0x0 0x1000000>;\n};\n")
    plan = memplan.resolve(dts=BASE, kernel_version="6.1", overlays=[a, b])
    region = next(r for r in plan.regions if r.name == "video@50000000")
    assert (region.base, region.size) == (0x50000000, 0x1000000)
    assert region.source is not None and (region.source.file, region.source.line) == (str(b), 4)
    with pytest.raises(memplan.errors.OverlayError, match="vpool"):
        memplan.resolve(dts=BASE, kernel_version="6.1", overlays=[b])


def test_explain_names_the_overlay_that_resized_the_pool_by_a_new_label(tmp_path: Path) -> None:
    """Overlay A gives the base's CMA node a second label; overlay B resizes the pool by it."""
    a = tmp_path / "a.dtso"
    a.write_text("/dts-v1/;\n/plugin/;\n&reserved_memory {\n\tpool2: linux,cma {\n\t\treusable;\n\t};\n};\n")
    b = tmp_path / "b.dtso"
    b.write_text("/dts-v1/;\n/plugin/;\n&pool2 {\n\tsize = <0x0 0x8000000>;\n};\n")
    tree = _base()
    for path in (a, b):
        apply_overlay(tree, parse_text(path.read_text(), str(path), symbols=True), str(path))
    cma = tree.find("/reserved-memory/linux,cma")
    assert cma is not None and cma.labels[:2] == ["pool2", "cma"] and tree.labels["pool2"] is cma
    assert (tree.label_sources["pool2"].file, tree.label_sources["pool2"].line) == (str(a), 4)
    plan = memplan.resolve(dts=BASE, kernel_version="6.1", overlays=[a, b])
    assert plan.global_cma.size == 128 << 20
    assert f"{b}:4" in plan.explain()
