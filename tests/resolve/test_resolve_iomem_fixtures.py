"""``memplan resolve --format iomem`` against the /proc/iomem recorded on real arm64 boots.

Only the lines the Device Tree and the command line decide are compared: the top-level
``System RAM`` / ``reserved`` lines (split at NUMA node boundaries and around no-map ranges), and
the coverage of every reservation memplan places by a nested ``reserved`` line. The kernel's own
early allocations (image, page tables, ...) are not in the Plan, and the kernel coalesces
neighbouring reserved ranges, so nested lines are compared by coverage, not text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import memplan
from memplan.plan import Plan
from memplan.render.iomem import render_iomem
from memplan.resolve.cma import not_activated
from tools.qemu.fixtures import Fixture, all_fixtures

ARM64 = [f for f in all_fixtures() if f.arch == "arm64"]
Entry = tuple[int, int, str, int]


def _parse(text: str) -> list[Entry]:
    out = []
    for line in text.splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        rng, _, name = line.strip().partition(" : ")
        a, b = rng.split("-")
        out.append((int(a, 16), int(b, 16) + 1, name, depth))
    return out


def _top_level(entries: list[Entry]) -> list[tuple[int, int, str]]:
    return [(a, b, n) for a, b, n, d in entries if d == 0 and n in ("System RAM", "reserved")]


def _covers(entries: list[Entry], base: int, end: int) -> bool:
    pos = base
    for a, b, _, _ in sorted(e for e in entries if e[2] == "reserved"):
        if a <= pos < b:
            pos = b
    return pos >= end


def _plan(fx: Fixture, tmp_path: Path) -> Plan:
    config = tmp_path / "config"
    config.write_text(fx.config_text)
    return memplan.resolve(dts=str(fx.board_dts), cmdline=fx.cmdline, config=str(config), arch="arm64",
                           kernel_version=fx.kernel_version)


@pytest.mark.parametrize("fx", ARM64, ids=[f.name for f in ARM64])
def test_rendered_iomem_matches_recorded(fx: Fixture, tmp_path: Path) -> None:
    plan = _plan(fx, tmp_path)
    recorded = _parse(fx.file("iomem.txt").read_text())
    rendered = _parse(render_iomem(plan))
    assert _top_level(rendered) == _top_level(recorded)
    inactive = not_activated(plan)
    for r in plan.regions:
        if r.base is None or not r.size or r.no_map or r.origin == "arch":
            continue  # no-map: top-level lines; "arch": modelled early allocations
        if r.kind in ("crashkernel", "memmap"):
            continue
        if r.status != "ok" and r.name not in inactive:
            continue
        end = r.base + r.size
        assert _covers(recorded, r.base, end), f"{r.name}: the kernel did not list it (test premise)"
        assert _covers(rendered, r.base, end), f"{r.name} {r.base:#x}..{end:#x} is not reserved in the render"


def _fixture(name: str) -> Fixture:
    return next(f for f in ARM64 if f.name == name)


@pytest.mark.parametrize("name", ["arm64-6.1-pernuma", "arm64-7.2-numa-cma"])
def test_system_ram_split_at_numa_nodes(name: str, tmp_path: Path) -> None:
    plan = _plan(_fixture(name), tmp_path)
    assert [(b.base, b.end, b.node) for b in plan.memory] == [
        (0x40000000, 0x80000000, 0),
        (0x80000000, 0xC0000000, 1),
    ]
    ram = [(a, b) for a, b, n in _top_level(_parse(render_iomem(plan))) if n == "System RAM"]
    assert ram == [(0x40000000, 0x80000000), (0x80000000, 0xC0000000)]


def test_hugetlb_area_not_activated_is_still_reserved_in_iomem(tmp_path: Path) -> None:
    plan = _plan(_fixture("arm64-6.1-hugetlb-cma"), tmp_path)
    assert not_activated(plan) == {"hugetlb0"}
    assert _covers(_parse(render_iomem(plan)), 0xFF600000, 0xFF600000 + (1 << 30))


def test_510_dynamic_no_map_is_a_hole(tmp_path: Path) -> None:
    """5.10 removes a dynamic no-map range from memblock (no line at all) but marks a static one
    (a top-level ``reserved`` line)."""
    top = _top_level(_parse(render_iomem(_plan(_fixture("arm64-5.10-nomap"), tmp_path))))
    assert (0x68000000, 0x68800000, "reserved") in top
    assert not any(a <= 0xBFC00000 < b for a, b, _ in top)
