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


def _declared(node: Node, name: str) -> int | None:
    prop = node.properties.get(name)
    if prop is None or len(prop.value) != 4:
        return None
    return int.from_bytes(prop.value, "big")


def _cells(node: Node) -> tuple[int, int]:
    addr = _declared(node, "#address-cells")
    size = _declared(node, "#size-cells")
    return (2 if addr is None else addr), (1 if size is None else size)


def _warn(severity: Severity, code: str, message: str, node: Node, prop: Property | None) -> Diagnostic:
    return diag(code, message, prop.source if prop is not None else node.source, node.path, severity)


def address_warnings(tree: Tree) -> list[Diagnostic]:
    """``reg_format``, ``ranges_format``, ``dma_ranges_format`` and ``avoid_default_addr_size``
    findings, in tree order."""
    out: list[Diagnostic] = []
    for node in tree.walk():
        parent = node.parent
        reg = node.properties.get("reg")
        if parent is None:
            if reg is not None:
                out.append(_warn("warning", "dtc-reg-format", "root node has a \"reg\" property", node, reg))
            continue
        p_addr, p_size = _cells(parent)
        if reg is not None:
            entry = 4 * (p_addr + p_size)
            if not reg.value:
                out.append(_warn("warning", "dtc-reg-format", f"{node.path}: \"reg\" property is empty",
                                 node, reg))
            elif not entry or len(reg.value) % entry:
                out.append(_warn(
                    "warning", "dtc-reg-format",
                    f"{node.path}: \"reg\" property has invalid length ({len(reg.value)} bytes) "
                    f"(#address-cells == {p_addr}, #size-cells == {p_size})", node, reg))
        c_addr, c_size = _cells(node)
        for name in ("ranges", "dma-ranges"):
            ranges = node.properties.get(name)
            if ranges is None:
                continue
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
            for problem in problems:
                if name == "ranges":
                    out.append(_warn("warning", "dtc-ranges-format", f"{node.path}: {problem}", node, ranges))
                else:
                    out.append(_warn("warning", "dtc-dma-ranges-format", f"{node.path}: {problem}", node,
                                     ranges))
        if reg is not None or "ranges" in node.properties:
            if _declared(parent, "#address-cells") is None:
                out.append(_warn("warning", "dtc-avoid-default-addr-size",
                                 f"{node.path}: relying on default #address-cells value", node, None))
            if _declared(parent, "#size-cells") is None:
                out.append(_warn("warning", "dtc-avoid-default-addr-size",
                                 f"{node.path}: relying on default #size-cells value", node, None))
    return out
