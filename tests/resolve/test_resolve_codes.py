"""The diagnostic registry: every code a resolved plan carries is registered and documented."""

from __future__ import annotations

import memplan
from memplan.diagnostics import CODES, diag
from tests.resolve.conftest import board


def test_registry_entries_are_documented() -> None:
    for code, entry in CODES.items():
        assert code == entry.code
        assert entry.title and entry.meaning and entry.fix
        assert entry.severity in ("error", "warning", "info")


def test_diag_uses_registered_severity() -> None:
    assert diag("rmem-overlap", "x").severity == "error"
    assert diag("rmem-overlap", "x", severity="warning").severity == "warning"


def test_emitted_codes_are_registered() -> None:
    rmem = (
        "a@50000000 { reg = <0 0x50000000 0 0x200000>; };\n"
        "b@50100000 { reg = <0 0x50100000 0 0x200000>; };\n"
        'c { compatible = "shared-dma-pool"; reusable; size = <0x1000>; };\n'
        'd { compatible = "shared-dma-pool"; reusable; no-map; size = <0 0x400000>; };\n'
        'e { status = "disabled"; reg = <0 0x60000000 0 0x1000>; };\n'
        'f { compatible = "shared-dma-pool"; reusable; size = <0 0x4000000>; linux,cma-default; };\n'
        "g { };\n"
    )
    extra = "dev { memory-region = <0x4242>; };"
    seen: set[str] = set()
    for version in ("5.4", "6.1", "6.13", "6.19"):
        plan = memplan.resolve(
            dts=board(rmem, extra=extra, bootargs="cma=64M@0x50000000-0xf0000000"),
            arch="arm64",
            kernel_version=version,
        )
        seen |= {d.code for d in plan.diagnostics}
    assert seen <= set(CODES), seen - set(CODES)  # front ends and resolver share one registry
    ours = {c for c in seen if CODES[c].front_end == "resolve"}
    assert {
        "rmem-overlap",
        "rmem-bad-size",
        "cma-nomap-reusable",
        "rmem-disabled",
        "device-dangling-region",
        "cma-limit-clipped",
        "rmem-no-reg-or-size",
    } <= ours


def test_dma_cma_disabled_is_reported() -> None:
    plan = memplan.resolve(
        dts=board("", bootargs="cma=64M"),
        arch="arm64",
        kernel_version="6.1",
        config="CONFIG_ARM64=y\nCONFIG_CMA=y\n",
    )
    assert "dma-cma-disabled" in {d.code for d in plan.diagnostics}
    g = plan.global_cma
    assert (g.origin, g.size, g.status) == ("kconfig", 0, "unsupported")
