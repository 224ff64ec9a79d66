"""What boot firmware typically adds to the Device Tree before the kernel sees it.

The kernel reserves what the tree it *receives* says, and firmware edits that tree: on RISC-V,
OpenSBI adds ``/reserved-memory/mmode_resv0@<start of RAM>`` (its own image, 512 KiB with the
OpenSBI QEMU ships; recorded boots riscv64-6.12-*: the node is in ``/sys/firmware/fdt`` and in
the boot log, not in the DTS given to QEMU) and creates ``/reserved-memory`` when it is missing;
on arm and arm64, TF-A and OP-TEE edit it for the secure world. Verified with TF-A 2.12.1 (Debian's
source built for ``PLAT=qemu``, ``SPD=opteed``) and Debian's OP-TEE 4.10 ``vexpress-qemu_armv8a``
under ``qemu-system-aarch64 -M virt,secure=on,gic-version=3`` booting Debian's 6.12.117
(tests/kernel/firmware/arm64-6.12-tfa-optee): TF-A's BL2 adds ``/psci`` (``method = "smc"``) and
``enable-method = "psci"`` to the CPUs; OP-TEE creates ``/reserved-memory`` with
``optee_core@e100000`` (15 MiB, no-map, its secure RAM outside ``/memory``) and
``optee_shm@42000000`` (2 MiB, no-map, inside RAM) and adds ``/firmware/optee``. The DTS QEMU
gives has none of them, only ``secure-status`` properties on the secure-only devices and a
``/secure-chosen`` node. A plan built from the build's DTS cannot see these nodes.
"""

from __future__ import annotations

from memplan.diagnostics import diag
from memplan.dts import Tree
from memplan.model import Diagnostic


def _is_source_tree(tree: Tree) -> bool:
    """True for a tree parsed from DTS text (not a compiled blob such as /sys/firmware/fdt)."""
    return tree.root.source.kind != "dtb"


def _string(tree: Tree, path: str, prop: str) -> str | None:
    node = tree.find(path)
    if node is None or node.get(prop) is None:
        return None
    try:
        return node.properties[prop].as_string()
    except Exception:  # a malformed value is reported by the front end, not here
        return None


def _has_secure_status(tree: Tree) -> bool:
    """True when a node carries ``secure-status``: the tree describes a secure world (a device
    only the secure firmware uses), so TF-A/OP-TEE run before the kernel."""
    stack = [tree.root]
    while stack:
        node = stack.pop()
        if "secure-status" in node.properties:
            return True
        stack.extend(node.children.values())
    return False


def firmware_notes(arch: str, tree: Tree, secure_status: bool | None = None) -> list[Diagnostic]:
    """The ``firmware-dt-edits`` note for a source tree whose firmware is known to edit it.
    ``secure_status``: whether a node of ``tree`` has ``secure-status``, when the caller knows
    (:attr:`memplan.dts.facts.DtFacts.secure_status`); else the tree is walked to find out."""
    if not _is_source_tree(tree):
        return []
    adds: list[str] = []
    if arch == "riscv":
        adds.append("OpenSBI adds /reserved-memory/mmode_resv0@<start of RAM> (its own image, 512 KiB "
                    "with current OpenSBI; newer versions add mmode_resv1 too) and creates "
                    "/reserved-memory if the tree has none")
    elif arch in ("arm", "arm64"):
        optee = tree.find("/firmware/optee") is not None
        psci_smc = _string(tree, "/psci", "method") == "smc"
        if secure_status is None:
            secure_status = _has_secure_status(tree)
        secure = tree.find("/secure-chosen") is not None or secure_status
        if optee or secure:
            adds.append("OP-TEE adds /reserved-memory nodes for its core and shared memory "
                        "(optee_core, optee_shm, no-map; on QEMU virt 15 MiB at 0xe100000 and 2 MiB at "
                        "0x42000000), creating /reserved-memory and /firmware/optee when missing")
        if secure and not psci_smc:
            adds.append("TF-A adds /psci and the CPUs' enable-method")
        if psci_smc:
            adds.append("TF-A (PSCI over SMC) may add a /reserved-memory node for BL31 on platforms "
                        "whose port does so")
    if not adds:
        return []
    return [diag(
        "firmware-dt-edits",
        "the Device Tree is the build's source: " + "; ".join(adds)
        + ". The kernel reserves what the tree it receives says: check a running board against "
        "/sys/firmware/fdt (memplan resolve --dts /sys/firmware/fdt, or memplan check with a snapshot)",
        tree.root.source,
        "/reserved-memory",
    )]


__all__ = ["firmware_notes"]
