"""Hand-built plans for the renderer tests (the renderers must not need the resolver)."""

from __future__ import annotations

from memplan.model import CmaCandidate, Device, Diagnostic, GlobalCma, MemoryBank, Region
from memplan.plan import Plan
from memplan.source import Source
from memplan.version import KernelVersion

MiB = 1 << 20
GiB = 1 << 30

DTS = "memplan/examples/evk/board.dts"


def evk_plan(**overrides: object) -> Plan:
    """The example board as a 6.1 kernel builds it: cma=320M wins over the DT linux,cma node."""
    cma_tok = Source.token("cma=320M", 60, 68, "/chosen/bootargs")
    regions = (
        Region(
            name="dsp@92400000",
            kind="no-map",
            origin="dts",
            status="ok",
            placement="static",
            base=0x92400000,
            size=16 * MiB,
            path="/reserved-memory/dsp@92400000",
            source=Source.at(DTS, 32, 3),
            no_map=True,
        ),
        Region(
            name="vpu-pool",
            kind="reusable",
            origin="dts",
            status="ok",
            placement="dynamic",
            base=0xBC000000,
            size=64 * MiB,
            path="/reserved-memory/vpu-pool",
            source=Source.at(DTS, 38, 3),
            reusable=True,
        ),
        Region(
            name="linux,cma",
            kind="reusable",
            origin="dts",
            status="bypassed",
            placement="dynamic",
            size=256 * MiB,
            path="/reserved-memory/linux,cma",
            source=Source.at(DTS, 46, 3),
            reusable=True,
            default_cma=True,
            reason="cma= on the command line wins from v5.6",
        ),
        Region(
            name="cma",
            kind="cma",
            origin="cmdline",
            status="ok",
            placement="modelled",
            base=0xA8000000,
            size=320 * MiB,
            source=cma_tok,
        ),
    )
    kw: dict[str, object] = {
        "arch": "arm64",
        "kernel_version": KernelVersion.parse("6.1.0"),
        "precedence": "kernel",
        "precedence_requested": "auto",
        "cmdline": "console=ttymxc1,115200 root=/dev/mmcblk2p2 rootwait cma=320M",
        "cmdline_origin": "/chosen/bootargs",
        "memory": (MemoryBank(0x40000000, 2 * GiB, Source.at(DTS, 22, 2)),),
        "regions": regions,
        "devices": (
            Device("/soc/video-codec@38300000", ("vpu-pool",), ("vpu",)),
            Device("/soc/dsp@3b6e8000", ("dsp@92400000",)),
        ),
        "global_cma": GlobalCma(
            origin="cmdline",
            size=320 * MiB,
            base=0xA8000000,
            region="cma",
            candidates=(
                CmaCandidate("cmdline", 320 * MiB, "selected", "cma= wins on 6.1", cma_tok),
                CmaCandidate(
                    "dts", 256 * MiB, "overridden", "dropped because cma= is given",
                    Source.at(DTS, 46, 3), name="linux,cma",
                ),
                CmaCandidate(
                    "kconfig", 32 * MiB, "overridden", "only used when nothing else asks",
                    Source.config_line("memplan/examples/evk/defconfig", 4),
                ),
            ),
        ),
        "diagnostics": (
            Diagnostic("info", "cma-dts-bypassed", "linux,cma is dropped: cma= wins", cma_tok, "linux,cma"),
        ),
    }
    kw.update(overrides)
    return Plan(**kw)  # type: ignore[arg-type]


def two_bank_plan() -> Plan:
    """Two banks far apart, an overlap, a rejected and a failed region, memmap= and crashkernel=."""
    regions = (
        Region("fw@80000000", "no-map", "dts", "ok", "static", 0x80000000, 2 * MiB,
               path="/reserved-memory/fw@80000000", source=Source.at("b.dts", 10, 3), no_map=True),
        Region("ovl@80100000", "reserved", "dts", "ok", "static", 0x80100000, 2 * MiB,
               path="/reserved-memory/ovl@80100000", source=Source.at("b.dts", 14, 3)),
        Region("bad@90000000", "reserved", "dts", "rejected", "static", 0x90000000, 1 * MiB,
               path="/reserved-memory/bad@90000000", source=Source.at("b.dts", 18, 3),
               reason="size cell count does not match #size-cells"),
        Region("big-pool", "reusable", "dts", "failed", "dynamic", None, 8 * GiB,
               path="/reserved-memory/big-pool", source=Source.at("b.dts", 22, 3),
               reason="no room in alloc-ranges"),
        Region("crashkernel", "crashkernel", "cmdline", "ok", "dynamic", 0x8C000000, 128 * MiB,
               source=Source.token("crashkernel=128M", 0, 16)),
        Region("memmap", "memmap", "cmdline", "ok", "static", 0x8_8000_0000, 256 * MiB,
               source=Source.token("memmap=256M$0x880000000", 17, 40)),
        Region("cma", "cma", "kconfig", "ok", "dynamic", 0x8_B000_0000, 64 * MiB,
               source=Source.config_line(".config", 12)),
    )
    return Plan(
        arch="arm64",
        kernel_version=None,
        precedence="seed",
        precedence_requested="auto",
        cmdline="crashkernel=128M memmap=256M$0x880000000",
        cmdline_origin="bootloader",
        memory=(MemoryBank(0x80000000, 1 * GiB), MemoryBank(0x8_8000_0000, 1 * GiB)),
        regions=regions,
        devices=(),
        global_cma=GlobalCma("kconfig", 64 * MiB, 0x8_B000_0000, "cma", ()),
        diagnostics=(
            Diagnostic("error", "region-overlap", "fw@80000000 overlaps ovl@80100000",
                       Source.at("b.dts", 14, 3), "ovl@80100000"),
            Diagnostic("warning", "bad-size-cells", "bad@90000000 is rejected", Source.at("b.dts", 18, 3)),
        ),
    )
