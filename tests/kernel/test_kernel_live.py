"""Live re-boots (marker ``qemu``): boot a scenario again and compare it with its fixture.

Run with ``pytest -m qemu tests/kernel`` (or ``MEMPLAN_QEMU=1``). Skipped when the QEMU system
emulator is missing or the Debian packages cannot be downloaded. ``MEMPLAN_QEMU_SCENARIOS`` (a
comma-separated list) limits the scenarios.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.qemu.boot import qemu_available, run_boot
from tools.qemu.debian import FetchError
from tools.qemu.fixtures import fixtures_root, load_fixture
from tools.qemu.kernels import KERNELS
from tools.qemu.record import write_fixture
from tools.qemu.scenarios import BY_NAME
from tools.qemu.truth import extract_fixture

_only = {n for n in os.environ.get("MEMPLAN_QEMU_SCENARIOS", "").split(",") if n}
NAMES = [n for n in sorted(BY_NAME) if (fixtures_root() / n / "expected.json").exists()
         and (not _only or n in _only)]

#: What must be identical between the recorded and the fresh boot.
COMPARED = ("global_cma", "global_cma_failures", "regions", "overlaps", "crashkernel",
            "crashkernel_low", "e820", "memory_limited", "cma_total")


@pytest.mark.qemu
@pytest.mark.parametrize("name", NAMES)
def test_live_boot_matches_fixture(name: str, tmp_path: Path) -> None:
    sc = BY_NAME[name]
    if not qemu_available(KERNELS[sc.kernel].arch):
        pytest.skip("qemu-system emulator not installed")
    try:
        res = run_boot(sc, timeout=sc.hang_timeout or 900)
    except FetchError as err:
        pytest.skip(f"Debian packages unavailable (network?): {err}")
    # a hang scenario must hang again (at the same message), every other one must complete
    assert res.complete is (sc.hang_timeout is None), res.console[-3000:]
    fresh = extract_fixture(write_fixture(res, tmp_path))
    recorded = load_fixture(fixtures_root() / name).expected
    for key in COMPARED + (("hang",) if sc.hang_timeout is not None else ()):
        assert fresh[key] == recorded[key], key
