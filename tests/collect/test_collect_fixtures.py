"""Snapshots the collect script wrote inside QEMU guests (``python -m tools.qemu.collect``), one
per architecture the harness boots: ``memplan check SNAPSHOT.tar.gz`` alone must agree.

The live run (boot, collect, check) is ``tests/kernel/test_collect_live.py`` (marker ``qemu``).
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from memplan.cli import main
from memplan.observe import read_observed

HERE = Path(__file__).resolve().parent
ARCHIVES = sorted((HERE / "fixtures").glob("*.tar.gz"))
BOOTS = HERE.parent / "kernel" / "fixtures"

#: uname -m of the recorded guests, by archive name prefix.
MACHINES = {"arm64-": "aarch64", "x86-": "x86_64", "armmp-": "armv7l", "riscv64-": "riscv64"}


def _manifest(path: Path) -> dict[tuple[str, str], list[str]]:
    with tarfile.open(path) as tf:
        f = tf.extractfile("memplan-snapshot/MANIFEST")
        assert f is not None
        lines = [ln.split("\t") for ln in f.read().decode().splitlines()]
    return {(ln[0], ln[1]): ln for ln in lines if len(ln) >= 3}


def _machine(path: Path) -> str:
    return next(m for prefix, m in MACHINES.items() if path.name.startswith(prefix))


def test_one_snapshot_per_architecture() -> None:
    assert {_machine(p) for p in ARCHIVES} == set(MACHINES.values())


@pytest.mark.parametrize("path", ARCHIVES, ids=[p.name.removesuffix(".tar.gz") for p in ARCHIVES])
def test_recorded_snapshot_checks_with_no_other_input(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _manifest(path)
    # collected as root inside the guest, by busybox sh and its applets
    assert manifest[("info", "uid")][2] == "0"
    for name in (
        "cmdline",
        "version",
        "iomem",
        "meminfo",
        "zoneinfo",
        "release",
        "machine",
        "dmesg",
        "config",
    ):
        assert ("ok", name) in manifest, name
    release = manifest[("ok", "release")]
    assert manifest[("ok", "config")][2].startswith("/boot/config-")
    assert manifest[("ok", "dmesg")][2] == "dmesg"
    dt_arch = not path.name.startswith("x86-")
    assert (("ok", "fdt") in manifest) == dt_arch
    assert release[2] == "uname -r"

    assert main(["check", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    notes = data["inputs_from_snapshot"]
    assert any(n.startswith(".config:") for n in notes)
    assert data["plan_kernel_version_from_observed"] is True
    if dt_arch:
        assert any(n.startswith("Device Tree: the booted one") for n in notes)
    else:
        assert any(n.startswith("RAM: the firmware's e820 map") for n in notes)
        assert any(n.startswith("command line: the observed one") for n in notes)
    assert any(n.startswith("architecture: ") and _machine(path) in n for n in notes)


@pytest.mark.parametrize("path", ARCHIVES, ids=[p.name.removesuffix(".tar.gz") for p in ARCHIVES])
def test_snapshot_sees_what_the_recorded_boot_saw(path: Path) -> None:
    """The same scenario recorded by the harness's own capture reports the same global area."""
    boot = BOOTS / path.name.removesuffix(".tar.gz")
    if not (boot / "dmesg.txt").is_file():
        pytest.skip("the harness has no recorded boot of this scenario")
    snap, recorded = read_observed([path]), read_observed([boot])
    assert snap.kernel_version == recorded.kernel_version
    assert snap.cmdline == recorded.cmdline
    assert (snap.global_cma.origin, snap.global_cma.base, snap.global_cma.size) == (
        recorded.global_cma.origin,
        recorded.global_cma.base,
        recorded.global_cma.size,
    )
    assert [(r.name, r.base, r.size) for r in snap.regions] == [
        (r.name, r.base, r.size) for r in recorded.regions
    ]
