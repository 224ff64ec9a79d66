"""The kernel's own boot-log lines for a resolved layout, exact by version (kernel-semantics §10).

Lines come from the resolver's boot events (``Plan.events``) in boot order. Formats are the
kernel's printk formats with their ``pr_fmt`` prefixes; ``%pa`` prints 16 hex digits on
64-bit ``phys_addr_t`` and 8 on 32-bit arm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memplan.version import KernelVersion

if TYPE_CHECKING:
    from memplan.plan import Plan
    from memplan.resolve.events import BootEvent

from memplan.units import MiB as M

OFRM = "OF: reserved mem: "


def _pa(value: int | None, wide: bool) -> str:
    v = value or 0
    return f"0x{v:016x}" if wide else f"0x{v:08x}"


def _fdt_prefix(v: KernelVersion) -> str:
    """Prefix of the messages that moved from fdt.c to of_reserved_mem.c (by 6.12; 6.6 still fdt.c)."""
    return OFRM if v.at_least(6, 12) else "OF: fdt: "


def _node_suffix(v: KernelVersion) -> str:
    return " on node -1" if v.at_least(6, 6) and not v.at_least(6, 15) else ""


def event_lines(ev: BootEvent, v: KernelVersion, wide: bool, arch: str) -> list[str]:
    """The log lines one event prints on kernel ``v`` (empty when that version prints nothing)."""
    k = ev.kind
    name = ev.name or "unknown"
    size = ev.size or 0
    if k == "cma-created":
        return [f"Reserved memory: created CMA memory pool at {_pa(ev.base, wide)}, size {size // M} MiB"]
    if k == "dma-created":
        return [f"Reserved memory: created DMA memory pool at {_pa(ev.base, wide)}, size {size // M} MiB"]
    if k == "restricted-created":
        return [f"Reserved memory: created restricted DMA pool at {_pa(ev.base, wide)}, size {size // M} MiB"]
    if k == "dma-needs-nomap":
        return ["Reserved memory: regions without no-map are not yet supported"]
    if k == "rmem-initialized":
        return [f"{OFRM}initialized node {name}, compatible id {ev.text}"]
    if k == "rmem-summary":
        if not v.at_least(6, 3):
            return []
        end = (ev.base or 0) + size - 1
        return [
            f"{OFRM}{_pa(ev.base, wide)}..{_pa(end, wide)} ({size // 1024} KiB) "
            f"{'nomap' if ev.no_map else 'map'} {'reusable' if ev.reusable else 'non-reusable'} {name}"
        ]
    if k == "cma-bypass":
        return [f"Reserved memory: bypass {name} node, using cmdline CMA params instead"]
    if k == "cma-skip":
        if v.at_least(7, 0):
            # 7.x (seen on Debian 7.2/7.3 arm64): no prefix; a static node is reported by both scans
            return ['Skipping dt linux,cma-default node in favor for "cma=" kernel param.'] * max(ev.count, 1)
        return [f'{OFRM}Skipping dt linux,cma-default for "cma=" kernel param.']
    if k == "rmem-match-fail":
        return [f"{OFRM}node {name} compatible matching fail"]
    if k == "cma-misaligned":
        return ["Reserved memory: incorrect alignment of CMA region"]
    if k == "cma-unable":
        return ["Reserved memory: unable to setup CMA region"]
    if k == "rmem-overlap":
        ob = ev.other_base or 0
        return [
            f"{OFRM}OVERLAP DETECTED!",
            f"{name} ({_pa(ev.base, wide)}--{_pa((ev.base or 0) + size, wide)}) overlaps with "
            f"{ev.other} ({_pa(ob, wide)}--{_pa(ob + (ev.other_size or 0), wide)})",
        ]
    if k == "rmem-alloc-failed":
        tail = f": size {size // M} MiB" if v.at_least(6, 1) else ""
        return [f"{OFRM}failed to allocate memory for node '{name}'{tail}"]
    if k == "rmem-reserve-failed":
        return [
            f"{_fdt_prefix(v)}Reserved memory: failed to reserve memory for node '{name}': base "
            f"{_pa(ev.base, wide)}, size {size // M} MiB"
        ]
    if k == "rmem-unsupported":
        return [f"{_fdt_prefix(v)}Reserved memory: unsupported node format, ignoring"]
    if k == "rmem-bad-reg":
        return [f"{_fdt_prefix(v)}Reserved memory: invalid reg property in '{name}', skipping node."]
    if k == "rmem-bad-size":
        return [f"{OFRM}invalid size property in '{name}' node."]
    if k == "rmem-bad-alignment":
        return [f"{OFRM}invalid alignment property in '{name}' node."]
    if k == "rmem-bad-alloc-ranges":
        return [f"{OFRM}invalid alloc-ranges property in '{name}', skipping node."]
    if k == "rmem-too-many":
        return [f"{OFRM}not enough space {'all' if not v.at_least(5, 7) else 'for all'} defined regions."]
    if k == "rmem-extra-reg":
        if v.at_least(6, 13) and not v.at_least(6, 19):
            return [f"{OFRM}fdt_scan_reserved_mem_reg_nodes() ignores {ev.count} regions in node '{name}'"]
        return []
    if k == "cma-reserved":
        node = ev.text[4:] if ev.text and ev.text.startswith("node") else "-1"
        suffix = _node_suffix(v).replace("-1", node)
        if ev.other == "hugetlb" and v.at_least(6, 15):
            return [f"cma: Reserved {size // M} MiB in 1 range"]
        return [f"cma: Reserved {size // M} MiB at {_pa(ev.base, wide)}{suffix}"]
    if k == "numa-cma-invalid-node":
        return [f"cma: invalid node {ev.count} specified"]
    if k == "numa-cma-failed":
        func = "dma_numa_cma_reserve" if v.at_least(6, 6) else "dma_pernuma_cma_reserve"
        return [f"cma: {func}: reservation failed: err -12, node {ev.count}"]
    if k == "cma-not-activated":
        return [f"cma: CMA area {name} could not be activated"]
    if k == "hugetlb-cma-reserve":
        return [f"hugetlb_cma: reserve {size // M} MiB, up to {size // M} MiB per node"]
    if k == "hugetlb-cma-reserved":
        return [f"hugetlb_cma: reserved {size // M} MiB on node 0"]
    if k == "hugetlb-cma-multiple":
        return [f"hugetlb_cma: cma area must be a multiple of {size // M} MiB"]
    if k == "cma-failed":
        return [f"cma: Failed to reserve {size // M} MiB{_node_suffix(v)}"]
    if k == "cma-aligned-base":
        return [f"cma: Region at {_pa(ev.base, wide)} must be aligned to {_pa(ev.other_base, wide)} bytes"]
    if k == "cma-exceeds-limit":
        return [
            f"cma: Size ({_pa(ev.size, wide)}) of region at {_pa(ev.base, wide)} exceeds limit "
            f"({_pa(ev.other_base, wide)})"
        ]
    if k == "mem-limit":
        return [f"Memory limited to {size // M}MB"] if arch in ("arm64", "riscv") else []
    if k == "crashkernel":
        base = ev.base or 0
        if (arch == "x86" and not v.at_least(6, 7)) or arch == "arm":
            return [
                f"Reserving {size // M}MB of memory at {base // M}MB for crashkernel (System RAM: "
                f"{(ev.other_size or 0) // M}MB)"
            ]
        return [f"crashkernel reserved: 0x{base:016x} - 0x{base + size:016x} ({size // M} MB)"]
    if k == "crashkernel-low":
        base = ev.base or 0
        return [f"crashkernel low memory reserved: 0x{base:08x} - 0x{base + size:08x} ({size // M} MB)"]
    if k == "crashkernel-failed":
        return [ev.text or "crashkernel reservation failed - memory is in use."]
    if k == "memmap-map":
        end = (ev.base or 0) + size - 1
        return [f"user: [mem {ev.base or 0:#018x}-{end:#018x}] {ev.text}"]
    return []


def render_dmesg(plan: Plan) -> str:
    """The boot-log lines for ``plan`` (the version's exact formats), one per line."""
    v = plan.model_version or plan.kernel_version or KernelVersion(6, 1)
    wide = plan.arch != "arm"
    out: list[str] = []
    header_done = False
    late = [ev for ev in plan.events if ev.kind == "cma-not-activated"]  # core_initcall, after setup_arch
    for ev in plan.events:
        if ev.kind == "cma-not-activated":
            continue
        if ev.kind == "memmap-map" and not header_done:
            out.append("user-defined physical RAM map:")
            header_done = True
        out.extend(event_lines(ev, v, wide, plan.arch))
    if plan.cmdline:
        out.append(f"Kernel command line: {plan.cmdline}")
    for ev in late:
        out.extend(event_lines(ev, v, wide, plan.arch))
    return "\n".join(out) + ("\n" if out else "")
