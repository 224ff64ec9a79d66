"""``Plan.explain()``: every decision in plain words, starting with "which CMA pool wins"."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memplan.plan import Plan

from memplan.units import format_range, optional_size


def _size(n: int | None) -> str:
    return optional_size(n)


def _range(base: int | None, size: int | None) -> str:
    if base is None or size is None:
        return "(not placed)"
    return format_range(base, size)


_ORIGIN = {
    "dts": "Device Tree",
    "cmdline": "cma= on the command line",
    "kconfig": "Kconfig (CONFIG_CMA_SIZE_*)",
}


def render_explain(plan: Plan) -> str:
    """The explanation text of ``plan``."""
    lines: list[str] = []
    version = str(plan.kernel_version) if plan.kernel_version else "unknown"
    model = (
        f" (rules of {plan.model_version} assumed)"
        if plan.kernel_version is None and plan.model_version
        else ""
    )
    lines.append(
        f"Kernel {version}{model}, arch {plan.arch}, precedence policy '{plan.precedence}'"
        f" (requested '{plan.precedence_requested}')."
    )
    g = plan.global_cma
    lines.append("")
    lines.append("Which CMA pool wins (the global default CMA area):")
    if g.origin is None:
        lines.append("  No global CMA area is created.")
    elif g.status == "unsupported":
        lines.append("  The kernel is built without CMA (CONFIG_CMA / CONFIG_DMA_CMA): there is no global "
                     "CMA area.")
    elif g.status == "failed":
        lines.append(f"  {_ORIGIN[g.origin]} decides, but the kernel cannot reserve the area: there is no "
                     "global CMA area.")
    elif g.size == 0:
        lines.append(f"  {_ORIGIN[g.origin]} wins with size 0: there is no global CMA area.")
    else:
        lines.append(
            f"  The winner is {_ORIGIN[g.origin]}: '{g.region}', {_size(g.size)} at {_range(g.base, g.size)}."
        )
    if not g.candidates:
        lines.append("  There were no candidates (no linux,cma-default node, no cma=, no Kconfig size).")
    for c in g.candidates:
        what = _ORIGIN[c.origin] + (f" node '{c.name}'" if c.name else "")
        value = _size(c.size)
        if c.base:
            value += f" at {c.base:#x}"
        if c.limit:
            value += f" (limit {c.limit:#x})"
        src = f" [{c.source}]" if c.source is not None else ""
        lines.append(f"  - {what}: {value} -> {c.status.upper()}: {c.reason}.{src}")
    zone = plan.arch_model.dma_zone if plan.arch_model is not None else None
    if zone is not None:
        lines.append("")
        lines.append("32-bit ARM DMA zone (arm_dma_limit, the limit of the global CMA area):")
        cited = "".join(f" [{src}]" for src in zone.sources)
        lines.append(f"  {zone.reason}.{cited}")
        if zone.assumed:
            lines.append(f"  Assumed (the config does not say): {', '.join(zone.assumed)}.")
    lines.append("")
    lines.append("Regions:")
    for r in plan.regions:
        where = _range(r.base, r.size)
        why = f" - {r.reason}" if r.reason else ""
        lines.append(
            f"  {r.name:<24} {r.kind:<14} {r.status:<9} {r.placement:<9} {where:<26} {_size(r.size)}{why}"
        )
    if plan.devices:
        lines.append("")
        lines.append("Devices:")
        for d in plan.devices:
            lines.append(f"  {d.path} -> {', '.join(d.regions) if d.regions else '(nothing)'}")
    if plan.diagnostics:
        lines.append("")
        lines.append("Diagnostics:")
        for diag in plan.diagnostics:
            lines.append(f"  {diag}")
    return "\n".join(lines) + "\n"
