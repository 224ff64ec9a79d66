"""Impossible observed values are refused: addresses wider than 64 bits are malformed lines, a page
size that is not a power of two is an error (API and CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from observe_samples import POOL, V61, fake_resolver

from memplan.cli import main
from memplan.errors import ObserveError
from memplan.observe import parse_dmesg, parse_iomem, read_observed


def test_iomem_wider_than_64_bits_is_malformed() -> None:
    io = parse_iomem("00000000-ffffffffffffffffffffffff : System RAM\n", "iomem")
    assert io.entries == ()
    assert [d.code for d in io.diagnostics] == ["observe-malformed-line"]
    assert "64 bits" in io.diagnostics[0].message
    ok = parse_iomem("00000000-ffffffffffffffff : PCI Bus\n", "iomem")
    assert ok.entries[0].end == (1 << 64) - 1 and ok.diagnostics == ()


def test_dmesg_address_wider_than_64_bits_is_malformed() -> None:
    log = parse_dmesg(V61 + POOL.format(addr="1ffffffffffffffffff"), "dmesg")
    assert all(e.base is None for e in log.events)
    assert "observe-malformed-line" in [d.code for d in log.diagnostics]
    good = parse_dmesg(V61 + POOL.format(addr="ffffffffffe00000"), "dmesg")
    assert any(e.base == 0xFFFFFFFFFFE00000 for e in good.events)


@pytest.mark.parametrize("size", [-4096, 0, 3000])
def test_bad_page_size_is_an_error(tmp_path: Path, size: int) -> None:
    with pytest.raises(ObserveError, match="power of two"):
        read_observed([tmp_path], page_size=size)


@pytest.mark.parametrize("size", ["-4096", "0", "4095"])
def test_cli_bad_page_size_exits_2(
    tmp_path: Path, size: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["observe", "--page-size", size, str(tmp_path)]) == 2
    assert "--page-size" in capsys.readouterr().err
    fake_resolver(monkeypatch)
    assert main(["check", "--observed", str(tmp_path), "--dts", "b.dts", "--page-size", size]) == 2
