"""The architecture a Device Tree is built for: hints read from the tree (the board's path under
``arch/``, the CPU nodes, the root ``compatible``), for :mod:`memplan.api` when no architecture
is given. Part of the DT front end; :mod:`memplan.arch` keeps the architecture names."""

from __future__ import annotations

import re

import attrs

from memplan.arch import normalise_arch
from memplan.dts.tree import Node, Tree
from memplan.errors import MemplanError
from memplan.source import Source

#: CPU ``compatible`` strings (whole string, case-insensitive) -> architecture. 64-bit Arm cores
#: first: a core is listed as arm64 when it has AArch64 (arch/arm may still build a 32-bit
#: board around it, which is why the path under ``arch/`` is asked first).
_CPU_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"arm,cortex-a(3[45]|5[3-7]|6[05]|7[2-8]|[3-9]\d\d)(ae|c)?", "arm64"),
    (r"arm,cortex-x\d+c?|arm,neoverse[-,].*|arm,armv[89].*|arm,foundation-aarch64", "arm64"),
    (r"qcom,(kryo|oryon|falkor).*|apple,.*|nvidia,(denver|carmel|olympus).*|cavium,thunder.*", "arm64"),
    (r"apm,(potenza|strega)|brcm,(brahma-b53|vulcan)|samsung,mongoose.*|fujitsu,a64fx|phytium,.*", "arm64"),
    (r"hisilicon,(tsv110|taishan).*|marvell,(thunderx|octeontx).*|ampere,.*", "arm64"),
    (r"arm,cortex-a(5|7|8|9|1[2578])|arm,cortex-[rm]\d+.*|arm,arm(7|9|10|11).*", "arm"),
    (r"qcom,(krait|scorpion)|brcm,brahma-b15|marvell,(sheeva|pj4|mohawk|feroceon).*|intel,xscale.*", "arm"),
    (r"faraday,fa526|arm,arm1176.*|arm,arm926.*|arm,mpcore", "arm"),
    (r".*riscv.*", "riscv"),
    (r"mti,.*|img,(mips|i6400|p5600).*|mips,.*|brcm,bmips.*|loongson,gs.*|ingenic,xburst.*", "mips"),
    (r"loongson,la\d+", "loongarch"),
    (r"cdns,xtensa.*", "xtensa"),
    (r"snps,arc.*", "arc"),
)

#: Root ``compatible`` SoC families (``vendor,soc...``) -> architecture, for boards whose CPUs
#: say nothing (no ``compatible`` or an unknown core). Only families built for one
#: architecture are listed.
_SOC_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"qcom,(sm|sc7|sc8|sa8|sar|sdm|sdx75|qcs|qcm|qdu|qru|x1[ep]|msm89(16|39|53|76|92|94|96|98)"
     r"|ipq(5018|5332|5424|6018|8074|9574)|apq8016|apq8096).*", "arm64"),
    (r"rockchip,(rk33|rk35|rk3308|px30).*|allwinner,sun50i.*|amlogic,(meson-gx|meson-axg|a1|g12|sm1|s4|c3|t7).*",
     "arm64"),
    (r"fsl,(imx8|imx9|ls10[24]|ls20|lx2).*|nvidia,tegra(132|210|186|194|234|264).*|xlnx,zynqmp.*|xlnx,versal.*",
     "arm64"),
    (r"ti,(j7|am62|am64|am65|am68|am69).*|mediatek,mt(27[0-9][0-9]|67[0-9][0-9]|81[0-9][0-9]|8516|8195|8188).*",
     "arm64"),
    (r"renesas,(r8a77|r8a779|r9a07g044|r9a07g054|r9a08g045|r9a09g).*|apple,t[0-9]+.*|hisilicon,hi(3660|3670|6220).*",
     "arm64"),
    (r"allwinner,sun[4-9]i.*|ti,(omap|am33|am43|am57|dra7).*|fsl,(imx[5-7]|vf6|ls1021).*|samsung,exynos[345].*",
     "arm"),
    (r"qcom,(apq8064|apq8084|msm8660|msm8960|msm8974|ipq40|ipq806|mdm9615|sdx55|sdx65).*|rockchip,rk(30|31|32).*",
     "arm"),
    (r"amlogic,meson[68].*|nvidia,tegra(20|30|114|124).*|st,stm32.*|atmel,.*|microchip,sama.*", "arm"),
    (r"xlnx,zynq-7000", "arm"),
    (r"sifive,.*|starfive,.*|thead,.*|sophgo,.*|canaan,.*|microchip,mpfs.*|allwinner,sun20i-d1.*|spacemit,.*",
     "riscv"),
)

_ARCH_PATH = re.compile(r"(?:^|/)arch/([A-Za-z0-9_]+)/boot/dts/")


@attrs.frozen
class ArchHint:
    """An architecture read from a Device Tree: ``arch``, ``reason`` (which hint, in words) and
    ``source`` (the node, property or file that gave it)."""

    arch: str
    reason: str
    source: Source | None


def _match(table: tuple[tuple[str, str], ...], value: str) -> str | None:
    low = value.lower()
    for pattern, arch in table:
        if re.fullmatch(pattern, low):
            return arch
    return None


def _strings(node: Node, name: str) -> list[str]:
    prop = node.properties.get(name)
    if prop is None:
        return []
    try:
        return prop.as_strings()
    except MemplanError:
        return []


def _path_hint(tree: Tree) -> ArchHint | None:
    for name in (tree.filename, tree.root.source.file):
        found = _ARCH_PATH.search(name.replace("\\", "/")) if name else None
        arch = normalise_arch(found.group(1)) if found else None
        if arch is not None:
            assert name is not None
            return ArchHint(arch, f"the path under arch/ ({name})", Source("file", file=name))
    return None


def _cpu_hints(tree: Tree) -> ArchHint | None:
    cpus = tree.root.children.get("cpus")
    if cpus is None:
        return None
    nodes = [c for c in cpus.walk()
             if c is not cpus and (c.basename == "cpu" or _strings(c, "device_type") == ["cpu"])]
    for cpu in nodes:
        if cpu.has("riscv,isa") or cpu.has("riscv,isa-base"):
            src = (cpu.get("riscv,isa") or cpu.get("riscv,isa-base") or cpu).source
            return ArchHint("riscv", f"the RISC-V ISA property of {cpu.path}", src)
        for compat in _strings(cpu, "compatible"):
            arch = _match(_CPU_PATTERNS, compat)
            if arch is not None:
                prop = cpu.properties["compatible"]
                return ArchHint(arch, f"the CPU compatible '{compat}' of {cpu.path}", prop.source)
    for cpu in nodes:
        for method in _strings(cpu, "enable-method"):
            low = method.lower()
            if low == "psci":
                continue  # both Arm architectures boot secondaries through PSCI
            # arm64 knows only "psci" and "spin-table"; every vendor method is a 32-bit Arm one
            arch = "arm64" if low == "spin-table" else "arm"
            prop = cpu.properties["enable-method"]
            return ArchHint(arch, f"the CPU enable-method '{method}' of {cpu.path}", prop.source)
    return None


def _root_hint(tree: Tree) -> ArchHint | None:
    for compat in _strings(tree.root, "compatible"):
        arch = _match(_SOC_PATTERNS, compat)
        if arch is not None:
            prop = tree.root.properties["compatible"]
            return ArchHint(arch, f"the root compatible '{compat}'", prop.source)
    return None


def infer_arch(tree: Tree) -> ArchHint | None:
    """The architecture a Device Tree is built for, from the first hint that names one.

    In order: the board file's path under ``arch/<arch>/boot/dts/`` (the kernel builds it for
    that architecture), the CPU nodes (``riscv,isa``, then a known core's ``compatible``, then a
    non-PSCI ``enable-method``: ``spin-table`` exists only on arm64, vendor methods only on
    32-bit Arm), then the root ``compatible``'s SoC family. ``None`` when nothing tells.
    """
    return _path_hint(tree) or _cpu_hints(tree) or _root_hint(tree)


__all__ = ["ArchHint", "infer_arch"]
