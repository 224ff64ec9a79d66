"""Hostile and huge observed-state files: bounded numbers, iterative /proc/iomem, no traceback.

Sizes are 10x (or more) the largest real file: a real /proc/meminfo value has at most 20 digits,
a real /proc/iomem nests at most 5 levels and has a few thousand lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from memplan.observe import parse_iomem, parse_meminfo, read_debugfs_cma, read_sysfs_cma
from memplan.observe.iomem import MAX_IORES_LEVEL

HUGE = "9" * 50_000  # Python's int() refuses decimal strings over 4,300 digits


def test_meminfo_huge_value_is_a_positioned_warning() -> None:
    info = parse_meminfo(f"MemTotal:  1024 kB\nCmaTotal: {HUGE} kB\nCmaFree: 5 kB\n", "meminfo")
    assert [f.name for f in info.fields] == ["MemTotal", "CmaFree"]
    (d,) = info.diagnostics
    assert d.code == "observe-malformed-line" and d.source is not None and d.source.line == 2
    assert "50000 digits" in d.message and len(d.message) < 300


def test_meminfo_value_over_64_bits_is_refused() -> None:
    info = parse_meminfo(f"CmaTotal: {1 << 64} kB\n", "meminfo")
    assert info.fields == () and "wider than 64 bits" in info.diagnostics[0].message


def test_meminfo_non_ascii_digits_are_not_numbers() -> None:
    info = parse_meminfo("CmaTotal: \u0661\u0662 kB\n", "meminfo")
    assert info.fields == () and info.diagnostics[0].code == "observe-malformed-line"


@pytest.mark.parametrize("value", ["--5", "-5", "+5", HUGE, "1_0", "\u0665"])
def test_debugfs_bad_base_pfn_is_malformed(tmp_path: Path, value: str) -> None:
    area = tmp_path / "reserved"
    area.mkdir()
    (area / "base_pfn").write_text(value + "\n")
    (area / "count").write_text("16\n")
    (area / "bitmap").write_text(f"1 2 {HUGE}\n")
    (areas, diags) = read_debugfs_cma(tmp_path)
    assert areas[0].base_pfn is None and areas[0].count == 16 and areas[0].bitmap is None
    codes = [d.code for d in diags]
    assert codes.count("observe-malformed-line") == 2 and "observe-debugfs-incomplete" in codes
    assert all(len(d.message) < 300 for d in diags)


def test_sysfs_huge_counter_is_malformed(tmp_path: Path) -> None:
    area = tmp_path / "reserved"
    area.mkdir()
    (area / "alloc_pages_success").write_text(HUGE + "\n")
    (area / "alloc_pages_fail").write_text("3\n")
    (areas, diags) = read_sysfs_cma(tmp_path)
    assert areas[0].counters == (("alloc_pages_fail", 3),)
    assert diags[0].code == "observe-malformed-line" and "50000 digits" in diags[0].message


def _nested(depth: int) -> str:
    return "".join(f"{'  ' * i}{i:08x}-{0xFFFFFFFF - i:08x} : level {i}\n" for i in range(depth))


def test_iomem_nested_5000_deep_is_bounded_not_recursive() -> None:
    io = parse_iomem(_nested(5000), "iomem")
    entries = io.walk()
    assert len(entries) == MAX_IORES_LEVEL + 1 and entries[-1].depth == MAX_IORES_LEVEL
    deeper = [d for d in io.diagnostics if d.code == "observe-malformed-line"]
    assert len(deeper) == 5000 - MAX_IORES_LEVEL - 1
    assert deeper[0].source is not None and deeper[0].source.line == MAX_IORES_LEVEL + 2
    assert "5 levels" in deeper[0].message
    io.to_dict()  # JSON-ready without recursion trouble


def test_iomem_many_siblings_and_deep_chains_keep_file_order() -> None:
    lines = []
    for k in range(20_000):
        lines.append(f"{k * 16:08x}-{k * 16 + 15:08x} : bank {k}\n")
        lines.append(f"  {k * 16:08x}-{k * 16 + 7:08x} : child {k}\n")
    io = parse_iomem("".join(lines), "iomem")
    assert len(io.entries) == 20_000 and io.diagnostics == ()
    walked = io.walk()
    assert [e.name for e in walked[:4]] == ["bank 0", "child 0", "bank 1", "child 1"]
    assert io.entries[-1].children[0].name == "child 19999"


@pytest.mark.parametrize("version", ["99.1.0", "6.1000.0", "1.0.123456"])
def test_implausible_dmesg_kernel_version_is_blamed_on_the_dmesg_line(tmp_path: Path, version: str) -> None:
    from memplan.observe import parse_dmesg, read_observed

    text = f"[    0.000000] Booting Linux\n[    0.000000] Linux version {version} (gcc) #1 SMP\n"
    log = parse_dmesg(text, "dmesg.txt")
    assert log.kernel_version is None
    problem = log.kernel_version_problem()
    assert problem is not None and problem.source is not None
    assert (problem.source.file, problem.source.line) == ("dmesg.txt", 2) and len(problem.message) < 400
    (tmp_path / "dmesg.txt").write_text(text)
    observed = read_observed([tmp_path / "dmesg.txt"])
    assert observed.kernel_version is None
    assert any(d.source is not None and d.source.line == 2 and "kernel version" in d.message
               for d in observed.diagnostics)
    good = parse_dmesg("[    0.000000] Linux version 6.1.0-13-arm64 (gcc) #1 SMP\n", "dmesg.txt")
    assert str(good.kernel_version).startswith("6.1.0") and good.kernel_version_problem() is None


def test_oversized_value_file_is_reported_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import memplan.observe._common as common

    monkeypatch.setattr(common, "MAX_VALUE_FILE", 1000)
    area = tmp_path / "reserved"
    area.mkdir()
    (area / "alloc_pages_success").write_text("1" * 2000 + "\n")
    (areas, diags) = read_sysfs_cma(tmp_path)
    assert areas[0].counters == () and diags[0].code == "observe-unreadable"
    assert "larger than 1000 bytes" in diags[0].message
