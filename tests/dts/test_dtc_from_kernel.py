"""The dtc followed for a given kernel version: the copy the release carries in ``scripts/dtc``
(:mod:`memplan.kernel.dtc_releases`), unless ``--dtc-version`` says otherwise.

Linux 6.2 carries dtc 1.6.1-63, which refuses an out-of-range array element; 6.3 brought
1.6.1-66 with dtc commit 2cd89f8, which truncates it with a warning."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import memplan
from memplan.cli import main
from memplan.dts import parse_text
from memplan.dts.dtcversion import DEFAULT_DTC, choose_dtc, parse_dtc_version, tree_dtc_version
from memplan.errors import DtsError
from memplan.kernel import rules
from memplan.kernel.dtc_releases import KERNEL_DTC
from memplan.version import KernelVersion

BOARD = """/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	memory@40000000 { device_type = "memory"; reg = <0x40000000 0x10000000>; };
	quirk { narrow = /bits/ 8 <0x1ff>; };
};
"""
LINUX = Path("/work/linux-6.12")


def _codes(plan: memplan.Plan) -> list[str]:
    return [d.code for d in plan.diagnostics]


def test_the_table_is_ordered_and_every_row_is_a_dtc_version() -> None:
    releases = [since for since, _dtc in KERNEL_DTC]
    assert releases == sorted(set(releases))
    versions = [parse_dtc_version(dtc) for _since, dtc in KERNEL_DTC]
    assert [v.release for v in versions] == sorted(v.release for v in versions)
    # the truncation rule flips exactly once, at 6.3
    flips = [since for (since, _), v in zip(KERNEL_DTC, versions, strict=True) if v.truncates_cells]
    assert flips[0] == (6, 3) and flips == releases[releases.index((6, 3)):]


@pytest.mark.parametrize(("kernel", "since", "commit"), [
    ("5.6", "5.6", "c40aeb60b47a"),
    ("5.15.120", "5.12", "183df9e9c2b9"),
    ("6.1", "5.16", "0a3a9d3449c8"),
    ("6.2.16", "6.2", "55778a03df61"),
    ("6.3", "6.3", "abbd523bae6e"),
    ("6.6", "6.3", "abbd523bae6e"),
    ("6.12.5", "6.12", "bcd02b523429"),
    ("8.0", "7.1", "53373d135579"),
])
def test_kernel_dtc_rows(kernel: str, since: str, commit: str) -> None:
    found = rules.kernel_dtc(KernelVersion.parse(kernel))
    assert found is not None
    assert found[0] == KernelVersion.parse(since)
    assert parse_dtc_version(found[1]).commit == commit


def test_older_kernels_are_outside_the_table() -> None:
    assert rules.kernel_dtc(KernelVersion.parse("5.5")) is None
    dtc, note = choose_dtc(None, KernelVersion.parse("4.19"))
    assert dtc == DEFAULT_DTC and note is not None and "4.19" in note.message and note.severity == "info"


@pytest.mark.skipif(not (LINUX / "scripts" / "dtc" / "version_gen.h").is_file(), reason="no Linux 6.12 tree")
def test_the_612_row_matches_the_trees_own_version_gen() -> None:
    own = tree_dtc_version(LINUX)
    found = rules.kernel_dtc(KernelVersion.parse("6.12"))
    assert own is not None and found is not None and own.commit is not None
    table = parse_dtc_version(found[1])
    assert table.release == own.release and table.commit is not None
    assert table.commit.startswith(own.commit)


def test_explicit_dtc_version_wins_and_no_version_keeps_the_default() -> None:
    explicit = parse_dtc_version("1.6.1")
    assert choose_dtc(explicit, KernelVersion.parse("6.12")) == (explicit, None)
    assert choose_dtc(None, None) == (DEFAULT_DTC, None)


def test_resolve_follows_the_kernels_dtc() -> None:
    plan = memplan.resolve(dts=BOARD, arch="arm64", kernel_version="6.3")
    assert "dtc-value-truncated" in _codes(plan)
    note = next(d for d in plan.diagnostics if d.code == "dtc-from-kernel")
    assert note.severity == "info"
    assert "1.6.1-gabbd523bae6e" in note.message and "Linux 6.3" in note.message
    assert "since 6.3" in note.message and "dtc_version=" in note.message


def test_resolve_refuses_where_the_kernels_dtc_refuses_and_says_why() -> None:
    with pytest.raises(DtsError) as err:
        memplan.resolve(dts=BOARD, arch="arm64", kernel_version="6.2")
    assert "Value out of range for 8-bit array element" in err.value.message
    assert "1.6.1-g55778a03df61" in err.value.message and "Linux 6.2" in err.value.message
    assert err.value.source is not None and err.value.source.line == 6


def test_explicit_dtc_version_beats_the_kernel_version() -> None:
    with pytest.raises(DtsError) as err:
        memplan.resolve(dts=BOARD, arch="arm64", kernel_version="6.12", dtc_version="1.6.1")
    assert "Linux 6.12" not in err.value.message
    plan = memplan.resolve(dts=BOARD, arch="arm64", kernel_version="6.2", dtc_version="1.7")
    assert "dtc-value-truncated" in _codes(plan) and "dtc-from-kernel" not in _codes(plan)


def test_without_a_kernel_version_the_default_dtc_refuses() -> None:
    with pytest.raises(DtsError) as err:
        memplan.resolve(dts=BOARD, arch="arm64")
    assert "Linux" not in err.value.message


def test_no_note_for_a_blob() -> None:
    fine = BOARD.replace("/bits/ 8 <0x1ff>", "/bits/ 8 <0xff>")
    dtb = parse_text(fine, "<b>").to_dtb()
    plan = memplan.resolve(dtb=dtb, arch="arm64", kernel_version="6.12")
    assert "dtc-from-kernel" not in _codes(plan)
    plan = memplan.resolve(dts=fine, arch="arm64", kernel_version="6.12")
    assert "dtc-from-kernel" in _codes(plan)


@pytest.mark.parametrize("stdin", [False, True])
def test_cli_names_the_rule(stdin: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    board = tmp_path / "board.dts"
    board.write_text(BOARD)
    dts = str(board)
    if stdin:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BOARD.encode())))
        dts = "-"
    assert main(["resolve", "--dts", dts, "--arch", "arm64", "--kernel-version", "6.12"]) == 0
    out = capsys.readouterr().out
    assert "dtc-from-kernel" in out and "--dtc-version VERSION" in out and "Linux 6.12" in out
    assert "dtc-value-truncated" in out
    if stdin:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BOARD.encode())))
    assert main(["resolve", "--dts", dts, "--arch", "arm64", "--kernel-version", "6.2"]) == 2
    err = capsys.readouterr().err
    assert "Value out of range" in err and "scripts/dtc of Linux 6.2" in err and "Traceback" not in err


def _dts_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["dts", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_dts_command_follows_the_kernels_dtc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "board.dts"
    board.write_text(BOARD)
    code, out, _err = _dts_cli([str(board), "--kernel-version", "6.12"], capsys)
    assert code == 0
    assert "[dtc-from-kernel] following dtc 1.7.0-gbcd02b523429" in out and "Linux 6.12.0" in out
    assert "[dtc-value-truncated]" in out
    # the blob is the one dtc 1.7 builds (memplan following 1.7 by name), the note aside
    kernel_dtb, named_dtb = tmp_path / "k.dtb", tmp_path / "n.dtb"
    assert _dts_cli([str(board), "--kernel-version", "6.3", "-o", str(kernel_dtb)], capsys)[0] == 0
    assert _dts_cli([str(board), "--dtc-version", "1.7.0", "-o", str(named_dtb)], capsys)[0] == 0
    assert kernel_dtb.read_bytes() == named_dtb.read_bytes()
    assert b"\xff" in kernel_dtb.read_bytes()


def test_dts_command_refuses_where_the_kernels_dtc_refuses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dtc_rejects: Callable[[str], str]) -> None:
    board = tmp_path / "board.dts"
    board.write_text(BOARD)
    assert "Value out of range" in dtc_rejects(BOARD)  # the installed dtc (1.6.1 in CI) agrees
    code, out, err = _dts_cli([str(board), "--kernel-version", "6.2"], capsys)
    assert code == 2 and out == ""
    assert f"{board}:6:29: Value out of range for 8-bit array element" in err
    assert "scripts/dtc of Linux 6.2.0" in err and "Traceback" not in err
    # --dtc-version wins over the kernel's, and says nothing of the kernel
    code, out, err = _dts_cli([str(board), "--kernel-version", "6.12", "--dtc-version", "1.6.1"], capsys)
    assert code == 2 and "Value out of range" in err and "Linux" not in err


@pytest.mark.parametrize(("value", "why"), [
    ("6.x", "not a kernel version: '6.x'"),
    ("1.2", "1.2.0 is not a plausible Linux release"),
])
def test_dts_command_names_a_bad_kernel_version(value: str, why: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "board.dts"
    board.write_text(BOARD)
    assert main(["dts", str(board), "--kernel-version", value]) == 2
    err = capsys.readouterr().err
    assert "argument --kernel-version" in err and why in err and "Traceback" not in err


def test_dts_command_no_note_for_a_blob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fine = BOARD.replace("/bits/ 8 <0x1ff>", "/bits/ 8 <0xff>")
    blob = tmp_path / "board.dtb"
    blob.write_bytes(parse_text(fine, "<b>").to_dtb())
    code, out, _err = _dts_cli([str(blob), "--kernel-version", "6.12"], capsys)
    assert code == 0 and "dtc-from-kernel" not in out and "(dtb)" in out
    source = tmp_path / "board.dts"
    source.write_text(fine)
    code, out, _err = _dts_cli([str(source), "--kernel-version", "6.12"], capsys)
    assert code == 0 and "dtc-from-kernel" in out
