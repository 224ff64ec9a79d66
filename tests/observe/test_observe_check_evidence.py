"""Nothing observed cannot make a check pass: with no evidence, or only unverifiable rows, the
result is inconclusive; one confirmed row is evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from observe_samples import POOL, SYSTEM_RAM_ONLY, V61, fake_resolver, pool_plan

from memplan.cli import main
from memplan.observe import parse_dmesg, parse_iomem
from memplan.observe.combine import build_observed
from memplan.observe.compare import INCONCLUSIVE_MESSAGE, compare, render_comparison_text


def test_check_on_empty_directory_is_not_agreement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_resolver(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.dts").write_text("/dts-v1/;\n/ { };\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    # Exit 3 (inconclusive), distinct from 1 (a mismatch).
    assert main(["check", "--observed", str(empty), "--dts", "b.dts"]) == 3
    out = capsys.readouterr().out
    assert "Result: agreement" not in out
    assert f"Result: INCONCLUSIVE ({INCONCLUSIVE_MESSAGE})" in out
    assert main(["check", "--observed", str(empty), "--dts", "b.dts", "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["inconclusive"] is True


def test_iomem_only_with_every_row_unverified_is_inconclusive() -> None:
    obs = build_observed(iomem=parse_iomem(SYSTEM_RAM_ONLY, "iomem"))
    c = compare(pool_plan(), obs)
    assert [e.status for e in c.entries] == ["unverified"]
    assert c.global_cma.status == "unknown"
    assert c.inconclusive and not c.ok
    assert INCONCLUSIVE_MESSAGE in render_comparison_text(c)


def test_one_confirmed_row_is_enough_evidence() -> None:
    log = V61 + POOL.format(addr="00000000ba000000") + "Kernel command line: console=ttyAMA0\n"
    c = compare(pool_plan(), build_observed(log=parse_dmesg(log, "dmesg")))
    assert not c.inconclusive and c.ok
    assert "Result: agreement" in render_comparison_text(c)
    moved = compare(pool_plan(base=0xBB000000), build_observed(log=parse_dmesg(log, "dmesg")))
    assert not moved.ok and "MISMATCH" in render_comparison_text(moved)
