"""A hand-built Plan shared by the observe tests: one 96 MiB DT default CMA pool on 2 GiB at 0x40000000."""

from __future__ import annotations

from typing import Any

from memplan.model import GlobalCma, MemoryBank, Region
from memplan.plan import Plan
from memplan.version import KernelVersion

MIB = 1 << 20


def dt_pool_plan(base: int, version: Any) -> Plan:
    """The plan predicting the DT pool ``linux,cma`` (96 MiB) at ``base`` as the global CMA area."""
    r = Region("linux,cma", "reusable", "dts", "ok", "modelled", base=base, size=96 * MIB, default_cma=True)
    return Plan(
        arch="arm64",
        kernel_version=KernelVersion.coerce(version),
        precedence="kernel",
        precedence_requested="auto",
        cmdline="console=ttyAMA0",
        cmdline_origin="bootloader",
        memory=(MemoryBank(0x40000000, 0x80000000),),
        regions=(r,),
        devices=(),
        global_cma=GlobalCma("dts", 96 * MIB, base, "linux,cma"),
        diagnostics=(),
        cma_alignment=2 * MIB,
    )
