"""Plan.compare: hand-built plans against observed boots (matched / moved / missing / unexpected)."""

from __future__ import annotations

from typing import Any

import attrs

from memplan.model import GlobalCma, MemoryBank, Region
from memplan.observe import parse_dmesg, parse_iomem
from memplan.observe.combine import build_observed
from memplan.observe.model import Observed
from memplan.plan import Plan
from memplan.version import KernelVersion

MIB = 1 << 20
V61 = "[    0.000000] Linux version 6.1.0-50-arm64 (x@y) (gcc) #1 SMP Debian 6.1.176-1 (2026-07-02)\n"


def plan(
    regions: tuple[Region, ...],
    global_cma: GlobalCma,
    cmdline: str = "console=ttyAMA0",
    version: tuple[int, int, int] = (6, 1, 176),
) -> Plan:
    return Plan(
        arch="arm64",
        kernel_version=KernelVersion(*version),
        precedence="kernel",
        precedence_requested="auto",
        cmdline=cmdline,
        cmdline_origin="bootloader",
        memory=(MemoryBank(0x40000000, 0x80000000),),
        regions=regions,
        devices=(),
        global_cma=global_cma,
        diagnostics=(),
        cma_alignment=2 * MIB,
    )


def region(name: str, kind: str = "reusable", **kw: Any) -> Region:
    fields: dict[str, Any] = {"origin": "dts", "status": "ok", "placement": "dynamic"}
    fields.update(kw)
    return Region(name=name, kind=kind, **fields)


def observed(log: str, iomem: str | None = None) -> Observed:
    return build_observed(
        log=parse_dmesg(V61 + log, "dmesg"), iomem=parse_iomem(iomem, "iomem") if iomem else None
    )


DT_DEFAULT_LOG = (
    "Reserved memory: created CMA memory pool at 0x00000000ba000000, size 96 MiB\n"
    "OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool\n"
    "Kernel command line: console=ttyAMA0\n"
)


#: A 6.1 boot with cma=128M: the DT default node is bypassed, the global area comes from cma=.
BYPASS_LOG = (
    "Reserved memory: bypass linux,cma node, using cmdline CMA params instead\n"
    "OF: reserved mem: node linux,cma compatible matching fail\n"
    "cma: Reserved 128 MiB at 0x00000000b5a00000\n"
    "Kernel command line: console=ttyAMA0 cma=128M\n"
)


def test_dt_default_matches() -> None:
    p = plan(
        (region("linux,cma", base=0xBA000000, size=96 * MIB, default_cma=True, reusable=True),),
        GlobalCma("dts", 96 * MIB, 0xBA000000, "linux,cma"),
    )
    c = p.compare(observed(DT_DEFAULT_LOG))
    assert c.ok, c.to_text()
    assert c.entry("linux,cma").status == "matched"
    assert c.entry("linux,cma").matched_by == "name"
    assert c.global_cma.status == "matched"
    assert "Result: agreement" in c.to_text()


def test_moved_dynamic_region_reason_and_modelled_tolerance() -> None:
    r = region("linux,cma", base=0xBB000000, size=96 * MIB, default_cma=True, placement="modelled")
    p = plan((r,), GlobalCma("dts", 96 * MIB, 0xBB000000, "linux,cma"))
    obs = observed(DT_DEFAULT_LOG)
    strict = p.compare(obs)
    e = strict.entry("linux,cma")
    assert e.status == "moved" and e.is_mismatch
    assert e.reason is not None and "early allocations" in e.reason
    assert strict.global_cma.status == "differs"
    assert not strict.ok
    loose = p.compare(obs, tolerate_modelled=True)
    assert loose.entry("linux,cma").tolerated
    assert loose.global_cma.tolerated
    assert loose.ok


def test_dynamic_but_not_modelled_is_never_tolerated() -> None:
    r = region("linux,cma", base=0xBB000000, size=96 * MIB, default_cma=True, placement="dynamic")
    p = plan((r,), GlobalCma("dts", 96 * MIB, 0xBB000000, "linux,cma"))
    c = p.compare(observed(DT_DEFAULT_LOG), tolerate_modelled=True)
    assert not c.ok
    assert c.entry("linux,cma").reason is not None
    assert "allocation order" in (c.entry("linux,cma").reason or "")


def test_cmdline_wins_but_plan_predicted_dt_names_kernel_version() -> None:
    # memplan predicted the pre-5.6 outcome, the booted 6.1 kernel bypassed the DT default
    p = plan(
        (
            region("linux,cma", base=0xBA000000, size=96 * MIB, default_cma=True),
            region("reserved", kind="cma", origin="cmdline", status="bypassed", placement="modelled"),
        ),
        GlobalCma("dts", 96 * MIB, 0xBA000000, "linux,cma"),
        cmdline="console=ttyAMA0 cma=128M",
        version=(5, 4, 0),
    )
    obs = observed(BYPASS_LOG)
    c = p.compare(obs)
    assert not c.ok
    g = c.global_cma
    assert g.status == "differs"
    assert any("bypasses the DT default when cma= is present" in r for r in g.reasons)
    e = c.entry("linux,cma")
    assert e.status == "missing"
    assert e.reason is not None and "bypass" in e.reason
    assert c.entry("reserved").status == "unexpected"
    assert any("kernel version differs" in n for n in c.notes)


def test_bypass_predicted_and_observed_matches() -> None:
    p = plan(
        (
            region("linux,cma", size=96 * MIB, default_cma=True, status="bypassed"),
            region("reserved", kind="cma", origin="cmdline", base=0xB5A00000, size=128 * MIB),
        ),
        GlobalCma("cmdline", 128 * MIB, 0xB5A00000, "reserved"),
        cmdline="console=ttyAMA0 cma=128M",
    )
    obs = observed(BYPASS_LOG)
    c = p.compare(obs)
    assert c.ok, c.to_text()
    assert c.entry("linux,cma").status == "matched"
    assert c.entry("reserved").status == "matched"
    assert c.global_cma.observed.origin == "cmdline"


def test_size_rounded_to_cma_alignment() -> None:
    p = plan(
        (region("reserved", kind="cma", origin="kconfig", base=0xB9A00000, size=63 * MIB),),
        GlobalCma("kconfig", 63 * MIB, 0xB9A00000, "reserved"),
    )
    c = p.compare(
        observed("cma: Reserved 64 MiB at 0x00000000b9a00000\nKernel command line: console=ttyAMA0\n")
    )
    e = c.entry("reserved")
    assert e.status == "resized"
    assert e.reason == "size rounded to CMA alignment (2 MiB)"
    assert c.global_cma.reasons == ("size rounded to CMA alignment (2 MiB)",)


def test_missing_unexpected_and_unverified() -> None:
    p = plan(
        (
            region("pool-a", base=0xB9800000, size=16 * MIB),
            region(
                "fw@60000000", kind="no-map", base=0x60000000, size=4 * MIB, placement="static", no_map=True
            ),
        ),
        GlobalCma(None, None, None, None),
    )
    obs = observed(
        "Reserved memory: created CMA memory pool at 0x00000000bd000000, size 48 MiB\n"
        "OF: reserved mem: initialized node pool-b, compatible id shared-dma-pool\n"
    )
    c = p.compare(obs)
    assert c.entry("pool-a").status == "missing"
    assert c.entry("pool-b").status == "unexpected"
    assert c.entry("pool-b").predicted is None
    # a no-map node prints nothing on 6.1 without a handler, and no iomem was given
    assert c.entry("fw@60000000").status == "unverified"
    assert not c.entry("fw@60000000").is_mismatch
    assert len(c.mismatches) == 2


def test_iomem_confirms_silent_static_region() -> None:
    p = plan(
        (region("fw@48000000", kind="reserved", base=0x48000000, size=0xF2000, placement="static"),),
        GlobalCma(None, None, None, None),
    )
    iomem = "40000000-bfffffff : System RAM\n  48000000-480f1fff : reserved\n"
    c = p.compare(observed("Kernel command line: console=ttyAMA0\n", iomem))
    e = c.entry("fw@48000000")
    assert (e.status, e.matched_by) == ("matched", "iomem")
    assert c.ok


def test_iomem_reserved_range_does_not_stand_in_for_a_cma_area() -> None:
    """A CMA area always prints a line: if the complete log has none, a reserved range in
    /proc/iomem at its address (early allocations, another region) does not confirm it."""
    area = region("reserved", kind="cma", origin="cmdline", base=0xB8000000, size=32 * MIB,
                  placement="modelled")
    winner = GlobalCma("cmdline", 32 * MIB, 0xB8000000, "reserved")
    p = plan((area,), winner, cmdline="console=ttyAMA0 cma=32M")
    iomem = "40000000-bfffffff : System RAM\n  b0000000-bfffffff : reserved\n"
    c = p.compare(observed("Kernel command line: console=ttyAMA0\n", iomem))
    e = c.entry("reserved")
    assert (e.status, e.matched_by) == ("missing", "none")
    assert not c.ok
    # a log that does not reach back to the start of the boot may have lost the line: iomem counts
    truncated = build_observed(
        log=parse_dmesg("Kernel command line: console=ttyAMA0\n", "dmesg"), iomem=parse_iomem(iomem, "iomem")
    )
    assert (p.compare(truncated).entry("reserved").matched_by) == "iomem"


def test_rejected_prediction_but_kernel_accepted() -> None:
    p = plan(
        (region("cma-2m@60200000", size=2 * MIB, base=0x60200000, status="rejected", placement="static"),),
        GlobalCma(None, None, None, None),
    )
    obs = observed(
        "Reserved memory: created CMA memory pool at 0x0000000060200000, size 2 MiB\n"
        "OF: reserved mem: initialized node cma-2m@60200000, compatible id shared-dma-pool\n"
    )
    c = p.compare(obs)
    e = c.entry("cma-2m@60200000")
    assert e.status == "unexpected"
    assert e.reason is not None and "created it" in e.reason


def test_unmodelled_swiotlb_is_shown_but_not_counted() -> None:
    p = plan((), GlobalCma(None, None, None, None))
    c = p.compare(observed("software IO TLB: mapped [mem 0x00000000fbfff000-0x00000000fffff000] (64MB)\n"))
    e = c.entry("swiotlb")
    assert e.status == "unverified" and not e.is_mismatch
    assert c.ok


def test_unknown_global_when_nothing_observed() -> None:
    p = plan((), GlobalCma("kconfig", 64 * MIB, None, "reserved"))
    c = p.compare(build_observed())
    assert c.global_cma.status == "unknown"
    assert not c.global_cma.is_mismatch


def test_json_rendering_round_trip() -> None:
    import json

    p = plan(
        (region("linux,cma", base=0xBA000000, size=96 * MIB, default_cma=True),),
        GlobalCma("dts", 96 * MIB, 0xBA000000, "linux,cma"),
    )
    data = json.loads(p.compare(observed(DT_DEFAULT_LOG)).to_json())
    assert data["ok"] is True
    assert data["global_cma"]["predicted"]["origin"] == "dts"
    assert data["global_cma"]["observed"]["origin"] == "dts"
    [entry] = data["entries"]
    assert entry["status"] == "matched" and entry["observed"]["base"] == 0xBA000000


def test_row_exposes_predicted_and_observed_numbers() -> None:
    r = region("linux,cma", base=0xBB000000, size=96 * MIB, default_cma=True, placement="modelled")
    c = plan((r,), GlobalCma("dts", 96 * MIB, 0xBB000000, "linux,cma")).compare(observed(DT_DEFAULT_LOG))
    e = c.entry("linux,cma")
    assert (e.predicted_base, e.predicted_size) == (0xBB000000, 96 * MIB)
    assert (e.observed_base, e.observed_size) == (0xBA000000, 96 * MIB)


# -- a CMA area reserved at boot but never activated (it spans two zones) ------------------
NOT_ACTIVATED_LOG = (
    "hugetlb_cma: reserve 1024 MiB, up to 1024 MiB per node\n"
    "cma: Reserved 1024 MiB at 0x00000000ff600000\n"
    "hugetlb_cma: reserved 1024 MiB on node 0\n"
    "Kernel command line: console=ttyAMA0\n"
    "cma: CMA area hugetlb0 could not be activated\n"
)


def inactive_plan(base: int = 0xFF600000) -> Plan:
    from memplan.kernel.events import BootEvent

    h = region("hugetlb0", kind="hugetlb-cma", origin="cmdline", status="failed", placement="modelled",
               base=base, size=1024 * MIB, reason="could not be activated: spans zones", activated=False)
    p = plan((h,), GlobalCma(None, None, None, None))
    return attrs.evolve(p, events=(BootEvent("cma-not-activated", name="hugetlb0"),))


def test_not_activated_area_matches_the_kernel_report() -> None:
    c = inactive_plan().compare(observed(NOT_ACTIVATED_LOG))
    e = c.entry("hugetlb0")
    assert (e.status, e.matched_by) == ("matched", "name"), e.reason
    assert not any("CmaTotal" in n for n in c.notes)


def test_not_activated_area_at_another_base_is_moved() -> None:
    c = inactive_plan(base=0xBF600000).compare(observed(NOT_ACTIVATED_LOG))
    assert c.entry("hugetlb0").status == "moved"
    assert not c.ok


def test_not_activated_prediction_but_kernel_activated_it() -> None:
    log = NOT_ACTIVATED_LOG.replace("cma: CMA area hugetlb0 could not be activated\n", "")
    e = inactive_plan().compare(observed(log)).entry("hugetlb0")
    assert e.status == "unexpected"
    assert e.reason is not None and "activated it" in e.reason


def test_area_predicted_active_but_kernel_did_not_activate_it() -> None:
    p = inactive_plan()
    ok = attrs.evolve(p, regions=(attrs.evolve(p.regions[0], status="ok", activated=True),), events=())
    assert ok.compare(observed(NOT_ACTIVATED_LOG)).entry("hugetlb0").status == "missing"


def test_not_activated_area_without_boot_log_is_matched_by_iomem() -> None:
    iomem = "40000000-13fffffff : System RAM\n  f3000000-13f5fffff : reserved\n"
    obs = build_observed(iomem=parse_iomem(iomem, "iomem"))
    e = inactive_plan().compare(obs).entry("hugetlb0")
    assert (e.status, e.matched_by) == ("matched", "iomem")
