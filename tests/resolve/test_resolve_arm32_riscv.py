"""32-bit ARM and RISC-V rules seen in the recorded boots (kernel-semantics §12,
tests/kernel/fixtures/armmp-*, riscv64-*), and the answer when no global pool exists."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import memplan
from memplan.cli import main
from memplan.plan import Plan
from tests.resolve.conftest import board

M = 1 << 20
#: armmp-like: 8 MiB CMA granule (max order 11 inclusive, no HUGETLB_PAGE), 3G/1G split.
ARMMP = ("CONFIG_ARM=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HIGHMEM=y\nCONFIG_ARCH_FORCE_MAX_ORDER=11\n"
         "CONFIG_VMSPLIT_3G=y\nCONFIG_PAGE_OFFSET=0xC0000000\n")
#: armmp-lpae-like: LPAE, HUGETLB_PAGE -> 2 MiB granule.
LPAE = ARMMP + "CONFIG_ARM_LPAE=y\nCONFIG_HUGETLBFS=y\nCONFIG_HUGETLB_PAGE=y\n"
ARM = "arm,cortex-a15"
DT_DEFAULT = ("linux,cma { compatible = \"shared-dma-pool\"; reusable; size = <0x0 0x6000000>;"
              " linux,cma-default; };")


def arm_board(rmem: str = "", size: int = 2 << 30, bootargs: str | None = None, extra: str = "") -> str:
    return board(rmem, memory=f"reg = <0x0 0x40000000 0x{size >> 32:x} 0x{size & 0xFFFFFFFF:x}>;",
                 cpu=ARM, bootargs=bootargs, extra=extra)


def arm(text: str, config: str = ARMMP, **kw: object) -> Plan:
    return memplan.resolve(dts=text, arch="arm", kernel_version="6.12.117", config=config, **kw)


def glob(plan: Plan) -> tuple[object, ...]:
    g = plan.global_cma
    return (g.origin, g.size, g.base, g.status)


def codes(plan: Plan, severity: str | None = None) -> set[str]:
    return {d.code for d in plan.diagnostics if severity is None or d.severity == severity}


# ---- 32-bit ARM ------------------------------------------------------------------------------
def test_granule_from_config_not_arch() -> None:
    """cma=100M: 104 MiB with the armmp granule (8 MiB), 100 MiB with LPAE + HUGETLB_PAGE (2 MiB)."""
    assert glob(arm(arm_board(bootargs="cma=100M"))) == ("cmdline", 104 * M, 0xB9800000, "ok")
    assert glob(arm(arm_board(bootargs="cma=100M"), LPAE)) == ("cmdline", 100 * M, 0xB9C00000, "ok")


def test_lowmem_end_from_the_split() -> None:
    """3G/1G: lowmem is 768 MiB (0x40000000-0x70000000); cma= too large for highmem goes to the
    top of lowmem (armmp-6.12-cma-too-big-high), a 2G/2G split moves the boundary."""
    plan = arm(arm_board(size=1 << 30, bootargs="cma=384M"))
    assert glob(plan) == ("cmdline", 384 * M, 0x58000000, "ok")
    split2g = ARMMP.replace("CONFIG_VMSPLIT_3G=y\nCONFIG_PAGE_OFFSET=0xC0000000\n",
                            "CONFIG_VMSPLIT_2G=y\nCONFIG_PAGE_OFFSET=0x80000000\n")
    # 2G/2G: 1792 MiB of lowmem, the whole GiB is lowmem: the area is at the top of RAM
    assert glob(arm(arm_board(size=1 << 30, bootargs="cma=384M"), split2g))[2] == 0x68000000


@pytest.mark.parametrize(("vmalloc", "config", "base", "clamped"), [
    ("512M", ARMMP, 0x68000000, False),  # lowmem ends 0x5f000000: 384 MiB fit in highmem
    ("128M", ARMMP, 0x5F000000, False),  # lowmem ends 0x77000000
    ("301M", ARMMP, 0x54000000, False),  # lowmem ends 0x6c300000 (not rounded); 8 MiB granule
    ("301M", LPAE, 0x54200000, False),   # the same end, 2 MiB granule
    ("0x12d00000", LPAE, 0x54200000, False),  # memparse: the same 301 MiB
    ("8M", ARMMP, 0x7A000000, True),     # raised to 16 MiB: lowmem ends 0x7e000000 (cma=64M)
    ("4G", ARMMP, 0x7A000000, True),     # an unsigned long on arm: 4G wraps to 0, raised to 16 MiB
    ("1000M", ARMMP, 0x7C000000, True),  # lowered so 32 MiB of lowmem remain: all but 32 MiB highmem
])
def test_vmalloc_moves_the_lowmem_end(vmalloc: str, config: str, base: int, clamped: bool) -> None:
    """armmp*-6.12-vmalloc-* boots: lowmem ends VMALLOC_END - vmalloc - 8 MiB above PAGE_OFFSET."""
    size = "64M" if clamped else "384M"
    plan = arm(arm_board(size=1 << 30, bootargs=f"vmalloc={vmalloc} cma={size}"), config)
    assert glob(plan)[2] == base
    notes = [d for d in plan.diagnostics if d.code == "arm32-vmalloc-clamped"]
    assert bool(notes) is clamped
    if notes:
        assert notes[0].severity == "warning" and f"vmalloc={vmalloc}" in notes[0].message
        assert notes[0].source is not None and notes[0].source.text == f"vmalloc={vmalloc}"


def test_vmalloc_is_ignored_off_arm() -> None:
    rv = memplan.resolve(dts=board("", bootargs="vmalloc=512M cma=64M"), arch="arm64", kernel_version="6.12")
    assert "arm32-vmalloc-clamped" not in codes(rv)
    assert rv.global_cma.base == memplan.resolve(dts=board("", bootargs="cma=64M"), arch="arm64",
                                                 kernel_version="6.12").global_cma.base


def test_default_pool_near_the_boundary_is_kept() -> None:
    """A default pool with alloc-ranges inside lowmem ends at 0x70000000 (armmp-6.12-dt-default-lowmem)."""
    rmem = ("linux,cma { compatible = \"shared-dma-pool\"; reusable; size = <0x0 0x4000000>;"
            " alloc-ranges = <0x0 0x40000000 0x0 0x30000000>; linux,cma-default; };")
    plan = arm(arm_board(rmem))
    assert glob(plan) == ("dts", 64 * M, 0x6C000000, "ok")
    assert plan.region("linux,cma").status == "ok"


def test_too_large_for_both_zones_fails() -> None:
    plan = arm(arm_board(size=1 << 30, bootargs="cma=800M"))
    assert glob(plan) == ("cmdline", 0, None, "failed")


def test_4g_limit_one_granule_below() -> None:
    """RAM reaching 4 GiB: the area ends one CMA granule below 4 GiB (armmp-*-kconfig-3g/-4g)."""
    assert glob(arm(arm_board(size=3 << 30)))[2] == 0xFE800000
    assert glob(arm(arm_board(size=3 << 30), LPAE))[2] == 0xFEE00000
    assert glob(arm(arm_board(size=4 << 30), LPAE))[2] == 0xFEE00000


def test_32bit_phys_addr_caps_ram() -> None:
    """Without LPAE, RAM at and above 4 GiB is dropped and the last page lost (warning)."""
    plan = arm(arm_board(size=4 << 30))
    assert [(b.base, b.base + b.size) for b in plan.memory] == [(0x40000000, 0xFFFFF000)]
    assert "memory-above-4g" in codes(plan, "warning")
    lpae = arm(arm_board(size=4 << 30), LPAE)
    assert lpae.memory[-1].base + lpae.memory[-1].size == 0x140000000
    assert "memory-above-4g" not in codes(lpae)


def test_global_area_right_below_dynamic_regions() -> None:
    """Four pools at the top end at 0xb9800000: the Kconfig area is directly below, 8 MiB aligned."""
    pools = "".join(f"pool-{n} {{ compatible = \"shared-dma-pool\"; reusable; size = <0x0 {s}>; }};"
                    for n, s in (("a", "0x1000000"), ("b", "0x3000000"), ("c", "0x800000"),
                                 ("d", "0x2000000")))
    assert glob(arm(arm_board(pools)))[2] == 0xB8800000


def test_static_default_without_cma_gives_two_areas() -> None:
    rmem = ("linux,cma@60000000 { compatible = \"shared-dma-pool\"; reusable;"
            " reg = <0x0 0x60000000 0x0 0x4000000>; linux,cma-default; };")
    plan = arm(arm_board(rmem))
    assert glob(plan) == ("dts", 64 * M, 0x60000000, "ok")
    kconfig_area = plan.region("reserved")
    assert (kconfig_area.status, kconfig_area.base, kconfig_area.size) == ("ok", 0xBF000000, 16 * M)
    assert "cma-two-areas" in codes(plan)


def test_pool_straddling_lowmem_highmem_not_activated() -> None:
    rmem = ("cma-s@6c000000 { compatible = \"shared-dma-pool\"; reusable;"
            " reg = <0x0 0x6c000000 0x0 0x8000000>; };")
    plan = arm(arm_board(rmem))
    assert plan.region("cma-s@6c000000").status == "failed"
    assert "cma-not-activated" in codes(plan)


@pytest.mark.parametrize(("config", "base", "hangs"), [
    (ARMMP, 0x60100000, True),    # lowmem, 1 MiB aligned: hangs
    (LPAE, 0x60100000, True),
    (ARMMP, 0x60200000, False),   # lowmem, 2 MiB aligned: only rejected on armmp (8 MiB granule)
    (ARMMP, 0x80100000, False),   # highmem: only rejected
])
def test_lowmem_misaligned_reusable_pool_hangs(config: str, base: int, hangs: bool) -> None:
    rmem = (f"cma-x@{base:x} {{ compatible = \"shared-dma-pool\"; reusable;"
            f" reg = <0x0 0x{base:x} 0x0 0x1000000>; }};")
    plan = arm(arm_board(rmem), config)
    assert ("cma-lowmem-remap-hang" in codes(plan, "error")) is hangs
    if hangs:
        d = next(d for d in plan.diagnostics if d.code == "cma-lowmem-remap-hang")
        assert d.source is not None and d.source.line is not None


def test_mem_zero() -> None:
    """arm: mem=0 leaves no RAM (error); arm64/riscv: a zero limit is no limit."""
    plan = arm(arm_board(bootargs="mem=0"))
    assert "mem-zero-no-ram" in codes(plan, "error") and plan.memory == ()
    cfg64 = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"
    a64 = memplan.resolve(dts=board("", bootargs="mem=0"), arch="arm64", kernel_version="6.12", config=cfg64)
    assert sum(b.size for b in a64.memory) == 2 << 30 and glob(a64)[3] == "ok"
    assert "mem-zero-ignored" in codes(a64)


# ---- RISC-V without CONFIG_CMA -----------------------------------------------------------------
RV_NOCMA = "CONFIG_RISCV=y\nCONFIG_64BIT=y\n# CONFIG_CMA is not set\n"


def rv_board(rmem: str = "", bootargs: str | None = None) -> str:
    return board(rmem, memory="reg = <0x0 0x80000000 0x0 0x80000000>;", cpu="riscv",
                 bootargs=bootargs).replace("memory@40000000", "memory@80000000")


def test_riscv_without_cma_no_global_area_and_pools_refused() -> None:
    rmem = (DT_DEFAULT + "dma { compatible = \"shared-dma-pool\"; size = <0x0 0x3000000>; };")
    plan = memplan.resolve(dts=rv_board(rmem, "cma=128M"), arch="riscv", kernel_version="6.12",
                           config=RV_NOCMA)
    assert glob(plan) == ("kconfig", 0, None, "unsupported")
    assert plan.region("linux,cma").status == "rejected"
    assert (plan.region("dma").status, plan.region("dma").kind) == ("ok", "dma-pool")


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc not installed")
def test_firmware_edits_said_for_a_source_tree_only(tmp_path: Path) -> None:
    plan = memplan.resolve(dts=rv_board(), arch="riscv", kernel_version="6.12", config=RV_NOCMA)
    d = next(d for d in plan.diagnostics if d.code == "firmware-dt-edits")
    assert "mmode_resv0" in d.message and "/sys/firmware/fdt" in d.message
    (tmp_path / "b.dts").write_text(rv_board())
    dtc = ["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(tmp_path / "b.dtb"), str(tmp_path / "b.dts")]
    subprocess.run(dtc, check=True)
    blob = memplan.resolve(dtb=str(tmp_path / "b.dtb"), arch="riscv", kernel_version="6.12", config=RV_NOCMA)
    assert "firmware-dt-edits" not in codes(blob)
    optee = arm_board(extra='firmware { optee { compatible = "linaro,optee-tz"; method = "smc"; }; };')
    assert "optee_core" in next(d.message for d in arm(optee).diagnostics if d.code == "firmware-dt-edits")
    assert "firmware-dt-edits" not in codes(arm(arm_board()))


# ---- the answer when there is no global pool (all arches) --------------------------------------
CFG64 = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"


@pytest.mark.parametrize(("bootargs", "config", "want"), [
    ("cma=0", CFG64, ("cmdline", 0, None, "disabled")),
    ("cma=4G", CFG64, ("cmdline", 0, None, "failed")),
    ("", "CONFIG_ARM64=y\n# CONFIG_CMA is not set\n", ("kconfig", 0, None, "unsupported")),
    ("", CFG64 + "CONFIG_CMA_SIZE_MBYTES=0\n", ("kconfig", 0, None, "disabled")),
])
def test_no_area_names_the_deciding_candidate(bootargs: str, config: str, want: tuple[object, ...]) -> None:
    plan = memplan.resolve(dts=board("", bootargs=bootargs or None), arch="arm64", kernel_version="6.1",
                           config=config)
    assert glob(plan) == want
    assert plan.to_dict()["global_cma"]["size"] == 0  # type: ignore[index]


def test_cli_json_global_cma_for_cma0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dts = tmp_path / "b.dts"
    dts.write_text(board(DT_DEFAULT, bootargs="cma=0"))
    main(["resolve", "--dts", str(dts), "--arch", "arm64", "--kernel-version", "7.2", "--format", "json"])
    g = json.loads(capsys.readouterr().out)["global_cma"]
    assert (g["origin"], g["size"], g["base"], g["status"]) == ("cmdline", 0, None, "disabled")


def test_skipped_dt_pool_keeps_its_size() -> None:
    """7.x skips a dynamic default node when cma= is given: its DT size stays known, its base not."""
    plan = memplan.resolve(dts=board(DT_DEFAULT, bootargs="cma=128M"), arch="arm64", kernel_version="7.2",
                           config=CFG64)
    r = plan.region("linux,cma")
    assert (r.status, r.base, r.size) == ("bypassed", None, 96 * M)


def test_unmodelled_arch_is_a_warning_up_front() -> None:
    text = board(DT_DEFAULT, cpu="mips,mips1004Kc")
    plan = memplan.resolve(dts=text, arch="mips", kernel_version="6.1")
    assert plan.diagnostics[0].code == "arch-unmodelled" and plan.diagnostics[0].severity == "warning"


def test_unknown_version_when_rules_disagree_is_a_warning() -> None:
    both = memplan.resolve(dts=board(DT_DEFAULT, bootargs="cma=128M"), arch="arm64", config=CFG64)
    assert "version-unknown-precedence" in codes(both, "warning")
    only_dt = memplan.resolve(dts=board(DT_DEFAULT), arch="arm64", config=CFG64)
    assert "version-unknown-precedence" not in codes(only_dt)
    known = memplan.resolve(dts=board(DT_DEFAULT, bootargs="cma=128M"), arch="arm64", config=CFG64,
                            kernel_version="6.1")
    assert "version-unknown-precedence" not in codes(known)


@pytest.mark.parametrize(("bootargs", "config", "explain", "verdict"), [
    ("cma=4G", CFG64, "cannot reserve the area", "could not reserve"),
    ("", "CONFIG_ARM64=y\n# CONFIG_CMA is not set\n", "built without CMA", "built without CMA"),
    ("cma=0", CFG64, "wins with size 0", "size 0 from the kernel command line"),
])
def test_no_area_in_words(bootargs: str, config: str, explain: str, verdict: str) -> None:
    from memplan.render._words import cma_verdict
    from memplan.render.explain import render_explain

    plan = memplan.resolve(dts=board("", bootargs=bootargs or None), arch="arm64", kernel_version="6.1",
                           config=config)
    assert explain in render_explain(plan)
    assert verdict in cma_verdict(plan.global_cma)
