"""The summary ``memplan dts`` prints for a ``.dts`` or ``.dtb``.

The summary lists what the memory planner will read: the files that went in, node and
property counts, the ``/memory`` banks, the ``/reserved-memory`` children, ``/memreserve/``
entries, ``/chosen/bootargs`` and the warnings (what dtc would only warn about).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

from memplan.diagnostics import diag
from memplan.dts.dtcversion import DEFAULT_DTC, DtcVersion
from memplan.dts.load import LoadedTree, is_dtb_file, load_device_tree
from memplan.dts.tree import Node, Tree
from memplan.errors import DtsError
from memplan.model import Diagnostic
from memplan.units import format_range, format_size

__all__ = ["LoadedTree", "Summary", "is_dtb_file", "load_tree", "summarize"]


def load_tree(path: str, include_dirs: Sequence[str] = (), cpp: str = "auto", *,
              symbols: bool = False, include_roots: Sequence[str] | None = None,
              dtc: DtcVersion = DEFAULT_DTC) -> LoadedTree:
    """Read ``path`` as a DTB (by magic) or as DTS source: :func:`memplan.dts.load_device_tree`."""
    return load_device_tree(path, include_dirs, cpp, symbols=symbols, include_roots=include_roots, dtc=dtc)


class Summary(NamedTuple):
    """The summary text and the diagnostics it lists (those of the tree, then its own)."""

    text: str
    diagnostics: tuple[Diagnostic, ...]


def _hex(n: int) -> str:
    return f"0x{n:x}"


def _range(base: int, size: int) -> str:
    if not size:
        return f"{base:#x} (size 0)"
    return f"{format_range(base, size)} ({format_size(size)})"


def _cells_of(node: Node) -> tuple[int, int]:
    """(#address-cells, #size-cells) that ``node``'s children use."""
    return node.address_cells, node.size_cells


def _pairs(node: Node, prop_name: str, parent: Node) -> list[tuple[int, int]]:
    prop = node.get(prop_name)
    if prop is None:
        return []
    ac, sc = _cells_of(parent)
    step = ac + sc
    cells = prop.as_cells()
    if step == 0 or len(cells) % step:
        raise DtsError(
            f"{node.path}: {prop_name} has {len(cells)} cells, not a multiple of "
            f"#address-cells + #size-cells = {step}",
            prop.source,
        )
    out = []
    for i in range(0, len(cells), step):
        base = _join(cells[i : i + ac])
        size = _join(cells[i + ac : i + step])
        out.append((base, size))
    return out


def _join(cells: Sequence[int]) -> int:
    value = 0
    for c in cells:
        value = (value << 32) | c
    return value


def _memory_lines(tree: Tree, problems: list[Diagnostic]) -> list[str]:
    lines: list[str] = []
    root = tree.root
    for child in root.children.values():
        dtype = child.get("device_type")
        is_memory = False
        if dtype is not None:
            try:
                is_memory = dtype.as_string() == "memory"
            except DtsError:
                is_memory = False
        if not is_memory:
            continue
        try:
            banks = _pairs(child, "reg", root)
        except DtsError as err:
            problems.append(_problem(err))
            continue
        if not banks:
            lines.append(f"  {child.path}: no reg (filled in by the bootloader)")
        for base, size in banks:
            lines.append(f"  {child.path}: {_range(base, size)}")
    return lines


def _reserved_lines(tree: Tree, problems: list[Diagnostic]) -> list[str]:
    rmem = tree.root.children.get("reserved-memory")
    if rmem is None:
        return []
    lines: list[str] = []
    for child in rmem.children.values():
        parts: list[str] = []
        try:
            regs = _pairs(child, "reg", rmem)
            parts.extend(f"reg {_range(b, s)}" for b, s in regs)
            size = child.get("size")
            if size is not None:
                parts.append(f"size {format_size(_join(size.as_cells()))}")
            align = child.get("alignment")
            if align is not None:
                parts.append(f"alignment {_hex(_join(align.as_cells()))}")
            ranges = _pairs(child, "alloc-ranges", rmem)
            parts.extend(f"alloc-range {_range(b, s)}" for b, s in ranges)
            compat = child.get("compatible")
            if compat is not None:
                parts.append("compatible " + ", ".join(f'"{c}"' for c in compat.as_strings()))
        except DtsError as err:
            problems.append(_problem(err))
        flags = [f for f in ("no-map", "reusable", "linux,cma-default", "linux,dma-default") if child.has(f)]
        if not child.is_enabled:
            flags.append("disabled")
        if flags:
            parts.append("[" + " ".join(flags) + "]")
        lines.append(f"  {child.name}: " + "; ".join(parts) if parts else f"  {child.name}")
    return lines


def _problem(err: DtsError) -> Diagnostic:
    """A value the summary cannot read, as a ``dts-summary`` warning where the value is."""
    return diag("dts-summary", err.message, err.source)


def summarize(loaded: LoadedTree, ignore: Collection[str] = ()) -> Summary:
    """The human summary ``memplan dts FILE`` prints, leaving out diagnostics of the ``ignore``
    codes."""
    tree = loaded.tree
    problems: list[Diagnostic] = []
    nodes = list(tree.walk())
    nprops = sum(len(n.properties) for n in nodes)
    how = loaded.kind if loaded.tool is None else f"{loaded.kind}, preprocessed with {loaded.tool}"
    out = [f"source: {loaded.files[0]} ({how})"]
    out.append(f"files read ({len(loaded.files)}):")
    out.extend(f"  {f}" for f in loaded.files)
    out.append(f"nodes: {len(nodes)}, properties: {nprops}")
    mem = _memory_lines(tree, problems)
    out.append(f"memory banks ({len(mem)}):" if mem else "memory banks: none")
    out.extend(mem)
    rmem = _reserved_lines(tree, problems)
    has_rmem = "reserved-memory" in tree.root.children
    if not has_rmem:
        out.append("reserved-memory: none")
    else:
        out.append(f"reserved-memory ({len(rmem)} {'child' if len(rmem) == 1 else 'children'}):")
        out.extend(rmem)
    if tree.memreserves:
        out.append(f"memreserve ({len(tree.memreserves)}):")
        out.extend(f"  {_range(m.address, m.size)}" for m in tree.memreserves)
    else:
        out.append("memreserve: none")
    chosen = tree.root.children.get("chosen")
    bootargs = chosen.get("bootargs") if chosen is not None else None
    if bootargs is None:
        out.append("chosen/bootargs: none")
    else:
        try:
            out.append(f"chosen/bootargs: {bootargs.as_string()!r}")
        except DtsError as err:
            problems.append(_problem(err))
    warnings = tuple(d for d in (*loaded.diagnostics, *tree.warnings, *problems) if d.code not in ignore)
    out.append(f"warnings ({len(warnings)}):" if warnings else "warnings: none")
    out.extend(f"  {w}" for w in warnings)
    return Summary("\n".join(out), warnings)
