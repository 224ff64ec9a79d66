"""``memplan dts``: summary of a .dts/.dtb, DTB output, errors with exit status 2."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from memplan.cli import main

REPO = Path(__file__).resolve().parents[2]
EVK = REPO / "memplan" / "examples" / "evk" / "board.dts"
HAVE_TOOLS = shutil.which("cpp") is not None and shutil.which("dtc") is not None


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def body(summary: str) -> list[str]:
    """The summary without the lines that name the input files."""
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("nodes:"))
    return lines[start:]


def test_summary_of_example_board(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["dts", str(EVK)], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"source: {EVK} (dts")
    assert "files read (2):" in lines
    assert f"  {EVK}" in lines and f"  {EVK.parent / 'soc.dtsi'}" in lines
    assert "memory banks (1):" in lines
    assert "  /memory@40000000: 0x40000000-0xbfffffff (2 GiB)" in lines
    assert "reserved-memory (3 children):" in lines
    assert "  dsp@92400000: reg 0x92400000-0x933fffff (16 MiB); [no-map]" in lines
    assert (
        '  vpu-pool: size 64 MiB; alloc-range 0x40000000-0xbfffffff (2 GiB); compatible "shared-dma-pool"; '
        "[reusable]"
    ) in lines
    assert (
        "  linux,cma: size 256 MiB; alloc-range 0x40000000-0xbfffffff (2 GiB); "
        'compatible "shared-dma-pool"; [reusable linux,cma-default]'
    ) in lines
    assert "memreserve: none" in lines
    assert "chosen/bootargs: 'console=ttymxc1,115200 root=/dev/mmcblk2p2 rootwait cma=320M'" in lines
    nodes = next(line for line in lines if line.startswith("nodes: "))
    counts = [int(part.split(": ")[1]) for part in nodes.split(", ")]
    assert counts[0] > 5 and counts[1] > counts[0]


def test_dtb_output_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dtb = tmp_path / "evk.dtb"
    status, out, err = run(["dts", str(EVK), "-o", str(out_dtb)], capsys)
    assert status == 0, err
    blob = out_dtb.read_bytes()
    assert blob[:4] == bytes.fromhex("d00dfeed")
    assert out.strip() == f"wrote {out_dtb} ({len(blob)} bytes)"
    _, dts_summary, _ = run(["dts", str(EVK)], capsys)
    status, dtb_summary, err = run(["dts", str(out_dtb)], capsys)
    assert status == 0, err
    assert dtb_summary.splitlines()[0] == f"source: {out_dtb} (dtb)"
    assert body(dtb_summary) == body(dts_summary)


def test_dtb_detected_by_magic_not_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dtb = tmp_path / "evk.dtb"
    assert main(["dts", str(EVK), "-o", str(out_dtb)]) == 0
    disguised = tmp_path / "really-a-blob.dts"
    disguised.write_bytes(out_dtb.read_bytes())
    capsys.readouterr()
    status, out, _ = run(["dts", str(disguised)], capsys)
    assert status == 0
    assert out.splitlines()[0] == f"source: {disguised} (dtb)"


@pytest.mark.skipif(not HAVE_TOOLS, reason="needs cpp and dtc")
def test_dtb_matches_cpp_and_dtc(tmp_path: Path) -> None:
    ours = tmp_path / "ours.dtb"
    assert main(["dts", str(EVK), "-o", str(ours)]) == 0
    pre = subprocess.run(
        ["cpp", "-nostdinc", "-undef", "-D__DTS__", "-x", "assembler-with-cpp", str(EVK)],
        capture_output=True, check=True,
    ).stdout
    ref = subprocess.run(
        ["dtc", "-q", "-I", "dts", "-O", "dtb", "-b", "0", "-"], input=pre, capture_output=True, check=True
    ).stdout
    assert ours.read_bytes() == ref


def test_pcpp_and_system_cpp_give_same_summary(capsys: pytest.CaptureFixture[str]) -> None:
    _, auto, _ = run(["dts", str(EVK)], capsys)
    status, pcpp, err = run(["dts", "--cpp", "pcpp", str(EVK)], capsys)
    assert status == 0, err
    assert body(pcpp) == body(auto)


def test_missing_include_exits_2_with_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "b.dts"
    board.write_text('/dts-v1/;\n#include "gone.dtsi"\n/ { };\n')
    (tmp_path / "inc").mkdir()
    status, out, err = run(["dts", str(board), "-I", str(tmp_path / "inc")], capsys)
    assert status == 2
    assert out == ""
    assert err.startswith(f"memplan: error: {board}:2:10: include file 'gone.dtsi' not found")
    assert "Traceback" not in err


def test_corrupt_dtb_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blob = tmp_path / "bad.dtb"
    blob.write_bytes(bytes.fromhex("d00dfeed") + b"\x00\x00\x00\x08" + b"\x00" * 8)
    status, _, err = run(["dts", str(blob)], capsys)
    assert status == 2
    assert err.startswith(f"memplan: error: {blob}")


def test_malformed_values_become_summary_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "b.dts"
    board.write_text(
        "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"
        '\tmemory@0 { device_type = "memory"; reg = <0 0x1000 0x2000>; };\n'
        "\treserved-memory { #address-cells = <1>; #size-cells = <1>; ranges;\n"
        "\t\tfw@0 { reg = <0x100 0x100>; no-map; status = \"disabled\"; };\n\t};\n"
        "\tchosen { };\n};\n"
    )
    status, out, err = run(["dts", str(board)], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert "memory banks: none" in lines
    assert "  fw@0: reg 0x100-0x1ff (256 B); [no-map disabled]" in lines
    assert "chosen/bootargs: none" in lines
    warning = next(line for line in lines if "[dts-summary]" in line)
    assert "/memory@0: reg has 3 cells, not a multiple of #address-cells + #size-cells = 2" in warning


def test_memreserve_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "b.dts"
    board.write_text("/dts-v1/;\n/memreserve/ 0x10000000 0x100000;\n/ { };\n")
    status, out, err = run(["dts", "--cpp", "none", str(board)], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert "memreserve (1):" in lines
    assert "  0x10000000-0x100fffff (1 MiB)" in lines
    assert "reserved-memory: none" in lines


def test_help_lists_dts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dts", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--cpp {auto,system,pcpp,none}" in out and "-o OUT.dtb, --output OUT.dtb" in out


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["dts", str(tmp_path / "nope.dts")], capsys)
    assert status == 2
    assert err.strip() == f"memplan: error: {tmp_path / 'nope.dts'}:1: no such file: {tmp_path / 'nope.dts'}"
