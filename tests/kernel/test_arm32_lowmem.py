"""Where 32-bit ARM lowmem ends, replayed against every recorded arm boot: the zone lines of the
log (``DMA [mem 0x40000000-...]`` / ``HighMem [mem ...]``) against memplan's rule
(:mod:`memplan.resolve.arm32`: ``CONFIG_PAGE_OFFSET`` from the config, ``vmalloc=`` from the
command line, clamped as ``early_vmalloc()`` does). Where the global area lands is checked by
test_kernel_fixtures; this checks the boundary itself, also on boots where no area is near it."""

from __future__ import annotations

import re

import pytest

from memplan.cmdline import parse_cmdline
from memplan.kconfig import load_config
from memplan.resolve import arm32
from memplan.units import memparse
from tools.qemu.fixtures import Fixture, all_fixtures

ZONE_RE = re.compile(r"^\[[ 0-9.]+\]\s+(DMA|Normal|HighMem)\s+(?:\[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]|empty)",
                     re.MULTILINE)
ARM = [f for f in all_fixtures() if f.arch == "arm"]


def zones(f: Fixture) -> dict[str, tuple[int, int] | None]:
    log = next((f.file(n) for n in ("dmesg.txt", "console.txt") if f.file(n).exists()), None)
    assert log is not None, f.name
    found: dict[str, tuple[int, int] | None] = {}
    for m in ZONE_RE.finditer(log.read_text(errors="replace")):
        found.setdefault(m[1], (int(m[2], 16), int(m[3], 16)) if m[2] else None)
    return found


def test_there_are_vmalloc_boots() -> None:
    assert sum("vmalloc=" in f.cmdline for f in ARM) >= 8


@pytest.mark.parametrize("fx", ARM, ids=[f.name for f in ARM])
def test_lowmem_end_matches_the_boot(fx: Fixture) -> None:
    z = zones(fx)
    if not z:
        pytest.skip("the boot stopped before the zones were set up")  # mem=0 boots
    dma = z.get("DMA")
    assert dma is not None
    cfg = load_config(text=fx.config_text, arch="arm", kernel_version=fx.kernel_version)
    token = parse_cmdline(fx.cmdline, arch="arm").get("vmalloc")
    requested = memparse(token.value or "")[0] if token is not None else None
    size, why = arm32.vmalloc_size(requested, arm32.page_offset(cfg.values))
    end = dma[0] + arm32.lowmem_size(arm32.page_offset(cfg.values), size)
    high = z.get("HighMem")
    if high is None:  # all RAM is lowmem
        assert dma[1] + 1 <= end
    else:
        assert (dma[1] + 1, high[0]) == (end, end)
    assert (why is not None) == (requested is not None and requested < arm32.MIN_VMALLOC_SIZE)
