"""What the kernel does with a Device Tree nested deeper than it unflattens.

dtc (1.6.1 and the kernel's own 1.7.0) builds trees far deeper than any real board: its parser
stack (bison's 10,000 entries) is the only bound, about 3,300 levels of plain nesting. The
kernel reads the flattened tree in two ways. The early scans (``/memreserve/``,
``/reserved-memory``, ``/memory``, ``/chosen``) walk the blob directly and are unaffected.
``unflatten_dt_nodes()`` (drivers/of/fdt.c, ``FDT_MAX_DEPTH`` 64) skips every node 63 or more
levels below the root, with a one-time ``WARN_ON`` at boot: such a node, and all under it,
is missing from the live tree (``/proc/device-tree``), so no driver binds to it and no
device there gets a ``memory-region`` pool.
"""

from __future__ import annotations

from memplan.diagnostics import diag
from memplan.dts.tree import Tree
from memplan.model import Diagnostic

#: ``FDT_MAX_DEPTH`` of ``unflatten_dt_nodes()``; nodes at depth ``FDT_MAX_DEPTH - 1`` (the root
#: is depth 0) or more are skipped.
KERNEL_FDT_MAX_DEPTH = 64


def unflatten_depth_warnings(tree: Tree) -> list[Diagnostic]:
    """One ``dt-too-deep-for-kernel`` warning at the first node (in tree order) that the kernel
    skips when it unflattens the tree, naming how many nodes are skipped."""
    level = [tree.root]  # the nodes of one depth, level by level: most trees end long before
    for _depth in range(KERNEL_FDT_MAX_DEPTH - 1):
        level = [child for node in level for child in node.children.values()]
        if not level:
            return []
    first = None
    skipped = 0
    todo = [(tree.root, 0)]
    while todo:
        node, depth = todo.pop()
        if depth >= KERNEL_FDT_MAX_DEPTH - 1:
            skipped += 1
            if first is None:
                first = node
        todo.extend((child, depth + 1) for child in reversed(node.children.values()))
    if first is None:
        return []
    return [diag(
        "dt-too-deep-for-kernel",
        f"{first.path} is {KERNEL_FDT_MAX_DEPTH - 1} levels below the root: the kernel skips it and every "
        f"node that deep ({skipped} in all) when it unflattens the tree (drivers/of/fdt.c FDT_MAX_DEPTH "
        f"{KERNEL_FDT_MAX_DEPTH}), with a WARN at boot; they are missing from the live tree, so no driver "
        "binds there (the memory layout, read from the flat tree, is unaffected)",
        first.source, first.path,
    )]
