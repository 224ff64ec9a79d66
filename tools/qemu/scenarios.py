"""Scenario definitions: which kernel, how much RAM, which command line, which DT fragment.

RAM on arm64 ``-M virt`` starts at 0x40000000; with ``-m 2G`` it ends at 0xc0000000. Fragments
are DTS text merged into QEMU's own device tree (root ``#address-cells`` / ``#size-cells`` = 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    """One boot: the inputs plus a human description of what it tests."""

    name: str
    kernel: str
    description: str
    tests: str
    cmdline: str = ""
    fragment: str | None = None
    ram: str = "2G"
    smp: int = 1
    cpu: str | None = None
    qemu_args: tuple[str, ...] = field(default_factory=tuple)
    memreserve: tuple[tuple[int, int], ...] = ()
    #: The kernel is expected to hang (the capture never completes); boot with this timeout.
    hang_timeout: float | None = None


def reserved_memory(*children: str, extra_root: str = "") -> str:
    """A ``/reserved-memory`` fragment with the given child node texts (and extra root nodes)."""
    body = "\n".join("\t\t" + c.strip().replace("\n", "\n\t\t") for c in children)
    return (
        "/ {\n\treserved-memory {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tranges;\n"
        f"{body}\n\t}};\n{extra_root}}};\n"
    )


def _cma_default_dyn(size_hex: str) -> str:
    return (
        "linux_cma: linux,cma {\n\tcompatible = \"shared-dma-pool\";\n\treusable;\n"
        f"\tsize = <0x0 {size_hex}>;\n\tlinux,cma-default;\n}};"
    )


def _cma_default_static(base_hex: str, size_hex: str) -> str:
    return (
        f"linux_cma: linux,cma@{base_hex[2:]} {{\n\tcompatible = \"shared-dma-pool\";\n\treusable;\n"
        f"\treg = <0x0 {base_hex} 0x0 {size_hex}>;\n\tlinux,cma-default;\n}};"
    )


def _pool(name: str, size_hex: str, extra: str = "", reusable: bool = True) -> str:
    label = name.replace(",", "_").replace("-", "_").replace("@", "_")
    reuse = "\treusable;\n" if reusable else ""
    return (
        f"{label}: {name} {{\n\tcompatible = \"shared-dma-pool\";\n{reuse}"
        f"\tsize = <0x0 {size_hex}>;\n{extra}}};"
    )


DT_DEFAULT_96M = reserved_memory(_cma_default_dyn("0x6000000"))
DT_STATIC_DEFAULT = reserved_memory(_cma_default_static("0x60000000", "0x4000000"))
FOUR_POOLS = reserved_memory(
    _pool("pool-a", "0x1000000"),
    _pool("pool-b", "0x3000000"),
    _pool("pool-c", "0x800000"),
    _pool("pool-d", "0x2000000"),
)
MISALIGNED = reserved_memory(
    "bad_base: cma-bad-base@60100000 {\n\tcompatible = \"shared-dma-pool\";\n\treusable;\n"
    "\treg = <0x0 0x60100000 0x0 0x1000000>;\n};",
    _pool("cma-bad-size", "0x300000"),
    _pool("cma-good", "0x1000000"),
)
MISALIGNED_4M = reserved_memory(
    "two_meg: cma-2m@60200000 {\n\tcompatible = \"shared-dma-pool\";\n\treusable;\n"
    "\treg = <0x0 0x60200000 0x0 0x600000>;\n};",
)
OVERLAP = reserved_memory(
    "first: region-a@70000000 {\n\treg = <0x0 0x70000000 0x0 0x1000000>;\n};",
    "second: region-b@70800000 {\n\treg = <0x0 0x70800000 0x0 0x1000000>;\n};",
    "third: region-c@71800000 {\n\treg = <0x0 0x71800000 0x0 0x400000>;\n};",
)
ALLOC_RANGES = reserved_memory(
    _pool("pool-x", "0x2000000", "\talloc-ranges = <0x0 0x50000000 0x0 0x2000000>;\n"),
    _pool("pool-y", "0x1000000", "\talloc-ranges = <0x0 0x52000000 0x0 0xe000000>;\n"),
    _pool("pool-z", "0x800000",
          "\talloc-ranges = <0x0 0x70000000 0x0 0x10000000 0x0 0x90000000 0x0 0x8000000>;\n"),
)
NOMAP = reserved_memory(
    "coh: dma-pool@68000000 {\n\tcompatible = \"shared-dma-pool\";\n\tno-map;\n"
    "\treg = <0x0 0x68000000 0x0 0x800000>;\n};",
    "fw: firmware@69000000 {\n\tno-map;\n\treg = <0x0 0x69000000 0x0 0x400000>;\n};",
    _pool("dyn-nomap", "0x400000", "\tno-map;\n", reusable=False),
)
NOMAP_REUSABLE = reserved_memory(
    "both: cma-nomap@6a000000 {\n\tcompatible = \"shared-dma-pool\";\n\treusable;\n\tno-map;\n"
    "\treg = <0x0 0x6a000000 0x0 0x1000000>;\n};",
    _pool("dyn-both", "0x1000000", "\tno-map;\n"),
    _cma_default_dyn("0x4000000"),
)
PER_DEVICE = reserved_memory(
    _pool("dev-cma", "0x2000000"),
    "dev_coh: dev-coherent@6c000000 {\n\tcompatible = \"shared-dma-pool\";\n\tno-map;\n"
    "\treg = <0x0 0x6c000000 0x0 0x800000>;\n};",
    extra_root=(
        "\tmemplan-device {\n\t\tcompatible = \"memplan,test-device\";\n"
        "\t\tmemory-region = <&dev_cma>, <&dev_coh>;\n"
        "\t\tmemory-region-names = \"cma\", \"coherent\";\n\t};\n"
    ),
)


def _arm(kver: str, name: str, desc: str, tests: str, **kw: object) -> Scenario:
    return Scenario(f"arm64-{kver}-{name}", f"arm64-{kver}", desc, tests, **kw)  # type: ignore[arg-type]


def _x86(kver: str, name: str, desc: str, tests: str, **kw: object) -> Scenario:
    return Scenario(f"x86-{kver}-{name}", f"amd64-{kver}", desc, tests, **kw)  # type: ignore[arg-type]


SCENARIOS: list[Scenario] = []
for _v in ("5.10", "6.1", "6.12", "7.2"):
    SCENARIOS += [
        _arm(_v, "dt-default", "96 MiB dynamic linux,cma-default pool in the DT, no cma=.",
             "DT default pool alone: the global area is the DT node, top-down in RAM.",
             fragment=DT_DEFAULT_96M),
        _arm(_v, "dt-default-cma", "96 MiB dynamic DT default pool plus cma=128M.",
             "Precedence: >=5.6 the command line wins and the DT node is bypassed/skipped.",
             fragment=DT_DEFAULT_96M, cmdline="cma=128M"),
        _arm(_v, "pools", "Four dynamic reusable pools (16, 48, 8, 32 MiB), Kconfig global area.",
             "Allocation order of several dynamic regions (heapsort order <=6.4, DT order later).",
             fragment=FOUR_POOLS),
    ]
for _v in ("6.1", "7.2"):
    SCENARIOS += [
        _arm(_v, "dt-default-cma0", "96 MiB dynamic DT default pool plus cma=0.",
             "cma=0 discards the DT default node and leaves no global area.",
             fragment=DT_DEFAULT_96M, cmdline="cma=0"),
        _arm(_v, "static-default", "Static linux,cma-default pool reg 0x60000000, 64 MiB.",
             "Static reg pool becomes the global area at its fixed address.",
             fragment=DT_STATIC_DEFAULT),
        _arm(_v, "static-default-cma", "Static DT default pool plus cma=32M.",
             "A static default node is freed (or never reserved) when cma= is given.",
             fragment=DT_STATIC_DEFAULT, cmdline="cma=32M"),
        _arm(_v, "cma-fixed", "cma=64M@0x70000000, no DT pool.",
             "cma=size@base: fixed placement at the given base.", cmdline="cma=64M@0x70000000"),
        _arm(_v, "cma-range", "cma=64M@0x50000000-0x60000000, no DT pool.",
             "cma=size@base-limit: top-down inside [base, limit).", cmdline="cma=64M@0x50000000-0x60000000"),
        _arm(_v, "per-device",
             "Per-device CMA pool (dynamic) and coherent no-map pool, referenced by a device.",
             "memory-region users; non-default CMA pools are unaffected by the global area.",
             fragment=PER_DEVICE),
        _arm(_v, "crashkernel", "crashkernel=256M with the Kconfig global area.",
             "crashkernel is reserved after the global CMA area, both at the top of the DMA zone.",
             cmdline="crashkernel=256M"),
        _arm(_v, "highmem-cma-window", "-m 6G, cma=256M@0x100000000-0x180000000.",
             "User limit above the DMA zone: <=6.15 clipped by the arch limit (fails), >=6.16 honoured.",
             ram="6G", cmdline="cma=256M@0x100000000-0x180000000"),
    ]
for _v in ("6.1", "6.12", "7.2"):
    SCENARIOS += [
        _arm(_v, "kconfig", "No DT pool, no cma=: the Kconfig size (64 MiB) decides.",
             "Kconfig default only.", ),
        _arm(_v, "highmem", "-m 6G (DRAM 0x40000000-0x1c0000000), Kconfig global area.",
             "RAM above 4 GiB: the global area stays below 4 GiB (arm64 DMA zone limit).", ram="6G"),
        _arm(_v, "alloc-ranges", "Three dynamic pools with alloc-ranges (one window exactly filled).",
             "alloc-ranges windows; >=6.5 a window touching an earlier region is filled bottom-up.",
             fragment=ALLOC_RANGES),
    ]
for _v in ("6.1", "6.12"):
    SCENARIOS += [
        _arm(_v, "misaligned", "Reusable pools: static base 0x60100000 (1 MiB aligned), dynamic 3 MiB size.",
             "Misaligned CMA regions are rejected (incorrect alignment) and released.",
             fragment=MISALIGNED),
        _arm(_v, "overlap", "Three static regions, the first two overlap.",
             "OVERLAP DETECTED for the overlapping pair; both stay reserved.", fragment=OVERLAP),
        _arm(_v, "nomap", "Static no-map coherent pool, static no-map firmware region, dynamic no-map pool.",
             "no-map regions become holes/reserved in iomem; not CMA.", fragment=NOMAP),
    ]
SCENARIOS += [
    _arm("5.10", "misaligned-4m", "Reusable static pool at 0x60200000 (2 MiB aligned), 6 MiB.",
         "CMA alignment 4 MiB before 5.19 (rejected on 5.10).", fragment=MISALIGNED_4M),
    _arm("6.1", "misaligned-4m", "Reusable static pool at 0x60200000 (2 MiB aligned), 6 MiB.",
         "CMA alignment 2 MiB since 5.19 (accepted on 6.1).", fragment=MISALIGNED_4M),
    _arm("6.1", "cma-only", "cma=96M, no DT pool.", "cma= alone: the global area from the command line.",
         cmdline="cma=96M"),
    _arm("6.1", "nomap-reusable",
         "shared-dma-pool with both no-map and reusable (static and dynamic), plus a DT default.",
         "no-map + reusable is refused by every handler and released.", fragment=NOMAP_REUSABLE),
    _arm("6.1", "mem", "mem=1G on 2 GiB with a 96 MiB dynamic DT default pool.",
         "mem= caps memory before the DT scan; the dynamic pool moves below 1 GiB of RAM.",
         fragment=DT_DEFAULT_96M, cmdline="mem=1G"),
    _arm("7.2", "mem", "mem=1G on 2 GiB, Kconfig global area.", "mem= caps memory; global area moves down.",
         cmdline="mem=1G"),
    _arm("6.1", "memmap-ignored", "memmap=64M$0x60000000 on arm64 (no such parameter).",
         "memmap= is unknown on arm64 and has no effect.", cmdline="memmap=64M$0x60000000"),
]
for _v in ("6.1", "6.12"):
    SCENARIOS += [
        _x86(_v, "memmap-reserve", "memmap=64M$0x10000000.", "nn$ss marks a range reserved in the e820 map.",
             cmdline="memmap=64M$0x10000000"),
        _x86(_v, "crashkernel", "crashkernel=256M.", "x86 crashkernel placement (top-down below 4 GiB).",
             cmdline="crashkernel=256M"),
    ]
SCENARIOS += [
    _x86("6.1", "memmap-exactmap", "memmap=exactmap memmap=640K@0 memmap=1023M@1M.",
         "exactmap replaces the firmware map with nn@ss entries.",
         cmdline="memmap=exactmap memmap=640K@0 memmap=1023M@1M"),
    _x86("6.1", "memmap-pmem", "memmap=128M!0x40000000.", "nn!ss marks persistent memory (type 12).",
         cmdline="memmap=128M!0x40000000"),
    _x86("6.1", "memmap-cap", "memmap=0x60000000 (bare number).", "Bare nn caps RAM at address nn.",
         cmdline="memmap=0x60000000"),
    _x86("6.1", "mem", "mem=1G.", "x86 mem= is an address cap.", cmdline="mem=1G"),
    _x86("7.2", "cma", "cma=128M on 2 GiB (x86 Kconfig size 0).", "x86 global area from cma=, top-down.",
         cmdline="cma=128M"),
    _x86("7.2", "cma-highmem", "cma=128M on 6 GiB.", "x86 bottom-up attempt above 4 GiB (>=5.12).",
         ram="6G", cmdline="cma=128M"),
    _x86("7.2", "kconfig", "No cma= (Kconfig size 0).", "x86 default: no global area.", ),
]

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}

# Hold-out boots: RAM sizes / CPU counts not used by the scenarios above, to check that a model
# fitted on the 2 GiB / 6 GiB boots generalises.
HOLDOUT: list[Scenario] = [
    _arm("5.10", "kconfig-1536m", "Kconfig global area, -m 1536M.", "Hold-out RAM size (5.10 model).",
         ram="1536M"),
    _arm("6.1", "kconfig-3g", "Kconfig global area, -m 3G (RAM ends exactly at 4 GiB).",
         "Hold-out RAM size; DMA zone limit equals end of RAM.", ram="3G"),
    _arm("6.1", "crashkernel-smp2-3g", "crashkernel=256M, -m 3G -smp 2.",
         "Hold-out: CMA then crashkernel with 2 CPUs.", ram="3G", smp=2, cmdline="crashkernel=256M"),
    _arm("6.12", "pools-1g", "Four dynamic pools on -m 1G.", "Hold-out RAM size for the pool order.",
         ram="1G", fragment=FOUR_POOLS),
    _arm("7.2", "dt-default-cma-4g", "DT default pool + cma=128M on -m 4G (RAM crosses 4 GiB).",
         "Hold-out: cmdline wins; global area below 4 GiB.", ram="4G", fragment=DT_DEFAULT_96M,
         cmdline="cma=128M"),
    _arm("7.2", "per-device-3g", "Per-device pools on -m 3G.", "Hold-out RAM size on 7.2.",
         ram="3G", fragment=PER_DEVICE),
    _x86("7.2", "cma-3g", "cma=256M on 3 GiB.", "Hold-out: x86 top-down below the end of low RAM.",
         ram="3G", cmdline="cma=256M"),
    _x86("7.2", "cma-fixed", "cma=64M@0x20000000 on 2 GiB.", "x86 fixed cma= placement.",
         cmdline="cma=64M@0x20000000"),
    _x86("6.12", "crashkernel-high", "crashkernel=256M,high on 6 GiB.",
         "x86 ,high: the main part above 4 GiB plus a default low part.", ram="6G",
         cmdline="crashkernel=256M,high"),
]
SCENARIOS += HOLDOUT

# /memreserve/ against reserved-memory: the order changed in 6.4 (memreserve last) and 6.13 /
# 6.12.13 (dynamic regions allocated before /memreserve/ is reserved).
MEMRESERVE_DYN = reserved_memory(_pool("pool-m", "0x2000000"))
MEMRESERVE_NOMAP = reserved_memory(
    "fw_nomap: firmware@bf800000 {\n\tno-map;\n\treg = <0x0 0xbf800000 0x0 0x400000>;\n};",
)
for _v in ("6.1", "6.12", "7.2"):
    SCENARIOS += [
        _arm(_v, "memreserve-dyn", "/memreserve/ 0xbf000000+16M (top of RAM) and a 32 MiB dynamic pool.",
             "Order of /memreserve/ vs dynamic allocation (<=6.3 before, 6.13+/6.12.13+ after).",
             fragment=MEMRESERVE_DYN, memreserve=((0xBF000000, 0x1000000),)),
    ]
for _v in ("6.1", "6.12"):
    SCENARIOS += [
        _arm(_v, "memreserve-nomap", "/memreserve/ 0xbf000000+16M and a static no-map region inside it.",
             "A static no-map node over a /memreserve/ range fails before 6.4.",
             fragment=MEMRESERVE_NOMAP, memreserve=((0xBF000000, 0x1000000),)),
    ]

# Several linux,cma-default nodes: the last one initialised becomes the default area. The static
# node comes first in DT order but is initialised after the dynamic ones on every version.
MULTI_DEFAULT = reserved_memory(
    _cma_default_static("0x60000000", "0x2000000").replace("linux_cma: linux,cma@", "cma_s: cma-s@"),
    _pool("cma-a", "0x1000000", "\tlinux,cma-default;\n"),
    _pool("cma-b", "0x3000000", "\tlinux,cma-default;\n"),
    _pool("cma-c", "0x800000", "\tlinux,cma-default;\n"),
)
MULTI_DEFAULT_DYN = reserved_memory(
    _pool("cma-a", "0x1000000", "\tlinux,cma-default;\n"),
    _pool("cma-b", "0x3000000", "\tlinux,cma-default;\n"),
    _pool("cma-c", "0x800000", "\tlinux,cma-default;\n"),
)
for _v in ("6.1", "6.12", "7.2"):
    SCENARIOS += [
        _arm(_v, "multi-default", "A static and three dynamic linux,cma-default pools.",
             "Several default nodes: every one is a CMA area, the last initialised is the default.",
             fragment=MULTI_DEFAULT),
        _arm(_v, "multi-default-dyn", "Three dynamic linux,cma-default pools (16, 48, 8 MiB).",
             "Several dynamic default nodes: init order (heapsort <=6.4, DT order later) picks the default.",
             fragment=MULTI_DEFAULT_DYN),
    ]

# Per-node and hugetlb CMA areas (two NUMA nodes of 1 GiB each on arm64 virt).
TWO_NODES = (
    "-object", "memory-backend-ram,id=m0,size=1G", "-object", "memory-backend-ram,id=m1,size=1G",
    "-numa", "node,memdev=m0,cpus=0,nodeid=0", "-numa", "node,memdev=m1,cpus=1,nodeid=1",
)
SCENARIOS += [
    _arm("6.1", "hugetlb-cma", "hugetlb_cma=1G on -m 4G with the Kconfig global area.",
         "hugetlb CMA area (1 GiB gigantic pages on arm64-4K) next to the global area.",
         ram="4G", cmdline="hugetlb_cma=1G"),
    _arm("7.2", "hugetlb-cma", "hugetlb_cma=1G on -m 4G with the Kconfig global area.",
         "hugetlb CMA area next to the global area (7.2).", ram="4G", cmdline="hugetlb_cma=1G"),
    _arm("7.2", "hugetlb-cma-small", "hugetlb_cma=128M (not a multiple of the 1 GiB gigantic page).",
         "A hugetlb_cma size below/not a multiple of the gigantic page is refused.",
         cmdline="hugetlb_cma=128M"),
    _arm("6.1", "pernuma", "Two NUMA nodes (2 x 1 GiB), cma_pernuma=16M.",
         "Per-node CMA areas (CONFIG_DMA_PERNUMA_CMA) before the global area.",
         cmdline="cma_pernuma=16M", smp=2, qemu_args=TWO_NODES),
    _arm("7.2", "numa-cma", "Two NUMA nodes (2 x 1 GiB), numa_cma=1:32M.",
         "numa_cma= areas (CONFIG_DMA_NUMA_CMA, 6.6+) before the global area.",
         cmdline="numa_cma=1:32M", smp=2, qemu_args=TWO_NODES),
]

# Command-line parsing corner cases (kernel-semantics §1.2-§1.3, §7.1).
SCENARIOS += [
    _arm("6.1", "cma-repeat", "cma=64M@0x70000000 cma=32M.",
         "A later cma= keeps the earlier base/limit: 32 MiB in [0x70000000, 0x74000000), not fixed.",
         cmdline="cma=64M@0x70000000 cma=32M"),
    _arm("7.2", "cma-repeat", "cma=64M@0x70000000 cma=32M.",
         "Repeated cma= on 7.2 (user limit honoured since 6.16).", cmdline="cma=64M@0x70000000 cma=32M"),
    _arm("6.1", "cma-octal", "cma=0100M (leading 0 = octal: 64 MiB) and trailing junk cma=...MB.",
         "memparse base auto-detection.", cmdline="cma=0100MB"),
    _arm("6.1", "cma-after-dashdash", "cma=96M -- cma=128M.",
         "Parameters after a bare -- are not kernel parameters.", cmdline="cma=96M -- cma=128M"),
    _x86("6.1", "memmap-acpi-convert", "memmap=16M#0x20000000 memmap=64M%0x30000000-1+2.",
         "nn#ss (ACPI data) and nn%ss-old+new (retype usable to reserved).",
         cmdline="memmap=16M#0x20000000 memmap=64M%0x30000000-1+2"),
]

# More 5.10 (bullseye) boots: era B with the 4 MiB CMA alignment and the 5.10.y stable changes.
SCENARIOS += [
    _arm("5.10", "nomap", "Static no-map coherent pool, static no-map firmware region, dynamic no-map pool.",
         "no-map handling in 5.10.y (memblock_mark_nomap vs memblock_remove).", fragment=NOMAP),
    _arm("5.10", "alloc-ranges", "Three dynamic pools with alloc-ranges.",
         "alloc-ranges before the v6.5 contiguity rule.", fragment=ALLOC_RANGES),
    _arm("5.10", "static-default-cma", "Static DT default pool plus cma=32M.",
         "Bypass of a static default node on 5.10.", fragment=DT_STATIC_DEFAULT, cmdline="cma=32M"),
    _arm("5.10", "highmem", "-m 6G, Kconfig global area.",
         "5.10.y arm64 DMA limit for the global area with RAM above 4 GiB.", ram="6G"),
    _arm("5.10", "memreserve-nomap", "/memreserve/ 0xbf000000+16M and a static no-map region inside it.",
         "A static no-map node over a /memreserve/ range fails before 6.4.",
         fragment=MEMRESERVE_NOMAP, memreserve=((0xBF000000, 0x1000000),)),
]
BY_NAME = {s.name: s for s in SCENARIOS}

# ---- 32-bit ARM (Debian armmp / armmp-lpae 6.12, qemu-system-arm -M virt -cpu cortex-a15) ----
# RAM starts at 0x40000000 as on arm64; with the standard 3G/1G split lowmem is the first 768 MiB
# (0x40000000-0x70000000), the rest is highmem. armmp has an 8 MiB CMA granule (max order 11, no
# HUGETLB_PAGE), armmp-lpae 2 MiB (HUGETLB_PAGE).


def _named(kernel: str, name: str, desc: str, tests: str, **kw: object) -> Scenario:
    return Scenario(f"{kernel}-{name}", kernel, desc, tests, **kw)  # type: ignore[arg-type]


def _static_pool(name: str, base: int, size: int, default: bool = False, reusable: bool = True) -> str:
    label = name.split("@")[0].replace("-", "_").replace(",", "_")
    flags = ("\treusable;\n" if reusable else "") + ("\tlinux,cma-default;\n" if default else "")
    return (
        f"{label}: {name}@{base:x} {{\n\tcompatible = \"shared-dma-pool\";\n{flags}"
        f"\treg = <0x{base >> 32:x} 0x{base & 0xFFFFFFFF:x} 0x0 0x{size:x}>;\n}};"
    )


ARM32_STATIC_DEFAULT_HIGH = reserved_memory(_static_pool("linux,cma", 0x90000000, 0x4000000, default=True))
ARM32_STRADDLE = reserved_memory(_static_pool("cma-straddle", 0x6C000000, 0x8000000))
ARM32_MISALIGNED_HIGH = reserved_memory(
    _static_pool("cma-bad-base", 0x80100000, 0x1000000),
    _pool("cma-bad-size", "0x300000"),
    _pool("cma-good", "0x1000000"),
)
ARM32_LOWMEM_1M = reserved_memory(_static_pool("cma-low-1m", 0x60100000, 0x1000000))
ARM32_HIGH_2M = reserved_memory(_static_pool("cma-2m", 0x80200000, 0x600000))
ARM32_DT_DEFAULT_ALIGN = reserved_memory(
    _cma_default_dyn("0x3000000").replace(
        "\tlinux,cma-default;", "\talignment = <0x0 0x400000>;\n\tlinux,cma-default;")
)
ARM32_LOWMEM_DEFAULT = reserved_memory(
    _cma_default_dyn("0x4000000").replace(
        "\tlinux,cma-default;", "\talloc-ranges = <0x0 0x40000000 0x0 0x30000000>;\n\tlinux,cma-default;")
)

ARM32_KERNELS = ("armmp-6.12", "armmp-lpae-6.12")
#: Boots that do not reach /init: the early log is read from the console (earlycon).
_CONSOLE_LOG: dict[str, object] = {"cmdline": "earlycon=pl011,0x9000000 loglevel=8", "hang_timeout": 150.0}
for _k in ARM32_KERNELS:
    SCENARIOS += [
        _named(_k, "kconfig", "No DT pool, no cma=: the Kconfig size (16 MiB) decides, -m 2G.",
               "arm32 global area: highmem first, directly below the top of RAM."),
        _named(_k, "kconfig-1g", "Kconfig global area, -m 1G (256 MiB of highmem).",
               "arm32 global area with little highmem.", ram="1G"),
        _named(_k, "kconfig-3g", "Kconfig global area, -m 3G (RAM ends exactly at 4 GiB).",
               "RAM reaching 4 GiB: a 32-bit phys_addr_t loses the last page.", ram="3G"),
        _named(_k, "kconfig-4g", "Kconfig global area, -m 4G (RAM 0x40000000-0x140000000).",
               "RAM above 4 GiB: ignored with a 32-bit phys_addr_t; with LPAE the CMA limit is 4 GiB."
               + (" Under QEMU TCG the LPAE kernel oopses when init is loaded above 4 GiB, so the"
                  " early log is read from the console (loglevel=8)." if "lpae" in _k else ""),
               ram="4G", **(_CONSOLE_LOG if "lpae" in _k else {})),
        _named(_k, "dt-default", "96 MiB dynamic linux,cma-default pool in the DT, no cma=.",
               "DT default pool alone: top-down in highmem.", fragment=DT_DEFAULT_96M),
        _named(_k, "dt-default-cma", "96 MiB dynamic DT default pool plus cma=128M.",
               "cma= wins over the DT default node; global area below the dynamic DT regions.",
               fragment=DT_DEFAULT_96M, cmdline="cma=128M"),
        _named(_k, "dt-default-cma0", "96 MiB dynamic DT default pool plus cma=0.",
               "cma=0: no global area, DT default node bypassed.", fragment=DT_DEFAULT_96M,
               cmdline="cma=0"),
        _named(_k, "dt-default-align", "48 MiB dynamic default pool with alignment = <4 MiB>.",
               "The CMA granule overrides a smaller alignment property (8 MiB on armmp).",
               fragment=ARM32_DT_DEFAULT_ALIGN),
        _named(_k, "dt-default-lowmem", "64 MiB dynamic default pool with alloc-ranges inside lowmem.",
               "A default pool in lowmem (top-down in its window).", fragment=ARM32_LOWMEM_DEFAULT),
        _named(_k, "pools", "Four dynamic reusable pools (16, 48, 8, 32 MiB), Kconfig global area.",
               "Dynamic regions top-down in DT order; the global area directly below them.",
               fragment=FOUR_POOLS),
        _named(_k, "static-default", "Static linux,cma-default pool reg 0x60000000 (lowmem), 64 MiB.",
               "arm32: a static default node plus the Kconfig area (two areas), DT area default.",
               fragment=DT_STATIC_DEFAULT),
        _named(_k, "static-default-high", "Static linux,cma-default pool reg 0x90000000 (highmem), 64 MiB.",
               "A default pool in highmem; two areas as in lowmem.", fragment=ARM32_STATIC_DEFAULT_HIGH),
        _named(_k, "static-default-cma", "Static DT default pool (lowmem) plus cma=32M.",
               "cma= wins; the static node is bypassed (log after cma: Reserved).",
               fragment=DT_STATIC_DEFAULT, cmdline="cma=32M"),
        _named(_k, "cma-only", "cma=100M, no DT pool.", "cma= size rounded up to the CMA granule.",
               cmdline="cma=100M"),
        _named(_k, "cma-fixed", "cma=64M@0x70000000 (first highmem address).", "Fixed cma= placement.",
               cmdline="cma=64M@0x70000000"),
        _named(_k, "cma-range", "cma=64M@0x50000000-0x60000000 (lowmem window).",
               "cma=size@base-limit top-down in lowmem.", cmdline="cma=64M@0x50000000-0x60000000"),
        _named(_k, "cma-too-big-high", "cma=384M on -m 1G (256 MiB highmem, 768 MiB lowmem).",
               "Too large for highmem: the global area goes to the top of lowmem.", ram="1G",
               cmdline="cma=384M"),
        _named(_k, "cma-too-big", "cma=800M on -m 1G.",
               "Too large for highmem and for lowmem: Failed to reserve, no global area.", ram="1G",
               cmdline="cma=800M"),
        _named(_k, "straddle", "Static reusable pool 0x6c000000+128 MiB across the lowmem/highmem boundary.",
               "A CMA pool straddling the zones is created, then could not be activated.",
               fragment=ARM32_STRADDLE),
        _named(_k, "misaligned-4m", "Reusable static pool at 0x60200000 (lowmem, 2 MiB aligned), 6 MiB.",
               "2 MiB- but not 8 MiB-aligned pool: rejected on armmp, accepted on armmp-lpae.",
               fragment=MISALIGNED_4M),
        _named(_k, "misaligned-4m-high",
               "Reusable static pool at 0x80200000 (highmem, 2 MiB aligned), 6 MiB.",
               "2 MiB- but not 8 MiB-aligned pool in highmem.", fragment=ARM32_HIGH_2M),
        _named(_k, "misaligned", "Highmem static pool at 0x80100000 (1 MiB aligned), dynamic 3 MiB pool.",
               "Misaligned CMA regions in highmem are rejected.", fragment=ARM32_MISALIGNED_HIGH),
        _named(_k, "alloc-ranges", "Three dynamic pools with alloc-ranges.", "alloc-ranges on arm32.",
               fragment=ALLOC_RANGES),
        _named(_k, "per-device", "Per-device CMA pool and coherent no-map pool used by a device.",
               "memory-region users on arm32.", fragment=PER_DEVICE),
        _named(_k, "overlap", "Three static regions, the first two overlap.", "OVERLAP DETECTED on arm32.",
               fragment=OVERLAP),
        _named(_k, "nomap", "Static no-map pools and a dynamic no-map pool.",
               "no-map ranges are holes in the arm32 /proc/iomem.", fragment=NOMAP),
        _named(_k, "nomap-reusable", "no-map + reusable pools plus a DT default.",
               "no-map + reusable refused on arm32.", fragment=NOMAP_REUSABLE),
        _named(_k, "mem", "mem=1G on 2 GiB with a 96 MiB dynamic DT default pool.",
               "mem= on arm32.", fragment=DT_DEFAULT_96M, cmdline="mem=1G"),
        _named(_k, "memreserve-dyn", "/memreserve/ 0xbf000000+16M and a 32 MiB dynamic pool.",
               "Order of /memreserve/ vs dynamic allocation on arm32.", fragment=MEMRESERVE_DYN,
               memreserve=((0xBF000000, 0x1000000),)),
        _named(_k, "multi-default", "A static and three dynamic linux,cma-default pools.",
               "Several default nodes on arm32.", fragment=MULTI_DEFAULT),
        _named(_k, "multi-default-dyn", "Three dynamic linux,cma-default pools.",
               "Several dynamic default nodes on arm32.", fragment=MULTI_DEFAULT_DYN),
        _named(_k, "cma-repeat", "cma=64M@0x70000000 cma=32M.", "Repeated cma= keeps base/limit.",
               cmdline="cma=64M@0x70000000 cma=32M"),
    ]
# vmalloc= moves the end of lowmem (arch/arm/mm/mmu.c early_vmalloc(): lowmem ends at
# VMALLOC_END - vmalloc size - 8 MiB above PAGE_OFFSET; below 16 MiB the size is raised to 16 MiB).
# On -m 1G a cma= too large for highmem goes to the top of lowmem, which shows where lowmem ends.
ARM32_VMALLOC: tuple[tuple[str, str, str, str], ...] = (
    ("vmalloc-512m", "vmalloc=512M cma=384M", "lowmem 496 MiB (ends 0x5f000000), 528 MiB highmem",
     "A larger vmalloc area: the 384 MiB area now fits in highmem (top of RAM)."),
    ("vmalloc-128m", "vmalloc=128M cma=384M", "lowmem 880 MiB (ends 0x77000000)",
     "A smaller vmalloc area: the area goes to the top of a larger lowmem."),
    ("vmalloc-301m", "vmalloc=301M cma=384M", "lowmem ends 0x6c300000 (not 2 MiB aligned)",
     "A vmalloc size that leaves lowmem ending off a 2 MiB boundary: how the kernel rounds."),
    ("vmalloc-8m", "vmalloc=8M cma=64M",
     "below the 16 MiB minimum, raised to it: lowmem 992 MiB (ends 0x7e000000)",
     "A vmalloc size below the minimum is raised to 16 MiB (vmalloc area is too small)."),
)
for _k in ARM32_KERNELS:
    SCENARIOS += [
        _named(_k, name, f"{cmdline} on -m 1G: {what}.", tests, ram="1G", cmdline=cmdline)
        for name, cmdline, what, tests in ARM32_VMALLOC
    ]
# The lowmem hang: a reusable static pool in lowmem that is not 2 MiB aligned stops 6.12 after
# "cma: Reserved". The console log (loglevel=8) is kept; the boot is expected not to complete.
HANG_SCENARIOS: list[Scenario] = [
    _named(_k, "lowmem-misaligned-hang", "Reusable static pool at 0x60100000 (lowmem, 1 MiB aligned).",
           "Not 2 MiB-aligned reusable pool in arm32 lowmem hangs the boot (6.12).",
           fragment=ARM32_LOWMEM_1M, cmdline="earlycon=pl011,0x9000000 loglevel=8",
           hang_timeout=150.0)
    for _k in ARM32_KERNELS
]
HANG_SCENARIOS += [
    _named(_k, "mem0", "mem=0 on 2 GiB (early console on the PL011).",
           "arm32 mem= deletes the DT memory and adds a bank of the given size: mem=0 leaves no RAM.",
           cmdline="earlycon=pl011,0x9000000 loglevel=8 mem=0", hang_timeout=120.0)
    for _k in ARM32_KERNELS
]
SCENARIOS += HANG_SCENARIOS

# ---- RISC-V (Debian riscv64 6.12, qemu-system-riscv64 -M virt, QEMU's OpenSBI) ----
# RAM starts at 0x80000000; Debian's kernel has no CONFIG_CMA. OpenSBI adds
# /reserved-memory/mmode_resv0@80000000 (and creates /reserved-memory if needed).
RV_STATIC_DEFAULT = reserved_memory(_static_pool("linux,cma", 0xA0000000, 0x4000000, default=True))
RV_NOMAP = reserved_memory(
    "coh: dma-pool@a8000000 {\n\tcompatible = \"shared-dma-pool\";\n\tno-map;\n"
    "\treg = <0x0 0xa8000000 0x0 0x800000>;\n};",
    "fw: firmware@a9000000 {\n\tno-map;\n\treg = <0x0 0xa9000000 0x0 0x400000>;\n};",
    _pool("dyn-nomap", "0x400000", "\tno-map;\n", reusable=False),
)
RV_POOLS = reserved_memory(
    _pool("pool-a", "0x1000000"),
    _pool("pool-b", "0x3000000", reusable=False),
    _pool("pool-c", "0x800000"),
)
RV_OVERLAP = reserved_memory(
    "first: region-a@b0000000 {\n\treg = <0x0 0xb0000000 0x0 0x1000000>;\n};",
    "second: region-b@b0800000 {\n\treg = <0x0 0xb0800000 0x0 0x1000000>;\n};",
)
_RV = "riscv64-6.12"
SCENARIOS += [
    _named(_RV, "kconfig", "No DT pool, no cma= (Debian: no CONFIG_CMA).", "No global area without CMA."),
    _named(_RV, "cma", "cma=128M without CONFIG_CMA.", "cma= is an unknown parameter: no area.",
           cmdline="cma=128M"),
    _named(_RV, "dt-default", "96 MiB dynamic linux,cma-default pool.",
           "Reusable pools are refused by the coherent handler without CMA.", fragment=DT_DEFAULT_96M),
    _named(_RV, "static-default", "Static linux,cma-default pool reg 0xa0000000, 64 MiB.",
           "A static reusable pool is refused and freed without CMA.", fragment=RV_STATIC_DEFAULT),
    _named(_RV, "pools", "Dynamic pools: two reusable, one non-reusable.",
           "The non-reusable pool becomes a DMA pool; reusable ones are refused.", fragment=RV_POOLS),
    _named(_RV, "nomap", "Static no-map pools and a dynamic no-map pool.",
           "no-map ranges show as Reserved in the riscv /proc/iomem.", fragment=RV_NOMAP),
    _named(_RV, "overlap", "Two overlapping static regions.", "OVERLAP DETECTED on riscv.",
           fragment=RV_OVERLAP),
    _named(_RV, "mem", "mem=1G with a 96 MiB DT default pool.", "Memory limited to 1024MB.",
           fragment=DT_DEFAULT_96M, cmdline="mem=1G"),
]
BY_NAME = {s.name: s for s in SCENARIOS}

# arm64: several dynamic no-map pools at the top of RAM push the Kconfig/cmdline area down; the
# early allocations between them and the area were studied with memblock=debug boots.
FIVE_NOMAP = reserved_memory(
    *(_pool(f"nomap-{i}", size, "\tno-map;\n", reusable=False)
      for i, size in enumerate(("0x400000", "0x200000", "0x800000", "0x100000", "0x1000000")))
)
FIVE_NOMAP_DEFAULT = reserved_memory(
    *(_pool(f"nomap-{i}", size, "\tno-map;\n", reusable=False)
      for i, size in enumerate(("0x400000", "0x200000", "0x800000", "0x100000", "0x1000000"))),
    _cma_default_dyn("0x6000000"),
)
SCENARIOS += [
    _arm("6.12", "mem0", "mem=0 on 2 GiB, Kconfig global area.",
         "arm64 ignores a zero mem= limit (memblock_mem_limit_remove_map(0) returns).", cmdline="mem=0"),
]
for _v in ("5.10", "6.1", "6.12", "7.2"):
    SCENARIOS += [
        _arm(_v, "nomap-pools", "Five dynamic no-map DMA pools (4, 2, 8, 1, 16 MiB), Kconfig global area.",
             "Global area below no-map regions at the top of RAM (early allocations in between).",
             fragment=FIVE_NOMAP),
        _arm(_v, "nomap-pools-cma", "Five dynamic no-map pools, a bypassed 96 MiB DT default, cma=128M.",
             "cmdline area below no-map regions and a bypassed dynamic default pool.",
             fragment=FIVE_NOMAP_DEFAULT, cmdline="cma=128M"),
    ]
BY_NAME = {s.name: s for s in SCENARIOS}

# ---- 7.2 (sid): riscv64 with CONFIG_CMA (128 MiB Kconfig size), armmp ----
_RV72 = "riscv64-7.2"
SCENARIOS += [
    _named(_RV72, "kconfig", "No DT pool, no cma= (CONFIG_CMA=y, 128 MiB).",
           "riscv global area from Kconfig."),
    _named(_RV72, "cma", "cma=64M.", "riscv global area from cma=.", cmdline="cma=64M"),
    _named(_RV72, "dt-default", "96 MiB dynamic linux,cma-default pool.", "DT default pool on riscv.",
           fragment=DT_DEFAULT_96M),
    _named(_RV72, "dt-default-cma", "96 MiB dynamic DT default pool plus cma=128M.",
           "cma= wins; the node is skipped (7.x).", fragment=DT_DEFAULT_96M, cmdline="cma=128M"),
    _named(_RV72, "static-default", "Static linux,cma-default pool reg 0xa0000000, 64 MiB.",
           "riscv: a static default node plus the Kconfig area (two areas).", fragment=RV_STATIC_DEFAULT),
    _named(_RV72, "pools", "Dynamic pools: two reusable, one non-reusable.",
           "Pools and the global area on riscv with CMA.", fragment=RV_POOLS),
    _named(_RV72, "highmem", "-m 6G (RAM 0x80000000-0x200000000).", "riscv global area below 4 GiB.",
           ram="6G"),
]
_A72 = "armmp-7.2"
SCENARIOS += [
    _named(_A72, "kconfig", "Kconfig global area (128 MiB on 7.2), -m 2G.", "armmp 7.2 global area."),
    _named(_A72, "static-default", "Static linux,cma-default pool reg 0x60000000 (lowmem), 64 MiB.",
           "arm32 7.x: two areas.", fragment=DT_STATIC_DEFAULT),
    _named(_A72, "dt-default-cma", "96 MiB dynamic DT default pool plus cma=128M.",
           "7.x skips the DT default node.", fragment=DT_DEFAULT_96M, cmdline="cma=128M"),
    _named(_A72, "pools", "Four dynamic reusable pools, Kconfig global area.", "arm32 7.x order.",
           fragment=FOUR_POOLS),
]
BY_NAME = {s.name: s for s in SCENARIOS}
