"""Reservations that cannot be made: a crashkernel= range that selects nothing or does not fit, a
fixed cma= base that is not aligned; each is a positioned diagnostic, not a silent drop."""

from __future__ import annotations

import memplan
from tests.resolve.conftest import board

CFG = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"


def test_crashkernel_range_that_selects_nothing() -> None:
    plan = memplan.resolve(dts=board(""), arch="arm64", kernel_version="6.1", config=CFG,
                           cmdline="crashkernel=4G-8G:256M")
    d = next(d for d in plan.diagnostics if d.code == "crashkernel-zero")
    assert d.severity == "warning" and d.source is not None
    assert not any(r.kind == "crashkernel" for r in plan.regions)


def test_crashkernel_that_does_not_fit_fails() -> None:
    plan = memplan.resolve(dts=board(""), arch="arm64", kernel_version="6.1", config=CFG,
                           cmdline="crashkernel=3G")
    assert plan.region("crashkernel").status == "failed"
    d = next(d for d in plan.diagnostics if d.code == "crashkernel-failed")
    assert d.severity == "error" and d.source is not None and not plan.ok


def test_fixed_cma_base_must_be_aligned() -> None:
    plan = memplan.resolve(dts=board(""), arch="arm64", kernel_version="6.1", config=CFG,
                           cmdline="cma=64M@0x50100000")
    assert plan.region("reserved").status == "failed"
    assert (plan.global_cma.origin, plan.global_cma.size, plan.global_cma.status) == ("cmdline", 0, "failed")
    d = next(d for d in plan.diagnostics if d.code == "cma-fixed-misaligned")
    assert d.severity == "error" and d.source is not None and d.source.text == "cma=64M@0x50100000"
