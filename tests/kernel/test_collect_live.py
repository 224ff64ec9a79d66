"""Live (marker ``qemu``): run the collect script inside a QEMU guest of every architecture the
harness boots (as root and as ``nobody``), bring the archives back and ``memplan check`` the root
one with no other input.

Run with ``pytest -m qemu tests/kernel/test_collect_live.py`` (or ``MEMPLAN_QEMU=1``). The
archives recorded this way are replayed by ``tests/collect/test_collect_fixtures.py``.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from memplan.cli import main
from tools.qemu.boot import qemu_available
from tools.qemu.collect import SNAPSHOT_SCENARIOS, archive_name, collect_in_guest, fixtures_dir
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
    for run, result in got.runs.items():
        assert result.status == 0, result.messages
        path = tmp_path / archive_name(name, run)
        path.write_bytes(result.archive)
        recorded = fixtures_dir() / archive_name(name, run)
        if recorded.is_file():
            assert _names(path) == _names(recorded)
    root = tmp_path / archive_name(name, "root")
    assert main(["check", str(root)]) == 0, capsys.readouterr().out
