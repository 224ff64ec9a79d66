"""Hypothesis strategies: boards, command lines, .config variants, architectures and versions."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.roundtrip.roundtrip import Case

M = 1 << 20
G = 1 << 30

#: Releases on both sides of every rule boundary between 4.19 and 7.3.
VERSIONS = (
    "4.19",
    "5.4",
    "5.6",
    "5.9",
    "5.10",
    "5.10.89",
    "5.11",
    "5.12",
    "5.14",
    "5.15",
    "5.19",
    "6.1",
    "6.3",
    "6.4",
    "6.5",
    "6.6",
    "6.7",
    "6.12",
    "6.12.13",
    "6.13",
    "6.15",
    "6.16",
    "6.18",
    "6.18.9",
    "6.19",
    "7.0",
    "7.2",
    "7.3",
)
ARCHES = ("arm64", "arm", "riscv", "x86")
_ARCH_SYMBOL = {
    "arm64": "CONFIG_ARM64=y",
    "arm": "CONFIG_ARM=y",
    "riscv": "CONFIG_RISCV=y",
    "x86": "CONFIG_X86_64=y",
}


def _c(value: int) -> str:
    """A 64-bit value as two cells."""
    return f"{value >> 32:#x} {value & 0xFFFFFFFF:#x}"


@st.composite
def rmem_nodes(draw: st.DrawFn, ram_base: int, ram_size: int, arch: str) -> str:
    """A few /reserved-memory children: static (maybe no-map), dynamic, reusable pools and at
    most one linux,cma-default pool (dynamic or static)."""
    nodes: list[str] = []
    count = draw(st.integers(0, 3))
    for i in range(count):
        kind = draw(st.sampled_from(["static", "static-nomap", "dynamic", "dynamic-nomap", "pool"]))
        size = draw(st.sampled_from([1, 2, 4, 8, 16, 32])) * M
        if kind.startswith("static"):
            offset = draw(st.integers(1, max(1, ram_size // (16 * M) - 2))) * 16 * M
            body = f"reg = <{_c(ram_base + offset)} {_c(size)}>;"
        else:
            body = f"size = <0 {size:#x}>;"
            if draw(st.booleans()):
                body += f" alignment = <0 {draw(st.sampled_from([4096, 1 << 20, 4 << 20])):#x}>;"
        if kind.endswith("nomap"):
            body += " no-map;"
        if kind == "pool":
            body += ' compatible = "shared-dma-pool"; reusable;'
        nodes.append(f"r{i}: region{i} {{ {body} }};")
    default = draw(st.sampled_from(["none", "dynamic", "static"]))
    if default != "none":
        size = draw(st.sampled_from([16, 32, 64, 128])) * M
        where = (
            f"size = <0 {size:#x}>;"
            if default == "dynamic"
            else f"reg = <{_c(ram_base + ram_size // 2 + 64 * M)} {_c(size)}>;"
        )
        nodes.append(f'linux,cma {{ compatible = "shared-dma-pool"; reusable; linux,cma-default; {where} }};')
    return " ".join(nodes)


@st.composite
def boards(draw: st.DrawFn, arch: str, numa: bool) -> tuple[str, int, int]:
    """A Device Tree: one or two RAM banks (two NUMA nodes when ``numa``) and /reserved-memory."""
    base = {"arm64": 0x40000000, "arm": 0x60000000, "riscv": 0x80000000}[arch]
    gib = draw(st.sampled_from([1, 2] if arch == "arm" else [1, 2, 3, 4]))
    size = gib * G if arch != "arm" else gib * G // 2
    if numa:
        half = size // 2
        memory = (
            f'memory@{base:x} {{ device_type = "memory"; numa-node-id = <0>;'
            f" reg = <{_c(base)} {_c(half)}>; }};"
            f' memory@{base + half:x} {{ device_type = "memory"; numa-node-id = <1>;'
            f" reg = <{_c(base + half)} {_c(half)}>; }};"
        )
    else:
        memory = (
            f'memory@{base:x} {{ device_type = "memory"; '
            f"reg = <{_c(base)} {_c(size)}>; }};"
        )
    rmem = draw(rmem_nodes(base, size, arch))
    dts = (
        "/dts-v1/;\n/ {\n  #address-cells = <2>; #size-cells = <2>;\n"
        f"  {memory}\n"
        f"  reserved-memory {{ #address-cells = <2>; #size-cells = <2>; ranges; {rmem} }};\n}};\n"
    )
    return dts, base, size


@st.composite
def cmdlines(draw: st.DrawFn, arch: str, ram_base: int, ram_size: int, numa: bool) -> str:
    words: list[str] = []
    cma = draw(st.sampled_from(["", "cma=0", "cma=32M", "cma=64M", "cma=128M", "cma=48M@0-0xc0000000"]))
    if cma:
        words.append(cma)
    if numa or draw(st.booleans()):
        words.append(draw(st.sampled_from(["", "numa_cma=1:32M", "numa_cma=0:16M", "cma_pernuma=16M"])))
    if arch in ("arm64", "x86"):
        words.append(draw(st.sampled_from(["", "", "hugetlb_cma=256M hugepagesz=2M", "hugetlb_cma=1G"])))
    words.append(draw(st.sampled_from(["", "", f"mem={ram_size // M - 256}M", f"mem={ram_size // M // 2}M"])))
    words.append(draw(st.sampled_from(["", "", "crashkernel=64M", "crashkernel=128M"])))
    if arch == "x86":
        words.append(draw(st.sampled_from(["", "", "memmap=16M$0x10000000", "memmap=64M!0x20000000"])))
    return " ".join(w for w in words if w)


@st.composite
def configs(draw: st.DrawFn, arch: str, numa: bool) -> str:
    lines = [_ARCH_SYMBOL[arch]]
    cma = draw(st.sampled_from(["y", "y", "y", "n"]))
    if cma == "y":
        lines += [
            "CONFIG_CMA=y",
            "CONFIG_DMA_CMA=y" if draw(st.integers(0, 5)) else "# CONFIG_DMA_CMA is not set",
        ]
        lines.append(f"CONFIG_CMA_SIZE_MBYTES={draw(st.sampled_from([0, 16, 32, 64]))}")
    else:
        lines.append("# CONFIG_CMA is not set")
    if numa:
        lines += ["CONFIG_NUMA=y", "CONFIG_DMA_NUMA_CMA=y", "CONFIG_DMA_PERNUMA_CMA=y"]
    if arch in ("arm64", "x86"):
        lines.append("CONFIG_HUGETLBFS=y")
    return "\n".join(lines) + "\n"


@st.composite
def cases(draw: st.DrawFn) -> Case:
    arch = draw(st.sampled_from(ARCHES))
    version = draw(st.sampled_from(VERSIONS))
    numa = arch == "arm64" and draw(st.booleans())
    if arch == "x86":
        gib = draw(st.sampled_from([1, 2, 3, 6]))
        cmdline = draw(cmdlines(arch, 0, gib * G, False))
        return Case(None, cmdline, draw(configs(arch, False)), arch, version, f"{gib}G")
    dts, base, size = draw(boards(arch, numa))
    return Case(dts, draw(cmdlines(arch, base, size, numa)), draw(configs(arch, numa)), arch, version)
