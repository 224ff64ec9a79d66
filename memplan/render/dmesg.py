"""The kernel's own boot-log lines for a resolved layout, exact by version (kernel-semantics §10).

Lines come from the resolver's boot events (``Plan.events``) in boot order. Formats are the
kernel's printk formats with their ``pr_fmt`` prefixes; ``%pa`` prints 16 hex digits on
64-bit ``phys_addr_t`` and 8 on 32-bit arm.
"""

from __future__ import annotations

from memplan.kernel import rules
from memplan.kernel.events import BootEvent
from memplan.kernel.messages import message_for
from memplan.plan import Plan
from memplan.units import MiB as M
from memplan.version import KernelVersion


def _pa(value: int | None, wide: bool) -> str:
    v = value or 0
    return f"0x{v:016x}" if wide else f"0x{v:08x}"


def fields(ev: BootEvent, wide: bool) -> dict[str, object]:
    """Every field a message format may use (:data:`memplan.kernel.messages.FIELDS`) for ``ev``."""
    base = ev.base or 0
    size = ev.size or 0
    other_base = ev.other_base or 0
    return {
        "base": _pa(ev.base, wide),
        "end": _pa(base + size, wide),
        "last": _pa(base + size - 1, wide),
        "other_base": _pa(other_base, wide),
        "other_end": _pa(other_base + (ev.other_size or 0), wide),
        "limit": _pa(ev.other_base, wide),
        "align": _pa(ev.other_base, wide),
        "size_hex": _pa(ev.size, wide),
        "size_mib": size // M,
        "size_kib": size // 1024,
        "total_mib": (ev.other_size or 0) // M,
        "base_mib": base // M,
        "start32": f"0x{base:08x}",
        "end32": f"0x{base + size:08x}",
        "start64": f"0x{base:016x}",
        "end64": f"0x{base + size:016x}",
        "e820_start": f"{base:#018x}",
        "e820_last": f"{base + size - 1:#018x}",
        "name": ev.name or "unknown",
        "other": ev.other,
        "text": ev.text if ev.text is not None else "crashkernel reservation failed - memory is in use.",
        "count": ev.count,
        "node": ev.node if ev.node is not None else -1,
        "map": "nomap" if ev.no_map else "map",
        "reuse": "reusable" if ev.reusable else "non-reusable",
    }


def event_lines(ev: BootEvent, v: KernelVersion, wide: bool, arch: str) -> list[str]:
    """The log lines one event prints on kernel ``v`` (empty when that version prints nothing),
    from the message table (:mod:`memplan.kernel.messages`)."""
    message = message_for(ev.kind, v, arch, hugetlb=ev.hugetlb)
    values = fields(ev, wide)
    lines = [fmt.format(**values) for fmt in message.formats]
    if message.repeat == "count":
        lines = lines * max(ev.count, 1)
    return lines


def render_dmesg(plan: Plan) -> str:
    """The boot-log lines for ``plan`` (the version's exact formats), one per line."""
    v = plan.model_version or plan.kernel_version or rules.DEFAULT_MODEL_VERSION
    wide = plan.phys_addr_bits == 64
    out: list[str] = []
    header_done = False
    late = [ev for ev in plan.events if ev.kind == "cma-not-activated"]  # core_initcall, after setup_arch
    for ev in plan.events:
        if ev.kind == "cma-not-activated":
            continue
        if ev.kind == "memmap-map" and not header_done:
            out.extend(message_for("memmap-header", v, plan.arch).formats)
            header_done = True
        out.extend(event_lines(ev, v, wide, plan.arch))
    if plan.cmdline:
        out.append(f"Kernel command line: {plan.cmdline}")
    for ev in late:
        out.extend(event_lines(ev, v, wide, plan.arch))
    return "\n".join(out) + ("\n" if out else "")
