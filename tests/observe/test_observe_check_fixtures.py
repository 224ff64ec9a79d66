"""``Plan.compare`` / ``memplan check`` end to end: memplan's own prediction against every recorded boot.

Uses the real resolver (skipped while it is unavailable). Every predicted region must pair
with what the kernel reported (no predicted region without a counterpart and no observed
region memplan did not predict), and the global CMA winner and size must agree. Exact
addresses and states the resolver does not model are left to tests/kernel (which keeps
the known misses as xfail).
"""

from __future__ import annotations

import gzip
import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from memplan.cli import main
from memplan.observe import read_observed
from memplan.plan import Plan

FIXTURES = Path(__file__).resolve().parents[1] / "kernel" / "fixtures"


def _resolver() -> Any:
    try:
        return importlib.import_module("memplan.api").resolve
    except (ImportError, AttributeError):
        return None


def _config_file(d: Path, scenario: dict[str, Any]) -> Path:
    """The fixture's gzip .config: shared per kernel build (``scenario["config"]``, relative)."""
    ref = scenario.get("config")
    return d / str(ref) if ref else d / "config.gz"


def _usable(d: Path) -> bool:
    try:
        scenario = json.loads((d / "scenario.json").read_text())
    except (OSError, ValueError):
        return False
    complete = bool(scenario.get("complete"))
    return complete and _config_file(d, scenario).is_file() and (d / "dmesg.txt").is_file()


CASES = sorted(d for d in FIXTURES.glob("*") if d.is_dir() and _usable(d)) if FIXTURES.is_dir() else []


def _inputs(fixture: Path, tmp_path: Path) -> dict[str, Any]:
    scenario = json.loads((fixture / "scenario.json").read_text())
    config = tmp_path / "config"
    config.write_bytes(gzip.decompress(_config_file(fixture, scenario).read_bytes()))
    arch = "x86" if str(scenario["arch"]).startswith("x86") else scenario["arch"]
    kw: dict[str, Any] = {
        "cmdline": scenario["cmdline"],
        "config": str(config),
        "arch": arch,
        "memory": scenario["ram"],
    }
    if arch == "riscv" and (fixture / "fdt").is_file():
        kw["dts"] = str(fixture / "fdt")  # OpenSBI adds mmode_resv0: the tree the kernel booted
    elif (fixture / "board.dts").is_file():
        kw["dts"] = str(fixture / "board.dts")
    return kw


def test_recorded_boots_are_usable() -> None:
    """Every recorded fixture has its log and its (shared) .config, so none is silently left out."""
    recorded = [d for d in FIXTURES.glob("*") if (d / "scenario.json").is_file()
                and not json.loads((d / "scenario.json").read_text()).get("expect_hang")]
    assert len(recorded) >= 20
    assert sorted(recorded) == CASES


@pytest.mark.slow
@pytest.mark.skipif(_resolver() is None or not CASES, reason="resolver or fixtures not available")
@pytest.mark.parametrize("fixture", CASES, ids=[d.name for d in CASES])
def test_prediction_agrees_with_recorded_boot(fixture: Path, tmp_path: Path) -> None:
    observed = read_observed([fixture])
    assert observed.kernel_version is not None
    plan = _resolver()(kernel_version=observed.kernel_version, **_inputs(fixture, tmp_path))
    assert isinstance(plan, Plan)
    comparison = plan.compare(observed, tolerate_modelled=True)
    g = comparison.global_cma
    # Which pool won and its size are decided by rules; the exact base of a modelled placement
    # is the resolver's business (tests/kernel keeps the known misses as xfail), so only the
    # pairing of regions and the winner are asserted here.
    assert g.status != "unknown"
    assert g.observed.origin in (g.predicted_origin, "cmdline-or-kconfig"), comparison.to_text()
    if g.predicted_size is not None:
        assert g.observed.size_matches(g.predicted_size), comparison.to_text()
    unpaired = [
        e.name
        for e in comparison.entries
        if (e.status == "missing" and e.observed is None)
        or (e.status == "unexpected" and e.predicted is None)
    ]
    assert unpaired == [], comparison.to_text()


@pytest.mark.skipif(_resolver() is None, reason="resolver not available")
def test_check_cli_on_recorded_boot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixture = FIXTURES / "arm64-6.1-dt-default-cma"
    if not _usable(fixture):
        pytest.skip("fixture not recorded")
    kw = _inputs(fixture, tmp_path)
    argv = ["check", "--observed", str(fixture), "--dts", kw["dts"], "--cmdline", kw["cmdline"]]
    argv += ["--config", kw["config"], "--arch", kw["arch"], "--memory", kw["memory"], "--tolerate-modelled"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Global CMA area: MATCHED" in out
    assert "linux,cma" in out and "bypassed" in out
    # the same boot checked against a prediction for a pre-5.6 kernel: the DT default would win
    assert main([*argv, "--kernel-version", "5.4"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out
    assert "bypasses the DT default when cma= is present" in out
