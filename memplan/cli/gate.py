"""``--fail-on`` and ``--ignore``: which diagnostics a run reports and which fail it.

The options are defined in :func:`memplan.cli.options.add_gate_options` (``--ignore`` takes only
codes of the registry); every subcommand that gates on diagnostics applies them here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from memplan.cli.exits import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from memplan.model import Diagnostic
    from memplan.plan import Plan

__all__ = ["apply_gate", "at_level", "gate_status", "kept"]

#: The severities that reach each ``--fail-on`` level.
_FAILING: dict[str, tuple[str, ...]] = {"error": ("error",), "warning": ("error", "warning"), "never": ()}


def kept(diagnostics: Iterable[Diagnostic], ignore: Iterable[str]) -> tuple[Diagnostic, ...]:
    """``diagnostics`` without those whose code ``--ignore`` names."""
    codes = frozenset(ignore)
    return tuple(d for d in diagnostics if d.code not in codes)


def at_level(diagnostics: Iterable[Diagnostic], fail_on: str) -> tuple[Diagnostic, ...]:
    """The ``diagnostics`` at the ``--fail-on`` level or worse (none for ``never``)."""
    failing = _FAILING[fail_on]
    return tuple(d for d in diagnostics if d.severity in failing)


def gate_status(diagnostics: Iterable[Diagnostic], fail_on: str) -> int:
    """1 when a diagnostic reaches the ``--fail-on`` level, else 0."""
    return EXIT_FINDINGS if at_level(diagnostics, fail_on) else EXIT_OK


def apply_gate(plan: Plan, fail_on: str, ignore: Iterable[str]) -> tuple[Plan, int]:
    """``plan`` without the ignored diagnostics, and the exit status ``--fail-on`` gives it."""
    diagnostics = kept(plan.diagnostics, ignore)
    if len(diagnostics) != len(plan.diagnostics):
        plan = attrs.evolve(plan, diagnostics=diagnostics)
    return plan, gate_status(plan.diagnostics, fail_on)
