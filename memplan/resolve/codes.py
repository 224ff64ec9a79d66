"""The registry of every diagnostic code the resolver emits.

Each code is stable (tools and tests match on it) and carries a title, what it means and how
to fix it; the documentation generates the diagnostic catalogue from :data:`CODES`.
:func:`diag` builds a :class:`~memplan.model.Diagnostic` with the registered default severity.
"""

from __future__ import annotations

import attrs

from memplan.model import Diagnostic, Severity
from memplan.source import Source


@attrs.frozen
class Code:
    """One diagnostic code: ``code`` (stable), default ``severity``, ``title``, ``meaning``, ``fix``."""

    code: str
    severity: Severity
    title: str
    meaning: str
    fix: str


_ENTRIES: tuple[Code, ...] = (
    # -- inputs, versions, architecture ------------------------------------------------
    Code(
        "version-unknown",
        "info",
        "Kernel version not known",
        "No kernel version was given and none was found in the .config header, so one default "
        "version (6.1) is assumed for everything: the layout rules, the reading of the .config and "
        "the command line; the global CMA pool follows the documented "
        "DTS > CMDLINE > DEFCONFIG rule. Kernels 5.6 and later let a cma= on the command line win "
        "over the Device Tree default pool.",
        "Pass --kernel-version (or a .config whose header names the version).",
    ),
    Code(
        "arch-guessed",
        "info",
        "Architecture inferred",
        "The architecture was not given; it was inferred from the .config or the Device Tree.",
        "Pass --arch to make the choice explicit.",
    ),
    Code(
        "dma-cma-disabled",
        "warning",
        "CONFIG_DMA_CMA is off",
        "Without CONFIG_DMA_CMA there is no global CMA area, cma= is an unknown parameter and "
        "shared-dma-pool reusable nodes do not become CMA areas.",
        "Enable CONFIG_CMA and CONFIG_DMA_CMA, or drop the CMA configuration.",
    ),
    # -- the global CMA pool -----------------------------------------------------------
    Code(
        "cma-cmdline-ignored",
        "warning",
        "cma= is ignored: the Device Tree default pool wins",
        "The linux,cma-default Device Tree node becomes the global CMA area and the cma= on the "
        "command line has no effect (kernels before 5.6, or the documented seed policy).",
        "Remove cma= or the linux,cma-default property so only one source defines the pool.",
    ),
    Code(
        "cma-dt-bypassed",
        "warning",
        "Device Tree default CMA node bypassed by cma=",
        "Kernels 5.6 to 6.18 drop a linux,cma-default node when cma= is on the command line "
        "('bypass' then 'compatible matching fail'); its memory is released and the global area "
        "is built from cma=.",
        "Remove cma= to use the Device Tree pool, or remove the Device Tree default node.",
    ),
    Code(
        "cma-dt-skipped",
        "warning",
        "Device Tree default CMA node skipped because of cma=",
        "Kernels 6.19 and later (and 6.18.y with the backport) skip a linux,cma-default node "
        "before reserving it when cma= is on the command line.",
        "Remove cma= to use the Device Tree pool, or remove the Device Tree default node.",
    ),
    Code(
        "cma-disabled-by-cmdline",
        "warning",
        "cma=0 disables the global CMA area",
        "cma=0 counts as a command-line CMA size of zero: no global area is created and, on 5.6 "
        "and later, a Device Tree default node is dropped too.",
        "Remove cma=0 unless no global CMA area is wanted.",
    ),
    Code(
        "cma-two-areas",
        "warning",
        "Two global-looking CMA areas",
        "On arm32/riscv kernels 6.13-6.18 (and 6.12.13+) the Kconfig area named 'reserved' is "
        "created before a static linux,cma-default node is initialised, so both areas exist and "
        "both count in CmaTotal; the Device Tree one becomes the default.",
        "Set the Kconfig size to 0 or use a dynamic (size=) Device Tree default node.",
    ),
    Code(
        "cma-multiple-default",
        "warning",
        "Several linux,cma-default nodes",
        "Every linux,cma-default node becomes a CMA area; only the last one initialised becomes the default.",
        "Keep linux,cma-default on one node only.",
    ),
    Code(
        "cma-misaligned",
        "error",
        "CMA region not aligned to the CMA granule",
        "A reusable shared-dma-pool region whose base or size is not a multiple of the CMA minimum "
        "alignment is refused ('incorrect alignment of CMA region') and its memory released.",
        "Align base and size to the CMA granule for this kernel and page size.",
    ),
    Code(
        "cma-nomap-reusable",
        "error",
        "no-map together with reusable",
        "A shared-dma-pool node with both no-map and reusable is refused by both the CMA and "
        "the coherent-pool handlers; the region is released ('compatible matching fail').",
        "Use reusable for a CMA pool or no-map for a coherent pool, not both.",
    ),
    Code(
        "cma-place-failed",
        "error",
        "CMA area could not be placed",
        "cma_declare_contiguous found no room, the requested fixed range is in use, or the size "
        "exceeds the limit; the area does not exist.",
        "Reduce the size, move the base/limit, or free the conflicting reservation.",
    ),
    Code(
        "cma-fixed-misaligned",
        "error",
        "Fixed CMA base not aligned",
        "A cma=size@base whose base is not aligned to the CMA granule is refused.",
        "Align the base to the CMA granule.",
    ),
    Code(
        "cma-too-many-areas",
        "error",
        "Not enough CMA area slots",
        "More CMA areas than CONFIG_CMA_AREAS allows; the extra ones are not created.",
        "Raise CONFIG_CMA_AREAS or declare fewer CMA pools.",
    ),
    Code(
        "cma-not-activated",
        "error",
        "CMA area spans a zone boundary",
        "cma_activate_area() requires every page of an area to be in one memory zone; an area that "
        "crosses a zone boundary (e.g. 4 GiB between ZONE_DMA/DMA32 and ZONE_NORMAL on arm64) is not "
        "activated ('CMA area ... could not be activated'): it is not in CmaTotal and its pages go to "
        "the normal allocator.",
        "Move or shrink the area so that it lies on one side of the boundary (e.g. add a limit).",
    ),
    Code(
        "cma-limit-clipped",
        "info",
        "Global CMA area limited by the DMA zone",
        "On arm64 the global CMA area must lie in the lowest DMA zone; a user limit can only "
        "lower that before 6.16.",
        "Nothing to do unless the area is expected above the DMA zone.",
    ),
    Code(
        "cma-size-zero",
        "info",
        "No global CMA area",
        "The selected size of the global CMA area is zero, so none is created.",
        "Set cma= or CONFIG_CMA_SIZE_MBYTES/PERCENTAGE if a global area is wanted.",
    ),
    Code(
        "numa-cma-unsupported",
        "warning",
        "cma_pernuma= / numa_cma= ignored",
        "The kernel has no per-node CMA code (CONFIG_DMA_PERNUMA_CMA before 6.6, arm64 only; "
        "CONFIG_DMA_NUMA_CMA from 6.6), so the parameter is unknown to it and no per-node area is made.",
        "Enable the option in the .config, or drop the parameter.",
    ),
    Code(
        "numa-cma-offline",
        "warning",
        "numa_cma= names a node that is not online",
        "The kernel skips a numa_cma= entry for a node that does not exist ('invalid node %d specified').",
        "Use the node ids of the machine (numa-node-id of the /memory nodes).",
    ),
    # -- reserved memory ------------------------------------------------------------------
    Code(
        "rmem-overlap",
        "error",
        "Reserved regions overlap (OVERLAP DETECTED)",
        "Two registered reserved-memory regions overlap; the kernel only reports it and both "
        "stay as they are.",
        "Move or resize one of the regions.",
    ),
    Code(
        "rmem-outside-ram",
        "warning",
        "Region outside RAM",
        "A reserved region lies (partly) outside every RAM bank.",
        "Check the region's address and the /memory banks.",
    ),
    Code(
        "rmem-unsupported-format",
        "error",
        "/reserved-memory ignored (unsupported node format)",
        "/reserved-memory must have #address-cells and #size-cells equal to the root's and a "
        "ranges property; otherwise the kernel ignores the whole node.",
        "Copy the root's #address-cells/#size-cells and add an empty ranges property.",
    ),
    Code(
        "rmem-bad-reg",
        "error",
        "Invalid reg property",
        "The reg length is not a multiple of the root address+size cells; the node is skipped "
        "(6.19: treated as having no reg).",
        "Write reg with the root's #address-cells and #size-cells.",
    ),
    Code(
        "rmem-bad-size",
        "error",
        "Invalid size property",
        "size must be exactly #size-cells long; the node is skipped.",
        "Write size with the root's #size-cells (e.g. <0 0x4000000> for 2 cells).",
    ),
    Code(
        "rmem-bad-alignment",
        "error",
        "Invalid alignment property",
        "alignment must be exactly #address-cells long; the node is skipped.",
        "Write alignment with the root's #address-cells.",
    ),
    Code(
        "rmem-bad-alloc-ranges",
        "error",
        "Invalid alloc-ranges property",
        "alloc-ranges must be (address, size) pairs in root cells; the node is skipped "
        "(6.19: allocated anywhere).",
        "Write alloc-ranges as <address size> pairs in root cells.",
    ),
    Code(
        "rmem-no-reg-or-size",
        "warning",
        "Reserved-memory child without reg or size",
        "A /reserved-memory child with neither reg nor size is ignored by the kernel.",
        "Add reg (static) or size (dynamic).",
    ),
    Code(
        "rmem-reserve-failed",
        "error",
        "Static region could not be reserved",
        "'failed to reserve memory for node': a zero size, or a no-map range already reserved.",
        "Fix the size or remove the conflicting reservation.",
    ),
    Code(
        "rmem-alloc-failed",
        "error",
        "Dynamic region could not be placed",
        "'failed to allocate memory for node': no free range of that size and alignment in "
        "the allowed windows; the node is dropped.",
        "Reduce the size or alignment or widen alloc-ranges.",
    ),
    Code(
        "rmem-extra-reg",
        "warning",
        "Only the first reg entry is registered",
        "All reg entries are reserved, but only the first becomes the region devices see "
        "(6.19+: a node with several entries is not registered at all).",
        "Split the node into one node per range.",
    ),
    Code(
        "rmem-too-many",
        "error",
        "Too many reserved-memory regions",
        "The kernel keeps a fixed number of regions (32 up to 5.6, 64 later); extra static "
        "nodes are reserved but not registered, extra dynamic nodes are never allocated.",
        "Merge regions or use a newer kernel.",
    ),
    Code(
        "rmem-disabled",
        "info",
        "Disabled reserved-memory node",
        "A /reserved-memory child with status other than okay is skipped completely.",
        'Set status = "okay" if the region is wanted.',
    ),
    Code(
        "rmem-init-failed",
        "error",
        "Reserved-memory handler refused the node",
        "A handler for the compatible refused the node ('compatible matching fail'); the region is released.",
        "See the message for the handler's reason.",
    ),
    Code(
        "rmem-memreserve-overlap",
        "warning",
        "Dynamic region over a /memreserve/ range",
        "On 6.13+ dynamic regions are allocated before /memreserve/ entries are reserved, so "
        "they can land on them.",
        "Add the /memreserve/ range as a static /reserved-memory node, or constrain alloc-ranges.",
    ),
    Code(
        "memory-none",
        "error",
        "No RAM",
        "No usable /memory bank (or --memory map) was found, so nothing can be placed.",
        'Add a /memory node with device_type = "memory" or pass --memory.',
    ),
    Code(
        "memory-ignored",
        "info",
        "Memory bank ignored",
        "A /memory node or entry was skipped (disabled, zero size, not a direct child of the root on 6.1+).",
        "Fix the node if the memory is meant to be used.",
    ),
    Code(
        "memory-base-guessed",
        "warning",
        "RAM base address guessed",
        "memory= gave only a RAM size and the Device Tree names no /memory base address, so the "
        "start of RAM was guessed (the 256 MiB boundary below the lowest reserved-memory address, "
        "or 0); every address in the layout depends on that guess.",
        "Pass memory= as a list of (base, size) pairs, or add a /memory node with a reg to the "
        "Device Tree.",
    ),
    Code(
        "mem-limit",
        "info",
        "mem= limits RAM",
        "mem= removed RAM from the map the kernel uses.",
        "Nothing to do if intended.",
    ),
    Code(
        "memmap-applied",
        "info",
        "memmap= changed the memory map",
        "A memmap= element added, removed or retyped a range of the x86 E820 map.",
        "Nothing to do if intended.",
    ),
    # -- devices ---------------------------------------------------------------------------
    Code(
        "device-dangling-region",
        "error",
        "memory-region points at nothing",
        "A memory-region phandle does not resolve to any node.",
        "Point memory-region at an existing /reserved-memory child.",
    ),
    Code(
        "device-region-disabled",
        "warning",
        "memory-region points at a disabled node",
        "The target node is disabled; the kernel reports success but attaches nothing.",
        "Enable the region or drop the reference.",
    ),
    Code(
        "device-region-unavailable",
        "warning",
        "memory-region target not usable",
        "The target region was not registered (rejected, failed or bypassed), so the device "
        "gets -EINVAL from of_reserved_mem_device_init.",
        "Fix the region's diagnostics.",
    ),
    Code(
        "device-region-not-reserved",
        "warning",
        "memory-region target outside /reserved-memory",
        "The phandle points at a node that is not a /reserved-memory child.",
        "Point memory-region at a /reserved-memory child.",
    ),
    Code(
        "device-names-mismatch",
        "warning",
        "memory-region-names count differs",
        "memory-region-names does not have one name per memory-region entry.",
        "Give one name per phandle.",
    ),
    # -- crashkernel ------------------------------------------------------------------------
    Code(
        "crashkernel-failed",
        "error",
        "crashkernel= could not be reserved",
        "No room for the crash kernel (or the fixed range is in use).",
        "Reduce the size or choose another offset.",
    ),
    Code(
        "crashkernel-zero",
        "warning",
        "crashkernel= selects nothing",
        "No range of crashkernel=range:size matched the RAM size ('crashkernel size resulted "
        "in zero bytes').",
        "Add a range that covers this machine's RAM size.",
    ),
)

#: Every code the resolver emits, by code.
CODES: dict[str, Code] = {c.code: c for c in _ENTRIES}


def diag(
    code: str,
    message: str,
    source: Source | None = None,
    subject: str | None = None,
    severity: Severity | None = None,
) -> Diagnostic:
    """A :class:`Diagnostic` for a registered ``code`` (KeyError for an unregistered one)."""
    entry = CODES[code]
    return Diagnostic(severity or entry.severity, code, message, source, subject)
