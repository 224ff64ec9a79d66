"""dtc's address-format checks that only warn: they become :class:`~memplan.model.Diagnostic` values.

These are the checks that matter for a memory layout (a malformed ``reg`` or ``ranges``
changes which addresses a node describes). dtc keeps compiling after them, so memplan does
too; each finding lands in ``Tree.warnings`` with a stable code named after dtc's check.
"""

from __future__ import annotations

from memplan.diagnostics import diag
from memplan.dts.tree import Node, Property, Tree
from memplan.model import Diagnostic, Severity

__all__ = ["ADDRESS_CODES", "address_warnings"]

#: The codes :func:`address_warnings` reports.
ADDRESS_CODES = frozenset({"dtc-reg-format", "dtc-ranges-format", "dtc-dma-ranges-format",
                           "dtc-avoid-default-addr-size"})


def _declared(props: dict[str, Property], name: str) -> int | None:
    prop = props.get(name)
    if prop is None:
        return None
    value = prop.value
    return int.from_bytes(value, "big") if len(value) == 4 else None


def _warn(severity: Severity, code: str, message: str, node: Node, prop: Property | None) -> Diagnostic:
    return diag(code, message, prop.source if prop is not None else node.source, node.path, severity)


#: What a node declares for its children: ``#address-cells`` and ``#size-cells`` as written
#: (``None`` when absent or not one cell), the node.
_Declared = tuple[int | None, int | None, Node]


def address_warnings(tree: Tree) -> list[Diagnostic]:
    """``reg_format``, ``ranges_format``, ``dma_ranges_format`` and ``avoid_default_addr_size``
    findings, in tree order (one walk; each node's cells are read once, for its children)."""
    out: list[Diagnostic] = []
    root = tree.root
    reg = root.properties.get("reg")
    if reg is not None:
        out.append(_warn("warning", "dtc-reg-format", "root node has a \"reg\" property", root, reg))
    if not root.children:
        return out
    top = (_declared(root.properties, "#address-cells"), _declared(root.properties, "#size-cells"), root)
    todo: list[tuple[Node, _Declared]] = [(child, top) for child in reversed(root.children.values())]
    pop = todo.pop
    push = todo.append
    while todo:
        node, (a_decl, s_decl, parent) = pop()
        props = node.properties
        reg = props.get("reg")
        ranges = props.get("ranges")
        dma = props.get("dma-ranges")
        children = node.children
        c_decl: _Declared | None = None
        if children or ranges is not None or dma is not None:
            c_decl = (_declared(props, "#address-cells"), _declared(props, "#size-cells"), node)
            # an explicit loop, not a generator per node (which costs more than its children)
            for child in reversed(children.values()):
                push((child, c_decl))
        if reg is not None or ranges is not None or dma is not None:
            p_addr = 2 if a_decl is None else a_decl
            p_size = 1 if s_decl is None else s_decl
            if reg is not None:
                _reg_format(out, node, reg, p_addr, p_size)
            if c_decl is not None:
                c_addr = 2 if c_decl[0] is None else c_decl[0]
                c_size = 1 if c_decl[1] is None else c_decl[1]
                if ranges is not None:
                    _ranges_format(out, node, parent, "ranges", ranges, p_addr, p_size, c_addr, c_size)
                if dma is not None:
                    _ranges_format(out, node, parent, "dma-ranges", dma, p_addr, p_size, c_addr, c_size)
            if reg is not None or ranges is not None:
                if a_decl is None:
                    out.append(_warn("warning", "dtc-avoid-default-addr-size",
                                     f"{node.path}: relying on default #address-cells value", node, None))
                if s_decl is None:
                    out.append(_warn("warning", "dtc-avoid-default-addr-size",
                                     f"{node.path}: relying on default #size-cells value", node, None))
    return out


def _reg_format(out: list[Diagnostic], node: Node, reg: Property, p_addr: int, p_size: int) -> None:
    entry = 4 * (p_addr + p_size)
    if not reg.value:
        out.append(_warn("warning", "dtc-reg-format", f"{node.path}: \"reg\" property is empty", node, reg))
    elif not entry or len(reg.value) % entry:
        out.append(_warn(
            "warning", "dtc-reg-format",
            f"{node.path}: \"reg\" property has invalid length ({len(reg.value)} bytes) "
            f"(#address-cells == {p_addr}, #size-cells == {p_size})", node, reg))


def _ranges_format(out: list[Diagnostic], node: Node, parent: Node, name: str, ranges: Property,
                   p_addr: int, p_size: int, c_addr: int, c_size: int) -> None:
    problems = []
    if not ranges.value:
        if p_addr != c_addr:
            problems.append(f"empty \"{name}\" property but its #address-cells ({c_addr}) differs "
                            f"from {parent.path} ({p_addr})")
        if p_size != c_size:
            problems.append(f"empty \"{name}\" property but its #size-cells ({c_size}) differs "
                            f"from {parent.path} ({p_size})")
    elif not (p_addr + c_addr + c_size) or len(ranges.value) % (4 * (p_addr + c_addr + c_size)):
        problems.append(f"\"{name}\" property has invalid length ({len(ranges.value)} bytes) "
                        f"(parent #address-cells == {p_addr}, child #address-cells == {c_addr}, "
                        f"#size-cells == {c_size})")
    code = "dtc-ranges-format" if name == "ranges" else "dtc-dma-ranges-format"
    for problem in problems:
        out.append(_warn("warning", code, f"{node.path}: {problem}", node, ranges))
