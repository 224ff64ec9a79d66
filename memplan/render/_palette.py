"""How each region kind is shown: a one-letter code for the terminal map, a colour, a label.

Shared by the text, SVG and HTML renderers so the three views agree.
"""

from __future__ import annotations

import attrs

from memplan.model import Region


@attrs.frozen
class KindStyle:
    """The look of one region kind: ``letter`` for the bar map, ``fill`` colour, legend ``label``."""

    letter: str
    fill: str
    label: str


#: The global CMA area gets its own style whatever its kind.
GLOBAL_CMA = KindStyle("G", "#2e7d32", "global CMA pool")

_STYLES: dict[str, KindStyle] = {
    "no-map": KindStyle("N", "#c62828", "no-map (not mapped by Linux)"),
    "reusable": KindStyle("C", "#81c784", "CMA / reusable pool"),
    "cma": KindStyle("C", "#81c784", "CMA / reusable pool"),
    "numa-cma": KindStyle("C", "#81c784", "CMA / reusable pool"),
    "hugetlb-cma": KindStyle("C", "#81c784", "CMA / reusable pool"),
    "dma-pool": KindStyle("D", "#1e88e5", "coherent DMA pool"),
    "restricted-dma": KindStyle("S", "#00acc1", "restricted DMA / swiotlb"),
    "swiotlb": KindStyle("S", "#00acc1", "restricted DMA / swiotlb"),
    "reserved": KindStyle("R", "#f9a825", "reserved (mapped)"),
    "memreserve": KindStyle("M", "#8d6e63", "/memreserve/ entry"),
    "memmap": KindStyle("E", "#8e24aa", "memmap= reservation"),
    "crashkernel": KindStyle("K", "#ef6c00", "crashkernel (kdump)"),
}

_OTHER = KindStyle("?", "#9e9e9e", "other reservation")

#: Marks used by the terminal bar map besides the kind letters.
FREE_CHAR = "."
OVERLAP_CHAR = "!"

#: Colours used by the pictures besides the kind fills.
RAM_FILL = "#eceff1"
OVERLAP_STROKE = "#d50000"


def style_for(region: Region, global_region: str | None) -> KindStyle:
    """The style of ``region``; the plan's global CMA region (by name) gets :data:`GLOBAL_CMA`."""
    if global_region is not None and region.name == global_region and region.status == "ok":
        return GLOBAL_CMA
    return _STYLES.get(region.kind, _OTHER)


def legend_order() -> tuple[KindStyle, ...]:
    """Every distinct style once, in legend order (global CMA first)."""
    seen: list[KindStyle] = [GLOBAL_CMA]
    for style in [*_STYLES.values(), _OTHER]:
        if style not in seen:
            seen.append(style)
    return tuple(seen)
