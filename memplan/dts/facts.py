"""The semantic layer over the tree: the typed facts the resolver needs (memory banks,
reserved-memory nodes, devices), as Zephyr's edtlib sits on dtlib.

Facts record what the tree says, including malformed values, without applying any version
rule: the rules live in :mod:`memplan.resolve.reserved` and friends. Values are read with the
tree's own readers (:class:`~memplan.dts.tree.Property`); a value of the wrong shape becomes
``None`` plus a ``*_bad`` flag instead of an error. The kernel reads the root's
``#address-cells``/``#size-cells`` with defaults 1/1 (drivers/of/fdt.c).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import attrs

from memplan.dts.tree import Node, Property, Tree
from memplan.errors import DtsError
from memplan.source import Source

ROOT_ADDR_CELLS_DEFAULT = 1
ROOT_SIZE_CELLS_DEFAULT = 1


T = TypeVar("T")


def _lenient(read: Callable[[], T]) -> T | None:
    """``read()``, or ``None`` when the value has the wrong shape."""
    try:
        return read()
    except DtsError:
        return None


def _u32(prop: Property | None, default: int) -> int:
    """``prop`` as one 32-bit cell, else ``default`` (absent, or not one cell)."""
    if prop is None:
        return default
    value = prop.value
    return int.from_bytes(value, "big") if len(value) == 4 else default


def _read_pairs(prop: Property, acells: int, scells: int) -> list[tuple[int, int]] | None:
    """(address, size) pairs in the given cells, or ``None`` when the length is wrong."""
    return _lenient(lambda: prop.as_pairs(acells, scells))


def _read_number(prop: Property, cells: int) -> int | None:
    """One number of exactly ``cells`` cells, or ``None`` when the length differs."""
    return _lenient(lambda: prop.as_number(cells))


def _strings(prop: Property | None) -> tuple[str, ...]:
    if prop is None:
        return ()
    try:
        return tuple(prop.as_strings())
    except DtsError:
        return ()


@attrs.frozen
class MemoryNode:
    """A ``device_type = "memory"`` node: its ranges (``linux,usable-memory`` replaces ``reg``)."""

    path: str
    depth: int
    enabled: bool
    ranges: tuple[tuple[int, int], ...] | None
    source: Source
    usable_memory: bool = False
    hotpluggable: bool = False
    #: ``numa-node-id`` (``None`` when absent or not one cell).
    numa_node: int | None = None


@attrs.frozen
class RmemNode:
    """A child of ``/reserved-memory`` as written (values ``None`` when absent; ``*_bad`` when
    present with the wrong length)."""

    name: str
    path: str
    index: int
    source: Source
    enabled: bool
    compatible: tuple[str, ...] = ()
    no_map: bool = False
    reusable: bool = False
    default_cma: bool = False
    dma_default: bool = False
    reg: tuple[tuple[int, int], ...] | None = None
    reg_bad: bool = False
    size: int | None = None
    has_size: bool = False
    size_bad: bool = False
    alignment: int | None = None
    alignment_bad: bool = False
    alloc_ranges: tuple[tuple[int, int], ...] | None = None
    alloc_ranges_bad: bool = False
    phandle: int | None = None
    reg_source: Source | None = None
    size_source: Source | None = None

    @property
    def is_static(self) -> bool:
        """Has a ``reg`` property (even a malformed one)."""
        return self.reg is not None or self.reg_bad


@attrs.frozen
class DeviceRef:
    """A node with ``memory-region``: the phandles in order and ``memory-region-names``."""

    path: str
    phandles: tuple[int, ...]
    names: tuple[str, ...]
    source: Source
    enabled: bool


@attrs.frozen
class DtFacts:
    """Everything the resolver reads from a Device Tree."""

    addr_cells: int
    size_cells: int
    memory_nodes: tuple[MemoryNode, ...]
    rmem_present: bool
    rmem_format_ok: bool
    rmem_format_problem: str
    rmem_source: Source | None
    rmem_nodes: tuple[RmemNode, ...]
    memreserves: tuple[tuple[int, int, Source], ...]
    devices: tuple[DeviceRef, ...]
    phandle_paths: dict[int, str]
    bootargs: str | None
    bootargs_source: Source | None
    compatible: tuple[str, ...]
    model: str | None
    has_chosen: bool
    #: ``of_dma_get_max_cpu_address(NULL)``: the lowest "highest reachable CPU address" of any
    #: ``dma-ranges`` in the tree (``None`` = no limit). Parent addresses are not translated.
    dma_max_cpu_address: int | None = None
    #: Some node (enabled or not) has a ``secure-status`` property: the tree describes a secure
    #: world (:mod:`memplan.resolve.firmware`).
    secure_status: bool = False


def _rmem_node(child: Node, index: int, ac: int, sc: int) -> RmemNode:
    props = child.properties
    reg_p = props.get("reg")
    reg = _read_pairs(reg_p, ac, sc) if reg_p is not None else None
    size_p = props.get("size")
    size = _read_number(size_p, sc) if size_p is not None else None
    align_p = props.get("alignment")
    align = _read_number(align_p, ac) if align_p is not None else None
    ar_p = props.get("alloc-ranges")
    ar = _read_pairs(ar_p, ac, sc) if ar_p is not None else None
    ph = props.get("phandle") or props.get("linux,phandle")
    return RmemNode(
        name=child.name,
        path=child.path,
        index=index,
        source=child.source,
        enabled=child.is_enabled,
        compatible=_strings(props.get("compatible")),
        no_map="no-map" in props,
        reusable="reusable" in props,
        default_cma="linux,cma-default" in props,
        dma_default="linux,dma-default" in props,
        reg=tuple(reg) if reg is not None else None,
        reg_bad=reg_p is not None and reg is None,
        size=size,
        has_size=size_p is not None,
        size_bad=size_p is not None and size is None,
        alignment=align,
        alignment_bad=align_p is not None and align is None,
        alloc_ranges=tuple(ar) if ar is not None else None,
        alloc_ranges_bad=ar_p is not None and ar is None,
        phandle=child.phandle if child.phandle is not None else (_u32(ph, -1) if ph is not None else None),
        reg_source=reg_p.source if reg_p is not None else None,
        size_source=size_p.source if size_p is not None else None,
    )


def _memory_node(node: Node, ac: int, sc: int) -> MemoryNode:
    props = node.properties
    usable = props.get("linux,usable-memory")
    prop = usable if usable is not None else props.get("reg")
    ranges = _read_pairs(prop, ac, sc) if prop is not None else None
    numa = props.get("numa-node-id")
    return MemoryNode(
        node.path,
        node.path.count("/"),
        node.is_enabled,
        tuple(ranges) if ranges is not None else None,
        node.source,
        usable is not None,
        "hotpluggable" in props,
        _u32(numa, -1) if numa is not None else None,
    )


def _dma_end(node: Node, prop: Property, parent_ac: int) -> int | None:
    """The highest CPU address ``prop`` (the ``dma-ranges`` of ``node``, whose parent declares
    ``parent_ac`` address cells) reaches, or ``None`` when its length does not fit the cells."""
    child_ac = _u32(node.get("#address-cells"), 2)
    sc = _u32(node.get("#size-cells"), 1)
    width = 4 * (child_ac + parent_ac + sc)
    raw = prop.value
    if not width or len(raw) % width:
        return None
    end = 0
    for off in range(0, len(raw), width):
        cpu = int.from_bytes(raw[off + 4 * child_ac : off + 4 * (child_ac + parent_ac)], "big")
        size = int.from_bytes(raw[off + 4 * (child_ac + parent_ac) : off + width], "big")
        end = max(end, cpu + size - 1)
    return end


def extract(tree: Tree) -> DtFacts:
    """Read the facts from ``tree`` (never raises on malformed values: they become ``*_bad``).

    One walk (an explicit stack: any depth, pre-order) reads phandles, ``/memory`` nodes,
    ``memory-region`` users and, through enabled nodes only, ``dma-ranges``: drivers/of/address.c
    ``of_dma_get_max_cpu_address()`` (v5.11+), without address translation, is the lowest end
    of any of them."""
    root = tree.root
    ac = _u32(root.get("#address-cells"), ROOT_ADDR_CELLS_DEFAULT)
    sc = _u32(root.get("#size-cells"), ROOT_SIZE_CELLS_DEFAULT)
    mem_nodes: list[MemoryNode] = []
    devices: list[DeviceRef] = []
    phandle_paths: dict[int, str] = {}
    dma_max: int | None = None
    secure = False
    # (node, the #address-cells of its parent when the node is reached through enabled nodes
    # only, else None: its dma-ranges do not count); explicit loops below, not generators (a
    # generator per node costs more than the few children it yields)
    todo: list[tuple[Node, int | None]] = [(root, ac)]
    pop = todo.pop
    push = todo.append
    while todo:
        node, parent_ac = pop()
        props = node.properties
        phandle = node.phandle
        if phandle is not None and phandle not in phandle_paths:
            phandle_paths[phandle] = node.path
        dt = props.get("device_type")
        if dt is not None and _strings(dt) == ("memory",):
            mem_nodes.append(_memory_node(node, ac, sc))
        mr = props.get("memory-region")
        if mr is not None:
            raw = mr.value
            cells = tuple(int.from_bytes(raw[i : i + 4], "big") for i in range(0, len(raw) // 4 * 4, 4))
            devices.append(
                DeviceRef(
                    node.path, cells, _strings(props.get("memory-region-names")), mr.source, node.is_enabled
                )
            )
        if "secure-status" in props:
            secure = True
        children = node.children
        if parent_ac is not None:
            dma = props.get("dma-ranges")
            if dma is not None and dma.value:
                end = _dma_end(node, dma, parent_ac)
                if end is not None and (dma_max is None or end < dma_max):
                    dma_max = end
            if children:
                own_ac = _u32(props.get("#address-cells"), 2)
                for child in reversed(children.values()):
                    # is_enabled only where there is a status to read (most nodes have none)
                    push((child, own_ac if "status" not in child.properties or child.is_enabled else None))
                continue
        for child in reversed(children.values()):
            push((child, None))
    rm = root.children.get("reserved-memory")
    rmem_nodes: list[RmemNode] = []
    ok = True
    problem = ""
    if rm is not None:
        rac = rm.get("#address-cells")
        rsc = rm.get("#size-cells")
        if rac is None or rsc is None or _u32(rac, -1) != ac or _u32(rsc, -1) != sc:
            ok = False
            problem = (
                f"#address-cells/#size-cells of /reserved-memory "
                f"({_u32(rac, -1) if rac else 'missing'}/{_u32(rsc, -1) if rsc else 'missing'}) "
                f"differ from the root's ({ac}/{sc})"
            )
        elif rm.get("ranges") is None:
            ok = False
            problem = "/reserved-memory has no ranges property"
        for i, child in enumerate(rm.children.values()):
            rmem_nodes.append(_rmem_node(child, i, ac, sc))
    chosen = root.children.get("chosen") or root.children.get("chosen@0")
    bootargs: str | None = None
    bsrc: Source | None = None
    if chosen is not None:
        bp = chosen.get("bootargs")
        if bp is not None:
            raw = bp.value.split(b"\0", 1)[0]
            bootargs = raw.decode("utf-8", errors="replace")
            bsrc = bp.source
    model = _strings(root.get("model"))
    return DtFacts(
        addr_cells=ac,
        size_cells=sc,
        memory_nodes=tuple(mem_nodes),
        rmem_present=rm is not None,
        rmem_format_ok=ok,
        rmem_format_problem=problem,
        rmem_source=rm.source if rm is not None else None,
        rmem_nodes=tuple(rmem_nodes),
        memreserves=tuple((m.address, m.size, m.source) for m in tree.memreserves),
        devices=tuple(devices),
        phandle_paths=phandle_paths,
        bootargs=bootargs,
        bootargs_source=bsrc,
        compatible=_strings(root.get("compatible")),
        model=model[0] if model else None,
        has_chosen=chosen is not None,
        dma_max_cpu_address=dma_max,
        secure_status=secure,
    )
