"""The candidates for the global CMA pool and why each won, lost or was invalid (for explain())."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from memplan.model import CmaCandidate, GlobalCmaStatus
from memplan.resolve.precedence import Era

if TYPE_CHECKING:
    from memplan.resolve.run import Boot

from memplan.units import optional_size

Winner = Literal["dts", "cmdline", "kconfig"] | None


def build_candidates(
    run: Boot,
) -> tuple[list[CmaCandidate], Winner, int | None, int | None, str | None, GlobalCmaStatus]:
    """Every candidate (DT default nodes, ``cma=``, Kconfig) with a status and a reason in plain
    words; returns ``(candidates, deciding origin, size, base, region name, status)``: with no
    area the origin still names the deciding candidate and the size is 0."""
    inp, st, ctx = run.inp, run.st, run.ctx
    era = run.era
    cmd = inp.cmdline.cma
    cfg = inp.config
    default_slot = st.default_area
    default = default_slot.region if default_slot is not None else None
    kernel_rule = inp.precedence == "kernel" and era is not Era.A
    rule = (
        "the kernel's rule for this version (5.6+: CMDLINE > DTS > KCONFIG)"
        if kernel_rule
        else (
            "the kernel's rule for this version (<5.6: DTS > CMDLINE > KCONFIG)"
            if inp.precedence == "kernel"
            else "the documented seed rule DTS > CMDLINE > KCONFIG"
        )
    )
    out: list[CmaCandidate] = []
    dt_slots = [s for s in st.regions if s.region.default_cma and s.node is not None]
    dt_defaults = [s.region for s in dt_slots]
    if len([s for s in dt_slots if s.region.status == "ok" and s.is_cma_area]) > 1:
        st.note(
            "cma-multiple-default",
            "several linux,cma-default nodes became CMA areas; the last one initialised "
            f"({default.name if default else '?'}) is the default",
            default.source if default is not None else dt_defaults[-1].source,
            default.path if default is not None else None,
        )
    for slot in dt_slots:
        node, r = slot.node, slot.region
        assert node is not None
        status: Literal["selected", "overridden", "invalid", "disabled"]
        if r.status == "disabled":
            status, why = "disabled", "the node is disabled (status is not okay)"
        elif r.status == "bypassed":
            status = "overridden"
            why = f"cma= is on the command line and {rule} lets it win; " + (
                "the node is skipped before it is reserved"
                if era is Era.D
                else "the node is bypassed and its memory released"
            )
        elif slot is default_slot:
            status = "selected"
            why = "the linux,cma-default node became the default CMA area"
            if cmd is not None and ctx.dma_cma:
                why += f"; cma= is ignored under {rule}"
        elif r.status == "ok" and slot.is_cma_area:
            status, why = (
                "overridden",
                "another linux,cma-default node was initialised later and is the default",
            )
        elif r.status == "ok":
            status, why = "invalid", f"not a CMA area ({r.kind}): it is not reusable"
        else:
            status, why = "invalid", r.reason or f"the node was {r.status}"
        out.append(
            CmaCandidate(
                "dts",
                r.size if r.size is not None else node.size,
                status,
                why,
                r.source,
                base=r.base,
                name=r.name,
            )
        )
    g_slot = run.global_region
    g = g_slot.region if g_slot is not None else None
    default_is_global = default_slot is not None and default_slot is g_slot
    live_defaults = [r for r in dt_defaults if r.status != "disabled"]
    if not inp.version_known and cmd is not None and live_defaults and ctx.dma_cma:
        st.note(
            "version-unknown-precedence",
            f"kernel version unknown: cma= and the Device Tree default node '{live_defaults[0].name}' "
            f"compete; kernels before 5.6 make the node the global area, 5.6 and later cma= (this plan "
            f"follows {rule})",
            cmd.source,
            "cma",
        )
    if not ctx.dma_cma and (cmd is not None or dt_defaults):
        st.note(
            "dma-cma-disabled",
            "CONFIG_DMA_CMA is off: no global CMA area; cma= is an unknown parameter and "
            "reusable shared-dma-pool nodes are not CMA areas",
            cfg.dma_cma_source,
        )
    if cmd is not None:
        if not ctx.dma_cma:
            status, why = "disabled", "CONFIG_DMA_CMA is off: cma= is an unknown parameter"
        elif default is not None and not default_is_global:
            status = "overridden"
            why = f"the Device Tree default node '{default.name}' wins under {rule}"
            st.note(
                "cma-cmdline-ignored",
                f"cma= is ignored: the Device Tree node '{default.name}' provides the "
                f"global CMA area ({rule})",
                cmd.source,
                "cma",
            )
        elif cmd.size == 0:
            status, why = (
                "selected",
                "cma=0: no global CMA area"
                + (" and the Device Tree default node is dropped" if dt_defaults and kernel_rule else ""),
            )
            st.note("cma-disabled-by-cmdline", "cma=0 disables the global CMA area", cmd.source, "cma")
        elif g is not None and g.origin == "cmdline" and g.status == "ok":
            status, why = "selected", f"cma= builds the global area 'reserved' ({g.reason})"
        else:
            status, why = "invalid", f"cma= could not be placed: {run.global_failure or 'no room'}"
        out.append(
            CmaCandidate(
                "cmdline", cmd.size, status, why, cmd.source, base=cmd.base or None, limit=cmd.limit or None
            )
        )
    if cfg.cma:
        ksize = run.kconfig_size
        ksrc = cfg.size_source
        if not ctx.dma_cma:
            status, why = "disabled", "CONFIG_DMA_CMA is off: no global CMA area"
        elif g is not None and g.origin == "kconfig":
            quirk = default is not None and not default_is_global
            if g.status != "ok":
                status, why = "invalid", f"the Kconfig area could not be placed: {run.global_failure}"
            elif quirk:
                status = "overridden"
                why = (
                    f"created as an extra area 'reserved' ({optional_size(g.size)}) before the static "
                    "Device Tree default node was initialised (arm32/riscv 6.13+), which then "
                    "became the default"
                )
                st.note("cma-two-areas", why, ksrc, "reserved")
            else:
                status, why = (
                    "selected",
                    f"no cma= and no Device Tree default: the Kconfig size is used ({g.reason})",
                )
        elif g is None and run.global_failure and cmd is None and default is None:
            status, why = "invalid", f"the Kconfig area could not be placed: {run.global_failure}"
        elif ksize == 0 and cmd is None and default is None:
            status, why = "disabled", "the Kconfig size is 0: no global area"
            st.note(
                "cma-size-zero",
                "no cma=, no Device Tree default and a Kconfig size of 0: no global CMA area",
                ksrc,
            )
        elif cmd is not None and ctx.cma_given and (default is None or default_is_global):
            status, why = "overridden", "cma= on the command line takes precedence over the Kconfig size"
        else:
            status, why = (
                "overridden",
                "a Device Tree default node provides the global area; Kconfig is a fallback",
            )
        if ksize or cfg.given:
            out.append(CmaCandidate("kconfig", ksize, status, why, ksrc))
    if default is not None and default.status == "ok":
        origin: Winner = (
            "dts" if default.origin == "dts" else ("cmdline" if default.origin == "cmdline" else "kconfig")
        )
        return out, origin, default.size, default.base, default.name, "ok"
    # No area: the candidate that decided it, size 0 and why.
    if not ctx.dma_cma:
        return out, "kconfig", 0, None, None, "unsupported"
    if cmd is not None:
        return out, "cmdline", 0, None, None, "disabled" if cmd.size == 0 else "failed"
    return out, "kconfig", 0, None, None, "failed" if run.global_failure else "disabled"
