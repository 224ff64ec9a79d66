"""Boot events: what the kernel does (and logs) while building the layout, in boot order.

The resolver records them in ``Plan.events``; :mod:`memplan.kernel.messages` gives the log line(s)
each kind prints on each kernel version, which :mod:`memplan.render.dmesg` prints and
:mod:`memplan.observe.dmesg` parses back into the same kinds.
"""

from __future__ import annotations

from typing import Literal

import attrs

#: Every kind of boot event. Reserved-memory scan: ``rmem-*``, ``cma-bypass``/``cma-skip``,
#: ``*-created``; CMA areas: ``cma-reserved``/``cma-failed`` (``name`` = the area), placement
#: errors, ``numa-cma-*``, ``hugetlb-cma-*``, ``cma-not-activated``; RAM: ``mem-limit``,
#: ``memmap-map``; ``crashkernel*``.
EventKind = Literal[
    "rmem-unsupported",
    "rmem-bad-reg",
    "rmem-bad-size",
    "rmem-bad-alignment",
    "rmem-bad-alloc-ranges",
    "rmem-reserve-failed",
    "rmem-alloc-failed",
    "rmem-too-many",
    "rmem-extra-reg",
    "rmem-overlap",
    "rmem-initialized",
    "rmem-match-fail",
    "rmem-summary",
    "cma-bypass",
    "cma-skip",
    "cma-misaligned",
    "cma-unable",
    "cma-created",
    "dma-created",
    "dma-needs-nomap",
    "restricted-created",
    "cma-reserved",
    "cma-failed",
    "cma-aligned-base",
    "cma-exceeds-limit",
    "numa-cma-failed",
    "numa-cma-invalid-node",
    "cma-not-activated",
    "hugetlb-cma-reserve",
    "hugetlb-cma-reserved",
    "hugetlb-cma-multiple",
    "hugetlb-cma-failed",
    "mem-limit",
    "memmap-map",
    "memreserve-invalid",
    "crashkernel",
    "crashkernel-low",
    "crashkernel-failed",
]

EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]


@attrs.frozen
class BootEvent:
    """One event: ``kind`` plus its arguments.

    ``name``: the region or CMA area (``reserved`` for the global area, ``numa<N>``,
    ``pernuma<N>``, ``hugetlb0``, or a DT node name); ``base``/``size``: the range (for
    ``cma-reserved``/``cma-failed`` the size the line prints); ``node``: the NUMA node of a
    per-node area; ``hugetlb``: a hugetlb CMA area; ``text``: compatible (``rmem-initialized``),
    E820 type name (``memmap-map``) or failure text; ``other``/``other_base``/``other_size``: the
    other region of an overlap, the limit (``cma-exceeds-limit``), the alignment
    (``cma-aligned-base``) or the RAM total (``crashkernel``); ``count``: a number
    (``rmem-extra-reg`` entries, ``cma-skip`` repeats, the node of ``numa-cma-*``).
    """

    kind: EventKind
    name: str | None = None
    base: int | None = None
    size: int | None = None
    text: str | None = None
    other: str | None = None
    other_base: int | None = None
    other_size: int | None = None
    no_map: bool = False
    reusable: bool = False
    count: int = 0
    node: int | None = None
    hugetlb: bool = False
