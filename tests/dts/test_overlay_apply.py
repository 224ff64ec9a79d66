"""Overlays applied as libfdt applies them, judged at test time by ``dtc -@`` and ``fdtoverlay``.

For every scenario (a base and overlays in order) ``memplan dts BASE -@ --overlay ... -o OUT``
must decode to the same tree as ``fdtoverlay -i base.dtb -o out.dtb ov.dtbo ...`` (base and
overlays compiled with ``dtc -@``), with the overlays given as sources and as ``.dtbo``. Every
overlay libfdt refuses must give an :class:`~memplan.errors.OverlayError` naming the overlay.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from memplan.cli import main
from memplan.dts import parse_text, read_dtb
from memplan.dts.overlay import apply_overlay
from memplan.dts.tree import Node, Property, Tree
from memplan.errors import OverlayError
from tests.dts.libfdt_tools import version_of

HERE = Path(__file__).resolve().parent / "overlays"
BASE = HERE / "base.dts"
OK = sorted(p.stem for p in (HERE / "ok").glob("*.dtso"))
ERR = sorted(p.stem for p in (HERE / "err").glob("*.dtso"))
CORPUS = Path(os.environ.get("MEMPLAN_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
LINUX = CORPUS / "linux-v5.7"

TOOLS = all(shutil.which(t) for t in ("dtc", "cpp"))
pytestmark = pytest.mark.skipif(not TOOLS, reason="dtc and cpp are needed")

NEEDS_CHAIN = {"17-chain-b-uses-label", "18-chain-c-references-label"}
CORPUS_ONLY = {"34-rpi-cma-size", "35-cma-alloc-window-by-path"}

#: (scenario id, base, overlays in order); "base" is base.dts, anything else a corpus board.
SCENARIOS: list[tuple[str, str, list[str]]] = [
    *((name, "base", [name]) for name in OK if name not in NEEDS_CHAIN | CORPUS_ONLY),
    ("chain-label-then-use", "base", ["16-chain-a-defines-label", "17-chain-b-uses-label",
                                      "18-chain-c-references-label"]),
    ("chain-shadowed-label", "base", ["29-label-shadows-base", "07-mixed-references"]),
    ("cma-resize-then-bootargs-then-new-default", "base", ["01-cma-size-by-label", "04-chosen-bootargs",
                                                           "28-new-default-cma"]),
    ("many-on-one-node", "base", ["05-explicit-fragments", "10-props-order", "12-merge-existing-child",
                                  "08-target-alias"]),
    ("same-overlay-twice", "base", ["27-value-shapes", "27-value-shapes"]),
    ("rpi3-cma", "src/arm64/broadcom/bcm2837-rpi-3-b.dts", ["34-rpi-cma-size", "04-chosen-bootargs"]),
    ("odroidc2-cma-window", "src/arm64/amlogic/meson-gxbb-odroidc2.dts", ["35-cma-alloc-window-by-path",
                                                                          "22-root-target"]),
    ("rpi3-arm-root-and-chosen", "src/arm/bcm2837-rpi-3-b.dts", ["22-root-target", "34-rpi-cma-size"]),
]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False)


def _decode(blob: Path) -> str:
    res = _run("dtc", "-q", "-I", "dtb", "-O", "dts", str(blob))
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every overlay compiled once with ``dtc -@``."""
    out = tmp_path_factory.mktemp("overlays")
    for kind in ("ok", "err"):
        for src in sorted((HERE / kind).glob("*.dtso")):
            dtbo = out / f"{src.stem}.dtbo"
            res = _run("dtc", "-q", "-@", "-I", "dts", "-O", "dtb", "-o", str(dtbo), str(src))
            assert res.returncode == 0, res.stderr
    return out


def _base(base: str, out: Path) -> tuple[Path, list[str]]:
    """The base source memplan reads (a corpus board as its preprocessed text), the extra memplan
    arguments, and ``out/base.dtb`` compiled by ``dtc -@``."""
    if base == "base":
        res = _run("dtc", "-q", "-@", "-I", "dts", "-O", "dtb", "-o", str(out / "base.dtb"), str(BASE))
        assert res.returncode == 0, res.stderr
        return BASE, []
    if not (CORPUS / "reference.sh").is_file():
        pytest.skip("the corpus is not available")
    entry = {e["path"]: e for e in json.loads((CORPUS / "manifest.json").read_text())}[base]
    pre = _run(str(CORPUS / "reference.sh"), "--pp", base)
    assert pre.returncode == 0, pre.stderr
    src = out / "board.dts"
    src.write_text(pre.stdout)
    dirs = [str(LINUX / Path(base).parent), *(str(LINUX / d) for d in entry["include_dirs"]["dtc"])]
    flags = [arg for d in dirs for arg in ("-i", d)]
    res = _run("dtc", "-q", "-@", "-I", "dts", "-O", "dtb", *flags, "-o", str(out / "base.dtb"), str(src))
    assert res.returncode == 0, res.stderr
    return src, ["--cpp", "none", *(arg for d in dirs[1:] for arg in ("-I", d))]


@pytest.mark.parametrize(("scenario", "base", "overlays"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_same_tree_as_fdtoverlay(scenario: str, base: str, overlays: list[str], work: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str], fdto: str) -> None:
    src, extra = _base(base, tmp_path)
    blobs = [str(work / f"{name}.dtbo") for name in overlays]
    res = _run(fdto, "-i", str(tmp_path / "base.dtb"), "-o", str(tmp_path / "ref.dtb"), *blobs)
    assert res.returncode == 0, res.stderr
    expected = _decode(tmp_path / "ref.dtb")
    sources = [str(HERE / "ok" / f"{name}.dtso") for name in overlays]
    for kind, files in (("sources", sources), ("dtbo", blobs)):
        out = tmp_path / f"memplan-{kind}.dtb"
        args = ["dts", str(src), "-@", *extra, *(a for f in files for a in ("--overlay", f)), "-o", str(out)]
        assert main(args) == 0, capsys.readouterr().err
        assert _decode(out) == expected, f"overlays as {kind}"
    capsys.readouterr()


@pytest.mark.parametrize("name", OK + ERR)
def test_overlay_source_compiles_like_dtc(name: str, work: Path) -> None:
    kind = "ok" if name in OK else "err"
    src = HERE / kind / f"{name}.dtso"
    tree = parse_text(src.read_text(), str(src), symbols=True)
    assert tree.plugin
    assert tree.to_dtb() == (work / f"{name}.dtbo").read_bytes()


#: Refusals libfdt 1.7+ reaches only by writing out of bounds (no offset check, still in 1.8.1).
UNCHECKED_SINCE_1_7 = {"local-fixup-offset-outside"}


def _libfdt_code(stderr: str) -> str | None:
    found = re.search(r"Failed to apply '.*': (FDT_ERR_\w+)", stderr)
    return found.group(1) if found else None


@pytest.mark.parametrize("name", ERR)
def test_refused_like_libfdt(name: str, work: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str], fdto: str) -> None:
    _base("base", tmp_path)
    blob = work / f"{name}.dtbo"
    res = _run(fdto, "-i", str(tmp_path / "base.dtb"), "-o", str(tmp_path / "ref.dtb"), str(blob))
    assert res.returncode != 0, "fdtoverlay applied an overlay the test expects it to refuse"
    code = _libfdt_code(res.stderr)
    if name in UNCHECKED_SINCE_1_7 and version_of(fdto).release >= (1, 7, 0):
        # libfdt 1.7+ no longer bounds-checks __local_fixups__ offsets: it writes past the property
        # and fails later on the blob it corrupted (FDT_ERR_BADSTRUCTURE here); 1.6 says BADOVERLAY
        code = "FDT_ERR_BADOVERLAY"
    src = HERE / "err" / f"{name}.dtso"
    for overlay in (src, blob):
        compiled = (read_dtb(blob, checks=False) if overlay == blob
                    else parse_text(src.read_text(), str(src), symbols=True))
        with pytest.raises(OverlayError) as err:
            apply_overlay(parse_text(BASE.read_text(), str(BASE), symbols=True), compiled, str(overlay))
        assert str(overlay) in err.value.message
        if code is not None:
            assert f"(libfdt: {code})" in err.value.message
        assert err.value.source is not None and err.value.source.file == str(overlay)
        assert main(["dts", str(BASE), "-@", "--overlay", str(overlay), "-o", str(tmp_path / "x.dtb")]) == 2
        message = capsys.readouterr().err
        assert f"overlay {overlay}:" in message and "Traceback" not in message


def test_base_without_symbols_is_refused(work: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str], fdto: str) -> None:
    plain = tmp_path / "plain.dtb"
    assert _run("dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(plain), str(BASE)).returncode == 0
    blob = work / "01-cma-size-by-label.dtbo"
    res = _run(fdto, "-i", str(plain), "-o", str(tmp_path / "ref.dtb"), str(blob))
    assert res.returncode != 0
    assert main(["dts", str(BASE), "--overlay", str(blob), "-o", str(tmp_path / "x.dtb")]) == 2
    err = capsys.readouterr().err
    assert f"overlay {blob}:" in err and "no __symbols__" in err and "-@" in err


def _tree_with(prop: Property) -> Tree:
    tree = Tree()
    frag = tree.root.add_child("fragment@0")
    frag.properties["target-path"] = Property("target-path", b"/\0")
    body = frag.add_child("__overlay__")
    node = body.add_child("n")
    node.properties[prop.name] = prop
    return tree


@pytest.mark.parametrize(("prop", "code"), [
    (Property("phandle", b"\0\1"), "FDT_ERR_BADPHANDLE"),
    (Property("linux,phandle", (0xFFFFFFF0).to_bytes(4, "big")), "FDT_ERR_NOPHANDLES"),
])
def test_phandles_libfdt_cannot_renumber(prop: Property, code: str, tmp_path: Path, fdto: str) -> None:
    base = parse_text(BASE.read_text(), str(BASE), symbols=True)
    base.root.children["soc"].properties["phandle"] = Property("phandle", (0xFFFFFF00).to_bytes(4, "big"))
    blob = tmp_path / "bad.dtbo"
    blob.write_bytes(_tree_with(prop).to_dtb())
    base_blob = tmp_path / "base.dtb"
    base_blob.write_bytes(base.to_dtb())
    res = _run(fdto, "-i", str(base_blob), "-o", str(tmp_path / "ref.dtb"), str(blob))
    assert res.returncode != 0 and _libfdt_code(res.stderr) == code
    with pytest.raises(OverlayError, match=f"overlay {re.escape(str(blob))}: .*{code}"):
        apply_overlay(read_dtb(base_blob), read_dtb(blob, checks=False), str(blob))
    assert main(["dts", str(base_blob), "--overlay", str(blob)]) == 2


def test_provenance_points_at_the_overlay() -> None:
    base = parse_text(BASE.read_text(), str(BASE), symbols=True)
    src = HERE / "ok" / "01-cma-size-by-label.dtso"
    apply_overlay(base, parse_text(src.read_text(), str(src), symbols=True), str(src))
    cma = base.find("/reserved-memory/linux,cma")
    assert isinstance(cma, Node)
    size = cma.properties["size"]
    assert size.source.file == str(src) and size.source.line == 4
    assert cma.properties["reusable"].source.file == str(BASE)


def test_base_phandle_kept_when_a_labelled_overlay_node_merges() -> None:
    # libfdt 1.7+ behaviour (fdtoverlay 1.6 overwrote the base phandle and then failed to find
    # the fragment's target again); the real Raspberry Pi overlays are written this way
    base = parse_text(BASE.read_text(), str(BASE), symbols=True)
    cma = base.find("/reserved-memory/linux,cma")
    assert cma is not None and cma.phandle
    before = cma.phandle
    src = HERE / "newer-libfdt" / "keep-base-phandle.dtso"
    [note] = apply_overlay(base, parse_text(src.read_text(), str(src), symbols=True), str(src))
    assert (note.code, note.severity) == ("overlay-phandle-kept", "info")
    assert note.subject == "/reserved-memory/linux,cma"
    assert note.source is not None and note.source.file == str(src) and note.source.line == 6
    cma = base.find("/reserved-memory/linux,cma")
    assert cma is not None and cma.properties["phandle"].as_u32() == before
    assert cma.properties["size"].as_u64() == 0x8000000
    user = base.find("/soc/user@1f000")
    assert user is not None and user.properties["memory-region"].as_u32() == before
    # libfdt writes the target path plus "/" for a label on __overlay__ itself
    assert base.root.children["__symbols__"].properties["pool"].as_string() == "/reserved-memory/linux,cma/"


@pytest.mark.parametrize(("label", "message"), [
    ("ghost", "names '/ghost', which is not in the base tree"),
    ("bare", "names /soc/unlabelled, which has no phandle"),
])
def test_base_symbol_that_cannot_be_used(label: str, message: str, tmp_path: Path, fdto: str) -> None:
    # a hand-written /__symbols__ entry pointing nowhere, or at a node without a phandle
    text = BASE.read_text() + '/ { __symbols__ { ghost = "/ghost"; bare = "/soc/unlabelled"; }; };\n'
    base_src = tmp_path / "base.dts"
    base_src.write_text(text)
    overlay = tmp_path / "ov.dtso"
    overlay.write_text(f"/dts-v1/;\n/plugin/;\n&{label} {{ x; }};\n")
    base_blob, blob = tmp_path / "base.dtb", tmp_path / "ov.dtbo"
    for src, out in ((base_src, base_blob), (overlay, blob)):
        assert _run("dtc", "-q", "-@", "-I", "dts", "-O", "dtb", "-o", str(out), str(src)).returncode == 0
    res = _run(fdto, "-i", str(base_blob), "-o", str(tmp_path / "ref.dtb"), str(blob))
    assert res.returncode != 0 and _libfdt_code(res.stderr) == "FDT_ERR_NOTFOUND"
    with pytest.raises(OverlayError) as err:
        apply_overlay(read_dtb(base_blob), read_dtb(blob, checks=False), str(blob))
    assert err.value.message.startswith(f"overlay {blob}: label '{label}' ")
    assert message in err.value.message and "FDT_ERR_NOTFOUND" in err.value.message


def test_newer_libfdt_keeps_base_phandle(work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         fdto: str) -> None:
    """memplan models libfdt 1.7.1+ (the kernel's 1.7.0-95 snapshot has it): a labelled
    ``__overlay__`` on a node that has a phandle keeps the base's. Older libfdt (fdtoverlay 1.6.1)
    overwrites it and then fails to find the fragment's target for the label: FDT_ERR_NOTFOUND."""
    _base("base", tmp_path)
    src = HERE / "newer-libfdt" / "keep-base-phandle.dtso"
    blob = tmp_path / "keep.dtbo"
    assert _run("dtc", "-q", "-@", "-I", "dts", "-O", "dtb", "-o", str(blob), str(src)).returncode == 0
    res = _run(fdto, "-i", str(tmp_path / "base.dtb"), "-o", str(tmp_path / "ref.dtb"), str(blob))
    for overlay in (src, blob):
        out = tmp_path / "memplan.dtb"
        assert main(["dts", str(BASE), "-@", "--overlay", str(overlay), "-o", str(out)]) == 0
        if res.returncode == 0:
            assert _decode(out) == _decode(tmp_path / "ref.dtb")
    if res.returncode != 0:
        assert _libfdt_code(res.stderr) == "FDT_ERR_NOTFOUND"
        assert version_of(fdto).release < (1, 7, 1), "a libfdt that should keep the base phandle"
    capsys.readouterr()
