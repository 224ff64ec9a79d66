"""Review findings (issue 5): empty evidence, unknown/binary inputs, impossible values,
command-line parsing of per-NUMA parameters, exact sizes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from observe_plan_factory import dt_pool_plan

import memplan
from memplan.cli import main
from memplan.dts import parse_dts
from memplan.errors import ObserveError
from memplan.observe import parse_dmesg, parse_iomem, parse_meminfo, read_observed, render_observed_text
from memplan.observe.cmalines import numa_params
from memplan.observe.combine import build_observed, dt_bootargs, dt_default_cma_nodes
from memplan.observe.compare import INCONCLUSIVE_MESSAGE, compare, render_comparison_text
from memplan.plan import Plan

MIB = 1 << 20
V61 = "[    0.000000] Linux version 6.1.0-50-arm64 (x@y) (gcc) #1 SMP Debian 6.1.176-1 (2026-07-02)\n"
POOL = (
    "[    0.000000] Reserved memory: created CMA memory pool at 0x{addr}, size 96 MiB\n"
    "[    0.000000] OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool\n"
)
SYSTEM_RAM_ONLY = "40000000-bfffffff : System RAM\n  40210000-4134ffff : Kernel code\n"


def _plan(base: int = 0xBA000000, version: Any = "6.1.176") -> Plan:
    return dt_pool_plan(base, version)


def _fake_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(**kwargs: Any) -> Plan:
        return _plan(version=kwargs.get("kernel_version") or "6.1.176")

    monkeypatch.setattr(memplan, "resolve", fake, raising=False)


# 1. nothing observed can make a check pass ----------------------------------------------------


def test_check_on_empty_directory_is_not_agreement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_resolver(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.dts").write_text("/dts-v1/;\n/ { };\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    # Exit 3 (inconclusive), distinct from 1 (a mismatch).
    assert main(["check", "--observed", str(empty), "--dts", "b.dts"]) == 3
    out = capsys.readouterr().out
    assert "Result: agreement" not in out
    assert f"Result: INCONCLUSIVE ({INCONCLUSIVE_MESSAGE})" in out
    assert main(["check", "--observed", str(empty), "--dts", "b.dts", "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["inconclusive"] is True


def test_iomem_only_with_every_row_unverified_is_inconclusive() -> None:
    obs = build_observed(iomem=parse_iomem(SYSTEM_RAM_ONLY, "iomem"))
    c = compare(_plan(), obs)
    assert [e.status for e in c.entries] == ["unverified"]
    assert c.global_cma.status == "unknown"
    assert c.inconclusive and not c.ok
    assert INCONCLUSIVE_MESSAGE in render_comparison_text(c)


def test_one_confirmed_row_is_enough_evidence() -> None:
    log = V61 + POOL.format(addr="00000000ba000000") + "Kernel command line: console=ttyAMA0\n"
    c = compare(_plan(), build_observed(log=parse_dmesg(log, "dmesg")))
    assert not c.inconclusive and c.ok
    assert "Result: agreement" in render_comparison_text(c)
    moved = compare(_plan(base=0xBB000000), build_observed(log=parse_dmesg(log, "dmesg")))
    assert not moved.ok and "MISMATCH" in render_comparison_text(moved)


# 2. unknown and binary files --------------------------------------------------------------------


def _codes(paths: list[Path]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in read_observed(paths).diagnostics:
        out.setdefault(d.code, []).append(str(d.source.file if d.source else ""))
    return out


def test_unrecognised_text_file_is_warned(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\neggs\n")
    codes = _codes([notes])
    assert codes["observe-unrecognised-file"] == [str(notes)]


def test_recognised_log_by_content_is_not_warned(tmp_path: Path) -> None:
    log = tmp_path / "capture.txt"
    log.write_text(V61 + POOL.format(addr="00000000ba000000"))
    assert "observe-unrecognised-file" not in _codes([log])


@pytest.mark.parametrize(
    "data",
    [b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, b"caf\xe9 \xff\xfe text\n" * 20],
    ids=["nul-bytes", "not-utf8"],
)
def test_binary_file_is_one_diagnostic_not_a_log(tmp_path: Path, data: bytes) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(data)
    o = read_observed([blob])
    codes = [d.code for d in o.diagnostics]
    assert codes == ["observe-binary-input"]
    assert o.diagnostics[0].source is not None and o.diagnostics[0].source.file == str(blob)
    assert str(blob) not in o.sources


def test_named_log_with_stray_bytes_is_still_read(tmp_path: Path) -> None:
    log = tmp_path / "dmesg"
    log.write_bytes((V61 + POOL.format(addr="00000000ba000000")).encode() + b"garbage \xff\n")
    o = read_observed([log])
    assert "observe-not-utf8" in [d.code for d in o.diagnostics]
    assert o.global_cma.base == 0xBA000000


# 3. impossible values ---------------------------------------------------------------------------


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
    _fake_resolver(monkeypatch)
    assert main(["check", "--observed", str(tmp_path), "--dts", "b.dts", "--page-size", size]) == 2


# 4. per-NUMA parameters come from the command-line parser ------------------------------------------


def test_numa_params_follow_kernel_parsing() -> None:
    # quotes hide a parameter, "-" equals "_", a leading 0 is octal, numa_cma accumulates
    assert numa_params('x="cma_pernuma=64M y" cma-pernuma=0100K numa_cma=0:16M numa-cma=1:0x2000000') == (
        0o100 * 1024,
        ((0, 16 * MIB), (1, 32 * MIB)),
    )
    assert numa_params("console=ttyS0 -- cma_pernuma=64M") == (None, ())
    assert numa_params("cma_pernuma=99999999999999999999999G") == (None, ())
    assert numa_params(None) == (None, ())


# 6. DT facts come from the resolver's extractor --------------------------------------------------


def test_dt_default_and_bootargs_from_facts() -> None:
    tree = parse_dts(
        text="""/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
  chosen { bootargs = "console=ttyAMA0 cma=64M"; };
  reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
    off { compatible = "shared-dma-pool"; reusable; size = <0 0x400000>;
          linux,cma-default; status = "disabled"; };
    linux,cma { compatible = "shared-dma-pool"; reusable; size = <0 0x6000000>; linux,cma-default; };
  };
};""",
        filename="t.dts",
    )
    assert dt_default_cma_nodes(tree) == ("linux,cma",)
    assert dt_bootargs(tree) == "console=ttyAMA0 cma=64M"


# 7. sizes for humans are exact -------------------------------------------------------------------


def test_sizes_in_text_are_exact() -> None:
    meminfo = parse_meminfo("MemTotal: 4000000 kB\nCmaTotal: 1572864 kB\nCmaFree: 1572000 kB\n", "meminfo")
    text = render_observed_text(build_observed(meminfo=meminfo))
    assert "CmaTotal: 1.5 GiB" in text
    log = V61 + "Kernel command line: console=ttyAMA0\n" + POOL.format(addr="00000000ba000000")
    odd = attrs.evolve(_plan().regions[0], size=96 * MIB + 1, placement="dynamic")
    c = compare(attrs.evolve(_plan(), regions=(odd,)), build_observed(log=parse_dmesg(log, "dmesg")))
    out = render_comparison_text(c)
    assert "100663297 B" in out and "96.00 MiB" not in out
