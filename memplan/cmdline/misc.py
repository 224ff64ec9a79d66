"""Other parameters that reserve memory at boot: huge pages, ``swiotlb=``, ``coherent_pool=``
(kernel-semantics.md §8.3–§8.5). Only what decides a reservation is modelled."""

from __future__ import annotations

from typing import Literal

import attrs

from memplan.cmdline.common import (
    Sink,
    SizeParam,
    no_value,
    parse_size_param,
    read_decimal,
    read_int,
    read_size,
    show,
    where,
)
from memplan.cmdline.tokenize import Token
from memplan.source import Source
from memplan.units import align_up

#: swiotlb slab size (``IO_TLB_SHIFT`` = 11) and segment (``IO_TLB_SEGSIZE`` = 128 slabs).
IO_TLB_SLAB = 1 << 11
IO_TLB_SEGSIZE = 128


@attrs.frozen
class HugepageRequest:
    """``hugepages=`` after a ``hugepagesz=`` (``page_size``) or alone (``None`` = the default size).

    ``per_node`` is set for the ``nid:count,...`` form, ``count`` is then the total.
    """

    page_size: int | None
    count: int
    source: Source
    per_node: tuple[tuple[int, int], ...] = ()


@attrs.frozen
class HugepagesParam:
    """Huge-page parameters in command-line order.

    ``sizes``: every ``hugepagesz=`` value; ``requests``: every accepted ``hugepages=``;
    ``default_size``: the last ``default_hugepagesz=``. Whether a size is valid depends on the
    architecture and CPU (e.g. 1 GiB on x86 needs ``pdpe1gb``); that is the resolver's job.
    """

    sizes: tuple[tuple[int, Source], ...] = ()
    requests: tuple[HugepageRequest, ...] = ()
    default_size: int | None = None
    default_source: Source | None = None

    def counts(self) -> dict[int | None, int]:
        """Pages requested per page size (``None`` = the default size); a later request wins."""
        return {r.page_size: r.count for r in self.requests}


@attrs.define
class HugepagesBuilder:
    """Accumulates ``hugepagesz=``/``hugepages=``/``default_hugepagesz=`` in order."""

    sizes: list[tuple[int, Source]] = attrs.Factory(list)
    size_set: set[int] = attrs.Factory(set)
    requests: list[HugepageRequest] = attrs.Factory(list)
    default_size: int | None = None
    default_source: Source | None = None
    current: int | None = None
    seen: bool = False
    last_target: int | None = 0  # 0 = no hugepages= yet; None = the default size

    def feed(self, token: Token, sink: Sink) -> None:
        """Apply one of the three parameters."""
        self.seen = True
        key = token.key
        text = token.value
        if no_value(token, sink, "cmdline-hugepages-invalid") or text is None:
            return
        if key in ("hugepagesz", "default_hugepagesz"):
            size, i = read_size(token, 0)
            if i == 0 or size == 0:
                sink.add(
                    "warning", "cmdline-hugepages-invalid", f"{token.shown}: no page size; ignored", token
                )
                return
            if i < len(text):
                sink.add(
                    "info",
                    "cmdline-hugepages-trailing",
                    f"{token.shown}: trailing {show(text, i)} {where(token, i)} ignored",
                    token,
                )
            if key == "hugepagesz":
                if size in self.size_set:
                    sink.add(
                        "warning",
                        "cmdline-hugepages-repeated",
                        f"{token.shown}: hugepagesz= given twice for the same size; the kernel ignores "
                        "the second (later hugepages= still apply to the previous size)",
                        token,
                    )
                    return
                self.sizes.append((size, token.source))
                self.size_set.add(size)
                self.current = size
            else:
                self.default_size = size
                self.default_source = token.source
            return
        self._count(token, text, sink)

    def _count(self, token: Token, text: str, sink: Sink) -> None:
        if self.current == self.last_target:
            sink.add(
                "warning",
                "cmdline-hugepages-repeated",
                f"{token.shown}: hugepages= given twice without a hugepagesz= in between; "
                "the kernel ignores the second",
                token,
            )
            return
        per_node: dict[int, int] = {}
        count, i = read_decimal(text, 0, token.source)
        if count is not None and text[i : i + 1] == ":":
            from memplan.cmdline.grammar import parse_count_list  # loaded on the first value parsed

            syntax = parse_count_list(text)
            for node in syntax.nodes:
                per_node[node.nid.value(token.source)] = node.size.value(token.source)
            i = syntax.end
            if syntax.nodes and text[i : i + 1] == ",":
                i += 1  # past the comma: the end of the list, or the element that is malformed
            if i < len(text):
                sink.add(
                    "warning",
                    "cmdline-hugepages-invalid",
                    f"{token.shown}: malformed node list at {show(text, i)} {where(token, i)}; ignored",
                    token,
                )
                return
            count = sum(per_node.values())
        elif count is None or i < len(text):
            sink.add(
                "warning",
                "cmdline-hugepages-invalid",
                f"{token.shown}: expected a page count or 'node:count,...'; ignored",
                token,
            )
            return
        self.last_target = self.current
        self.requests.append(
            HugepageRequest(self.current, count, token.source, tuple(sorted(per_node.items())))
        )

    def build(self) -> HugepagesParam | None:
        """The accumulated value, ``None`` when no huge-page parameter appeared."""
        if not self.seen:
            return None
        return HugepagesParam(tuple(self.sizes), tuple(self.requests), self.default_size, self.default_source)


def _is_digit(ch: str) -> bool:
    return ch != "" and ch in "0123456789"


@attrs.frozen
class SwiotlbParam:
    """``swiotlb=<nslabs>[,<nareas>][,force|noforce]`` (kernel/dma/swiotlb.c; last one wins).

    ``nslabs`` ``None`` = default size (64 MiB); the kernel rounds it up to a multiple of 128.
    """

    nslabs: int | None
    source: Source
    nareas: int | None = None
    force: Literal["force", "noforce"] | None = None

    @property
    def size(self) -> int | None:
        """Bytes of the bounce buffer (``None`` = kernel default)."""
        if self.nslabs is None:
            return None
        return align_up(self.nslabs, IO_TLB_SEGSIZE) * IO_TLB_SLAB


def parse_swiotlb(token: Token, sink: Sink) -> SwiotlbParam | None:
    """Parse ``swiotlb=``."""
    text = token.value
    if no_value(token, sink, "cmdline-swiotlb-invalid") or text is None:
        return None
    nslabs: int | None = None
    nareas: int | None = None
    i = 0
    if _is_digit(text[:1]):
        nslabs, i = read_int(token, 0)
    if text[i : i + 1] == ",":
        i += 1
    if _is_digit(text[i : i + 1]):
        nareas, i = read_int(token, i)
    if text[i : i + 1] == ",":
        i += 1
    rest = text[i:]
    force: Literal["force", "noforce"] | None = None
    if rest == "force":
        force = "force"
    elif rest == "noforce":
        force = "noforce"
    elif rest:
        sink.add(
            "warning",
            "cmdline-swiotlb-trailing",
            f"{token.shown}: {rest!r} {where(token, i)} is neither 'force' nor 'noforce'; "
            "the kernel ignores it",
            token,
        )
    return SwiotlbParam(nslabs, token.source, nareas, force)


@attrs.frozen
class CoherentPoolParam(SizeParam):
    """``coherent_pool=<size>``: size of the atomic DMA pool(s) (kernel/dma/pool.c, arm's own pool)."""


def parse_coherent_pool(token: Token, sink: Sink) -> CoherentPoolParam | None:
    """Parse ``coherent_pool=``."""
    return parse_size_param(token, sink, "cmdline-coherent-pool", CoherentPoolParam)
