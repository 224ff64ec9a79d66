"""Small observed inputs and a stand-in resolver shared by the observe tests."""

from __future__ import annotations

from typing import Any

import pytest
from observe_plan_factory import dt_pool_plan

import memplan
from memplan.plan import Plan
from memplan.units import MiB

MIB = MiB
V61 = "[    0.000000] Linux version 6.1.0-50-arm64 (x@y) (gcc) #1 SMP Debian 6.1.176-1 (2026-07-02)\n"
POOL = (
    "[    0.000000] Reserved memory: created CMA memory pool at 0x{addr}, size 96 MiB\n"
    "[    0.000000] OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool\n"
)
SYSTEM_RAM_ONLY = "40000000-bfffffff : System RAM\n  40210000-4134ffff : Kernel code\n"


def pool_plan(base: int = 0xBA000000, version: Any = "6.1.176") -> Plan:
    """The Device Tree pool plan (96 MiB at ``base``) for a 6.1.176 kernel."""
    return dt_pool_plan(base, version)


def fake_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``memplan.resolve`` return :func:`pool_plan` (the CLI tests need no board)."""

    def fake(**kwargs: Any) -> Plan:
        return pool_plan(version=kwargs.get("kernel_version") or "6.1.176")

    monkeypatch.setattr(memplan, "resolve", fake, raising=False)
