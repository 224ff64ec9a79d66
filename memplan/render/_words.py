"""Words shared by the renderers: where a global CMA pool came from, and the one-line verdict."""

from __future__ import annotations

from memplan.model import GlobalCma
from memplan.render._fmt import hex_width, human_size
from memplan.units import format_range

ORIGIN_WORDS = {
    "dts": "the device tree",
    "cmdline": "the kernel command line",
    "kconfig": "the kernel configuration",
}


def cma_verdict(g: GlobalCma, *, with_range: bool = True) -> str:
    """The global CMA outcome in words, e.g. ``320 MiB from the kernel command line at 0x...``.

    A pool of size 0 (``cma=0``, a zero Kconfig size) reads as ``none``, naming who asked for it.
    """
    if g.origin is None:
        return "none"
    words = ORIGIN_WORDS[g.origin]
    if g.status == "unsupported":
        return "none (the kernel is built without CMA)"
    if g.status == "failed":
        return f"none ({words} asked for an area the kernel could not reserve)"
    if not g.size:
        return f"none (size 0 from {words})"
    text = f"{human_size(g.size)} from {words}"
    if g.base is not None and with_range:
        width = hex_width([g.base + g.size])
        text += f" at {format_range(g.base, g.size, width)}"
    elif g.base is None:
        text += " (not placed)"
    if g.region:
        text += f", region {g.region!r}"
    return text
