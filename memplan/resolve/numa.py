"""NUMA nodes and the per-node CMA areas of ``cma_pernuma=`` and ``numa_cma=`` (kernel-semantics §1.7).

Kernel files: drivers/of/of_numa.c (``of_numa_init``: nodes from ``numa-node-id`` of the memory
nodes), mm/numa.c / drivers/base/arch_numa.c (``setup_node_data``: one ``pg_data_t`` per node,
allocated inside the node), kernel/dma/contiguous.c (``dma_pernuma_cma_reserve`` v5.10 - v6.5,
``dma_numa_cma_reserve`` v6.6+), mm/sparse.c (``sparse_init``: one ``struct page`` buffer per node).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from memplan.dts.facts import DtFacts
from memplan.kernel import rules

#: ``sizeof(pg_data_t)`` rounded up to pages on arm64 (the boot logs print an 11 - 14 KiB
#: ``NODE_DATA`` range). Only its existence matters: it moves a node's top below the CMA granule.
from memplan.version import KernelVersion

NodeMap = dict[int, tuple[tuple[int, int], ...]]


@attrs.frozen
class NodeCmaRequest:
    """One per-node area to declare: ``name`` (``pernuma<nid>`` / ``numa<nid>``), node and size."""

    name: str
    nid: int
    size: int
    kind: Literal["pernuma", "numa"]


def numa_nodes(numa: bool, dt: DtFacts | None, banks: Sequence[tuple[int, int]]) -> NodeMap:
    """The online nodes and their RAM ranges ``(start, end)``.

    ``of_numa_init()`` (drivers/of/of_numa.c) takes the node of each memory range from the
    ``numa-node-id`` of its ``/memory`` node; when NUMA is off, when no memory node carries the
    property, or when some RAM is left without a node (``numa_register_nodes`` then fails), the
    kernel falls back to ``dummy_numa_init()``: one node 0 with all memory.
    """
    everything: NodeMap = {0: tuple((b, b + s) for b, s in banks)}
    if not numa or dt is None:
        return everything
    owned: dict[int, list[tuple[int, int]]] = {}
    for mnode in dt.memory_nodes:
        if mnode.numa_node is None or mnode.ranges is None:
            continue
        owned.setdefault(mnode.numa_node, []).extend((b, b + s) for b, s in mnode.ranges if s)
    if not owned:
        return everything
    out: NodeMap = {}
    covered = 0
    for nid, ranges in sorted(owned.items()):
        clipped = [(max(a, b), min(a + s, e)) for b, e in ranges for a, s in banks]
        keep = tuple(sorted((s, e) for s, e in clipped if e > s))
        if keep:
            out[nid] = keep
            covered += sum(e - s for s, e in keep)
    if covered < sum(s for _, s in banks):
        return everything
    return out


def node_cma_requests(
    version: KernelVersion, nodes: NodeMap, pernuma: int | None, numa_cma: Sequence[tuple[int, int]]
) -> tuple[list[NodeCmaRequest], list[int]]:
    """The areas ``dma_numa_cma_reserve()`` (v6.6+) / ``dma_pernuma_cma_reserve()`` (v5.10 - v6.5)
    declares, in the kernel's order: for each node id ascending, ``pernuma<nid>`` then
    ``numa<nid>``. Also returns the node ids of ``numa_cma=`` that are not online (the kernel
    prints "invalid node %d specified" and skips them).
    """
    sizes = dict(numa_cma) if rules.numa_cma_generic(version) else {}
    out: list[NodeCmaRequest] = []
    offline = sorted(nid for nid in sizes if nid not in nodes and sizes[nid])
    for nid in sorted(nodes):
        if pernuma:
            out.append(NodeCmaRequest(f"pernuma{nid}", nid, pernuma, "pernuma"))
        if sizes.get(nid):
            out.append(NodeCmaRequest(f"numa{nid}", nid, sizes[nid], "numa"))
    return out, offline


NodeCmaStage = rules.NodeCmaStage


def node_cma_stage(version: KernelVersion) -> NodeCmaStage:
    """When the per-node areas are reserved relative to the rest of the boot.

    * v5.10 - v6.5: arm64 ``bootmem_init()`` calls ``dma_pernuma_cma_reserve()`` right after the
      hugetlb CMA areas, before ``sparse_init()`` and the global area (``bootmem``).
    * v6.6 - v6.19: ``dma_contiguous_reserve()`` calls ``dma_numa_cma_reserve()`` first, before
      the global area (kernel-semantics §1.7, read in the 6.6 - 6.19 sources).
    * v7.0+: the recorded Debian 7.2 arm64 boot (``numa_cma=1:32M``) logs the global area's
      ``cma: Reserved`` line *before* the node area's and places the node area below it:
      the call moved to the end of ``dma_contiguous_reserve()``. This contradicts the spec's
      "6.6+: first" statement; memplan follows the boot. The first release with the new order
      is not verified (7.0 is assumed).
    """
    return rules.node_cma_stage(version)


def node_cma_available(version: KernelVersion, arch: str, dma_pernuma_cma: bool, dma_numa_cma: bool) -> bool:
    """Whether the kernel has the per-node CMA code: ``CONFIG_DMA_PERNUMA_CMA`` (v5.10 - v6.5,
    called from arm64 only) or ``CONFIG_DMA_NUMA_CMA`` (v6.6+, from ``dma_contiguous_reserve()``
    on every architecture)."""
    if not rules.pernuma_cma_exists(version):
        return False
    if not rules.numa_cma_generic(version):
        return dma_pernuma_cma and arch == "arm64"
    return dma_numa_cma
