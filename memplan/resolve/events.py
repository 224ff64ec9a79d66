"""Boot events: what the kernel does (and logs) while building the layout, in boot order.

The resolver records them; :mod:`memplan.render.dmesg` turns them into the kernel's own log
lines for a given version. ``kind`` names the event; the other fields are its arguments.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class BootEvent:
    """One event: ``kind`` plus optional region ``name``, ``base``, ``size`` and extra text.

    Kinds: ``rmem-unsupported``, ``rmem-bad-reg``, ``rmem-bad-size``, ``rmem-bad-alignment``,
    ``rmem-bad-alloc-ranges``, ``rmem-reserve-failed``, ``rmem-alloc-failed``, ``rmem-too-many``,
    ``rmem-extra-reg`` (``count``), ``rmem-overlap`` (``other``, ``other_base``, ``other_size``),
    ``cma-bypass``, ``cma-skip``, ``cma-misaligned``, ``cma-unable``, ``cma-created``, ``dma-
    created``, ``dma-needs-nomap``, ``restricted-created``, ``rmem-initialized`` (``text`` =
    compatible), ``rmem-match-fail``, ``rmem-summary`` (``no_map``, ``reusable``), ``cma-reserved``
    / ``cma-failed`` (``size`` = size printed; ``text`` ``node<nid>`` for a per-node area, ``other``
    ``hugetlb`` for a hugetlb area), ``numa-cma-failed`` / ``numa-cma-invalid-node`` (``count`` =
    node), ``cma-aligned-base``, ``cma-exceeds-limit`` (``other_base`` = limit), ``mem-limit``,
    ``crashkernel``, ``crashkernel-low``, ``crashkernel-failed``, ``memmap-map`` (``text`` = type
    name), ``memreserve-invalid``.
    """

    kind: str
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
