"""Snapshots the collect script wrote inside QEMU guests (``python -m tools.qemu.collect``), one
scenario per architecture the harness boots: ``memplan check SNAPSHOT.tar.gz`` alone must agree.
Each guest ran the script as root (``NAME.tar.gz``) and as ``nobody`` (``NAME.user.tar.gz``): the
kernel then restricts dmesg (Debian sets ``CONFIG_SECURITY_DMESG_RESTRICT``), hides the
``/proc/iomem`` addresses and keeps the DTB and debugfs for root; the boot log comes from
``/var/log/messages``, written by busybox syslogd and klogd.

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
ARCHIVES = sorted(p for p in (HERE / "fixtures").glob("*.tar.gz") if not p.name.endswith(".user.tar.gz"))
USER_ARCHIVES = sorted((HERE / "fixtures").glob("*.user.tar.gz"))
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


def _scenario(path: Path) -> str:
    return path.name.removesuffix(".tar.gz").removesuffix(".user")


def test_one_snapshot_per_architecture() -> None:
    assert {_machine(p) for p in ARCHIVES} == set(MACHINES.values())
    assert [_scenario(p) for p in USER_ARCHIVES] == [_scenario(p) for p in ARCHIVES]


def _member(path: Path, name: str) -> bytes:
    with tarfile.open(path) as tf:
        f = tf.extractfile("memplan-snapshot/" + name)
        assert f is not None
        return f.read()


@pytest.mark.parametrize("path", USER_ARCHIVES, ids=[_scenario(p) for p in USER_ARCHIVES])
def test_unprivileged_snapshot_says_what_it_skipped(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(path)
    assert manifest[("info", "uid")][2] == "65534"
    assert manifest[("skip", "iomem")][3] == "addresses hidden (every range reads 0 without root)"
    assert manifest[("skip", "cma")][3] == "permission denied on /sys/kernel/debug (run as root)"
    log = manifest[("ok", "dmesg")]
    assert log[2] == "/var/log/messages" and "klogctl: Operation not permitted" in log[3]
    dt_arch = not path.name.startswith("x86-")
    if dt_arch:
        assert manifest[("skip", "fdt")][3] == "permission denied (run as root)"
    # the boot log read back through syslogd says what the root run's dmesg said
    root = path.with_name(_scenario(path) + ".tar.gz")
    mine, theirs = read_observed([path]), read_observed([root])
    assert mine.iomem is None and mine.kernel_version == theirs.kernel_version
    assert (mine.global_cma.origin, mine.global_cma.base, mine.global_cma.size) == (
        theirs.global_cma.origin,
        theirs.global_cma.base,
        theirs.global_cma.size,
    )
    warned = {d.message.split(" (")[0] for d in mine.diagnostics if d.code == "observe-snapshot-skipped"}
    assert "the target did not collect iomem" in warned
    if dt_arch:
        # no Device Tree to predict from: a clear error, and the check agrees once it is given
        assert main(["check", str(path)]) == 2
        assert "no Device Tree" in capsys.readouterr().err
        dtb = tmp_path / "fdt.dtb"
        dtb.write_bytes(_member(root, "fdt"))
        assert main(["check", str(path), "--dtb", str(dtb)]) == 0, capsys.readouterr().out
    else:
        assert main(["check", str(path)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("path", ARCHIVES, ids=[_scenario(p) for p in ARCHIVES])
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


@pytest.mark.parametrize("path", ARCHIVES, ids=[_scenario(p) for p in ARCHIVES])
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
