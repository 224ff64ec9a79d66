"""``-@`` (``__symbols__``) and ``/plugin/`` output, byte for byte against ``dtc -@``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from memplan.dts import parse_text
from memplan.dts.symbols import SYMBOLS

CORPUS = Path(os.environ.get("MEMPLAN_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
LINUX = CORPUS / "linux-v5.7"

SOURCES = {
    "labels-and-merges": """/dts-v1/;
/ {
    a: b: n1 { p = <&c>; };
    n2 { c: d: x { }; };
    e: n3 { };
};
f: &e { };
g: &e { };
&a { h: sub { }; };
/ { i: n4 { phandle = <5>; }; };
""",
    "hand-written-table": """/dts-v1/;
/ { __symbols__ { keep = "x"; a = "/elsewhere"; }; a: n { }; z: m { }; };
""",
    "no-labels": "/dts-v1/;\n/ { n { p = <1>; }; };\n",
    "deleted-and-omitted": """/dts-v1/;
/ {
    gone: n1 { };
    kept: n2 { };
    /omit-if-no-ref/ unused: n3 { };
    /omit-if-no-ref/ n4 { };
    used: n5 { r = <&kept>; };
};
/delete-node/ &gone;
""",
    "label-on-root-and-props": """/dts-v1/;
/ { p: prop = <1>; q = <2 v: 3>; s: n@1 { reg = <1>; }; };
r: &{/} { };
/ { t: n@1 { }; };
""",
    "plugin": """/dts-v1/;
/plugin/;
&foo { x: newnode { p = <&x &bar>; q = <&{/soc/thing}>; }; };
&{/soc} { y: other { r = <&y 1 &foo>; s = &x; }; };
/ { fragment@5 { target = <&bar>; __overlay__ { z: zz { }; }; }; };
""",
    "plugin-no-labels": """/dts-v1/;
/plugin/;
&{/chosen} { bootargs = "cma=64M"; };
""",
}


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("symbols", [True, False])
def test_matches_dtc(name: str, symbols: bool, dtc_dtb: Callable[..., bytes]) -> None:
    text = SOURCES[name]
    flags = ("-@",) if symbols else ()
    tree = parse_text(text, "t.dts", symbols=symbols)
    assert tree.to_dtb() == dtc_dtb(text, *flags)
    labelled = ":" in text.replace("/dts-v1/;", "")
    assert (SYMBOLS in tree.root.children) == ((symbols and labelled) or SYMBOLS in text)


def test_symbols_content_and_warning() -> None:
    tree = parse_text(SOURCES["hand-written-table"], "t.dts", symbols=True)
    table = tree.root.children[SYMBOLS]
    entries = {k: p.as_string() for k, p in table.properties.items()}
    assert entries == {"keep": "x", "a": "/elsewhere", "z": "/m"}
    warnings = [w for w in tree.warnings if w.code == "dtc-symbol-exists"]
    assert len(warnings) == 1 and "'a'" in warnings[0].message
    assert warnings[0].source is not None and warnings[0].source.line == 2
    n = tree.find("/n")
    assert n is not None and n.phandle == 1


CORPUS_BOARDS = [
    "src/arm/sun7i-a20-wexler-tab7200.dts",  # /omit-if-no-ref/ with labels
    "src/arm64/broadcom/bcm2837-rpi-3-b.dts",
    "src/arm64/qcom/sdm845-cheza-r2.dts",
]


@pytest.mark.parametrize("board", CORPUS_BOARDS)
def test_corpus_board_with_symbols(board: str, tmp_path: Path) -> None:
    if not (CORPUS / "reference.sh").is_file() or shutil.which("cpp") is None or shutil.which("dtc") is None:
        pytest.skip("corpus, cpp or dtc not available")
    entry = {e["path"]: e for e in json.loads((CORPUS / "manifest.json").read_text())}[board]
    pre = subprocess.run([str(CORPUS / "reference.sh"), "--pp", board], capture_output=True, text=True,
                         check=True).stdout
    arch = board.split("/")[1]
    board_dir = LINUX / Path(board).parent
    src = tmp_path / "pp.dts"
    src.write_text(pre)
    dtc_dirs = [arg for d in entry["include_dirs"]["dtc"] for arg in ("-i", str(LINUX / d))]
    out = tmp_path / "ref.dtb"
    subprocess.run(["dtc", "-q", "-@", "-I", "dts", "-O", "dtb", "-b", "0", "-i", str(board_dir), *dtc_dirs,
                    "-o", str(out), str(src)], check=True)
    dirs = [board_dir, LINUX / "src" / arch, LINUX / "src", LINUX / "include"]
    tree = parse_text(pre, str(LINUX / board), include_dirs=dirs, base_dir=board_dir, symbols=True)
    assert tree.to_dtb() == out.read_bytes()
