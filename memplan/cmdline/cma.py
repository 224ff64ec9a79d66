"""``cma=``, ``cma_pernuma=``, ``numa_cma=`` and ``hugetlb_cma=`` (kernel-semantics.md §1.2, §1.7, §8.3).

``cma=`` is an early parameter of kernel/dma/contiguous.c and only exists with
``CONFIG_DMA_CMA=y``. The parser cannot know the configuration, so it always records the value;
the resolver decides whether the kernel would see it.
"""

from __future__ import annotations

import attrs

from memplan.cmdline.common import (
    Sink,
    SizeParam,
    no_value,
    note_trailing,
    parse_size_param,
    read_decimal,
    read_size,
    show,
    where,
)
from memplan.cmdline.tokenize import Token
from memplan.errors import CmdlineError
from memplan.kernel import rules
from memplan.source import Source
from memplan.units import U64_MAX, format_size
from memplan.version import KernelVersion

#: Node ids at or above this cannot exist on any configuration (NODES_SHIFT is at most 10).
MAX_POSSIBLE_NODES = 1 << 10


@attrs.frozen
class CmaParam:
    """The accumulated ``cma=`` state, as kernel/dma/contiguous.c keeps it after all occurrences.

    ``size`` is overwritten by every occurrence; ``base`` and ``limit`` only by those that
    carry ``@base`` (``limit`` = ``base + size`` unless ``-limit`` follows), so they may come from
    an earlier occurrence. 0 means "not given" for both. ``source`` is the last ``cma=`` token,
    ``sources`` all of them (:func:`parse_cma` sets the one it read; the command-line parser
    collects them all once, so repeating ``cma=`` costs linear time).
    """

    size: int
    base: int = 0
    limit: int = 0
    source: Source | None = None
    sources: tuple[Source, ...] = ()

    @property
    def fixed(self) -> bool:
        """The kernel's "fixed placement" test: ``base + size == limit``.

        Note that the allocator later treats ``base == 0`` as "anywhere" regardless.
        """
        return self.base + self.size == self.limit

    @property
    def disables(self) -> bool:
        """True for ``cma=0`` (or an empty value): no global area."""
        return self.size == 0


def parse_cma(
    token: Token, previous: CmaParam | None, sink: Sink, version: KernelVersion | None = None
) -> CmaParam | None:
    """Apply one ``cma`` token to the accumulated state; returns the new state.

    ``cma`` without ``=`` does nothing from v5.4 (the kernel logs "Config string not
    provided"); older kernels have no such check and parse a missing string.
    """
    text = token.value
    if text is None:
        if version is not None and not rules.cma_needs_value(version):
            sink.add(
                "error",
                "cmdline-cma-no-value",
                f"{token.shown} has no '=value', and kernel {version} does not check for that before "
                "parsing it (the check came in v5.4): the outcome is undefined",
                token,
            )
        else:
            sink.add(
                "warning",
                "cmdline-cma-no-value",
                f"{token.shown} has no '=value'; the kernel reports 'Config string not provided' and "
                "ignores it",
                token,
            )
        return previous
    # the value grammars are imported on the first value parsed (start-up)
    from memplan.cmdline.grammar import parse_cma_value

    syntax = parse_cma_value(text)
    size = syntax.size.value(token.source)
    base = previous.base if previous else 0
    limit = previous.limit if previous else 0
    if not syntax.size.has_digits:
        what = "an empty value" if text == "" else f"no number in {text!r}"
        sink.add(
            "warning" if text else "info",
            "cmdline-cma-no-size",
            f"{token.shown}: {what} reads as size 0: the command line counts as present "
            "and disables the global CMA area",
            token,
        )
    if syntax.base is not None:
        base = syntax.base.value(token.source)
        if syntax.limit is not None:
            limit = syntax.limit.value(token.source)
        else:
            limit = base + size
            if limit > U64_MAX:
                raise CmdlineError(
                    f"{token.shown}: base + size does not fit in 64 bits (the kernel would wrap it)",
                    token.source,
                )
    elif previous is not None and previous.base:
        sink.add(
            "info",
            "cmdline-cma-repeated",
            f"{token.shown} sets only the size ({format_size(size)}); base 0x{previous.base:x} and "
            f"limit 0x{previous.limit:x} stay from an earlier cma=",
            token,
        )
    note_trailing(token, syntax.end, sink, "cmdline-cma-trailing")
    return CmaParam(size=size, base=base, limit=limit, source=token.source, sources=(token.source,))


@attrs.frozen
class CmaPernumaParam(SizeParam):
    """``cma_pernuma=<size>``: one area of ``size`` on every online node (v5.10+; last one wins)."""


def parse_cma_pernuma(token: Token, sink: Sink) -> CmaPernumaParam | None:
    """Parse ``cma_pernuma=`` / ``cma-pernuma=``."""
    return parse_size_param(token, sink, "cmdline-cma-pernuma", CmaPernumaParam)


@attrs.frozen
class NodeSizes:
    """Per-node sizes from ``numa_cma=`` or ``hugetlb_cma=`` (node id → size, last one wins)."""

    sizes: tuple[tuple[int, int], ...]
    sources: tuple[Source, ...]

    def as_dict(self) -> dict[int, int]:
        """The sizes by node id."""
        return dict(self.sizes)

    @property
    def source(self) -> Source:
        """The last token."""
        return self.sources[-1]


def _node_list(token: Token, sink: Sink, code: str) -> tuple[dict[int, int], bool]:
    """Read ``nid:size[,nid:size...]`` like the kernel: stop quietly at the first bad element.

    Returns the sizes read and whether the first element was *not* ``nid:`` shaped (the caller
    decides what a plain size means).
    """
    text = token.value or ""
    out: dict[int, int] = {}
    from memplan.cmdline.grammar import parse_node_list

    syntax = parse_node_list(text)
    if not syntax.nodes:
        return out, True
    for node in syntax.nodes:
        nid = node.nid.value(token.source)
        if nid >= MAX_POSSIBLE_NODES:
            sink.add(
                "warning",
                code,
                f"{token.shown}: node {nid} is beyond any MAX_NUMNODES; the kernel stops reading here",
                token,
            )
            return out, False
        out[nid] = node.size.value(token.source)
    k = syntax.end
    if text[k : k + 1] == "," and k + 1 < len(text):
        sink.add(
            "warning",
            code,
            f"{token.shown}: expected 'node:size' {where(token, k + 1)}, found {show(text, k + 1)}; "
            "the kernel stops reading here",
            token,
        )
    elif k < len(text) and text[k] != ",":
        sink.add(
            "warning",
            code,
            f"{token.shown}: the kernel stops reading at {show(text, k)} {where(token, k)}",
            token,
        )
    return out, False


@attrs.define
class NodeSizesBuilder:
    """Accumulates ``numa_cma=`` occurrences (one dictionary for all of them: linear time)."""

    sizes: dict[int, int] = attrs.Factory(dict)
    sources: list[Source] = attrs.Factory(list)

    def feed(self, token: Token, sink: Sink) -> None:
        """Apply one ``numa_cma=<nid>:<size>[,...]`` (v6.6+); later sizes win per node."""
        if no_value(token, sink, "cmdline-numa-cma-invalid"):
            return
        sizes, plain = _node_list(token, sink, "cmdline-numa-cma-invalid")
        if plain:
            sink.add(
                "warning",
                "cmdline-numa-cma-invalid",
                f"{token.shown}: expected 'node:size[,node:size...]'; the kernel reserves nothing from it",
                token,
            )
            return
        self.sizes.update(sizes)
        self.sources.append(token.source)

    def build(self) -> NodeSizes | None:
        """The accumulated sizes, ``None`` when no occurrence applied."""
        if not self.sources:
            return None
        return NodeSizes(tuple(sorted(self.sizes.items())), tuple(self.sources))


@attrs.frozen
class HugetlbCmaParam:
    """``hugetlb_cma=<size>`` or ``<nid>:<size>,...``: CMA for gigantic pages (``hugetlb<nid>`` areas).

    ``size`` is the kernel's total (a plain size replaces it, per-node sizes add to it);
    ``per_node`` is empty for the plain form (the kernel then spreads ``size`` over the nodes).
    """

    size: int
    per_node: tuple[tuple[int, int], ...]
    source: Source
    sources: tuple[Source, ...]


@attrs.define
class HugetlbCmaBuilder:
    """Accumulates ``hugetlb_cma=`` occurrences (mm/hugetlb.c, later mm/hugetlb_cma.c) in linear time."""

    total: int = 0
    per_node: dict[int, int] = attrs.Factory(dict)
    sources: list[Source] = attrs.Factory(list)

    def feed(self, token: Token, sink: Sink) -> None:
        """Apply one occurrence: a plain size replaces the total, per-node sizes add to it."""
        text = token.value
        if no_value(token, sink, "cmdline-hugetlb-cma-invalid") or text is None:
            return
        sizes, plain = _node_list(token, sink, "cmdline-hugetlb-cma-invalid")
        if plain:
            nid, _ = read_decimal(text, 0, token.source)
            if nid is None:
                sink.add(
                    "warning",
                    "cmdline-hugetlb-cma-invalid",
                    f"{token.shown}: no size; the kernel ignores it",
                    token,
                )
                return
            self.total, end = read_size(token, 0)
            note_trailing(token, end, sink, "cmdline-hugetlb-cma-trailing")
        else:
            self.total = min(self.total + sum(sizes.values()), U64_MAX)
            self.per_node.update(sizes)
        self.sources.append(token.source)

    def build(self) -> HugetlbCmaParam | None:
        """The accumulated value, ``None`` when no occurrence applied."""
        if not self.sources:
            return None
        per_node = tuple(sorted(self.per_node.items()))
        return HugetlbCmaParam(min(self.total, U64_MAX), per_node, self.sources[-1], tuple(self.sources))
