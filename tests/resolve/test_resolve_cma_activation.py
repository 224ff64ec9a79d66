"""cma_activate_area(): an area spanning two zones is reserved at boot but never becomes CMA."""

from __future__ import annotations

from collections.abc import Callable

from memplan.plan import Plan
from memplan.render.iomem import render_iomem
from memplan.resolve.cma import not_activated
from tests.resolve.conftest import board

Resolve = Callable[..., Plan]
G = 1 << 30
CONFIG = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\nCONFIG_CMA_SIZE_MBYTES=64\n"


def test_straddling_area_is_failed_with_its_placement_kept(resolve_board: Resolve) -> None:
    text = board("", memory="reg = <0 0x40000000 0x1 0x0>;", bootargs="hugetlb_cma=1G")
    plan = resolve_board(text, config=CONFIG)
    h = plan.region("hugetlb0")
    assert (h.status, h.base, h.size) == ("failed", 0xFF600000, G)
    assert h.reason is not None and h.reason.startswith("could not be activated: spans zones")
    assert "0x100000000" in h.reason and "released to the page allocator" in h.reason
    assert not_activated(plan) == {"hugetlb0"}
    # not CMA any more, but still reserved in the boot-time /proc/iomem
    assert plan.region("reserved").status == "ok"
    assert "  f7600000-13f5fffff : reserved" in render_iomem(plan).splitlines()


def test_area_inside_one_zone_is_activated(resolve_board: Resolve) -> None:
    # 7.x aligns the hugetlb area to the gigantic page: it no longer straddles 4 GiB
    text = board("", memory="reg = <0 0x40000000 0x1 0x0>;", bootargs="hugetlb_cma=1G")
    plan = resolve_board(text, config=CONFIG, kernel_version="7.2")
    h = plan.region("hugetlb0")
    assert (h.status, h.base % G) == ("ok", 0)
    assert not_activated(plan) == frozenset()
    assert "cma-not-activated" not in {d.code for d in plan.diagnostics}


def test_510_also_straddles_and_releases_the_pages(resolve_board: Resolve) -> None:
    text = board("", memory="reg = <0 0x40000000 0x1 0x0>;", bootargs="hugetlb_cma=1G")
    plan = resolve_board(text, config=CONFIG, kernel_version="5.10")
    h = plan.region("hugetlb0")
    assert h.status == "failed" and h.base is not None and h.base < 1 << 32 < h.base + G
    assert h.reason is not None and "released to the page allocator" in h.reason
