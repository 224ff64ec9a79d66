"""arm64 early allocations against ``memblock=debug`` boots (tests/kernel/memblock/): the same
scenario as the fixture of that name, booted with ``earlycon=pl011,0x9000000 loglevel=8
memblock=debug`` and the memblock lines of the console kept. Everything the kernel allocates
top-down between the dynamic DT regions and the ``struct page`` buffer must lie inside memplan's
``early-allocations`` block, which may be larger by less than two pages; the buffer and the
global area must be where the kernel put them."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

import memplan
from tools.qemu.fixtures import load_fixture

HERE = Path(__file__).resolve().parent
SUFFIX = ".memblock-debug.txt.gz"
LOGS = sorted((HERE / "memblock").glob(f"*{SUFFIX}"))
RESERVE_RE = re.compile(r"memblock_reserve: \[(0x[0-9a-f]+)-(0x[0-9a-f]+)\] (\S+)")
SPARSE_RE = re.compile(r"memblock_alloc_exact_nid_raw: (\d+) bytes .* sparse_init_nid")
CMA_RE = re.compile(r"cma: Reserved (\d+) MiB at (0x[0-9a-f]+)")


def kernel_view(text: str) -> tuple[tuple[int, int], int, int]:
    """(span of the small top-down allocations below the DT regions, struct page buffer base,
    global area base) from the memblock lines of one boot."""
    lines = text.splitlines()
    small: list[tuple[int, int]] = []
    buffer = area = None
    want_buffer = False
    for line in lines:
        if SPARSE_RE.search(line):
            want_buffer = True
            continue
        m = RESERVE_RE.search(line)
        if m:
            start, end = int(m[1], 16), int(m[2], 16) + 1
            if want_buffer:
                buffer, want_buffer = start, False
            elif m[3].startswith(("memblock_alloc_range_nid", "early_init_dt_alloc", "numa_init")) \
                    and end - start <= 0x10000:
                small.append((start, end))
            continue
        c = CMA_RE.search(line)
        if c:
            area = int(c[2], 16)
            break
    assert small and buffer is not None and area is not None
    return (min(s for s, _ in small), max(e for _, e in small)), buffer, area


@pytest.mark.parametrize("log", LOGS, ids=[p.name.removesuffix(SUFFIX) for p in LOGS])
def test_early_allocations_cover_the_kernel_ones(log: Path) -> None:
    fx = load_fixture(HERE / "fixtures" / log.name.removesuffix(SUFFIX))
    assert fx.board_dts is not None
    (low, high), buffer, area = kernel_view(gzip.decompress(log.read_bytes()).decode())
    plan = memplan.resolve(dts=fx.board_dts.read_text(), config=fx.config_text, arch=fx.arch,
                           kernel_version=fx.kernel_version, cmdline=fx.cmdline)
    early = plan.region("early-allocations")
    memmap = plan.region("memmap")
    assert early is not None and early.base is not None and early.size is not None
    assert early.base <= low and high <= early.base + early.size
    assert low - early.base < 2 * 4096, f"modelled block {low - early.base:#x} bytes too large"
    assert memmap is not None and memmap.base == buffer
    assert plan.global_cma.base == area == fx.expected["global_cma"]["base"]


def test_logs_exist() -> None:
    assert len(LOGS) >= 2
