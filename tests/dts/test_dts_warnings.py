"""What dtc only warns about is a Diagnostic in ``tree.warnings``, never an error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from memplan.dts import parse_text, read_dtb

TEXT = """/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	good@0 { reg = <0 0x10>; };
	short@0 { reg = <0 0x10 0x20>; };
	bus@0 {
		#address-cells = <2>;
		#size-cells = <1>;
		ranges = <0 0 0x1000>;
		dma-ranges;
		dev@0 { reg = <0 0 4>; };
	};
	nocells {
		child@1 { reg = <1 2 3>; };
	};
};
"""


def test_address_format_warnings() -> None:
    tree = parse_text(TEXT, "w.dts")
    found = [(w.code, w.subject, w.source.line if w.source else None) for w in tree.warnings]
    assert found == [
        ("dtc-reg-format", "/short@0", 6),
        ("dtc-ranges-format", "/bus@0", 10),
        ("dtc-dma-ranges-format", "/bus@0", 11),
        ("dtc-avoid-default-addr-size", "/nocells/child@1", 15),
        ("dtc-avoid-default-addr-size", "/nocells/child@1", 15),
    ]
    assert all(w.severity == "warning" for w in tree.warnings)
    assert "invalid length (12 bytes) (#address-cells == 1, #size-cells == 1)" in tree.warnings[0].message


def test_dtc_warns_about_the_same_checks(tmp_path: Path) -> None:
    dtc = shutil.which("dtc")
    if dtc is None:
        pytest.skip("dtc is not installed")
    src = tmp_path / "w.dts"
    src.write_text(TEXT)
    res = subprocess.run([dtc, "-I", "dts", "-O", "dtb", "-o", str(tmp_path / "w.dtb"), str(src)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0
    for check in ("reg_format", "ranges_format", "dma_ranges_format", "avoid_default_addr_size"):
        assert f"Warning ({check})" in res.stderr
    # a blob carries the same problems
    codes = {w.code for w in read_dtb(tmp_path / "w.dtb").warnings}
    assert codes == {
        "dtc-reg-format", "dtc-ranges-format", "dtc-dma-ranges-format", "dtc-avoid-default-addr-size"}


def test_clean_tree_has_no_warnings() -> None:
    text = "/dts-v1/;\n/ { #address-cells = <1>; #size-cells = <1>; m@0 { reg = <0 1>; }; };"
    tree = parse_text(text, "c.dts")
    assert tree.warnings == []
