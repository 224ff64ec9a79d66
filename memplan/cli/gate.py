"""``--fail-on`` and ``--ignore``: which diagnostics a run reports and which fail it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs

from memplan.cli.exits import EXIT_FINDINGS, EXIT_OK
from memplan.errors import UsageError

if TYPE_CHECKING:
    from memplan.plan import Plan

__all__ = ["apply_gate", "check_codes"]

_CODE = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
#: The severities at or above each ``--fail-on`` level.
_FAILING = {"error": ("error",), "warning": ("error", "warning")}


def check_codes(codes: list[str]) -> frozenset[str]:
    """The ``--ignore`` codes, each spelled like a diagnostic code (``memory-none``)."""
    for code in codes:
        if not _CODE.match(code):
            raise UsageError(f"--ignore: {code!r} is not a diagnostic code (e.g. memory-none)")
    return frozenset(codes)


def apply_gate(plan: Plan, fail_on: str, ignore: list[str]) -> tuple[Plan, int]:
    """``plan`` without the ignored diagnostics, and the exit status ``--fail-on`` gives it."""
    codes = check_codes(ignore)
    if codes:
        plan = attrs.evolve(plan, diagnostics=tuple(d for d in plan.diagnostics if d.code not in codes))
    failing = _FAILING[fail_on]
    status = EXIT_FINDINGS if any(d.severity in failing for d in plan.diagnostics) else EXIT_OK
    return plan, status
