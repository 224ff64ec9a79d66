"""Fuzz every text front end (see tests/fuzz/fuzz_targets.py): briefly by default, long with -m fuzz."""

from __future__ import annotations

import os

import pytest
from fuzz_mutate import mutated, mutated_dtb, mutated_source
from fuzz_targets import REGRESSIONS, TARGETS, check, seeds
from hypothesis import HealthCheck, given, settings

#: Examples per target in the default run (deterministic) and in the long run.
BRIEF = {"pcpp": 8, "kconfig": 10}
LONG = int(os.environ.get("MEMPLAN_FUZZ_EXAMPLES", "5000"))

#: Targets whose inputs are mutated by a strategy that knows their structure. A text edit of a DTB
#: shifts the offsets its header records, so the reader turned every input away at its header
#: checks (0 of 25 accepted): :func:`mutated_dtb` keeps the header consistent with the blocks. Text
#: edits of a DTS leave a source dtc accepts in about 1 of 40 inputs: :func:`mutated_source`
#: edits whole lines and numbers (about 1 in 4 accepted), so the edits reach the resolver.
STRUCTURED = {"dtb": mutated_dtb, "dts": mutated_source}

_RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]


def _run(target: str, examples: int, derandomize: bool) -> list[bool]:
    """Fuzz ``target``; what :func:`check` said of each input (accepted or rejected)."""
    outcomes: list[bool] = []

    @settings(max_examples=examples, deadline=None, derandomize=derandomize, database=None,
              suppress_health_check=_RELAXED)
    @given(text=STRUCTURED.get(target, mutated)(seeds(target)))
    def run(text: str) -> None:
        outcomes.append(check(target, text))

    run()
    return outcomes


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fuzz_brief(target: str) -> None:
    outcomes = _run(target, BRIEF.get(target, 25), derandomize=True)
    assert len(outcomes) >= BRIEF.get(target, 25) // 2, f"{target}: only {len(outcomes)} inputs were run"
    # not every input was turned away at the front end's first check
    assert any(outcomes), f"{target}: every mutated input was rejected"


@pytest.mark.fuzz
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fuzz_long(target: str) -> None:
    outcomes = _run(target, LONG, derandomize=False)
    assert any(outcomes), f"{target}: every mutated input was rejected"


def _regressions() -> list[tuple[str, str]]:
    return sorted((p.parent.name, p.name) for p in REGRESSIONS.glob("*/*.in"))


@pytest.mark.parametrize(("target", "name"), _regressions())
def test_regression_input(target: str, name: str) -> None:
    """Every input once found to break a front end (by hand or by the fuzzer) stays fixed."""
    check(target, (REGRESSIONS / target / name).read_text(encoding="utf-8", errors="surrogateescape"))
