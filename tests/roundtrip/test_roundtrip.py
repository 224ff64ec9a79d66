"""memplan agrees with itself: a prediction printed as a boot log and /proc/iomem, read back by
the observer and compared with the same prediction, shows no difference.

The default run checks ``MEMPLAN_ROUNDTRIP_EXAMPLES`` generated cases (40); set it higher for a
long run (``MEMPLAN_ROUNDTRIP_EXAMPLES=3000 python3 -m pytest tests/roundtrip``)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.roundtrip.roundtrip import Case, differences, resolve_case, roundtrip
from tests.roundtrip.strategies import cases

EXAMPLES = int(os.environ.get("MEMPLAN_ROUNDTRIP_EXAMPLES", "40"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_prediction_survives_render_and_observe(case: Case) -> None:
    plan = resolve_case(case)
    comparison, log, iomem = roundtrip(plan)
    assert differences(comparison) == [], f"{case}\n--- dmesg\n{log}--- iomem\n{iomem}"


# -- the three layouts issue 9 reported (memplan's check rejected its own prediction) -------------
ONE_NODE = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x80000000>; };
    reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
        linux,cma { compatible = "shared-dma-pool"; reusable; size = <0 0x4000000>; linux,cma-default; };
    };
};
"""
TWO_NODES = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    memory@40000000 { device_type = "memory"; numa-node-id = <0>; reg = <0 0x40000000 0 0x40000000>; };
    memory@80000000 { device_type = "memory"; numa-node-id = <1>; reg = <0 0x80000000 0 0x40000000>; };
};
"""
ARM64 = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=16\nCONFIG_HUGETLBFS=y\n"
NUMA = "CONFIG_NUMA=y\nCONFIG_DMA_NUMA_CMA=y\nCONFIG_DMA_PERNUMA_CMA=y\n"
V510_73 = ["5.10", "5.15", "6.1", "6.6", "6.12", "6.13", "6.16", "6.19", "7.0", "7.2", "7.3"]


def _agrees(case: Case) -> None:
    plan = resolve_case(case)
    comparison, log, iomem = roundtrip(plan)
    assert differences(comparison) == [], f"--- dmesg\n{log}--- iomem\n{iomem}"
    assert not comparison.inconclusive


@pytest.mark.parametrize("version", V510_73)
def test_dt_default_dynamic_pool_with_cma_0(version: str) -> None:
    plan = resolve_case(Case(ONE_NODE, "cma=0", ARM64, "arm64", version))
    assert plan.global_cma.region is None
    _agrees(Case(ONE_NODE, "cma=0", ARM64, "arm64", version))


@pytest.mark.parametrize("version", ["5.10", "5.15", "6.1", "6.6", "6.12", "6.16", "6.19"])
def test_cma_with_hugetlb_cma_on_2g(version: str) -> None:
    case = Case(ONE_NODE, "cma=64M hugetlb_cma=256M hugepagesz=2M", ARM64, "arm64", version)
    plan = resolve_case(case)
    assert plan.global_cma.origin == "cmdline"
    _agrees(case)


@pytest.mark.parametrize("version", ["6.1", "6.6", "6.12", "6.19", "7.2"])
@pytest.mark.parametrize(
    "cmdline", ["cma=32M numa_cma=1:32M", "cma=32M numa_cma=0:32M", "cma=32M cma_pernuma=32M"]
)
def test_global_area_among_per_node_areas(version: str, cmdline: str) -> None:
    case = Case(TWO_NODES, cmdline, ARM64 + NUMA, "arm64", version)
    plan = resolve_case(case)
    assert plan.global_cma.origin == "cmdline"
    _agrees(case)


def test_skipped_default_node_does_not_take_another_nodes_row() -> None:
    """Found by the long run: a static linux,cma-default node skipped for cma=0 (6.19 rules) must
    not be matched by address to another registered node at the same base."""
    dts = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    memory@80000000 { device_type = "memory"; reg = <0x0 0x80000000 0x0 0xc0000000>; };
    reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
        region2 { reg = <0x0 0xe4000000 0x0 0x100000>; };
        linux,cma { compatible = "shared-dma-pool"; reusable; linux,cma-default;
                    reg = <0x0 0xe4000000 0x0 0x1000000>; };
    };
};
"""
    case = Case(dts, "cma=0", "CONFIG_RISCV=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n", "riscv", "6.18.9")
    plan = resolve_case(case)
    assert plan.region("linux,cma").status == "bypassed"
    _agrees(case)
