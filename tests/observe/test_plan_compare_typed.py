"""``Plan.compare`` names its argument and result types (no ``Any``): the observed boot and the
comparison are value modules the Plan may name; the call returns exactly that type."""

from __future__ import annotations

import typing

import memplan
from memplan.observe import build_observed, parse_dmesg
from memplan.observe.model import Observed
from memplan.observe.verdict import Comparison
from memplan.plan import Plan
from memplan.render.dmesg import render_dmesg


def test_signature_names_the_observed_boot_and_the_comparison() -> None:
    hints = typing.get_type_hints(
        Plan.compare, globalns={**vars(memplan.plan), "Observed": Observed, "Comparison": Comparison}
    )
    assert hints == {"observed": Observed, "tolerate_modelled": bool, "return": Comparison}
    assert "Any" not in str(Plan.compare.__annotations__)


def test_compare_returns_a_comparison() -> None:
    plan = memplan.resolve(**memplan.example().inputs(), kernel_version="6.1")  # type: ignore[arg-type]
    log = f"Linux version {plan.kernel_version} (x@y) #1 SMP\n" + render_dmesg(plan)
    result = plan.compare(build_observed(log=parse_dmesg(log, "dmesg")))
    assert type(result) is Comparison and result.ok
