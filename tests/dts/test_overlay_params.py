"""Raspberry Pi overlay parameters (``--overlay FILE:param=value,...``), judged by ``fdtoverlay``
(the installed one and the kernel tree's, see :mod:`tests.dts.libfdt_tools`).

A parameter edits the overlay before it is applied, so each case is compared with
``fdtoverlay`` applying the overlay source edited by hand the same way (compiled with ``dtc -@``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from memplan.cli import main
from memplan.dts import parse_text
from memplan.dts.overlay_input import OverlaySpec, apply_overlay_specs, parse_overlay_spec
from memplan.errors import OverlayError

HERE = Path(__file__).resolve().parent / "overlays"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rpi-cma"
BASE = DOCS / "board.dts"
CMA = DOCS / "cma.dtso"
CMDLINE = HERE / "rpi" / "boot-cmdline.dtso"

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("dtc", "cpp")),
                                reason="dtc and cpp are needed")

SIZE = "size = <0x10000000>;"
WAKE = ("__dormant__ {\n\t\t\tbootargs", "__overlay__ {\n\t\t\tbootargs")

#: (parameters, overlay file, the same change made by hand: (old text, new text) pairs)
CASES: list[tuple[str, Path, list[tuple[str, str]]]] = [
    ("cma-size=0x8000000", CMA, [(SIZE, "size = <0x8000000>;")]),
    ("cma-size=134217728", CMA, [(SIZE, "size = <0x8000000>;")]),
    ("cma-size=0100000000", CMA, [(SIZE, "size = <0x1000000>;")]),
    ("cma-64", CMA, [(SIZE, "size = <0x4000000>;")]),
    ("cma-128=ignored", CMA, [(SIZE, "size = <0x8000000>;")]),
    ("cma-reusable", CMA, [(SIZE, SIZE + " reusable;")]),
    ("cma-reusable=off", CMA, []),
    ("cma-not-default=no", CMA, [(SIZE, SIZE + " linux,cma-default;")]),
    ("cma-not-default=yes", CMA, []),
    ("cma-default", CMA, [("pool: __overlay__", "pool: __dormant__")]),
    ("with-cmdline", CMA, [WAKE]),
    ("with-cmdline=0", CMA, []),
    ("cma-size=0x2000000,with-cmdline=on", CMA, [(SIZE, "size = <0x2000000>;"), WAKE]),
    ("cma-64,cma-size=0x3000000", CMA, [(SIZE, "size = <0x3000000>;")]),
    ("extra=cma=64M", CMDLINE, [('"console=serial0,115200"', '"console=serial0,115200 cma=64M"')]),
    ("status=on", CMDLINE, [('bootargs = "console=serial0,115200";',
                             'status = "okay"; bootargs = "console=serial0,115200";')]),
    ("cma-reusable=on,cma-not-default=off", CMA, [(SIZE, "linux,cma-default; reusable; " + SIZE)]),
]


def _compile(src: Path, out: Path, *flags: str) -> Path:
    res = subprocess.run(["dtc", "-q", "-@", *flags, "-I", "dts", "-O", "dtb", "-o", str(out), str(src)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return out


def _decode(blob: Path) -> str:
    return subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", str(blob)], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize(("params", "overlay", "edits"), CASES, ids=[c[0] for c in CASES])
def test_parameters_match_a_hand_edited_overlay(params: str, overlay: Path, edits: list[tuple[str, str]],
                                                tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                fdto: str) -> None:
    text = overlay.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    edited = tmp_path / "edited.dtso"
    edited.write_text(text)
    base = _compile(BASE, tmp_path / "base.dtb")
    ref = tmp_path / "ref.dtb"
    blob = _compile(edited, tmp_path / "e.dtbo")
    res = subprocess.run([fdto, "-i", str(base), "-o", str(ref), str(blob)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    for given in (overlay, _compile(overlay, tmp_path / "o.dtbo")):
        out = tmp_path / "out.dtb"
        assert main(["dts", str(BASE), "-@", "--overlay", f"{given}:{params}", "-o", str(out)]) == 0
        assert _decode(out) == _decode(ref)
    capsys.readouterr()


def test_spec_parsing(tmp_path: Path) -> None:
    odd = tmp_path / "a:b.dtbo"
    odd.write_bytes(b"")
    assert parse_overlay_spec(str(odd)) == OverlaySpec(str(odd))
    assert parse_overlay_spec(f"{odd}:x=1,y") == OverlaySpec(str(odd), (("x", "1"), ("y", None)))
    assert parse_overlay_spec("cma.dtbo:cma-size=0x100,flag") == OverlaySpec(
        "cma.dtbo", (("cma-size", "0x100"), ("flag", None)))
    assert str(parse_overlay_spec("c.dtbo:a=1,b")) == "c.dtbo:a=1,b"
    with pytest.raises(OverlayError, match="empty parameter name"):
        parse_overlay_spec("c.dtbo:a=1,,b")


@pytest.mark.parametrize(("params", "message"), [
    ("no-such", "has no parameter 'no-such' (parameters: cma-128, cma-64"),
    ("cma-size=12abc", "'12abc' is not an integer"),
    ("cma-size=0x100000000", "does not fit in 32 bits"),
    ("cma-size=", "'' is not an integer"),
])
def test_parameter_errors_name_overlay_and_parameter(params: str, message: str) -> None:
    base = parse_text(BASE.read_text(), str(BASE), symbols=True)
    with pytest.raises(OverlayError) as err:
        apply_overlay_specs(base, [f"{CMA}:{params}"])
    assert err.value.message.startswith(f"overlay {CMA}: ")
    assert message in err.value.message


@pytest.mark.parametrize(("declaration", "message"), [
    ('<&n>,"p{a=1,b=2}"', "not supported"),
    ('<&n>,"mac["', "not supported"),
    ('<&n>,"reg"', "'reg' pseudo-property is not supported"),
    ('<0>,"+9"', "names fragment 9"),
    ('<0>,"*1"', "fragment operations"),
    ('<0x77>,"p"', "targets phandle 0x77"),
])
def test_unsupported_or_broken_declarations(declaration: str, message: str, tmp_path: Path) -> None:
    src = tmp_path / "ov.dtso"
    src.write_text("/dts-v1/;\n/plugin/;\n/ { fragment@0 { target-path = \"/\";\n"
                   "  __overlay__ { n: n { }; }; };\n"
                   f"  __overrides__ {{ param = {declaration}; }}; }};\n")
    base = parse_text(BASE.read_text(), str(BASE), symbols=True)
    with pytest.raises(OverlayError, match=message) as err:
        apply_overlay_specs(base, [f"{src}:param=1"])
    assert str(src) in err.value.message and "'param'" in err.value.message
