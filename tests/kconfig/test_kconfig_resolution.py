"""Resolution of minimal defconfigs against the bundled Kconfig model (kernel-semantics §5, §3.6, §6)."""

from __future__ import annotations

import pytest

from memplan.kconfig import KernelConfig, load_config

CMA_ON = "CONFIG_CMA=y\nCONFIG_DMA_CMA=y\n"


def cfg(text: str, arch: str, version: str) -> KernelConfig:
    return load_config(text=text, name="defconfig", arch=arch, kernel_version=version)


def codes(c: KernelConfig) -> list[tuple[str, int | None]]:
    return [(d.code, d.source.line if d.source else None) for d in c.diagnostics]


@pytest.mark.parametrize(
    ("arch", "version", "extra", "sel", "mbytes", "percentage"),
    [
        # x86 defaults to no global area (size 0); everyone else to 16 MiB / 10 %.
        ("x86", "6.1", "", "mbytes", 0, None),
        ("arm64", "6.1", "", "mbytes", 16, None),
        ("arm", "5.4", "", "mbytes", 16, None),
        ("riscv", "6.6", "", "mbytes", 16, None),
        ("x86", "6.1", "CONFIG_CMA_SIZE_SEL_PERCENTAGE=y\n", "percentage", None, 0),
        ("arm64", "6.1", "CONFIG_CMA_SIZE_SEL_PERCENTAGE=y\n", "percentage", None, 10),
        ("arm64", "6.1", "CONFIG_CMA_SIZE_SEL_MIN=y\n", "min", 16, 10),
        ("arm64", "4.19", "CONFIG_CMA_SIZE_SEL_MAX=y\nCONFIG_CMA_SIZE_MBYTES=64\n", "max", 64, 10),
        ("arm64", "6.12", "CONFIG_CMA_SIZE_MBYTES=256\n", "mbytes", 256, None),
    ],
)
def test_size_selection_defaults(
    arch: str, version: str, extra: str, sel: str, mbytes: int | None, percentage: int | None
) -> None:
    c = cfg(CMA_ON + extra, arch, version)
    assert (c.cma, c.dma_cma) == (True, True)
    assert (c.cma_size_sel, c.cma_size_mbytes, c.cma_size_percentage) == (sel, mbytes, percentage)
    assert c.diagnostics == ()


def test_without_dma_cma_the_size_symbols_are_undefined() -> None:
    c = cfg("CONFIG_CMA=y\n", "arm64", "6.1")
    assert c.cma and not c.dma_cma
    assert (c.cma_size_mbytes, c.cma_size_percentage, c.cma_alignment) == (None, None, None)
    assert c.cma_size_sel == "mbytes"
    assert c.value("CMA_SIZE_MBYTES") == ""


def test_cma_selects_migration_and_isolation() -> None:
    c = cfg("CONFIG_CMA=y\n", "x86", "6.1")
    assert c.value("MIGRATION") == "y" and c.value("MEMORY_ISOLATION") == "y"
    assert "selected by CONFIG_CMA" in str(c.source_of("MEMORY_ISOLATION"))


def test_cma_needs_mmu() -> None:
    c = cfg("# CONFIG_MMU is not set\nCONFIG_CMA=y\n", "arm", "6.1")
    assert not c.cma
    assert ("kconfig-unmet-dependency", 2) in codes(c)


@pytest.mark.parametrize(
    ("version", "numa", "areas"),
    [
        ("4.19", False, 7),
        ("4.19", True, 7),
        ("5.10", True, 19),
        ("6.6", False, 7),
        ("6.6", True, 19),
        ("6.12", False, 8),
        ("6.12", True, 20),
    ],
)
def test_cma_areas_default_by_version(version: str, numa: bool, areas: int) -> None:
    c = cfg("CONFIG_CMA=y\n" + ("CONFIG_NUMA=y\n" if numa else ""), "arm64", version)
    assert c.numa is numa
    assert c.cma_areas == areas


@pytest.mark.parametrize(
    ("version", "value", "expected", "clamped"),
    [
        # like the C tools (sym_validate_range), an out-of-range number is pulled to the nearest
        # bound; kconfiglib alone would fall back on the default 8
        ("5.4", 3, 4, True),
        ("5.10", 3, 3, False),
        ("5.10", 2, 2, False),
        ("6.1", 1, 2, True),
        ("6.1", 12, 12, False),
        ("6.1", 13, 12, True),
        ("6.1", 99999, 12, True),
    ],
)
def test_cma_alignment_range_by_version(version: str, value: int, expected: int, clamped: bool) -> None:
    c = cfg(CMA_ON + f"CONFIG_CMA_ALIGNMENT={value}\n", "arm64", version)
    assert c.cma_alignment == expected
    assert (("kconfig-out-of-range", 3) in codes(c)) is clamped
    assert str(c.source_of("CMA_ALIGNMENT")) == "defconfig:3"
    if clamped:
        (d,) = c.diagnostics
        assert f"clamp it to {expected}" in d.message


@pytest.mark.parametrize("value", ["016", "00", "-08", "8.0", "+8"])
def test_int_with_leading_zero_or_sign_is_invalid_like_the_c_tools(value: str) -> None:
    c = cfg(CMA_ON + f"CONFIG_CMA_ALIGNMENT={value}\n", "arm64", "6.1")
    assert c.cma_alignment == 8  # the line is refused, the default stays
    assert [d.code for d in c.diagnostics] in (["kconfig-invalid-value"], ["kconfig-malformed-line"])
    assert c.diagnostics[0].source is not None and c.diagnostics[0].source.line == 3


def test_range_bound_that_depends_on_another_symbol_is_clamped() -> None:
    # 6.18: PAGE_BLOCK_MAX_ORDER may not exceed ARCH_FORCE_MAX_ORDER (10 with 4K pages, 13 with 64K)
    small = cfg("CONFIG_PAGE_BLOCK_MAX_ORDER=12\n", "arm64", "6.18")
    assert small.page_block_max_order == 10
    assert codes(small) == [("kconfig-out-of-range", 1)]
    big = cfg("CONFIG_ARM64_64K_PAGES=y\nCONFIG_PAGE_BLOCK_MAX_ORDER=12\n", "arm64", "6.18")
    assert big.page_block_max_order == 12 and big.diagnostics == ()


@pytest.mark.parametrize(
    ("arch", "version", "text", "page_size", "max_order"),
    [
        ("arm64", "5.4", "", 4096, 10),
        # before 5.12 the big 16K/64K limits needed transparent huge pages
        ("arm64", "5.4", "CONFIG_ARM64_64K_PAGES=y\n", 65536, 10),
        ("arm64", "5.4", "CONFIG_ARM64_64K_PAGES=y\nCONFIG_TRANSPARENT_HUGEPAGE=y\n", 65536, 13),
        ("arm64", "5.15", "CONFIG_ARM64_64K_PAGES=y\n", 65536, 13),
        ("arm64", "6.1", "CONFIG_ARM64_16K_PAGES=y\n", 16384, 11),
        # 6.4 redefined MAX_ORDER as the largest order itself; the result is unchanged
        ("arm64", "6.6", "CONFIG_ARM64_64K_PAGES=y\n", 65536, 13),
        ("arm64", "6.6", "CONFIG_ARM64_16K_PAGES=y\n", 16384, 11),
        ("arm64", "6.12", "", 4096, 10),
        ("arm64", "6.3", "CONFIG_ARCH_FORCE_MAX_ORDER=13\n", 4096, 12),
        ("arm", "5.4", "", 4096, 10),
        ("arm", "6.1", "CONFIG_SA1111=y\n", 4096, 8),
        ("arm", "6.6", "CONFIG_SOC_AM33XX=y\n", 4096, 11),
        ("arm", "5.10", "CONFIG_FORCE_MAX_ZONEORDER=14\n", 4096, 13),
        ("x86", "6.1", "", 4096, 10),
        ("riscv", "6.1", "", 4096, 10),
    ],
)
def test_page_size_and_max_order(arch: str, version: str, text: str, page_size: int, max_order: int) -> None:
    c = cfg(text, arch, version)
    assert (c.page_size, c.max_order) == (page_size, max_order)
    assert c.diagnostics == ()


def test_arm64_max_order_has_no_prompt_outside_6_3() -> None:
    c = cfg("CONFIG_ARCH_FORCE_MAX_ORDER=13\n", "arm64", "6.6")
    assert c.max_order == 10
    assert codes(c) == [("kconfig-value-ignored", 1)]


@pytest.mark.parametrize(
    ("arch", "version", "text", "expected", "diag"),
    [
        ("x86", "6.16", "", 10, None),
        ("arm64", "6.18", "CONFIG_ARM64_64K_PAGES=y\n", 13, None),
        ("arm64", "6.18", "CONFIG_PAGE_BLOCK_MAX_ORDER=5\n", 5, None),
        ("arm64", "6.18", "CONFIG_PAGE_BLOCK_MAX_ORDER=11\n", 10, "kconfig-out-of-range"),
        ("arm64", "6.12", "CONFIG_PAGE_BLOCK_MAX_ORDER=5\n", None, "kconfig-not-in-version"),
    ],
)
def test_page_block_max_order(
    arch: str, version: str, text: str, expected: int | None, diag: str | None
) -> None:
    c = cfg(text, arch, version)
    assert c.page_block_max_order == expected
    assert [d.code for d in c.diagnostics] == ([diag] if diag else [])


@pytest.mark.parametrize(
    ("arch", "text", "hugetlb", "thp", "diag"),
    [
        ("arm64", "CONFIG_HUGETLBFS=y\nCONFIG_TRANSPARENT_HUGEPAGE=y\n", True, True, None),
        ("x86", "CONFIG_HUGETLBFS=y\n", True, False, None),
        ("arm", "CONFIG_HUGETLBFS=y\n", False, False, "kconfig-unmet-dependency"),
        ("arm", "CONFIG_ARM_LPAE=y\nCONFIG_HUGETLBFS=y\nCONFIG_TRANSPARENT_HUGEPAGE=y\n", True, True, None),
        (
            "arm64",
            "CONFIG_PREEMPT_RT=y\nCONFIG_TRANSPARENT_HUGEPAGE=y\n",
            False,
            False,
            "kconfig-unmet-dependency",
        ),
    ],
)
def test_huge_pages(arch: str, text: str, hugetlb: bool, thp: bool, diag: str | None) -> None:
    c = cfg(text, arch, "6.6")
    assert (c.hugetlb, c.transparent_hugepage) == (hugetlb, thp)
    assert [d.code for d in c.diagnostics] == ([diag] if diag else [])


@pytest.mark.parametrize(
    ("arch", "version", "text", "pernuma", "numa_cma", "diag"),
    [
        ("arm64", "5.10", CMA_ON + "CONFIG_NUMA=y\n", True, False, None),
        ("arm64", "6.5", CMA_ON + "CONFIG_NUMA=y\n# CONFIG_DMA_PERNUMA_CMA is not set\n", False, False, None),
        ("x86", "5.15", CMA_ON + "CONFIG_SMP=y\nCONFIG_NUMA=y\n", False, False, None),
        ("arm64", "6.6", CMA_ON + "CONFIG_NUMA=y\n", False, False, None),
        ("arm64", "6.6", CMA_ON + "CONFIG_NUMA=y\nCONFIG_DMA_NUMA_CMA=y\n", False, True, None),
        ("arm64", "6.6", CMA_ON + "CONFIG_DMA_NUMA_CMA=y\n", False, False, "kconfig-unmet-dependency"),
        (
            "arm64",
            "6.6",
            CMA_ON + "CONFIG_NUMA=y\nCONFIG_DMA_PERNUMA_CMA=y\n",
            False,
            False,
            "kconfig-not-in-version",
        ),
        (
            "arm64",
            "5.15",
            CMA_ON + "CONFIG_NUMA=y\nCONFIG_DMA_NUMA_CMA=y\n",
            True,
            False,
            "kconfig-not-in-version",
        ),
    ],
)
def test_numa_cma_symbols(
    arch: str, version: str, text: str, pernuma: bool, numa_cma: bool, diag: str | None
) -> None:
    c = cfg(text, arch, version)
    assert (c.dma_pernuma_cma, c.dma_numa_cma) == (pernuma, numa_cma)
    assert [d.code for d in c.diagnostics] == ([diag] if diag else [])


def test_x86_numa_needs_smp() -> None:
    c = cfg("CONFIG_NUMA=y\n", "x86", "6.1")
    assert not c.numa
    (d,) = c.diagnostics
    assert d.code == "kconfig-unmet-dependency" and d.source is not None and d.source.line == 1
    assert "SMP" in d.message


def test_highmem_by_arch() -> None:
    assert cfg("CONFIG_HIGHMEM=y\n", "arm", "6.1").highmem
    assert cfg("# CONFIG_64BIT is not set\n", "x86", "6.1").highmem  # 32-bit x86 defaults to HIGHMEM4G
    assert not cfg("", "x86", "6.1").highmem
