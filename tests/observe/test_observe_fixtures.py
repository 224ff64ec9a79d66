"""Replay the boot logs recorded from real kernels under QEMU (tests/kernel/fixtures/).

Every recorded log, iomem and meminfo must parse without a malformed-line diagnostic, give the
kernel version and command line the scenario booted with, and yield the facts listed in the
fixture's ``expected.json`` (recorded alongside the boot). Regions that ``expected.json``
marks as ``inferred`` come from the DTS, not from any kernel output, and are skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from memplan.observe import Observed, read_observed
from memplan.version import KernelVersion

FIXTURES = Path(__file__).resolve().parents[1] / "kernel" / "fixtures"
MIB = 1 << 20


def _complete(d: Path) -> bool:
    try:
        scenario = json.loads((d / "scenario.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(scenario.get("complete")) and (d / "dmesg.txt").is_file()


ALL = sorted(d for d in FIXTURES.glob("*") if d.is_dir() and _complete(d)) if FIXTURES.is_dir() else []
WITH_EXPECTED = [d for d in ALL if (d / "expected.json").is_file()]


def _ids(dirs: list[Path]) -> list[str]:
    return [d.name for d in dirs]


def _snapshot(fixture: Path, tmp_path: Path) -> Path:
    """A snapshot directory for the fixture, with the booted DTB as ``fdt`` when dtc is available."""
    snap = tmp_path / fixture.name
    snap.mkdir()
    for name in ("dmesg.txt", "iomem.txt", "meminfo.txt"):
        if (fixture / name).is_file():
            shutil.copy(fixture / name, snap / name)
    dts = fixture / "board.dts"
    if dts.is_file() and shutil.which("dtc"):
        subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(snap / "fdt"), str(dts)], check=True)
    return snap


@pytest.mark.skipif(not ALL, reason="no recorded kernel fixtures")
@pytest.mark.parametrize("fixture", ALL, ids=_ids(ALL))
def test_recorded_boot_parses_cleanly(fixture: Path) -> None:
    scenario = json.loads((fixture / "scenario.json").read_text())
    obs = read_observed([fixture])
    bad = [str(d) for d in obs.diagnostics if d.code == "observe-malformed-line"]
    assert bad == []
    assert obs.kernel_version is not None
    want = scenario["kernel_version"]
    assert obs.kernel_release == want or obs.kernel_version == KernelVersion.parse(want)
    assert obs.cmdline == scenario["cmdline"]
    assert obs.global_cma.known


def _check_global(obs: Observed, expected: dict[str, Any] | None) -> None:
    g = obs.global_cma
    if expected is None or expected.get("status", "ok") != "ok":
        # no area (expected.json still names the deciding candidate and size 0): nothing observed
        assert g.origin is None and g.base is None, g
        return
    assert g.origin == expected["origin"]
    assert g.name == expected["region"]
    assert g.base == expected["base"]
    assert g.size_matches(expected["size"])


@pytest.mark.skipif(not WITH_EXPECTED, reason="no recorded expectations")
@pytest.mark.parametrize("fixture", WITH_EXPECTED, ids=_ids(WITH_EXPECTED))
def test_recorded_boot_facts(fixture: Path, tmp_path: Path) -> None:
    expected = json.loads((fixture / "expected.json").read_text())
    obs = read_observed([_snapshot(fixture, tmp_path)])
    assert [
        str(d) for d in obs.diagnostics if d.severity == "warning" and d.code.startswith("observe-")
    ] == []
    _check_global(obs, expected["global_cma"])
    assert obs.cma_total == expected["cma_total"]
    assert obs.memory_limit == expected["memory_limited"]
    for name, want in expected["regions"].items():
        if "inferred" in want:
            continue
        got = obs.region(name)
        assert got.status == want["status"], name
        if want["base"] is not None:
            assert got.base == want["base"], name
        if want["size"] is not None:
            assert got.size_matches(want["size"]), name
    crash = expected["crashkernel"]
    if crash:
        c = obs.region("crashkernel")
        assert (c.base, c.size) == (crash["base"], crash["size"])
    user = expected["e820"].get("user")
    if user:
        got_map = [(m.base, m.end, m.type) for m in obs.memory if m.user_defined]
        assert got_map == [(e["start"], e["end"], e["type"]) for e in user]


def _fixture(name: str) -> Path:
    d = FIXTURES / name
    if not _complete(d):
        pytest.skip(f"fixture {name} not recorded")
    return d


def test_6_1_pools_in_heapsort_order() -> None:
    obs = read_observed([_fixture("arm64-6.1-pools")])
    pools = [(r.name, r.base, r.size) for r in obs.regions if r.kind == "reusable"]
    assert pools == [
        ("pool-b", 0xBD000000, 48 * MIB),
        ("pool-c", 0xBC800000, 8 * MIB),
        ("pool-d", 0xBA800000, 32 * MIB),
        ("pool-a", 0xB9800000, 16 * MIB),
    ]
    assert (obs.global_cma.origin, obs.global_cma.base) == ("kconfig", 0xB3200000)


def test_6_1_misaligned_pools_rejected() -> None:
    obs = read_observed([_fixture("arm64-6.1-misaligned")])
    assert obs.region("cma-bad-size").status == "rejected"
    assert obs.region("cma-bad-size").reason == "incorrect alignment of CMA region"
    assert obs.region("cma-bad-base@60100000").status == "rejected"
    assert obs.region("cma-good").base == 0xBF000000


def test_7_2_skip_line_names_node_with_dtb(tmp_path: Path) -> None:
    if shutil.which("dtc") is None:
        pytest.skip("dtc not installed")
    obs = read_observed([_snapshot(_fixture("arm64-7.2-dt-default-cma"), tmp_path)])
    assert obs.dt_default_cma == ("linux,cma",)
    assert obs.region("linux,cma").status == "bypassed"
    assert obs.global_cma.dt_default_dropped
    assert (obs.global_cma.origin, obs.global_cma.size) == ("cmdline", 128 * MIB)


def test_6_1_failed_window_has_no_global_area() -> None:
    obs = read_observed([_fixture("arm64-6.1-highmem-cma-window")])
    assert obs.global_cma.known and obs.global_cma.origin is None
    failed = obs.region("reserved")
    assert failed.status == "failed"
    assert failed.reason is not None and "exceeds the limit" in failed.reason
