"""Live (marker ``qemu``): run the collect script inside a QEMU guest of every architecture the
harness boots, bring the archive back and ``memplan check`` it with no other input.

Run with ``pytest -m qemu tests/kernel/test_collect_live.py`` (or ``MEMPLAN_QEMU=1``). The
archives recorded this way are replayed by ``tests/collect/test_collect_fixtures.py``.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from memplan.cli import main
from tools.qemu.boot import qemu_available
from tools.qemu.collect import SNAPSHOT_SCENARIOS, collect_in_guest, fixtures_dir
from tools.qemu.debian import FetchError
from tools.qemu.kernels import KERNELS
from tools.qemu.scenarios import BY_NAME


def _names(data: Path) -> set[str]:
    with tarfile.open(data) as tf:
        return {m.name for m in tf.getmembers()}


@pytest.mark.qemu
@pytest.mark.parametrize("name", SNAPSHOT_SCENARIOS)
def test_collect_in_guest_then_check(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = BY_NAME[name]
    if not qemu_available(KERNELS[sc.kernel].arch):
        pytest.skip("qemu-system emulator not installed")
    try:
        got = collect_in_guest(sc, timeout=1200)
    except FetchError as err:
        pytest.skip(f"Debian packages unavailable (network?): {err}")
    assert got.status == 0, got.messages
    path = tmp_path / f"{name}.tar.gz"
    path.write_bytes(got.archive)
    assert main(["check", str(path)]) == 0, capsys.readouterr().out
    recorded = fixtures_dir() / f"{name}.tar.gz"
    if recorded.is_file():
        assert _names(path) == _names(recorded)
