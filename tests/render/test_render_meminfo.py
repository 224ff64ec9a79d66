"""/proc/meminfo from a plan: the CmaTotal line (fs/proc/meminfo.c layout), from Plan.cma_total,
which counts only activated CMA areas; no line without CONFIG_CMA."""

from __future__ import annotations

import memplan
from memplan.observe import parse_meminfo
from memplan.render.meminfo import meminfo_line, render_meminfo
from tests.resolve.conftest import board

M = 1 << 20
BOARD = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x80000000>; };
    reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
        pool@60000000 { compatible = "shared-dma-pool"; reusable; reg = <0 0x60000000 0 0x2000000>; };
    };
};
"""
CFG = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=16\n"


def test_line_layout_is_the_kernels() -> None:
    assert meminfo_line("CmaTotal", 98304 * 1024) == "CmaTotal:          98304 kB"
    assert meminfo_line("CmaTotal", 0) == "CmaTotal:              0 kB"


def test_cma_total_counts_the_areas_in_the_layout() -> None:
    plan = memplan.resolve(dts=BOARD, arch="arm64", kernel_version="6.1", config=CFG, cmdline="cma=64M")
    assert plan.cma_total == 96 * M
    assert parse_meminfo(render_meminfo(plan)).cma_total == 96 * M


def test_an_area_that_is_not_activated_is_not_counted() -> None:
    # 4 GiB of RAM from 0x40000000: the 1 GiB hugetlb area straddles the 4 GiB zone boundary
    plan = memplan.resolve(dts=board("", memory="reg = <0 0x40000000 0x1 0x0>;", bootargs="hugetlb_cma=1G"),
                           arch="arm64", kernel_version="6.1", config=CFG + "CONFIG_HUGETLBFS=y\n")
    assert plan.region("hugetlb0").activated is False
    assert plan.cma_total == plan.region("reserved").size == 16 * M


def test_no_line_without_config_cma() -> None:
    config = "CONFIG_ARM64=y\n# CONFIG_CMA is not set\n"
    plan = memplan.resolve(dts=BOARD, arch="arm64", kernel_version="6.1", config=config)
    assert plan.cma_total is None and render_meminfo(plan) == ""
