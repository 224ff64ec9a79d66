"""One resolution in progress: the inputs, the fixed context, the working state and what the
boot steps (:mod:`memplan.resolve.steps`) learn on the way."""

from __future__ import annotations

import attrs

from memplan.model import DmaZoneDecision, MemoryBank
from memplan.resolve import arm32
from memplan.resolve.alignment import cma_min_alignment, default_hugetlb
from memplan.resolve.arm_dma import arm_dma_limit
from memplan.resolve.cma import cma_slots
from memplan.resolve.inputs import Inputs
from memplan.resolve.memblock import Memblock
from memplan.resolve.numa import NodeMap
from memplan.resolve.platform import is_64bit, zone_dma_bits
from memplan.resolve.precedence import Era, era_of
from memplan.resolve.state import Context, Slot, State
from memplan.source import Source


@attrs.define
class Boot:
    """The shared state of the boot steps of one resolution."""

    inp: Inputs
    era: Era
    cma_min: int
    ctx: Context
    st: State
    dma_bits: int
    banks: list[MemoryBank] = attrs.Factory(list)
    nodes: NodeMap = attrs.Factory(dict)
    global_region: Slot | None = None
    global_failure: str | None = None
    kconfig_size: int = 0
    #: Steps already run (a step listed twice in a boot order runs once).
    done: set[str] = attrs.Factory(set)
    #: arm32: how ``arm_dma_limit`` was decided (:meth:`arm_dma_zone`, once RAM is known).
    dma_zone: DmaZoneDecision | None = None

    def arm_dma_zone(self) -> DmaZoneDecision:
        """arm32 ``arm_dma_limit`` for this boot (:func:`memplan.resolve.arm_dma.arm_dma_limit`),
        decided once, after the RAM step; what it assumes is reported as
        ``arm-dma-zone-assumed``."""
        if self.dma_zone is None:
            dt = self.inp.dt
            mb = self.st.mb
            compatible = dt.compatible if dt is not None else ()
            self.dma_zone = arm_dma_limit(
                compatible, self.inp.config, mb.start_of_dram(), mb.end_of_dram(), self.ctx.phys_64bit
            )
            if self.dma_zone.assumed:
                self.st.note(
                    "arm-dma-zone-assumed",
                    f"{', '.join(self.dma_zone.assumed)} assumed (the config does not say): "
                    f"{self.dma_zone.reason}",
                    Source.builtin("no .config given" if not self.inp.config.given
                                   else "symbols the .config does not set (memplan's bundled Kconfig model)"),
                    "arm_dma_limit",
                )
        return self.dma_zone

    @classmethod
    def start(cls, inp: Inputs) -> Boot:
        """The state before the first step."""
        cfg, v = inp.config, inp.version
        hugetlb = cfg.hugetlb if cfg.hugetlb is not None else default_hugetlb(inp.arch, cfg.lpae)
        cma_min = cma_min_alignment(v, cfg.page_size, cfg.max_buddy_order, hugetlb)
        dma_cma = cfg.cma and cfg.dma_cma
        lowmem, vmalloc_note = None, None
        if inp.arch == "arm":
            vmalloc, vmalloc_note = arm32.vmalloc_size(inp.cmdline.vmalloc, cfg.page_offset)
            lowmem = arm32.lowmem_size(cfg.page_offset, vmalloc)
        ctx = Context(
            arch=inp.arch,
            version=v,
            precedence=inp.precedence,
            cma_given=dma_cma and inp.cmdline.cma is not None,
            cma_enabled=cfg.cma,
            dma_cma=dma_cma,
            cma_min_alignment=cma_min,
            cma_slots=cma_slots(v, cfg.cma_areas, cfg.numa),
            page_size=cfg.page_size,
            phys_64bit=is_64bit(inp.arch, cfg.lpae),
            arm32_lowmem=lowmem,
        )
        boot = cls(
            inp=inp,
            era=era_of(v),
            cma_min=cma_min,
            ctx=ctx,
            st=State(Memblock(cfg.page_size)),
            dma_bits=zone_dma_bits(inp.dt.dma_max_cpu_address if inp.dt is not None else None),
        )
        if vmalloc_note is not None:
            src = inp.cmdline.vmalloc_source
            token = src.text if src is not None and src.text else "vmalloc="
            boot.st.note("arm32-vmalloc-clamped", f"{token}: {vmalloc_note}", src, "vmalloc")
        return boot
