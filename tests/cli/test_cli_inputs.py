"""CLI input handling: unreadable command-line files, directories, a DTB given as --dts, tiny x86 RAM."""

from __future__ import annotations

from pathlib import Path

import pytest

from memplan.cli import main
from memplan.dts import parse_dts

BOARD = """/dts-v1/;
/ {
    #address-cells = <1>; #size-cells = <1>;
    memory@40000000 { device_type = "memory"; reg = <0x40000000 0x20000000>; };
    reserved-memory {
        #address-cells = <1>; #size-cells = <1>; ranges;
        fw@48000000 { reg = <0x48000000 0x100000>; no-map; };
    };
};
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _usage_error(status: int, err: str) -> str:
    assert status == 2
    assert "Traceback" not in err
    line = err.strip().splitlines()[0]
    assert line.startswith("memplan: error: ")
    return line


@pytest.mark.parametrize(("data", "offset"), [(b"console=ttyS0 \x00\x01junk", 14), (b"cma=64M \xff\xfe", 8)])
@pytest.mark.parametrize("command", ["resolve", "check"])
def test_binary_cmdline_file_names_the_file_and_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, offset: int, command: str
) -> None:
    f = tmp_path / "cmdline.bin"
    f.write_bytes(data)
    argv = [command, "--cmdline-file", str(f), "--arch", "x86", "--memory", "1G"]
    if command == "check":
        (tmp_path / "obs").mkdir()
        argv += ["--observed", str(tmp_path / "obs")]
    line = _usage_error(*run(argv, capsys)[::2])
    assert line.startswith(f"memplan: error: {f}: --cmdline-file:")
    assert f"offset {offset}" in line


def test_text_cmdline_file_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "cmdline.txt"
    f.write_text("cma=64M\n")
    status, out, _ = run(["resolve", "--cmdline-file", str(f), "--arch", "x86", "--memory", "1G",
                          "--kernel-version", "6.1", "--format", "json"], capsys)
    assert status in (0, 1)
    assert '"cmdline": "cma=64M"' in out


def test_x86_memory_too_small(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(*run(["resolve", "--arch", "x86", "--memory", "1K"], capsys)[::2])
    assert "memory" in line and "too little" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["resolve", "--dts", "{d}", "--arch", "arm64"],
        ["resolve", "--config", "{d}", "--arch", "x86", "--memory", "1G"],
        ["resolve", "--cmdline-file", "{d}", "--arch", "x86", "--memory", "1G"],
        ["dts", "{d}"],
        ["dts", "{board}", "-o", "{d}"],
    ],
)
def test_directory_is_reported_as_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    board = tmp_path / "board.dts"
    board.write_text(BOARD)
    args = [a.format(d=tmp_path, board=board) for a in argv]
    line = _usage_error(*run(args, capsys)[::2])
    assert line.startswith(f"memplan: error: {tmp_path}:")
    assert "is a directory" in line


def test_dtb_given_as_dts_is_read_as_a_blob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blob = tmp_path / "board.dtb"
    blob.write_bytes(parse_dts(text=BOARD, filename="board.dts").to_dtb())
    status, out, err = run(["resolve", "--dts", str(blob), "--arch", "arm64", "--kernel-version", "6.1",
                            "--format", "json"], capsys)
    assert status == 0, err
    assert "0x48000000" in out or str(0x48000000) in out
    status, out, _ = run(["dts", str(blob)], capsys)
    assert status == 0 and "fw@48000000" in out


def test_dts_command_resolves_include_next_to_the_board(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = tmp_path / "boards"
    sub.mkdir()
    (sub / "extra.dtsi").write_text('/ { model = "included"; };\n')
    board = sub / "board.dts"
    board.write_text(BOARD + '/include/ "extra.dtsi"\n')
    status, out, err = run(["dts", str(board)], capsys)
    assert status == 0, err
    assert str(sub / "extra.dtsi") in out
    status, _, err = run(["resolve", "--dts", str(board), "--arch", "arm64"], capsys)
    assert status == 0, err
