"""Which CMA area each ``cma: Reserved`` / ``cma: Failed to reserve`` line belongs to.

mm/cma.c prints the same line for every area it reserves: the global area (``reserved``),
per-NUMA areas (``cma_pernuma=`` → ``pernuma<N>``, ``numa_cma=`` → ``numa<N>``) and
``hugetlb_cma=`` areas (``hugetlb<N>``). The log does not name them, so:

* a line directly followed by ``hugetlb_cma: reserved ... on node N`` (or ``reservation
  failed``), or lying between ``hugetlb_cma: reserve`` and that line, is ``hugetlb<N>``;
* 6.6 – 6.14 print the node: ``on node -1`` is the global area, ``on node N`` a per-node one;
* without per-NUMA parameters the kernel knows (``cma_pernuma=`` 5.10+, ``numa_cma=`` 6.6+:
  :mod:`memplan.kernel.rules`), the first remaining line is the global area (later ones are
  reported as ``cma-area-<i>``);
* otherwise a line whose size matches none of the per-NUMA sizes is the global area; if that is
  ambiguous, the boot order decides (:func:`memplan.kernel.rules.node_cma_stage`): before 7.0
  the per-node areas are reserved first (the global line is the last), from 7.0 the global
  area comes first. Per-NUMA lines take the node from ``on node N`` or, for ``numa_cma=``, from
  the listed nodes in order.

One pass over the events plus one backwards pass: linear in the length of the log.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from memplan.cmdline import parse_cmdline
from memplan.errors import CmdlineError
from memplan.kernel import rules
from memplan.observe.model import LogEvent
from memplan.version import KernelVersion

_CMA_LINES = ("cma-reserved", "cma-failed")


@attrs.frozen
class CmaLine:
    """The area a ``cma:`` line was attributed to: ``name`` and model ``kind``."""

    name: str
    kind: str
    is_global: bool = False
    #: True when the log cannot tell this line from a per-node area of the same size (the line
    #: was taken as the global area by the boot order alone).
    ambiguous: bool = False


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


_HUGETLB_END = ("hugetlb-cma-reserved", "hugetlb-cma-failed")
_HUGETLB_STOP = (
    *_CMA_LINES, "cma-created", "dma-created", "restricted-created", "rmem-initialized", "hugetlb-cma-reserve"
)


def cma_param(cmdline: str | None) -> int | None:
    """The ``cma=`` size of a command line (``None`` without one, or when it cannot be read)."""
    if not cmdline:
        return None
    try:
        parsed = parse_cmdline(cmdline, origin="observed command line")
    except CmdlineError:
        return None
    return parsed.cma.size if parsed.cma is not None else None


def _hugetlb_nodes(events: Sequence[LogEvent]) -> list[int | None]:
    """For every event index, the node of the ``hugetlb_cma`` line a ``cma:`` line there belongs
    to (the next ``hugetlb_cma: reserved``/``reservation failed`` line, unless another CMA or
    reserved-memory line comes first), or ``None``. One backwards pass."""
    out: list[int | None] = [None] * len(events)
    pending: int | None = None
    for i in range(len(events) - 1, -1, -1):
        out[i] = pending
        e = events[i]
        if e.kind in _HUGETLB_END:
            pending = e.node if e.node is not None else 0
        elif e.kind in _HUGETLB_STOP:
            pending = None
    return out


def _node(e: LogEvent) -> int:
    """The node a line names (-1: none or ``on node -1``)."""
    return e.node if e.node is not None else -1


def _matches(e: LogEvent, size: int) -> bool:
    return e.size is not None and e.size <= size < e.size + e.size_granule


def attribute_cma_lines(
    events: Sequence[LogEvent], cmdline: str | None, version: KernelVersion | None
) -> dict[int, CmaLine]:
    """Map the index of every ``cma:`` reservation line in ``events`` to its area."""
    out: dict[int, CmaLine] = {}
    rest: list[int] = []
    hugetlb = _hugetlb_nodes(events)
    for i, e in enumerate(events):
        if e.kind not in _CMA_LINES:
            continue
        nid = hugetlb[i]
        if nid is not None:
            out[i] = CmaLine(f"hugetlb{nid}", "hugetlb-cma")
        else:
            rest.append(i)
    if not rest:
        return out
    pernuma, numa = numa_params(cmdline)
    if version is not None:
        pernuma = pernuma if rules.pernuma_cma_exists(version) else None
        numa = numa if rules.numa_cma_generic(version) else ()
    sizes = [s for s in (pernuma, *(s for _, s in numa)) if s is not None]
    if not sizes:
        out[rest[0]] = CmaLine("reserved", "cma", True)
        for k, i in enumerate(rest[1:]):
            out[i] = CmaLine(f"cma-area-{k}", "numa-cma")
        return out
    global_first = version is not None and rules.node_cma_stage(version) == "after-global"
    no_node = [i for i in rest if events[i].node == -1]
    global_index: int | None = no_node[0] if no_node else None
    ambiguous = False
    if global_index is None:
        candidates = [i for i in rest if _node(events[i]) < 0]
        others = [i for i in candidates if not any(_matches(events[i], s) for s in sizes)]
        explicit = cma_param(cmdline)
        single = len(rest) == 1 and explicit and _matches(events[rest[0]], explicit)
        pool = others if others else (candidates if len(rest) > 1 or single else [])
        if pool:
            global_index = pool[0] if global_first else pool[-1]
        ambiguous = not others
    numa_nodes = [nid for nid, _ in numa]
    numa_sizes = [s for _, s in numa]
    seq = 0
    for i in rest:
        if i == global_index:
            out[i] = CmaLine("reserved", "cma", True, ambiguous)
            continue
        e = events[i]
        unsure = ambiguous and _node(e) < 0
        if pernuma is not None and _matches(e, pernuma) and not any(_matches(e, s) for s in numa_sizes):
            node = e.node if e.node is not None and e.node >= 0 else seq
            out[i] = CmaLine(f"pernuma{node}", "numa-cma", ambiguous=unsure)
        elif numa_nodes:
            node = e.node if e.node is not None and e.node >= 0 else numa_nodes.pop(0)
            out[i] = CmaLine(f"numa{node}", "numa-cma", ambiguous=unsure)
        else:
            out[i] = CmaLine(f"pernuma{seq}", "numa-cma", ambiguous=unsure)
        seq += 1
    return out
