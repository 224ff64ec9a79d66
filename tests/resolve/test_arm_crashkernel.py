"""32-bit ARM ``crashkernel=`` (arch/arm/kernel/setup.c ``reserve_crashkernel()``, Linux 6.12):
``crash_max = min(idmap_to_phys(0xffffffff), end of lowmem)``, top-down in ``[CRASH_ALIGN,
crash_max)`` with CRASH_ALIGN 128 MiB, no fallback; the range form is sized by the span of
lowmem (``get_total_mem()``); ``@offset`` needs section alignment. ``arm_dma_limit`` plays no
part. Expected addresses derived by hand."""

from __future__ import annotations

import pytest

from memplan.kernel.arm_machines import DMA_ZONE_MACHINES
from memplan.model import Region
from memplan.plan import Plan
from memplan.resolve.arm_dma import idmap_offset
from memplan.units import GiB as G
from tests.resolve.test_arm_dma import ARMMP, K2G, KEYSTONE, LPAE, VIRT, arm, dts

M = 1 << 20


def crash(plan: Plan) -> Region:
    (region,) = [r for r in plan.regions if r.name == "crashkernel"]
    return region


@pytest.mark.parametrize(("config", "cmdline", "base", "size"), [
    # 2 GiB at 0x40000000, 3G/1G split: lowmem ends at 0x70000000; the highest 128 MiB-aligned
    # 64 MiB below it starts at 0x68000000 (memplan put it at 0xb8000000, in highmem, before)
    (ARMMP, "crashkernel=64M", 0x6800_0000, 64 * M),
    (LPAE, "crashkernel=64M", 0x6800_0000, 64 * M),
    # the range form sees 768 MiB of "System RAM" (lowmem), not 2 GiB: 512M-1G picks 32 MiB
    (ARMMP, "crashkernel=512M-1G:32M,1G-:64M", 0x6800_0000, 32 * M),
    # @offset: a section (1 MiB) is enough alignment, not CRASH_ALIGN
    (ARMMP, "crashkernel=64M@0x61000000", 0x6100_0000, 64 * M),
])
def test_arm_crash_kernel_stays_in_lowmem(config: str, cmdline: str, base: int, size: int) -> None:
    region = crash(arm(dts(VIRT, 0x4000_0000, 2 * G, bootargs=cmdline), config))
    assert (region.status, region.base, region.size) == ("ok", base, size)


def test_arm_crash_kernel_fails_when_lowmem_is_too_small() -> None:
    """1 GiB does not fit below the lowmem end (768 MiB of lowmem): the kernel prints "No
    suitable area found" and does not try highmem."""
    plan = arm(dts(VIRT, 0x4000_0000, 2 * G, bootargs="crashkernel=1G"), ARMMP)
    region = crash(plan)
    assert (region.status, region.base) == ("failed", None)
    assert region.reason == "crashkernel reservation failed - No suitable area found."
    assert "crashkernel-failed" in {d.code for d in plan.diagnostics}


def test_lpae_offset_needs_a_2m_section() -> None:
    text = dts(VIRT, 0x4000_0000, 2 * G, bootargs="crashkernel=64M@0x61100000")
    assert crash(arm(text, LPAE)).status == "failed"  # 1 MiB aligned, but LPAE sections are 2 MiB
    assert crash(arm(text, ARMMP)).base == 0x6110_0000


def test_keystone_alias_only_when_all_ram_is_inside_it() -> None:
    """keystone_pv_fixup(): nothing to do for RAM in the low alias; at the high alias the end of
    memory is compared with the alias's last byte, so RAM reaching 0xc_0000_0000 is refused."""
    keystone = DMA_ZONE_MACHINES[2]
    assert keystone.name == "KEYSTONE"
    assert idmap_offset(keystone, 0x8000_0000, 0x1_0000_0000) == 0
    assert idmap_offset(keystone, 0x8_0000_0000, 0x8_8000_0000) == 0x7_8000_0000
    assert idmap_offset(keystone, 0x8_0000_0000, 0xC_0000_0000) == 0
    assert idmap_offset(DMA_ZONE_MACHINES[0], 0x8_0000_0000, 0x8_8000_0000) == 0


def test_keystone_crash_kernel_uses_the_idmap_alias() -> None:
    """keystone_pv_fixup moved PHYS_OFFSET to 0x800000000 (offset 0x780000000): idmap_to_phys(
    0xffffffff) = 0x87fffffff; lowmem ends at 0x830000000, which is lower: the area goes to
    0x828000000. Without the alias the window would end below 4 GiB, where there is no RAM."""
    plan = arm(dts(K2G, 0x8_0000_0000, 2 * G, bootargs="crashkernel=64M"), KEYSTONE)
    assert plan.arch_model is not None and plan.arch_model.dma_zone is not None
    assert plan.arch_model.dma_zone.idmap_offset == 0x7_8000_0000
    assert (crash(plan).status, crash(plan).base) == ("ok", 0x8_2800_0000)


def test_high_form_is_ignored_on_arm() -> None:
    """parse_crashkernel() gets no 'high' on arm: crashkernel=X,high alone reserves nothing;
    next to a plain crashkernel= only the plain one counts."""
    plan = arm(dts(VIRT, 0x4000_0000, 2 * G, bootargs="crashkernel=64M,high"), ARMMP)
    assert not [r for r in plan.regions if r.kind == "crashkernel"]
    (note,) = [d for d in plan.diagnostics if d.code == "crashkernel-high-ignored"]
    assert note.source is not None and note.source.text == "crashkernel=64M,high"
    plan = arm(dts(VIRT, 0x4000_0000, 2 * G, bootargs="crashkernel=64M,high crashkernel=32M"), ARMMP)
    assert (crash(plan).base, crash(plan).size) == (0x6800_0000, 32 * M)
    assert "crashkernel-high-ignored" not in {d.code for d in plan.diagnostics}
