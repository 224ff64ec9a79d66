"""Which prediction inputs ``memplan check`` takes from a snapshot, and where each came from."""

from __future__ import annotations

import gzip
import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from memplan.cli import main
from memplan.collect import SnapshotInputs, fill_inputs, read_snapshot_inputs
from memplan.collect.inputs import Piece
from memplan.dts import Tree
from memplan.kconfig import KernelConfig
from memplan.observe import read_observed

FIXTURES = Path(__file__).resolve().parents[1] / "kernel" / "fixtures"
CONFIGS = FIXTURES / "configs"


def _archive(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo("memplan-snapshot/" + name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _snapshot(tmp_path: Path, scenario: str, config: str, machine: str, with_fdt: bool = True) -> Path:
    d = FIXTURES / scenario
    files = {
        "iomem": (d / "iomem.txt").read_bytes(),
        "meminfo": (d / "meminfo.txt").read_bytes(),
        "dmesg": (d / "dmesg.txt").read_bytes(),
        "cmdline": (d / "cmdline.txt").read_bytes(),
        "config.gz": (CONFIGS / config).read_bytes(),
        "machine": machine.encode() + b"\n",
    }
    if with_fdt and (d / "fdt").is_file():
        files["fdt"] = (d / "fdt").read_bytes()
    return _archive(tmp_path / f"{scenario}.tar.gz", files)


GIVEN_NOTHING = {k: None for k in ("dts", "dtb", "config", "arch", "kernel_version", "cmdline", "memory")}


def test_dt_target_takes_everything_but_the_command_line(tmp_path: Path) -> None:
    path = _snapshot(tmp_path, "arm64-6.12-dt-default-cma", "arm64-6.12.config.gz", "aarch64")
    snap = read_snapshot_inputs([path])
    filled = fill_inputs(GIVEN_NOTHING, snap, read_observed([path]))
    kw = filled.kwargs
    assert isinstance(kw["dtb"], Tree) and isinstance(kw["config"], KernelConfig)
    assert kw["kernel_version"] == "6.12.117" and kw["arch"] == "arm64"
    # the booted DT's /chosen/bootargs is what the boot loader passed: no second copy
    assert kw["cmdline"] is None and kw["memory"] is None
    assert any("bootargs" in n for n in filled.notes)
    assert kw["config"].source_of("CMA") is not None


def test_x86_target_takes_the_command_line_and_the_firmware_ram_map(tmp_path: Path) -> None:
    path = _snapshot(tmp_path, "x86-7.2-cma", "amd64-7.2.config.gz", "x86_64")
    observed = read_observed([path])
    filled = fill_inputs(GIVEN_NOTHING, read_snapshot_inputs([path]), observed)
    kw = filled.kwargs
    assert kw["dtb"] is None and kw["arch"] == "x86"
    assert kw["cmdline"] == (FIXTURES / "x86-7.2-cma" / "cmdline.txt").read_text().strip()
    assert kw["memory"] == [(0, 0x9FC00), (0x100000, 0x7FFE0000 - 0x100000)]


def test_what_the_user_gives_wins(tmp_path: Path) -> None:
    path = _snapshot(tmp_path, "arm64-6.12-dt-default-cma", "arm64-6.12.config.gz", "aarch64")
    given = dict(GIVEN_NOTHING, dts="board.dts", kernel_version="6.1", arch="arm64", config="my.config")
    filled = fill_inputs(given, read_snapshot_inputs([path]), read_observed([path]))
    assert filled.kwargs == given  # nothing taken: not even the command line (the user's DT has its own)
    assert filled.notes == ()


def test_version_from_proc_version_then_release() -> None:
    from memplan.observe import Observed

    line = (
        b"Linux version 6.1.0-50-arm64 (debian-kernel@lists.debian.org) (gcc 12) "
        b"#1 SMP Debian 6.1.176-1 (2026-11-01)\n"
    )
    snap = SnapshotInputs(version=Piece(line, "s!/version"), release=Piece(b"6.1.0-50-arm64\n", "s!/release"))
    kw = fill_inputs(GIVEN_NOTHING, snap, Observed()).kwargs
    assert kw["kernel_version"] == "6.1.176"
    kw = fill_inputs(
        GIVEN_NOTHING, SnapshotInputs(release=Piece(b"6.6.3-rt\n", "s!/release")), Observed()
    ).kwargs
    assert kw["kernel_version"] == "6.6.3-rt"


def test_snapshot_directory_and_symlinks(tmp_path: Path) -> None:
    d = tmp_path / "snap"
    d.mkdir()
    (d / "config").write_bytes(gzip.decompress((CONFIGS / "arm64-6.1.config.gz").read_bytes()))
    (d / "fdt").symlink_to(FIXTURES / "arm64-6.12-dt-default-cma" / "fdt")  # not followed
    snap = read_snapshot_inputs([d])
    assert snap.config is not None and snap.config.label == str(d / "config")
    assert snap.dtb is None
    assert read_snapshot_inputs([tmp_path / "nothing-here"]).empty


def test_check_reports_where_inputs_came_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _snapshot(tmp_path, "x86-7.2-cma", "amd64-7.2.config.gz", "x86_64")
    assert main(["check", str(path), "--format", "json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["plan_kernel_version_from_observed"] is True
    assert any(n.startswith("RAM: the firmware's e820 map") for n in data["inputs_from_snapshot"])
    # --observed is the same as the positional snapshot; giving neither is an error
    assert main(["check", "--observed", str(path)]) == 0
    capsys.readouterr()
    assert main(["check"]) == 2
    assert "nothing observed to check" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc is not installed")
def test_efi_boot_without_memory_node_takes_the_early_memory_ranges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An EFI stub deletes /memory from the DT it passes on: RAM then comes from the boot log."""
    boot = FIXTURES / "arm64-7.2-dt-default-cma"
    dts = subprocess.run(
        ["dtc", "-q", "-I", "dtb", "-O", "dts", str(boot / "fdt")], capture_output=True, text=True, check=True
    ).stdout
    without, n = re.subn(r"\n\tmemory@40000000 \{.*?\n\t\};", "", dts, flags=re.S)
    assert n == 1
    fdt = subprocess.run(
        ["dtc", "-q", "-I", "dts", "-O", "dtb"], input=without.encode(), capture_output=True, check=True
    ).stdout
    files = {
        "dmesg": (boot / "dmesg.txt").read_bytes(),
        "iomem": (boot / "iomem.txt").read_bytes(),
        "fdt": fdt,
        "config.gz": (CONFIGS / "arm64-7.2.config.gz").read_bytes(),
    }
    path = _archive(tmp_path / "efi.tar.gz", files)
    filled = fill_inputs(GIVEN_NOTHING, read_snapshot_inputs([path]), read_observed([path]))
    assert filled.kwargs["memory"] == [(0x40000000, 0x80000000)]
    assert any("Early memory node ranges" in n for n in filled.notes)
    assert main(["check", str(path)]) == 0, capsys.readouterr().out


def test_early_memory_ranges_merge_touching_ranges_and_stop_at_the_block_end() -> None:
    from memplan.collect.inputs import early_memory_ranges

    log = (
        "[    0.000000] Early memory node ranges\n"
        "[    0.000000]   node   0: [mem 0x0000000040000000-0x000000005fffffff]\n"
        "[    0.000000]   node   0: [mem 0x0000000060000000-0x000000006fffffff]\n"
        "[    0.000000]   node   1: [mem 0x0000000080000000-0x00000000bfffffff]\n"
        "[    0.000000] Initmem setup node 0 [mem 0x0000000040000000-0x00000000bfffffff]\n"
        "[    0.000000]   node   0: [mem 0x00000000f0000000-0x00000000ffffffff]\n"
    )
    ranges = early_memory_ranges(Piece(log.encode(), "x"))
    assert ranges == [(0x40000000, 0x30000000), (0x80000000, 0x40000000)]
    assert early_memory_ranges(None) == []


def test_version_origin_is_named_truly(tmp_path: Path) -> None:
    boot = FIXTURES / "arm64-7.2-dt-default-cma"
    first = (boot / "dmesg.txt").read_text().splitlines()
    line = next(x for x in first if "Linux version" in x).split("] ", 1)[1]
    path = _archive(
        tmp_path / "nolog.tar.gz", {"version": line.encode() + b"\n", "fdt": (boot / "fdt").read_bytes()}
    )
    filled = fill_inputs(GIVEN_NOTHING, read_snapshot_inputs([path]), read_observed([path]))
    assert f"kernel version: 7.2.13, from {path}!/version" in filled.notes
    path = _snapshot(tmp_path, "arm64-7.2-dt-default-cma", "arm64-7.2.config.gz", "aarch64")
    filled = fill_inputs(GIVEN_NOTHING, read_snapshot_inputs([path]), read_observed([path]))
    assert "kernel version: 7.2.13, from the boot log" in filled.notes


@pytest.mark.parametrize(
    ("extra", "observed", "loader"),
    [
        # x86 CMDLINE_BOOL: the built-in string goes in front of the boot loader's
        ('CONFIG_CMDLINE_BOOL=y\nCONFIG_CMDLINE="mitigations=off"\n', "mitigations=off cma=64M", "cma=64M"),
        # no built-in command line: the observed one is the boot loader's
        ("", "cma=64M", None),
        # a built-in string the observed line does not carry explains nothing: keep the observed one
        ('CONFIG_CMDLINE_BOOL=y\nCONFIG_CMDLINE="quiet"\n', "cma=64M", None),
    ],
)
def test_loader_cmdline_takes_the_built_in_part_out(extra: str, observed: str, loader: str | None) -> None:
    from memplan.collect.inputs import loader_cmdline
    from memplan.kconfig import load_config

    config = load_config(text="CONFIG_X86_64=y\nCONFIG_X86=y\n" + extra, arch="x86", kernel_version="7.2")
    assert loader_cmdline(observed, config, "x86", None, None) == loader
    assert loader_cmdline(observed, "a path, not a loaded config", "x86", None, None) is None


def test_check_of_a_kernel_with_a_built_in_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The built-in part is not counted twice: cma= given twice would change nothing, but the
    effective command line the report compares would differ."""
    boot = FIXTURES / "x86-7.2-cma"
    config = gzip.decompress((CONFIGS / "amd64-7.2.config.gz").read_bytes()).decode()
    config = config.replace(
        "# CONFIG_CMDLINE_BOOL is not set", 'CONFIG_CMDLINE_BOOL=y\nCONFIG_CMDLINE="quiet"'
    )
    log = re.sub(r"([Cc]ommand line: )", r"\1quiet ", (boot / "dmesg.txt").read_text())
    files = {
        "dmesg": log.encode(),
        "cmdline": b"quiet " + (boot / "cmdline.txt").read_bytes(),
        "config": config.encode(),
        "machine": b"x86_64\n",
    }
    path = _archive(tmp_path / "builtin.tar.gz", files)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "the boot loader's part of the observed one" in out and "command line differs" not in out
