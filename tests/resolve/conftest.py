"""Helpers for the resolver tests: small hand-written boards as DTS text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import memplan
from memplan.plan import Plan

M = 1 << 20


def board(
    rmem: str = "",
    *,
    memory: str = "reg = <0x0 0x40000000 0x0 0x80000000>;",
    cells: int = 2,
    rmem_cells: int | None = None,
    extra: str = "",
    head: str = "",
    bootargs: str | None = None,
    cpu: str = "arm,cortex-a53",
    ranges: bool = True,
) -> str:
    """A board with 2 GiB at 0x40000000 (by default) and ``rmem`` inside /reserved-memory."""
    rc = cells if rmem_cells is None else rmem_cells
    chosen = f'chosen {{ bootargs = "{bootargs}"; }};' if bootargs is not None else ""
    return f"""/dts-v1/;
{head}
/ {{
    #address-cells = <{cells}>;
    #size-cells = <{cells}>;
    compatible = "test,board";
    cpus {{ #address-cells = <1>; #size-cells = <0>; cpu@0 {{ compatible = "{cpu}"; reg = <0>; }}; }};
    {chosen}
    memory@40000000 {{ device_type = "memory"; {memory} }};
    reserved-memory {{
        #address-cells = <{rc}>;
        #size-cells = <{rc}>;
        {"ranges;" if ranges else ""}
        {rmem}
    }};
    {extra}
}};
"""


@pytest.fixture
def resolve_board() -> Callable[..., Plan]:
    """``resolve_board(dts_text, **resolve_kwargs)`` with arm64 / 6.1 defaults."""

    def run(text: str, **kw: Any) -> Plan:
        kw.setdefault("arch", "arm64")
        kw.setdefault("kernel_version", "6.1")
        kw.setdefault("config", "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n")
        return memplan.resolve(dts=text, **kw)

    return run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect this folder's ``corpus_full`` tests unless ``-m corpus_full`` or MEMPLAN_FULL_CORPUS=1."""
    import os
    from pathlib import Path

    markexpr = str(config.getoption("markexpr", "") or "")
    if ("corpus_full" in markexpr and "not corpus_full" not in markexpr) or os.environ.get(
        "MEMPLAN_FULL_CORPUS"
    ) == "1":
        return
    here = Path(__file__).resolve().parent
    drop = [i for i in items if "corpus_full" in i.keywords and here in Path(str(i.fspath)).resolve().parents]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [i for i in items if i not in drop]
