"""The order of the boot steps per architecture and version (kernel-semantics §2.3, verified
call order; the recorded boots where the spec and the boot disagree).

arm64 scans the DT, (era C/D: initialises static regions at ``unflatten_device_tree()``), then
``bootmem_init()`` (before 7.0: hugetlb CMA, 5.10 – 6.5 per-node CMA, ``sparse_init()``) and
``dma_contiguous_reserve()`` (6.6 – 6.19 per-node areas first, 7.0+ last) and crashkernel
(before 5.10: crashkernel first); arm32 and riscv call ``dma_contiguous_reserve()`` before the
late static initialisation; x86 has no DT normally and reserves hugetlb CMA after the global area.
"""

from __future__ import annotations

from typing import Literal

from memplan.kernel.rules import VersionRange, before, between, since, statics_initialised_late
from memplan.version import KernelVersion

Step = Literal[
    "ram",
    "scan-reserved",
    "late-statics",
    "early",
    "sparse",
    "numa-cma",
    "hugetlb",
    "global-cma",
    "crashkernel",
    "activate",
]

_ARM64: tuple[tuple[VersionRange, tuple[Step, ...]], ...] = (
    (before(5, 10), ("crashkernel", "numa-cma", "global-cma", "hugetlb")),
    (between((5, 10), (6, 6)), ("early", "hugetlb", "numa-cma", "sparse", "global-cma", "crashkernel")),
    (between((6, 6), (7, 0)), ("early", "hugetlb", "sparse", "numa-cma", "global-cma", "crashkernel")),
    (since(7, 0), ("early", "global-cma", "numa-cma", "hugetlb", "crashkernel")),
)
_CMA_FIRST: tuple[tuple[VersionRange, tuple[Step, ...]], ...] = (  # arm, riscv
    (before(7, 0), ("numa-cma", "global-cma", "late-statics", "crashkernel")),
    (since(7, 0), ("global-cma", "numa-cma", "late-statics", "crashkernel")),
)
_OTHER: tuple[tuple[VersionRange, tuple[Step, ...]], ...] = (  # x86 and the rest
    (before(7, 0), ("numa-cma", "global-cma", "hugetlb", "crashkernel")),
    (since(7, 0), ("global-cma", "numa-cma", "hugetlb", "crashkernel")),
)

#: Per architecture: (version range, the steps between the DT scan and zone activation).
BOOT_ORDER: dict[str, tuple[tuple[VersionRange, tuple[Step, ...]], ...]] = {
    "arm64": _ARM64,
    "arm": _CMA_FIRST,
    "riscv": _CMA_FIRST,
}


def boot_steps(arch: str, version: KernelVersion) -> tuple[Step, ...]:
    """The boot steps of ``arch`` on ``version``, in order. ``late-statics`` only runs in eras
    C/D; arm64 and x86 run it right after the scan, arm and riscv after the global area."""
    table = BOOT_ORDER.get(arch, _OTHER)
    middle = next(steps for rng, steps in table if version in rng)
    late = statics_initialised_late(version)
    if not late:
        middle = tuple(s for s in middle if s != "late-statics")
    elif "late-statics" not in middle:
        middle = ("late-statics", *middle)
    return ("ram", "scan-reserved", *middle, "activate")
