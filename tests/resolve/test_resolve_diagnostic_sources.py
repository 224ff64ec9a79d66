"""Resolver diagnostics: one version assumption, no finding twice, each with a source that points at
the node, parameter or config line it is about."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import memplan
from memplan.errors import ResolveError
from tests.resolve.conftest import board

EVK = Path(__file__).resolve().parents[2] / "memplan" / "examples" / "evk"
CFG = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"

PROBLEMS = board(
    """
    dsp: dsp@50000000 { reg = <0 0x50000000 0 0x1000000>; no-map; };
    ov@50800000 { reg = <0 0x50800000 0 0x100000>; };
    out@f0000000 { reg = <0 0xf0000000 0 0x100000>; };
    linux,cma { compatible = "shared-dma-pool"; reusable; size = <0 0x4000000>; linux,cma-default; };
    second { compatible = "shared-dma-pool"; reusable; size = <0 0x2000000>; linux,cma-default; };
    mis@60100000 { compatible = "shared-dma-pool"; reusable; reg = <0 0x60100000 0 0x100000>; };
    both@61000000 { compatible = "shared-dma-pool"; reusable; no-map; reg = <0 0x61000000 0 0x200000>; };
    badsize { size = <0x100000>; };
    off@62000000 { reg = <0 0x62000000 0 0x100000>; status = "disabled"; };
    huge { size = <0x1 0x0>; };
    """,
    bootargs="console=ttyAMA0 cma=32M",
    extra="dev { memory-region = <&dsp 0x1234>; };",
)


def test_one_version_assumption_for_layout_and_config() -> None:
    plan = memplan.resolve(dts=EVK / "board.dts", config=EVK / "defconfig")
    codes = Counter(d.code for d in plan.diagnostics)
    assert codes["version-unknown"] == 1 and codes["kconfig-version-assumed"] == 0
    note = next(d for d in plan.diagnostics if d.code == "version-unknown")
    assert "the layout and the .config reading follow the 6.1 rules" in note.message
    assert note.source is not None
    assert plan.kernel_version is None and str(plan.model_version) == "6.1.0"


def test_a_version_from_the_config_header_is_known() -> None:
    cfg = "#\n# Linux/arm64 6.12.0 Kernel Configuration\n#\n" + CFG
    plan = memplan.resolve(dts=board(""), config=cfg)
    assert str(plan.kernel_version) == "6.12.0" and plan.precedence == "kernel"
    assert not any(d.code in ("version-unknown", "kconfig-version-assumed") for d in plan.diagnostics)


@pytest.mark.parametrize("version", [None, "5.4", "6.1", "6.13", "6.19"])
def test_no_diagnostic_twice_and_each_has_a_source(version: str | None) -> None:
    plan = memplan.resolve(dts=PROBLEMS, arch="arm64", config=CFG, kernel_version=version, cmdline="cma=64M")
    seen = Counter((d.code, d.message, d.subject) for d in plan.diagnostics)
    assert [k for k, n in seen.items() if n > 1] == []
    assert [d.code for d in plan.diagnostics if d.source is None] == []
    codes = {d.code for d in plan.diagnostics}
    assert "cmdline-bootargs-replaced" in codes
    expected = {
        "rmem-overlap", "rmem-outside-ram", "cma-misaligned", "cma-nomap-reusable", "rmem-bad-size",
        "rmem-disabled", "device-dangling-region", "rmem-alloc-failed",
    }
    assert expected <= codes, expected - codes


def test_region_outside_ram_is_a_warning_with_its_reg() -> None:
    plan = memplan.resolve(dts=PROBLEMS, arch="arm64", config=CFG, kernel_version="6.1")
    d = next(d for d in plan.diagnostics if d.code == "rmem-outside-ram")
    assert d.severity == "warning" and d.subject == "/reserved-memory/out@f0000000"
    assert d.source is not None and d.source.line is not None


def test_several_defaults_point_at_the_winner() -> None:
    plan = memplan.resolve(dts=PROBLEMS, arch="arm64", config=CFG, kernel_version="5.4")
    d = next(d for d in plan.diagnostics if d.code == "cma-multiple-default")
    assert d.source is not None and d.subject == f"/reserved-memory/{plan.global_cma.region}"


def test_no_ram_names_the_memory_node() -> None:
    empty = board("", memory="reg = <0 0x40000000 0 0>;")
    plan = memplan.resolve(dts=empty, arch="arm64", kernel_version="6.1")
    d = next(d for d in plan.diagnostics if d.code == "memory-none")
    assert d.source is not None and d.source.line is not None


def test_unknown_architecture_alias_and_error() -> None:
    assert memplan.resolve(dts=board(""), arch="aarch64", kernel_version="6.1").arch == "arm64"
    with pytest.raises(ResolveError) as err:
        memplan.resolve(dts=board(""), arch="vax", kernel_version="6.1")
    assert err.value.source is not None
