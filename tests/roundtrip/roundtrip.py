"""resolve → render (dmesg, /proc/iomem, /proc/meminfo) → observe → compare: memplan must agree
with itself."""

from __future__ import annotations

import attrs

import memplan
from memplan.observe import build_observed, parse_dmesg, parse_iomem, parse_meminfo
from memplan.observe.compare import Comparison
from memplan.plan import Plan
from memplan.render.dmesg import render_dmesg
from memplan.render.iomem import render_iomem
from memplan.render.meminfo import render_meminfo

M = 1 << 20


@attrs.frozen
class Case:
    """One generated input: a board (DTS text or ``None`` on x86), command line, .config text,
    architecture, kernel version and ``memory=``."""

    dts: str | None
    cmdline: str
    config: str
    arch: str
    version: str
    memory: str | None = None


def resolve_case(case: Case) -> Plan:
    return memplan.resolve(
        dts=case.dts,
        cmdline=case.cmdline,
        config=case.config,
        arch=case.arch,
        kernel_version=case.version,
        memory=case.memory,
    )


def roundtrip(plan: Plan) -> tuple[Comparison, str, str]:
    """Render ``plan``'s boot log, /proc/iomem and /proc/meminfo, read them back and compare with
    ``plan``. The meminfo text follows the iomem text in the returned ``iomem`` (for messages)."""
    version = plan.model_version or plan.kernel_version
    log = f"Linux version {version} (memplan@roundtrip) #1 SMP\n" + render_dmesg(plan)
    iomem = render_iomem(plan)
    meminfo = render_meminfo(plan)
    observed = build_observed(
        log=parse_dmesg(log, "dmesg"),
        iomem=parse_iomem(iomem, "iomem") if iomem else None,
        meminfo=parse_meminfo(meminfo, "meminfo") if meminfo else None,
    )
    assert observed.cma_total == plan.cma_total, (observed.cma_total, plan.cma_total)
    return plan.compare(observed), log, iomem + "--- meminfo\n" + meminfo


def differences(c: Comparison) -> list[str]:
    """Every disagreement: region rows that do not match, a differing global-pool verdict and
    notes about CmaTotal (meminfo against the plan, or against the areas the observer found)."""
    out = [f"{e.name}: {e.status} ({e.reason})" for e in c.mismatches]
    out.extend(n for n in c.notes if "CmaTotal" in n)
    if c.global_cma.status == "differs":
        out.append(f"global CMA differs: {'; '.join(c.global_cma.reasons)}")
    return out
