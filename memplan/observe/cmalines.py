"""Which CMA area each ``cma: Reserved`` / ``cma: Failed to reserve`` line belongs to.

mm/cma.c prints the same line for every area it reserves: the global area (``reserved``),
per-NUMA areas (``cma_pernuma=`` → ``pernuma<N>``, ``numa_cma=`` → ``numa<N>``) and
``hugetlb_cma=`` areas (``hugetlb<N>``). The log does not name them, so:

* a line directly followed by ``hugetlb_cma: reserved ... on node N`` (or ``reservation
  failed``), or lying between ``hugetlb_cma: reserve`` and that line, is ``hugetlb<N>``;
* without per-NUMA parameters on the command line, the first remaining line is the global
  area (later ones are reported as ``cma-area-<i>``);
* with ``cma_pernuma=``/``numa_cma=``, a line whose size matches none of the per-NUMA sizes is
  the global area; if that is ambiguous, the order decides: before 6.6 arm64 reserves the
  per-NUMA areas first (the global line is the last), from 6.6 the global area comes first.
  Per-NUMA lines take the node from ``on node N`` (6.6–6.14) or, for ``numa_cma=``, from the
  listed nodes in order.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from memplan.cmdline import parse_cmdline
from memplan.errors import CmdlineError
from memplan.observe.model import LogEvent
from memplan.version import KernelVersion

_CMA_LINES = ("cma-reserved", "cma-reserved-ranges", "cma-failed")


@attrs.frozen
class CmaLine:
    """The area a ``cma:`` line was attributed to: ``name`` and model ``kind``."""

    name: str
    kind: str
    is_global: bool = False


def numa_params(cmdline: str | None) -> tuple[int | None, tuple[tuple[int, int], ...]]:
    """``cma_pernuma=`` size and ``numa_cma=`` ``(node, size)`` pairs from a command line, read
    by :func:`memplan.cmdline.parse_cmdline` (a value it cannot interpret counts as absent)."""
    if not cmdline:
        return None, ()
    try:
        parsed = parse_cmdline(cmdline, origin="observed command line")
    except CmdlineError:
        return None, ()
    pernuma = parsed.cma_pernuma.size if parsed.cma_pernuma is not None else None
    numa = parsed.numa_cma.sizes if parsed.numa_cma is not None else ()
    return pernuma, tuple(numa)


def _hugetlb_node(events: Sequence[LogEvent], index: int) -> int | None:
    """Node of the ``hugetlb_cma`` line this ``cma:`` line belongs to, or ``None``."""
    for e in events[index + 1 :]:
        if e.kind == "hugetlb-cma-reserved":
            return e.node if e.node is not None else 0
        if e.kind == "hugetlb-cma-failed":
            return e.node if e.node is not None else 0
        if e.kind in (*_CMA_LINES, "pool-created", "rmem-initialized", "hugetlb-cma-reserve"):
            break
    return None


def _matches(e: LogEvent, size: int) -> bool:
    return e.size is not None and e.size <= size < e.size + e.size_granule


def attribute_cma_lines(
    events: Sequence[LogEvent], cmdline: str | None, version: KernelVersion | None
) -> dict[int, CmaLine]:
    """Map the index of every ``cma:`` reservation line in ``events`` to its area."""
    out: dict[int, CmaLine] = {}
    rest: list[int] = []
    for i, e in enumerate(events):
        if e.kind not in _CMA_LINES:
            continue
        nid = _hugetlb_node(events, i)
        if nid is not None:
            out[i] = CmaLine(f"hugetlb{nid}", "hugetlb-cma")
        else:
            rest.append(i)
    if not rest:
        return out
    pernuma, numa = numa_params(cmdline)
    sizes = [s for s in (pernuma, *(s for _, s in numa)) if s is not None]
    if not sizes:
        out[rest[0]] = CmaLine("reserved", "cma", True)
        for k, i in enumerate(rest[1:]):
            out[i] = CmaLine(f"cma-area-{k}", "numa-cma")
        return out
    others = [i for i in rest if not any(_matches(events[i], s) for s in sizes)]
    early_numa = version is not None and not version.at_least(6, 6)
    pool = others if others else (rest if len(rest) > 1 else [])
    global_index: int | None = None
    if pool:
        global_index = pool[-1] if early_numa else pool[0]
    numa_nodes = [nid for nid, _ in numa]
    seq = 0
    for i in rest:
        if i == global_index:
            out[i] = CmaLine("reserved", "cma", True)
            continue
        e = events[i]
        if (
            pernuma is not None
            and _matches(e, pernuma)
            and not (numa and any(_matches(e, s) for _, s in numa))
        ):
            node = e.node if e.node is not None and e.node >= 0 else seq
            out[i] = CmaLine(f"pernuma{node}", "numa-cma")
        elif numa_nodes:
            node = e.node if e.node is not None and e.node >= 0 else numa_nodes.pop(0)
            out[i] = CmaLine(f"numa{node}", "numa-cma")
        else:
            out[i] = CmaLine(f"pernuma{seq}", "numa-cma")
        seq += 1
    return out
