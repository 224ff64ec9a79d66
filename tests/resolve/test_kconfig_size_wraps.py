"""A negative or huge CONFIG_CMA_SIZE_MBYTES/PERCENTAGE builds (Kconfig gives them no range) and
the kernel computes the size in unsigned arithmetic (kernel/dma/contiguous.c:
``(phys_addr_t)CONFIG_CMA_SIZE_MBYTES * SZ_1M``; ``total_pages * PERCENTAGE / 100 << PAGE_SHIFT``
in unsigned long). memplan follows: it accepts what the build accepts and says what the boot does."""

from __future__ import annotations

import pytest

import memplan
from memplan.resolve.precedence import kconfig_cma_size

DTS = """/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x80000000>; }; };
"""
M = 1 << 20


def plan(value: str, arch: str, extra: str = "") -> memplan.Plan:
    cfg = f"CONFIG_CMA=y\nCONFIG_DMA_CMA=y\n{extra}CONFIG_CMA_SIZE_MBYTES={value}\n"
    return memplan.resolve(dts=DTS, config=cfg, arch=arch, kernel_version="6.12")


def codes(p: memplan.Plan) -> dict[str, str]:
    return {d.code: d.message for d in p.diagnostics}


@pytest.mark.parametrize(("arch", "bits"), [("arm64", 64), ("arm", 32), ("riscv", 64)])
def test_negative_mbytes_is_a_huge_size_the_boot_cannot_reserve(arch: str, bits: int) -> None:
    p = plan("-5", arch)
    found = codes(p)
    huge = (1 << bits) - 5 * M
    assert f"computed as (phys_addr_t)-5 * SZ_1M in {bits} bits" in found["kconfig-cma-size-wraps"]
    assert f"{huge:#x} bytes" in found["kconfig-cma-size-wraps"]
    # ALIGN to 4 MiB, then "Size (...) of region at 0x0 exceeds limit (...)": no global area
    assert f"Size ({huge + M:#x}) of region at 0x0 exceeds limit" in found["cma-place-failed"]
    assert p.global_cma is not None and p.global_cma.status == "failed"
    wrap = next(d for d in p.diagnostics if d.code == "kconfig-cma-size-wraps")
    assert wrap.source is not None and wrap.source.line == 3


def test_size_within_one_alignment_step_of_the_top_wraps_to_zero_and_fails() -> None:
    # (phys_addr_t)-1 * SZ_1M = 2^64 - 1 MiB; ALIGN(.., 4 MiB) wraps to 0 in phys_addr_t
    p = plan("-1", "arm64")
    assert "wraps to 0 when rounded up to 0x400000" in codes(p)["cma-place-failed"]
    assert p.global_cma is not None and p.global_cma.status == "failed"


def test_mbytes_that_wrap_to_zero_disable_the_global_area() -> None:
    p = plan(str(1 << 44), "arm64")  # 2^44 MiB = 2^64 bytes = 0 in 64 bits
    found = codes(p)
    assert "kconfig-cma-size-wraps" in found and "cma-size-zero" in found
    assert p.global_cma is None or p.global_cma.status == "disabled"
    assert "kconfig-cma-size-wraps" not in codes(plan("16", "arm64"))


def test_cma_on_the_command_line_makes_the_kconfig_size_irrelevant() -> None:
    cfg = "CONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=-5\n"
    p = memplan.resolve(dts=DTS, config=cfg, arch="arm64", kernel_version="6.12", cmdline="cma=32M")
    assert "kconfig-cma-size-wraps" not in codes(p)
    assert p.global_cma is not None and p.global_cma.size == 32 * M


def test_kernel_arithmetic() -> None:
    two_g = 2 << 30
    assert kconfig_cma_size("mbytes", -5, None, two_g, 4096) == (1 << 64) - 5 * M
    assert kconfig_cma_size("mbytes", -5, None, two_g, 4096, phys_bits=32, long_bits=32) == (1 << 32) - 5 * M
    assert kconfig_cma_size("mbytes", 1 << 44, None, two_g, 4096) == 0
    pages = two_g // 4096
    # total_pages * -10 in unsigned long, / 100, << PAGE_SHIFT (all mod 2^64)
    expect = ((pages * ((1 << 64) - 10)) % (1 << 64)) // 100 * 4096 % (1 << 64)
    assert kconfig_cma_size("percentage", None, -10, two_g, 4096) == expect
    # min/max compare the unsigned values
    assert kconfig_cma_size("min", -5, 10, two_g, 4096) == pages * 10 // 100 * 4096
    assert kconfig_cma_size("max", -5, 10, two_g, 4096) == (1 << 64) - 5 * M


def test_percentage_beyond_int_on_32_bit_is_long_long_arithmetic() -> None:
    pages = (2 << 30) // 4096
    big = 1 << 40  # a long long constant on arm: signed 64-bit product, truncating division
    expect = (pages * big // 100 * 4096) % (1 << 32)
    assert kconfig_cma_size("percentage", None, big, 2 << 30, 4096, phys_bits=32, long_bits=32) == expect
    negative = -(1 << 40)
    expect = (-(pages * (1 << 40) // 100) * 4096) % (1 << 32)
    assert kconfig_cma_size("percentage", None, negative, 2 << 30, 4096, phys_bits=32, long_bits=32) == expect


def test_negative_percentage_is_accepted_and_explained() -> None:
    cfg = ("CONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_SEL_PERCENTAGE=y\n"
           "CONFIG_CMA_SIZE_PERCENTAGE=-10\n")
    p = memplan.resolve(dts=DTS, config=cfg, arch="arm64", kernel_version="6.12")
    assert "CONFIG_CMA_SIZE_PERCENTAGE=-10 is computed as total_pages" in codes(p)["kconfig-cma-size-wraps"]
    assert p.global_cma is not None and p.global_cma.status == "failed"
