"""The registry of every diagnostic code memplan emits: front ends, resolver and observer.

Each code is stable (tools and tests match on it) and is registered here once, with the front
end that emits it, its default severity, a title, what it means and how to fix it. Every
:class:`~memplan.model.Diagnostic` in the package is built by :func:`diag`, which refuses an
unregistered code, and the documentation's diagnostic catalogue (``docs/diagnostics.md``) is
generated from :data:`CODES`. ``tests/test_diagnostics_registry.py`` checks the other direction:
no registered code goes unused and every code written in the source is registered.
"""

from __future__ import annotations

from typing import Literal

import attrs

from memplan.model import Diagnostic, Severity
from memplan.source import Source

#: Who emits a code: a front end (``dts``, ``cmdline``, ``kconfig``), the ``resolve``\ r, the
#: readers of a running kernel (``observe``), the kernel-tree ``lint`` or the command line
#: interface (``cli``).
FrontEnd = Literal["dts", "cmdline", "kconfig", "resolve", "observe", "lint", "cli"]

#: The front ends in the order the catalogue lists them, with their headings.
FRONT_ENDS: dict[FrontEnd, str] = {
    "resolve": "resolver",
    "cmdline": "command-line front end",
    "dts": "Device Tree front end",
    "kconfig": "kernel configuration front end",
    "observe": "running-kernel readers",
    "lint": "kernel-tree lint",
    "cli": "command line interface",
}


class UnknownCodeError(KeyError):
    """A diagnostic was built with a code that is not in :data:`CODES` (a bug in memplan)."""


@attrs.frozen
class Code:
    """One diagnostic code.

    ``severity`` is the one it is normally emitted with; ``other_severities`` lists the others a
    call site may choose (for example ``info`` when the same finding is harmless).
    """

    code: str
    severity: Severity
    front_end: FrontEnd
    title: str
    meaning: str
    fix: str
    other_severities: tuple[Severity, ...] = ()

    @property
    def severities(self) -> tuple[Severity, ...]:
        """Every severity this code may carry, the default first."""
        return (self.severity, *self.other_severities)


_ENTRIES: tuple[Code, ...] = (
    Code(
        "version-unknown",
        "info",
        "resolve",
        title="Kernel version not known",
        meaning=(
            "No kernel version was given and none was found in the .config header, so one default version "
            "(6.1) is assumed for everything: the layout rules, the reading of the .config and the command "
            "line; the global CMA pool follows the documented DTS > CMDLINE > DEFCONFIG rule. Kernels 5.6 "
            "and later let a cma= on the command line win over the Device Tree default pool."
        ),
        fix="Pass --kernel-version (or a .config whose header names the version).",
    ),
    Code(
        "arch-guessed",
        "info",
        "resolve",
        title="Architecture inferred",
        meaning="The architecture was not given; it was inferred from the .config or the Device Tree.",
        fix="Pass --arch to make the choice explicit.",
    ),
    Code(
        "arch-unmodelled",
        "warning",
        "resolve",
        title="Architecture not modelled",
        meaning=(
            "memplan models arm, arm64, riscv and x86. For another architecture (mips, powerpc, ...) the "
            "plan applies the generic Device Tree and CMA rules only; the architecture's own limits, "
            "zones, early allocations and command-line handling are not modelled, so placements and even "
            "the global pool may differ from the kernel's."
        ),
        fix="Treat the plan as a rough guide; verify on the board with memplan check.",
    ),
    Code(
        "version-unknown-precedence",
        "warning",
        "resolve",
        title="Kernel version decides which pool wins",
        meaning=(
            "The kernel version is unknown and the inputs have both a Device Tree linux,cma-default pool and "
            "cma= on the command line: kernels before 5.6 make the Device Tree pool the global area, 5.6 and "
            "later the command line's. The plan follows one rule; the other kernel picks the other pool."
        ),
        fix="Pass --kernel-version (or a .config whose header names the version).",
    ),
    Code(
        "firmware-dt-edits",
        "info",
        "resolve",
        title="Firmware edits the Device Tree",
        meaning=(
            "The input is a Device Tree source, and the boot firmware of this architecture or board adds "
            "reserved-memory nodes before the kernel sees the tree (OpenSBI's mmode_resv0 on RISC-V; "
            "OP-TEE and TF-A on arm/arm64). The plan cannot see them; the running kernel's tree is "
            "/sys/firmware/fdt."
        ),
        fix="To compare with a running board, resolve /sys/firmware/fdt (or check a collected snapshot).",
    ),
    Code(
        "dma-cma-disabled",
        "warning",
        "resolve",
        title="CONFIG_DMA_CMA is off",
        meaning=(
            "Without CONFIG_DMA_CMA there is no global CMA area, cma= is an unknown parameter and "
            "shared-dma-pool reusable nodes do not become CMA areas."
        ),
        fix="Enable CONFIG_CMA and CONFIG_DMA_CMA, or drop the CMA configuration.",
    ),
    Code(
        "cma-cmdline-ignored",
        "warning",
        "resolve",
        title="cma= is ignored: the Device Tree default pool wins",
        meaning=(
            "The linux,cma-default Device Tree node becomes the global CMA area and the cma= on the command "
            "line has no effect (kernels before 5.6, or the documented seed policy)."
        ),
        fix="Remove cma= or the linux,cma-default property so only one source defines the pool.",
    ),
    Code(
        "cma-dt-bypassed",
        "warning",
        "resolve",
        title="Device Tree default CMA node bypassed by cma=",
        meaning=(
            "Kernels 5.6 to 6.18 drop a linux,cma-default node when cma= is on the command line ('bypass' "
            "then 'compatible matching fail'); its memory is released and the global area is built from "
            "cma=."
        ),
        fix="Remove cma= to use the Device Tree pool, or remove the Device Tree default node.",
    ),
    Code(
        "cma-dt-skipped",
        "warning",
        "resolve",
        title="Device Tree default CMA node skipped because of cma=",
        meaning=(
            "Kernels 6.19 and later (and 6.18.y with the backport) skip a linux,cma-default node before "
            "reserving it when cma= is on the command line."
        ),
        fix="Remove cma= to use the Device Tree pool, or remove the Device Tree default node.",
    ),
    Code(
        "cma-disabled-by-cmdline",
        "warning",
        "resolve",
        title="cma=0 disables the global CMA area",
        meaning=(
            "cma=0 counts as a command-line CMA size of zero: no global area is created and, on 5.6 and "
            "later, a Device Tree default node is dropped too."
        ),
        fix="Remove cma=0 unless no global CMA area is wanted.",
    ),
    Code(
        "cma-two-areas",
        "warning",
        "resolve",
        title="Two global-looking CMA areas",
        meaning=(
            "On arm32/riscv kernels 6.13-6.18 (and 6.12.13+) the Kconfig area named 'reserved' is created "
            "before a static linux,cma-default node is initialised, so both areas exist and both count in "
            "CmaTotal; the Device Tree one becomes the default."
        ),
        fix="Set the Kconfig size to 0 or use a dynamic (size=) Device Tree default node.",
    ),
    Code(
        "cma-multiple-default",
        "warning",
        "resolve",
        title="Several linux,cma-default nodes",
        meaning=(
            "Every linux,cma-default node becomes a CMA area; only the last one initialised becomes the "
            "default."
        ),
        fix="Keep linux,cma-default on one node only.",
    ),
    Code(
        "cma-misaligned",
        "error",
        "resolve",
        title="CMA region not aligned to the CMA granule",
        meaning=(
            "A reusable shared-dma-pool region whose base or size is not a multiple of the CMA minimum "
            "alignment is refused ('incorrect alignment of CMA region') and its memory released."
        ),
        fix="Align base and size to the CMA granule for this kernel and page size.",
    ),
    Code(
        "cma-nomap-reusable",
        "error",
        "resolve",
        title="no-map together with reusable",
        meaning=(
            "A shared-dma-pool node with both no-map and reusable is refused by both the CMA and the "
            "coherent-pool handlers; the region is released ('compatible matching fail')."
        ),
        fix="Use reusable for a CMA pool or no-map for a coherent pool, not both.",
    ),
    Code(
        "cma-place-failed",
        "error",
        "resolve",
        title="CMA area could not be placed",
        meaning=(
            "cma_declare_contiguous found no room, the requested fixed range is in use, or the size exceeds "
            "the limit; the area does not exist."
        ),
        fix="Reduce the size, move the base/limit, or free the conflicting reservation.",
    ),
    Code(
        "cma-fixed-misaligned",
        "error",
        "resolve",
        title="Fixed CMA base not aligned",
        meaning="A cma=size@base whose base is not aligned to the CMA granule is refused.",
        fix="Align the base to the CMA granule.",
    ),
    Code(
        "cma-too-many-areas",
        "error",
        "resolve",
        title="Not enough CMA area slots",
        meaning="More CMA areas than CONFIG_CMA_AREAS allows; the extra ones are not created.",
        fix="Raise CONFIG_CMA_AREAS or declare fewer CMA pools.",
    ),
    Code(
        "cma-not-activated",
        "error",
        "resolve",
        title="CMA area spans a zone boundary",
        meaning=(
            "cma_activate_area() requires every page of an area to be in one memory zone; an area that "
            "crosses a zone boundary (e.g. 4 GiB between ZONE_DMA/DMA32 and ZONE_NORMAL on arm64) is not "
            "activated ('CMA area ... could not be activated'): it is not in CmaTotal and its pages go to "
            "the normal allocator."
        ),
        fix="Move or shrink the area so that it lies on one side of the boundary (e.g. add a limit).",
    ),
    Code(
        "cma-limit-clipped",
        "info",
        "resolve",
        title="Global CMA area limited by the DMA zone",
        meaning=(
            "On arm64 the global CMA area must lie in the lowest DMA zone; a user limit can only lower that "
            "before 6.16."
        ),
        fix="Nothing to do unless the area is expected above the DMA zone.",
    ),
    Code(
        "cma-size-zero",
        "info",
        "resolve",
        title="No global CMA area",
        meaning="The selected size of the global CMA area is zero, so none is created.",
        fix="Set cma= or CONFIG_CMA_SIZE_MBYTES/PERCENTAGE if a global area is wanted.",
    ),
    Code(
        "kconfig-cma-size-wraps",
        "warning",
        "resolve",
        title="Kconfig CMA size wraps around",
        meaning=(
            "CONFIG_CMA_SIZE_MBYTES or CONFIG_CMA_SIZE_PERCENTAGE is negative or too large. Kconfig gives "
            "them no range, so the kernel builds, and computes the size in unsigned arithmetic: a huge "
            "size that cannot be reserved (the boot has no global CMA area) or one that wraps to 0."
        ),
        fix="Write the size the global CMA area should have (0 to disable it).",
    ),
    Code(
        "hugetlb-cma-unsupported",
        "warning",
        "resolve",
        title="hugetlb_cma= ignored",
        meaning=(
            "hugetlb_cma= exists from Linux 5.7; this kernel does not know the parameter, so no hugetlb "
            "CMA area is made."
        ),
        fix="Drop the parameter, or check the kernel version.",
    ),
    Code(
        "numa-cma-unsupported",
        "warning",
        "resolve",
        title="cma_pernuma= / numa_cma= ignored",
        meaning=(
            "The kernel has no per-node CMA code (CONFIG_DMA_PERNUMA_CMA before 6.6, arm64 only; "
            "CONFIG_DMA_NUMA_CMA from 6.6), so the parameter is unknown to it and no per-node area is made."
        ),
        fix="Enable the option in the .config, or drop the parameter.",
    ),
    Code(
        "numa-cma-offline",
        "warning",
        "resolve",
        title="numa_cma= names a node that is not online",
        meaning=(
            "The kernel skips a numa_cma= entry for a node that does not exist ('invalid node %d "
            "specified')."
        ),
        fix="Use the node ids of the machine (numa-node-id of the /memory nodes).",
    ),
    Code(
        "rmem-overlap",
        "error",
        "resolve",
        title="Reserved regions overlap (OVERLAP DETECTED)",
        meaning=(
            "Two registered reserved-memory regions overlap; the kernel only reports it and both stay as "
            "they are."
        ),
        fix="Move or resize one of the regions.",
    ),
    Code(
        "rmem-outside-ram",
        "warning",
        "resolve",
        title="Region outside RAM",
        meaning="A reserved region lies (partly) outside every RAM bank.",
        fix="Check the region's address and the /memory banks.",
    ),
    Code(
        "rmem-unsupported-format",
        "error",
        "resolve",
        title="/reserved-memory ignored (unsupported node format)",
        meaning=(
            "/reserved-memory must have #address-cells and #size-cells equal to the root's and a ranges "
            "property; otherwise the kernel ignores the whole node."
        ),
        fix="Copy the root's #address-cells/#size-cells and add an empty ranges property.",
    ),
    Code(
        "rmem-bad-reg",
        "error",
        "resolve",
        title="Invalid reg property",
        meaning=(
            "The reg length is not a multiple of the root address+size cells; the node is skipped (6.19: "
            "treated as having no reg)."
        ),
        fix="Write reg with the root's #address-cells and #size-cells.",
    ),
    Code(
        "rmem-bad-size",
        "error",
        "resolve",
        title="Invalid size property",
        meaning="size must be exactly #size-cells long; the node is skipped.",
        fix="Write size with the root's #size-cells (e.g. <0 0x4000000> for 2 cells).",
    ),
    Code(
        "rmem-bad-alignment",
        "error",
        "resolve",
        title="Invalid alignment property",
        meaning="alignment must be exactly #address-cells long; the node is skipped.",
        fix="Write alignment with the root's #address-cells.",
    ),
    Code(
        "rmem-bad-alloc-ranges",
        "error",
        "resolve",
        title="Invalid alloc-ranges property",
        meaning=(
            "alloc-ranges must be (address, size) pairs in root cells; the node is skipped (6.19: allocated "
            "anywhere)."
        ),
        fix="Write alloc-ranges as <address size> pairs in root cells.",
    ),
    Code(
        "rmem-no-reg-or-size",
        "warning",
        "resolve",
        title="Reserved-memory child without reg or size",
        meaning="A /reserved-memory child with neither reg nor size is ignored by the kernel.",
        fix="Add reg (static) or size (dynamic).",
    ),
    Code(
        "rmem-reserve-failed",
        "error",
        "resolve",
        title="Static region could not be reserved",
        meaning="'failed to reserve memory for node': a zero size, or a no-map range already reserved.",
        fix="Fix the size or remove the conflicting reservation.",
    ),
    Code(
        "rmem-alloc-failed",
        "error",
        "resolve",
        title="Dynamic region could not be placed",
        meaning=(
            "'failed to allocate memory for node': no free range of that size and alignment in the allowed "
            "windows; the node is dropped."
        ),
        fix="Reduce the size or alignment or widen alloc-ranges.",
    ),
    Code(
        "rmem-extra-reg",
        "warning",
        "resolve",
        title="Only the first reg entry is registered",
        meaning=(
            "All reg entries are reserved, but only the first becomes the region devices see (6.19+: a node "
            "with several entries is not registered at all)."
        ),
        fix="Split the node into one node per range.",
    ),
    Code(
        "rmem-too-many",
        "error",
        "resolve",
        title="Too many reserved-memory regions",
        meaning=(
            "The kernel keeps a fixed number of regions (32 up to 5.6, 64 later); extra static nodes are "
            "reserved but not registered, extra dynamic nodes are never allocated."
        ),
        fix="Merge regions or use a newer kernel.",
    ),
    Code(
        "rmem-disabled",
        "info",
        "resolve",
        title="Disabled reserved-memory node",
        meaning="A /reserved-memory child with status other than okay is skipped completely.",
        fix="Set status = \"okay\" if the region is wanted.",
    ),
    Code(
        "rmem-init-failed",
        "error",
        "resolve",
        title="Reserved-memory handler refused the node",
        meaning=(
            "A handler for the compatible refused the node ('compatible matching fail'); the region is "
            "released."
        ),
        fix="See the message for the handler's reason.",
    ),
    Code(
        "rmem-memreserve-overlap",
        "warning",
        "resolve",
        title="Dynamic region over a /memreserve/ range",
        meaning=(
            "On 6.13+ dynamic regions are allocated before /memreserve/ entries are reserved, so they can "
            "land on them."
        ),
        fix="Add the /memreserve/ range as a static /reserved-memory node, or constrain alloc-ranges.",
    ),
    Code(
        "memory-none",
        "error",
        "resolve",
        title="No RAM",
        meaning="No usable /memory bank (or --memory map) was found, so nothing can be placed.",
        fix="Add a /memory node with device_type = \"memory\" or pass --memory.",
    ),
    Code(
        "memory-ignored",
        "info",
        "resolve",
        title="Memory bank ignored",
        meaning=(
            "A /memory node or entry was skipped (disabled, zero size, not a direct child of the root on "
            "6.1+)."
        ),
        fix="Fix the node if the memory is meant to be used.",
    ),
    Code(
        "memory-base-guessed",
        "warning",
        "resolve",
        title="RAM base address guessed",
        meaning=(
            "memory= gave only a RAM size and the Device Tree names no /memory base address, so the start "
            "of RAM was guessed (the 256 MiB boundary below the lowest reserved-memory address, or 0); "
            "every address in the layout depends on that guess."
        ),
        fix=(
            "Pass memory= as a list of (base, size) pairs, or add a /memory node with a reg to the Device "
            "Tree."
        ),
    ),
    Code(
        "mem-zero-ignored",
        "info",
        "resolve",
        title="mem=0 is no limit",
        meaning=(
            "arm64 and riscv ignore a zero memory limit (memblock_mem_limit_remove_map(0) and "
            "memblock_enforce_memory_limit(0) return at once): all RAM stays (recorded boot "
            "arm64-6.12-mem0)."
        ),
        fix="Drop mem=0, or give the size you mean.",
    ),
    Code(
        "mem-zero-no-ram",
        "error",
        "resolve",
        title="mem=0 leaves no RAM on arm",
        meaning=(
            "On 32-bit ARM the first mem= deletes the Device Tree memory and every mem= adds a bank of "
            "the given size: mem=0 leaves none, the CMA reservation fails and the boot stops "
            "(recorded boots armmp-6.12-mem0, armmp-lpae-6.12-mem0)."
        ),
        fix="Drop mem=0 or give a real size (mem=size[@start]).",
    ),
    Code(
        "memory-above-4g",
        "warning",
        "resolve",
        title="RAM above 4 GiB is lost without LPAE",
        meaning=(
            "A 32-bit ARM kernel without CONFIG_ARM_LPAE has a 32-bit phys_addr_t: Device Tree memory at "
            "and above 4 GiB is ignored ('OF: fdt: Ignoring memory range') and a bank reaching 4 GiB loses "
            "its last page (recorded boots armmp-6.12-kconfig-3g, armmp-6.12-kconfig-4g)."
        ),
        fix="Use an LPAE kernel (CONFIG_ARM_LPAE) to use RAM above 4 GiB.",
    ),
    Code(
        "arm32-vmalloc-clamped",
        "warning",
        "resolve",
        title="vmalloc= out of range on 32-bit ARM",
        meaning=(
            "arch/arm/mm/mmu.c takes a vmalloc area of at least 16 MiB and at most what leaves 32 MiB of "
            "lowmem; the kernel prints 'vmalloc area is too small/big, limiting to ...' and uses the "
            "bound. Lowmem (and so where highmem starts) follows the bound, not the given value."
        ),
        fix="Give a vmalloc= size within the range.",
    ),
    Code(
        "arm-dma-zone-assumed",
        "info",
        "resolve",
        title="32-bit ARM DMA zone assumed",
        meaning=(
            "The limit of the global CMA area on 32-bit ARM (arm_dma_limit) depends on CONFIG_ZONE_DMA and "
            "on the machine the Device Tree's root compatible picks, which must be built into the kernel "
            "(CONFIG_ARCH_KEYSTONE, CONFIG_ARCH_BCM2835 ...). No .config was given, or it was read with "
            "memplan's bundled Kconfig model and does not set these symbols, so the kernel most likely built "
            "for the board was assumed: its machine built in and CONFIG_ZONE_DMA=y (multi_v7_defconfig and "
            "distribution kernels have it). The note names the assumed symbols and the resulting limit."
        ),
        fix=("Pass the kernel's full .config (the build writes CONFIG_ZONE_DMA and the machine's symbols "
             "into it); memplan lint reads defconfigs with the kernel tree's own Kconfig files."),
    ),
    Code(
        "cma-lowmem-remap-hang",
        "error",
        "resolve",
        title="arm32 lowmem CMA pool not 2 MiB aligned: the boot hangs",
        meaning=(
            "A reusable static shared-dma-pool in 32-bit ARM lowmem whose base or size is not a multiple "
            "of 2 MiB is queued for arm's dma_contiguous_remap(), which works on whole 2 MiB sections; "
            "Linux 6.12 stops right after 'cma: Reserved ...' (recorded boots "
            "armmp-6.12-lowmem-misaligned-hang and armmp-lpae-6.12-lowmem-misaligned-hang). In highmem "
            "the same pool is only rejected."
        ),
        fix="Align the pool's base and size to the CMA granule (2 MiB, 8 MiB on armmp-style configs), "
        "or move it to highmem.",
    ),
    Code(
        "mem-limit",
        "info",
        "resolve",
        title="mem= limits RAM",
        meaning="mem= removed RAM from the map the kernel uses.",
        fix="Nothing to do if intended.",
    ),
    Code(
        "memmap-applied",
        "info",
        "resolve",
        title="memmap= changed the memory map",
        meaning="A memmap= element added, removed or retyped a range of the x86 E820 map.",
        fix="Nothing to do if intended.",
    ),
    Code(
        "device-dangling-region",
        "error",
        "resolve",
        title="memory-region points at nothing",
        meaning="A memory-region phandle does not resolve to any node.",
        fix="Point memory-region at an existing /reserved-memory child.",
    ),
    Code(
        "device-region-disabled",
        "warning",
        "resolve",
        title="memory-region points at a disabled node",
        meaning="The target node is disabled; the kernel reports success but attaches nothing.",
        fix="Enable the region or drop the reference.",
    ),
    Code(
        "device-region-unavailable",
        "warning",
        "resolve",
        title="memory-region target not usable",
        meaning=(
            "The target region was not registered (rejected, failed or bypassed), so the device gets "
            "-EINVAL from of_reserved_mem_device_init."
        ),
        fix="Fix the region's diagnostics.",
    ),
    Code(
        "device-region-not-reserved",
        "warning",
        "resolve",
        title="memory-region target outside /reserved-memory",
        meaning="The phandle points at a node that is not a /reserved-memory child.",
        fix="Point memory-region at a /reserved-memory child.",
    ),
    Code(
        "device-names-mismatch",
        "warning",
        "resolve",
        title="memory-region-names count differs",
        meaning="memory-region-names does not have one name per memory-region entry.",
        fix="Give one name per phandle.",
    ),
    Code(
        "crashkernel-failed",
        "error",
        "resolve",
        title="crashkernel= could not be reserved",
        meaning="No room for the crash kernel (or the fixed range is in use).",
        fix="Reduce the size or choose another offset.",
    ),
    Code(
        "crashkernel-zero",
        "warning",
        "resolve",
        title="crashkernel= selects nothing",
        meaning=(
            "No range of crashkernel=range:size matched the RAM size ('crashkernel size resulted in zero "
            "bytes')."
        ),
        fix="Add a range that covers this machine's RAM size.",
    ),
    Code(
        "crashkernel-high-ignored",
        "warning",
        "resolve",
        title="crashkernel=,high has no effect on 32-bit ARM",
        meaning=(
            "32-bit ARM reserves the crash kernel in its own reserve_crashkernel() "
            "(arch/arm/kernel/setup.c), which reads only crashkernel=SIZE[@OFFSET] and the range form: "
            "a crashkernel=SIZE,high without a plain crashkernel= leaves the machine without a crash "
            "kernel, silently."
        ),
        fix="Use crashkernel=SIZE (it is placed in lowmem).",
    ),
    Code(
        "cmdline-cma-no-value",
        "error",
        "cmdline",
        title="cma without a value",
        meaning=(
            "A bare cma (no '=') gives the kernel's cma handler nothing to parse; from v5.4 the kernel "
            "reports that no config string was provided and the parameter changes nothing; older kernels "
            "have no such check."
        ),
        fix="Write cma=SIZE[@BASE][-LIMIT], or remove the parameter.",
        other_severities=('warning',),
    ),
    Code(
        "cmdline-cma-trailing",
        "info",
        "cmdline",
        title="Text after the cma= value",
        meaning=(
            "Characters follow the size, base or limit that the kernel's parser does not read (cma=64MB "
            "reads as 64 MiB); they are ignored."
        ),
        fix="Remove the trailing characters so the parameter says exactly what the kernel uses.",
    ),
    Code(
        "cmdline-cma-no-size",
        "warning",
        "cmdline",
        title="cma= without a number",
        meaning=(
            "An empty cma= (or one whose value starts with no digit) reads as size 0; it still counts as a "
            "command-line cma= and disables the global CMA area (and, from v5.6, the DT default node)."
        ),
        fix="Write the size you mean (cma=64M), or cma=0 to disable the area on purpose.",
        other_severities=('info',),
    ),
    Code(
        "cmdline-cma-pernuma-invalid",
        "warning",
        "cmdline",
        title="cma_pernuma without a value",
        meaning="cma_pernuma has no size, so no per-node CMA areas are requested.",
        fix="Write cma_pernuma=SIZE, or remove it.",
    ),
    Code(
        "cmdline-cma-pernuma-trailing",
        "info",
        "cmdline",
        title="Text after the cma_pernuma= size",
        meaning="The kernel reads the size and ignores whatever follows it.",
        fix="Remove the trailing characters.",
    ),
    Code(
        "cmdline-numa-cma-invalid",
        "warning",
        "cmdline",
        title="numa_cma without a value",
        meaning="numa_cma needs a list of node:size pairs; with none, no per-node areas are requested.",
        fix="Write numa_cma=NODE:SIZE[,NODE:SIZE...], or remove it.",
    ),
    Code(
        "cmdline-hugetlb-cma-invalid",
        "warning",
        "cmdline",
        title="hugetlb_cma without a value",
        meaning="hugetlb_cma has no size, so no CMA area for gigantic huge pages is requested.",
        fix="Write hugetlb_cma=SIZE (or NODE:SIZE pairs), or remove it.",
    ),
    Code(
        "cmdline-hugetlb-cma-trailing",
        "info",
        "cmdline",
        title="Text after the hugetlb_cma= value",
        meaning="The kernel reads the value and ignores whatever follows it.",
        fix="Remove the trailing characters.",
    ),
    Code(
        "cmdline-cma-repeated",
        "info",
        "cmdline",
        title="cma= given more than once",
        meaning=(
            "Every cma= is applied in order: the last size wins, while a base or limit from an earlier cma= "
            "stays unless the later one gives its own."
        ),
        fix="Keep a single cma= with every field you mean.",
    ),
    Code(
        "cmdline-ignored",
        "info",
        "cmdline",
        title="Parameter ignored",
        meaning=(
            "The kernel will not act on this parameter here (for example it has no handler on this "
            "architecture, or is disabled by the configuration); the message says why."
        ),
        fix="Remove the parameter, or use the mechanism this kernel provides instead.",
        other_severities=('warning',),
    ),
    Code(
        "cmdline-crashkernel-substring",
        "info",
        "cmdline",
        title="crashkernel= found inside another word",
        meaning=(
            "The kernel finds crashkernel= with a plain text search of the command line, so it also matches "
            "inside another parameter's value, and uses it."
        ),
        fix="Rename or remove the text that contains 'crashkernel=' by accident.",
    ),
    Code(
        "cmdline-crashkernel-after-terminator",
        "info",
        "cmdline",
        title="crashkernel= after '--'",
        meaning=(
            "Parameters after '--' normally go to init, but the kernel's text search for crashkernel= still "
            "finds and uses this one."
        ),
        fix="Move crashkernel= before '--' (or remove it) so the command line reads as it behaves.",
    ),
    Code(
        "cmdline-crashkernel-invalid",
        "warning",
        "cmdline",
        title="crashkernel= not understood",
        meaning=(
            "The value does not parse in any crashkernel form, so no memory is reserved for a crash kernel."
        ),
        fix=(
            "Use one of crashkernel=SIZE[@OFFSET], crashkernel=RANGE:SIZE[,RANGE:SIZE...], "
            "crashkernel=SIZE,high / ,low."
        ),
    ),
    Code(
        "cmdline-truncated",
        "warning",
        "cmdline",
        title="Command line longer than the kernel keeps",
        meaning=(
            "The kernel copies the command line into a fixed-size buffer; what does not fit is dropped, "
            "including any parameters in it."
        ),
        fix="Shorten the command line, or move parameters into the Device Tree or the configuration.",
    ),
    Code(
        "cmdline-dt-bootargs-ignored",
        "info",
        "cmdline",
        title="/chosen/bootargs not used on x86",
        meaning="x86 takes its command line from the boot protocol; the Device Tree bootargs have no effect.",
        fix="Pass the command line through the bootloader (--cmdline).",
    ),
    Code(
        "cmdline-extend-unavailable",
        "warning",
        "cmdline",
        title="CMDLINE_EXTEND not available",
        meaning=(
            "arm64 has CONFIG_CMDLINE_EXTEND only in v5.11 (before, a lone CMDLINE_FORCE; from v5.12 it is "
            "gone); the setting is treated as taking the bootloader's command line."
        ),
        fix="Use CONFIG_CMDLINE_FORCE or put the extra parameters in the bootloader's command line.",
    ),
    Code(
        "cmdline-forced-empty",
        "warning",
        "cmdline",
        title="Forced empty built-in command line",
        meaning=(
            "CMDLINE_FORCE (or x86 CMDLINE_OVERRIDE) copies CONFIG_CMDLINE over the bootloader's string "
            "even when it is empty, so the kernel boots with no parameters."
        ),
        fix="Put the parameters into CONFIG_CMDLINE, or drop CMDLINE_FORCE / CMDLINE_OVERRIDE.",
    ),
    Code(
        "cmdline-bootargs-replaced",
        "info",
        "cmdline",
        title="Bootloader command line replaces bootargs",
        meaning="A command line given by the bootloader is used instead of /chosen/bootargs.",
        fix="Nothing to do if intended; otherwise pass the parameters through the bootloader.",
    ),
    Code(
        "cmdline-no-chosen",
        "warning",
        "cmdline",
        title="No /chosen node",
        meaning=(
            "Without a /chosen node the kernel of this version never reaches the code that applies "
            "CONFIG_CMDLINE, so it boots with an empty command line."
        ),
        fix="Add an empty chosen { }; node to the Device Tree.",
    ),
    Code(
        "cmdline-bootargs-overridden",
        "info",
        "cmdline",
        title="CONFIG_CMDLINE_FORCE replaces the command line",
        meaning=(
            "With CMDLINE_FORCE the built-in command line is used and the bootloader's or bootargs string "
            "is not."
        ),
        fix="Drop CMDLINE_FORCE if the bootloader's parameters should count.",
    ),
    Code(
        "cmdline-mem-invalid",
        "warning",
        "cmdline",
        title="mem= without a usable value",
        meaning="mem= has no value (or a value the kernel rejects), so it is ignored.",
        fix="Write mem=SIZE.",
    ),
    Code(
        "cmdline-mem-nopentium",
        "info",
        "cmdline",
        title="mem=nopentium does not limit memory",
        meaning="On 32-bit x86 mem=nopentium only turns off large pages; it is not a memory limit.",
        fix="Use mem=SIZE to limit memory.",
    ),
    Code(
        "cmdline-mem-trailing",
        "info",
        "cmdline",
        title="Text after the mem= size",
        meaning="The kernel reads the size and ignores what follows.",
        fix="Remove the trailing characters.",
    ),
    Code(
        "cmdline-mem-zero",
        "info",
        "cmdline",
        title="mem=0 means no limit",
        meaning="A zero size leaves memory unlimited rather than removing it.",
        fix="Remove mem=0, or give the size you mean.",
        other_severities=('warning',),
    ),
    Code(
        "cmdline-mem-limit",
        "info",
        "cmdline",
        title="mem= limits RAM",
        meaning="RAM above the given amount is removed from what the kernel uses.",
        fix="Nothing to do if intended.",
    ),
    Code(
        "cmdline-memmap-eaten-dollar",
        "warning",
        "cmdline",
        title="memmap=SIZE probably lost its '$ADDRESS'",
        meaning=(
            "A bare memmap=SIZE is an address cap that removes all RAM above SIZE; usually a reservation "
            "memmap=SIZE$ADDRESS was meant and the bootloader (GRUB) consumed the '$' and the address."
        ),
        fix="Escape the dollar sign in grub.cfg (memmap=SIZE\\$ADDRESS), or use another separator form.",
    ),
    Code(
        "cmdline-memmap-invalid",
        "warning",
        "cmdline",
        title="memmap= not understood",
        meaning="The element has no value or no form the kernel recognises, so the kernel ignores it.",
        fix=(
            "Use one of the memmap= forms documented for the architecture (nn@ss, nn#ss, nn$ss, nn!ss, "
            "nn%ss-n+m, exactmap)."
        ),
    ),
    Code(
        "cmdline-memmap-no-address",
        "warning",
        "cmdline",
        title="memmap= element without an address",
        meaning=(
            "Nothing follows the separator ('@', '#', '$', '!'), so the kernel applies the element at "
            "address 0."
        ),
        fix="Write the start address after the separator.",
    ),
    Code(
        "cmdline-memmap-trailing",
        "warning",
        "cmdline",
        title="Text after a memmap= element",
        meaning=(
            "Characters after the element are not part of any form; the kernel still applies the element it "
            "read."
        ),
        fix="Remove the trailing characters.",
    ),
    Code(
        "cmdline-memmap-escape",
        "info",
        "cmdline",
        title="'\\$' read as '$'",
        meaning="A backslash before '$' is a GRUB escape: GRUB removes it, so the kernel sees a plain '$'.",
        fix="Nothing to do when the command line comes from grub.cfg; elsewhere remove the backslash.",
    ),
    Code(
        "cmdline-swiotlb-invalid",
        "warning",
        "cmdline",
        title="swiotlb= without a value",
        meaning="swiotlb has no value, so the bounce-buffer size is not changed.",
        fix="Write swiotlb=SLABS[,force|noforce].",
    ),
    Code(
        "cmdline-swiotlb-trailing",
        "warning",
        "cmdline",
        title="Unknown swiotlb= option",
        meaning="The part after the slab count is neither 'force' nor 'noforce'; the kernel ignores it.",
        fix="Use 'force' or 'noforce', or remove the option.",
    ),
    Code(
        "cmdline-coherent-pool-invalid",
        "warning",
        "cmdline",
        title="coherent_pool= without a value",
        meaning="coherent_pool has no size, so the atomic DMA pool keeps its default size.",
        fix="Write coherent_pool=SIZE.",
    ),
    Code(
        "cmdline-coherent-pool-trailing",
        "info",
        "cmdline",
        title="Text after the coherent_pool= size",
        meaning="The kernel reads the size and ignores what follows.",
        fix="Remove the trailing characters.",
    ),
    Code(
        "cmdline-hugepages-invalid",
        "warning",
        "cmdline",
        title="hugepages= without a value",
        meaning="hugepages has no count, so no huge pages are preallocated by it.",
        fix="Write hugepages=COUNT (after hugepagesz=SIZE for a non-default size).",
    ),
    Code(
        "cmdline-hugepages-repeated",
        "warning",
        "cmdline",
        title="hugepages= repeated for the same size",
        meaning=(
            "A second hugepages= for the same page size without a hugepagesz= in between is ignored by the "
            "kernel."
        ),
        fix="Keep one hugepages= per hugepagesz=.",
    ),
    Code(
        "cmdline-hugepages-trailing",
        "info",
        "cmdline",
        title="Text after the hugepages= count",
        meaning="The kernel reads the count and ignores what follows.",
        fix="Remove the trailing characters.",
    ),
    Code(
        "cmdline-nul",
        "warning",
        "cmdline",
        title="NUL character in the command line",
        meaning=(
            "The kernel treats the command line as a C string and stops reading at the first NUL; "
            "everything after it is lost."
        ),
        fix=(
            "Remove the NUL character (often an artefact of how the string was written into the Device "
            "Tree)."
        ),
    ),
    Code(
        "cmdline-unbalanced-quote",
        "warning",
        "cmdline",
        title="Unclosed quote",
        meaning=(
            "A double quote is never closed, so the kernel reads the rest of the line as a single parameter "
            "value."
        ),
        fix="Close the quote.",
    ),
    Code(
        "cmdline-after-terminator",
        "warning",
        "cmdline",
        title="Parameter after '--'",
        meaning="Everything after '--' is passed to init; the kernel itself does not act on it.",
        fix="Move kernel parameters before '--'.",
    ),
    Code(
        "cmdline-memmap-exactmap-order",
        "warning",
        "cmdline",
        title="memmap=exactmap after other memmap= elements",
        meaning=(
            "exactmap empties the memory map when it is applied, so memmap= elements applied before it are "
            "lost."
        ),
        fix="Put memmap=exactmap first, then the elements.",
    ),
    Code(
        "cmdline-memmap-exactmap-no-ram",
        "error",
        "cmdline",
        title="memmap=exactmap without RAM",
        meaning=(
            "exactmap empties the memory map and no nn@ss element adds RAM back: the kernel has no usable "
            "memory."
        ),
        fix="Add nn@ss elements for the RAM after memmap=exactmap.",
    ),
    Code(
        "cpp-warning",
        "warning",
        "dts",
        title="C preprocessor warning",
        meaning=(
            "The preprocessor run over the .dts (as the kernel build does) reported a warning, for example "
            "a redefined macro."
        ),
        fix="Fix the #define or #include the message names.",
    ),
    Code(
        "cpp-not-confined",
        "info",
        "dts",
        title="System cpp not confined: pcpp ran instead",
        meaning=(
            "With --include-root (and --cpp auto or system), memplan runs the system C preprocessor in a "
            "private user and mount namespace where only the include roots exist. This system does not "
            "allow that (no unprivileged user namespaces, or a preprocessor memplan cannot confine), so the "
            "system cpp was "
            "not run at all; the pcpp back end, whose every file read memplan checks itself, preprocessed "
            "the source instead."
        ),
        fix="Allow unprivileged user namespaces, or drop --include-root to run the system cpp unconfined.",
    ),
    Code(
        "dtc-value-truncated",
        "warning",
        "dts",
        title="array element truncated",
        meaning=(
            "An array element does not fit its cell size (< 0x100000000 >, /bits/ 8 <256>). dtc 1.7.0 and "
            "later (the kernel's own scripts/dtc since it imported that change) keep the low bits and warn; "
            "dtc 1.6.1 and older refuse the tree. memplan reports this only when told to follow dtc 1.7 "
            "(--dtc-version, or a kernel tree's scripts/dtc in memplan lint)."
        ),
        fix="Write the value that is meant to be stored, or split it over two cells (/bits/ 64 or <hi lo>).",
    ),
    Code(
        "dtc-from-kernel",
        "info",
        "dts",
        title="dtc chosen by the kernel version",
        meaning=(
            "The kernel builds its DTBs with its own copy of dtc (scripts/dtc), and dtc versions differ "
            "where an array element is out of range. Given the kernel version and no dtc version, memplan "
            "follows the dtc that release carries (from 6.3 on, a dtc that truncates with a warning; "
            "before, one that refuses the tree), and says which."
        ),
        fix="Nothing, when the board is built by that kernel's tree; give --dtc-version (dtc_version= in "
        "Python) to follow another dtc, e.g. the one installed on the build host.",
    ),
    Code(
        "dt-too-deep-for-kernel",
        "warning",
        "dts",
        title="Nodes deeper than the kernel unflattens",
        meaning=(
            "dtc builds the tree, but the kernel skips every node 63 or more levels below the root when it "
            "unflattens the blob (FDT_MAX_DEPTH 64), with a WARN at boot: those nodes are missing from the "
            "live tree and no driver binds to them. The early memory scans read the flat tree and still "
            "see /reserved-memory and /memory."
        ),
        fix="Flatten the node hierarchy: no real board nests more than about 10 levels.",
    ),
    Code(
        "dtc-reg-format",
        "warning",
        "dts",
        title="reg has the wrong length",
        meaning=(
            "A reg property is empty or its length is not a whole number of (address, size) entries for the "
            "parent's #address-cells and #size-cells; dtc only warns, but the kernel will read the entries "
            "differently from what was meant."
        ),
        fix=(
            "Make reg hold #address-cells + #size-cells cells per entry, or fix the parent's #address-cells "
            "/ #size-cells."
        ),
    ),
    Code(
        "dtc-ranges-format",
        "warning",
        "dts",
        title="ranges has the wrong length",
        meaning=(
            "A ranges property is not a whole number of (child address, parent address, size) entries, or "
            "is empty while the node's #address-cells / #size-cells differ from its parent's; addresses "
            "below this node then translate differently from what was meant."
        ),
        fix=(
            "Give ranges child-address + parent-address + size cells per entry, or match the cell counts "
            "when ranges is empty."
        ),
    ),
    Code(
        "dtc-dma-ranges-format",
        "warning",
        "dts",
        title="dma-ranges has the wrong length",
        meaning=(
            "A dma-ranges property is not a whole number of (child address, parent address, size) entries, "
            "or is empty while the cell counts differ from the parent's; DMA address translation below this "
            "node is then not what was meant."
        ),
        fix=(
            "Give dma-ranges child-address + parent-address + size cells per entry, or match the cell "
            "counts when it is empty."
        ),
    ),
    Code(
        "dtc-avoid-default-addr-size",
        "warning",
        "dts",
        title="Relying on default #address-cells / #size-cells",
        meaning=(
            "A node has reg or ranges but its parent does not say #address-cells or #size-cells, so the "
            "defaults (2 and 1) apply; dtc warns because the defaults are rarely what was meant."
        ),
        fix="Add #address-cells and #size-cells to the parent node.",
    ),
    Code(
        "kconfig-malformed-line",
        "warning",
        "kconfig",
        title="Malformed .config line",
        meaning=(
            "A line is neither a CONFIG_ assignment, a '# CONFIG_... is not set' line nor a comment; it is "
            "ignored."
        ),
        fix="Correct or remove the line.",
    ),
    Code(
        "kconfig-duplicate",
        "warning",
        "kconfig",
        title="Symbol set twice",
        meaning=(
            "The same CONFIG_ symbol is assigned on two lines; the last assignment wins, as in the kernel "
            "tools."
        ),
        fix="Keep one assignment per symbol.",
    ),
    Code(
        "kconfig-value-ignored",
        "warning",
        "kconfig",
        title="Value has no effect",
        meaning=(
            "The kernel's Kconfig rules decide this symbol themselves (it has no prompt, or it is always "
            "on), so the written value is not used."
        ),
        fix="Remove the line, or change the symbols that decide it.",
    ),
    Code(
        "kconfig-unmet-dependency",
        "warning",
        "kconfig",
        title="Symbol dropped: dependency not met",
        meaning=(
            "The symbol depends on others that are off in this configuration, so the kernel tools drop it."
        ),
        fix="Enable the dependencies the message names, or remove the line.",
    ),
    Code(
        "kconfig-not-in-version",
        "warning",
        "kconfig",
        title="Symbol does not exist in this kernel version",
        meaning=(
            "The symbol is not defined for this kernel version (renamed, added later or removed), so the "
            "line is ignored."
        ),
        fix="Use the symbol of this kernel version, or check the kernel version.",
    ),
    Code(
        "kconfig-out-of-range",
        "warning",
        "kconfig",
        title="Value outside the allowed range",
        meaning="The kernel tools replace an out-of-range number with the nearest bound of the range.",
        fix="Write a value inside the range the message gives.",
    ),
    Code(
        "kconfig-unknown-symbol",
        "warning",
        "kconfig",
        title="Unknown symbol",
        meaning=(
            "The line sets a symbol the Kconfig files do not define (with a kernel tree: any such symbol; "
            "with memplan's model: a likely misspelling of a symbol memplan reads). The kernel's tools skip "
            "the line without a word."
        ),
        fix="Correct the symbol name (names are case-sensitive) or remove the line.",
    ),
    Code(
        "kconfig-choice-override",
        "warning",
        "kconfig",
        title="Choice resolved differently",
        meaning=(
            "A choice (such as the CMA size selection) can have one member set; the value written for this "
            "member is overridden by the member the choice resolves to."
        ),
        fix="Set exactly one member of the choice to y.",
    ),
    Code(
        "kconfig-reserved-symbol",
        "warning",
        "kconfig",
        title="Symbol reserved by memplan's model",
        meaning=(
            "The symbol is internal to memplan's model of Kconfig and cannot be set from a .config; the "
            "line is ignored."
        ),
        fix="Remove the line.",
    ),
    Code(
        "kconfig-value-overridden",
        "warning",
        "kconfig",
        title="Value forced by select",
        meaning="The symbol is written as off, but another enabled symbol selects it, so it is on.",
        fix="Disable the selecting symbol, or accept the value.",
    ),
    Code(
        "kconfig-invalid-value",
        "warning",
        "kconfig",
        title="Value of the wrong type",
        meaning=(
            "The value is not valid for the symbol's type (bool, tristate, int, hex or string); the line is "
            "ignored."
        ),
        fix="Write a value of the symbol's type.",
    ),
    Code(
        "kconfig-version-assumed",
        "info",
        "kconfig",
        title="Kernel version assumed",
        meaning=(
            "No kernel version was given or found in the .config header, so a default version's Kconfig "
            "rules were used."
        ),
        fix="Pass the kernel version, or use a .config with its generated header.",
    ),
    Code(
        "kconfig-tool-warning",
        "info",
        "kconfig",
        title="Kconfig library warning",
        meaning="kconfiglib reported a warning while evaluating the configuration.",
        fix="Read the message; usually a symbol or value in the .config is wrong.",
        other_severities=('warning',),
    ),
    Code(
        "kconfig-arch-mismatch",
        "warning",
        "kconfig",
        title="Architecture differs from the .config",
        meaning=(
            "The architecture given and the one the .config's symbols or header name disagree; the message "
            "says which is used."
        ),
        fix="Pass the architecture the .config was made for.",
    ),
    Code(
        "kconfig-version-mismatch",
        "warning",
        "kconfig",
        title="Kernel version differs from the .config header",
        meaning=(
            "The header of the .config names another kernel version than the one given; the given one is "
            "used."
        ),
        fix="Pass the version of the kernel the .config belongs to.",
    ),
    Code(
        "kconfig-arch-generic",
        "info",
        "kconfig",
        title=".config read with the generic model",
        meaning=(
            "memplan has no Kconfig model for this architecture (mips, powerpc, ...): the .config is "
            "evaluated against a generic one, so every layout symbol takes the value the file gives and "
            "a symbol it leaves out gets the generic Kconfig default, not the architecture's."
        ),
        fix="Give a full .config (make olddefconfig output or /proc/config.gz) rather than a defconfig.",
    ),
    Code(
        "kconfig-version-unmodelled",
        "info",
        "kconfig",
        title="Kernel older than the Kconfig model",
        meaning=(
            "memplan models Kconfig from a certain kernel version on; older kernels use the oldest rules it "
            "has."
        ),
        fix="Nothing to do; results for very old kernels may differ in details.",
    ),
    Code(
        "kconfig-header-version",
        "warning",
        "kconfig",
        title="Unreadable version in the .config header",
        meaning="The header line that normally names the kernel version could not be read.",
        fix="Pass the kernel version explicitly.",
    ),
    Code(
        "observe-malformed-line",
        "warning",
        "observe",
        title="Unrecognised line in an observed file",
        meaning=(
            "A line of /proc/iomem, /proc/meminfo, a boot log or debugfs is in no format memplan knows; it "
            "is ignored."
        ),
        fix="Check that the file is what it should be (and not truncated or edited).",
    ),
    Code(
        "observed-cmatotal-differs",
        "info",
        "observe",
        title="CmaTotal differs from the areas found",
        meaning=(
            "The total CMA size in /proc/meminfo does not equal the sum of the CMA areas found elsewhere; "
            "an area may be missing from the observation."
        ),
        fix="Collect debugfs or sysfs CMA information as well, or the boot log.",
    ),
    Code(
        "observed-overlap",
        "warning",
        "observe",
        title="Kernel reported an overlap",
        meaning="The boot log says two reserved-memory regions overlap (OVERLAP DETECTED).",
        fix="Move or resize one of the regions in the Device Tree.",
    ),
    Code(
        "observe-debugfs-incomplete",
        "warning",
        "observe",
        title="Incomplete CMA debugfs directory",
        meaning="A CMA area directory in debugfs lacks base_pfn or count, so the area's range is unknown.",
        fix="Collect the whole /sys/kernel/debug/cma directory.",
    ),
    Code(
        "observe-unreadable",
        "warning",
        "observe",
        title="Observed file cannot be read",
        meaning=(
            "A file of the observation could not be read (permissions or I/O error); its information is "
            "missing."
        ),
        fix="Run with the needed privileges, or copy the file readable.",
    ),
    Code(
        "observe-iomem-hidden",
        "warning",
        "observe",
        title="/proc/iomem read without privileges",
        meaning=(
            "Every address in /proc/iomem is zero, which is what unprivileged readers see; the addresses "
            "are ignored."
        ),
        fix="Read /proc/iomem as root.",
    ),
    Code(
        "observe-duplicate",
        "warning",
        "observe",
        title="Input given twice",
        meaning="Two inputs of the same kind were given; only the first is used.",
        fix="Give each kind of input once.",
    ),
    Code(
        "observe-empty-snapshot",
        "warning",
        "observe",
        title="Empty snapshot",
        meaning="The snapshot directory holds none of the files memplan reads, so nothing was observed.",
        fix="Point at a directory that holds iomem, meminfo, dmesg, cma/, mm-cma/ or fdt.",
    ),
    Code(
        "observe-binary-input",
        "warning",
        "observe",
        title="Binary file among the observed inputs",
        meaning=(
            "A file given as observed state holds NUL bytes (or is not UTF-8 and matched no known format), "
            "so it is not a text snapshot; it is skipped."
        ),
        fix=(
            "Pass the text files a kernel reports (/proc/iomem, /proc/meminfo, dmesg) or a snapshot "
            "directory; a DTB belongs in the snapshot as fdt."
        ),
    ),
    Code(
        "observe-not-utf8",
        "warning",
        "observe",
        title="Observed file is not valid UTF-8",
        meaning=(
            "A recognised file (e.g. a boot log) contains bytes that are not UTF-8; those bytes are "
            "replaced and the rest is read."
        ),
        fix="Capture the file again (e.g. dmesg > dmesg.txt) or check it was not corrupted in transfer.",
    ),
    Code(
        "observe-unrecognised-file",
        "warning",
        "observe",
        title="File not recognised as observed state",
        meaning=(
            "A file matched none of the known formats by name or content and produced no recognised "
            "boot-log line, so nothing was learned from it."
        ),
        fix="Name it after what it holds (iomem, meminfo, dmesg) or pass only the files memplan can read.",
    ),
    Code(
        "observe-fdt-invalid",
        "warning",
        "observe",
        title="DTB could not be read",
        meaning="The Device Tree blob of the snapshot is malformed.",
        fix="Collect /sys/firmware/fdt again.",
    ),
    Code(
        "observe-missing-source",
        "info",
        "observe",
        title="Boot log not read",
        meaning="Neither dmesg nor /dev/kmsg could be read, so the boot log is missing from the observation.",
        fix="Run with the privileges needed to read the kernel log, or pass a saved log.",
        other_severities=('warning',),
    ),
    Code(
        "build-failed",
        "error",
        "lint",
        title="The board's Device Tree does not build",
        meaning=(
            "The board .dts could not be preprocessed or parsed (a missing include, a syntax error, an "
            "unknown label ...). Nothing about its memory layout can be said."
        ),
        fix="Fix the Device Tree so that `make dtbs` builds it; the message names the file and line.",
    ),
    Code(
        "lint-memory-assumed",
        "info",
        "lint",
        title="RAM assumed for a board whose boot loader fills in /memory",
        meaning=(
            "The board's /memory gives no size (or there is no /memory node): the boot loader writes it at "
            "boot. The lint lays the board out on an assumed RAM bank (at least 1 GiB from the /memory "
            "address, grown to cover every static reservation and twice the dynamically sized ones) so "
            "that its reservations can still be checked; findings that depend on the real RAM size "
            "cannot be judged."
        ),
        fix=(
            "Nothing, if the boot loader fills in /memory; lint the board with its real RAM through "
            "`memplan resolve --memory SIZE` to check those findings."
        ),
    ),
    Code(
        "lint-defconfig",
        "info",
        "lint",
        title="The board was linted with another defconfig than the architecture's default",
        meaning=(
            "The architecture's default defconfig (multi_v7_defconfig on arm) does not build this board, or "
            "cannot run it (a Cortex-M CPU needs a kernel without MMU, RAM only above 4 GiB needs LPAE), so "
            "the lint used the defconfig the tree implies: one that enables the CONFIG_ symbol whose dtb- "
            "line in the board's Makefile builds it. The message names the defconfig and why."
        ),
        fix="Nothing; pass --config to lint with a configuration of your own.",
    ),
    Code(
        "lint-config-bundled-model",
        "info",
        "lint",
        title="The tree has no Kconfig files: memplan's own Kconfig model was used",
        meaning=(
            "The source tree has no top-level Kconfig (a stripped or partial tree), so the configuration "
            "was read against memplan's bundled model of the symbols it needs, for the tree's release, "
            "instead of the tree's own Kconfig files."
        ),
        fix=(
            "Nothing, for a tree that keeps only arch/ and the Device Tree files; lint a complete tree to "
            "have its own Kconfig rules applied."
        ),
    ),
    Code(
        "lint-resolve-failed",
        "error",
        "lint",
        title="The board builds but its layout cannot be resolved",
        meaning=(
            "The Device Tree builds, but memplan cannot lay it out (for example a value the resolver cannot "
            "read); the message says why."
        ),
        fix="Fix the input the message names, or report the board to memplan if the kernel accepts it.",
    ),
    Code(
        "lint-internal-error",
        "error",
        "lint",
        title="memplan failed on this board",
        meaning=(
            "An unexpected exception inside memplan (a memplan bug, not a fault of the board); the other "
            "boards are still linted."
        ),
        fix="Report the board and the message to memplan.",
    ),
    Code(
        "observe-archive-member-refused",
        "warning",
        "observe",
        title="Snapshot archive member not read",
        meaning=(
            "A member of a .tar.gz snapshot was refused: a symbolic or hard link (links are never "
            "followed), a device or FIFO, a name that is absolute or climbs out with '..', or a second "
            "member of the same name."
        ),
        fix=(
            "Create the snapshot with memplan collect's script, which stores only regular files below one "
            "top directory."
        ),
    ),
    Code(
        "observe-manifest-format",
        "warning",
        "observe",
        title="Unknown snapshot manifest format",
        meaning=(
            "The MANIFEST of a snapshot archive declares a format version this memplan does not know; its "
            "lines are read as format 1 and may be misread."
        ),
        fix="Use the collect script printed by the same memplan version that reads the snapshot.",
    ),
    Code(
        "observe-snapshot-skipped",
        "info",
        "observe",
        title="The target did not collect a piece",
        meaning=(
            "The collect script could not read a file or directory on the target (not present, no "
            "permission, restricted dmesg); the manifest's reason is quoted. A warning when a permission "
            "stopped it."
        ),
        fix=(
            "Run the collect script as root (for /sys/firmware/fdt, /proc/iomem addresses, debugfs and a "
            "restricted dmesg), or mount debugfs / enable the kernel option the reason names."
        ),
        other_severities=("warning",),
    ),
    Code(
        "observe-snapshot-note",
        "info",
        "observe",
        title="Snapshot piece taken from a fallback",
        meaning=(
            "The collect script took a piece from a fallback source (e.g. the boot log from "
            "/var/log/kern.log because dmesg was restricted); the reason is quoted."
        ),
        fix="Nothing to fix; a fallback log may be incomplete when the log file was rotated.",
    ),
    Code(
        "dtc-symbol-exists",
        "warning",
        "dts",
        title="Label already in __symbols__",
        meaning=(
            "With -@, a label's entry in /__symbols__ would replace a property the source already put "
            "there; like dtc, the written property is kept, so an overlay using that label reaches the "
            "written path."
        ),
        fix="Remove the hand-written /__symbols__ property or rename the label.",
    ),
    Code(
        "dtb-symbol-unusable",
        "warning",
        "dts",
        title="A blob's __symbols__ entry names no node",
        meaning=(
            "A /__symbols__ entry of a .dtb is not a path string or names a node the blob does not have, "
            "so the blob has no such label. dtc and libfdt read the blob anyway; an overlay that uses the "
            "label fails to apply (FDT_ERR_NOTFOUND or FDT_ERR_BADPATH), here and in fdtoverlay."
        ),
        fix="Rebuild the .dtb from its source with dtc -@, or correct the entry's path.",
    ),
    Code(
        "overlay-empty",
        "warning",
        "dts",
        title="Overlay changes nothing",
        meaning=(
            "The overlay has no fragment with an __overlay__ (or __dormant__) node, so applying it changes "
            "nothing; libfdt accepts such a file."
        ),
        fix="Check that the right file was given, and that it was compiled from a /plugin/ source.",
    ),
    Code(
        "overlay-phandle-kept",
        "info",
        "dts",
        title="Overlay result depends on the libfdt version",
        meaning=(
            "An overlay node with its own phandle (a labelled __overlay__ that something references) was "
            "merged into a base node that already has one. memplan keeps the base's phandle, as libfdt "
            "1.7.1 and later do (the Linux 6.12 tree's fdtoverlay too); an older libfdt in the boot loader "
            "(fdtoverlay 1.6.1) gives the node the overlay's phandle, leaving the base's references to it "
            "dangling, or fails with FDT_ERR_NOTFOUND when the label names the fragment's target."
        ),
        fix=(
            "Nothing, when the boot loader's libfdt is 1.7.1 or newer; otherwise drop the label from the "
            "__overlay__ node and refer to the target by its base label."
        ),
    ),
    Code(
        "dts-summary",
        "warning",
        "cli",
        title="Value the dts summary cannot read",
        meaning=(
            "memplan dts lists the /memory banks, the /reserved-memory children and /chosen/bootargs; one of "
            "their values has the wrong length for the parent's #address-cells and #size-cells, or is not a "
            "string, so the summary leaves it out. The tree itself was read (dtc accepts it too)."
        ),
        fix="Fix the property the message names, or the parent's #address-cells / #size-cells.",
    ),
)

#: Every code memplan emits, by code, in catalogue order (grouped by front end).
CODES: dict[str, Code] = {
    c.code: c for c in sorted(_ENTRIES, key=lambda c: list(FRONT_ENDS).index(c.front_end))
}


def diag(
    code: str,
    message: str,
    source: Source | None = None,
    subject: str | None = None,
    severity: Severity | None = None,
) -> Diagnostic:
    """A :class:`Diagnostic` for a registered ``code``, with its default severity unless
    ``severity`` is given (:class:`UnknownCodeError` for a code not in :data:`CODES`)."""
    entry = CODES.get(code)
    if entry is None:
        raise UnknownCodeError(f"diagnostic code {code!r} is not registered in memplan.diagnostics")
    return Diagnostic(severity or entry.severity, code, message, source, subject)
