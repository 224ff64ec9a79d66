"""``memplan observe`` and ``memplan check`` (the resolver is replaced by a fake returning a fixed Plan)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from observe_plan_factory import dt_pool_plan

import memplan
from memplan.cli import main
from memplan.plan import Plan

MIB = 1 << 20
LOG = (
    "[    0.000000] Linux version 6.1.0-50-arm64 (x@y) (gcc) #1 SMP Debian 6.1.176-1 (2026-07-02)\n"
    "[    0.000000] Reserved memory: created CMA memory pool at 0x00000000ba000000, size 96 MiB\n"
    "[    0.000000] OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool\n"
    "[    0.000000] Kernel command line: console=ttyAMA0\n"
    "[    0.000000] cma: Reserved lots\n"
)


@pytest.fixture
def snap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The resolver is a fake, but the CLI checks that the board files exist.
    monkeypatch.chdir(tmp_path)
    for name in ("board.dts", "b.dts", "a.dts"):
        (tmp_path / name).write_text("/dts-v1/;\n/ { };\n")
    d = tmp_path / "snap"
    d.mkdir()
    (d / "dmesg").write_text(LOG)
    (d / "meminfo").write_text("MemTotal: 2000000 kB\nCmaTotal: 98304 kB\nCmaFree: 97000 kB\n")
    return d


def test_observe_text(snap: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["observe", str(snap)]) == 0
    out = capsys.readouterr().out
    assert "Observed kernel: 6.1.176 (release 6.1.0-50-arm64)" in out
    assert "Global CMA area: dts linux,cma >=96 MiB at 0xba000000" in out
    assert "observe-malformed-line" in out  # the broken cma: line is reported, not fatal


def test_observe_json(snap: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["observe", "--format", "json", str(snap)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["global_cma"]["origin"] == "dts"
    assert data["cma_total"] == 96 * MIB
    assert [d["code"] for d in data["diagnostics"]] == ["observe-malformed-line"]


def test_observe_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["observe"]) == 2
    assert main(["observe", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'missing'}: no such file or directory" in err
    assert err.count(str(tmp_path / "missing")) == 1  # the path once, as the error's source


def test_observe_live_runs() -> None:
    assert main(["observe", "--live", "--format", "json"]) == 0


def _plan(base: int, version: Any = None) -> Plan:
    return dt_pool_plan(base, version)


def _fake_resolver(monkeypatch: pytest.MonkeyPatch, base: int) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake(**kwargs: Any) -> Plan:
        calls.append(kwargs)
        return _plan(base, kwargs.get("kernel_version"))

    monkeypatch.setattr(memplan, "resolve", fake, raising=False)
    return calls


def test_check_agreement_exit_0(
    snap: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _fake_resolver(monkeypatch, 0xBA000000)
    assert main(["check", "--observed", str(snap), "--dts", "board.dts", "--cmdline", "console=ttyAMA0"]) == 0
    out = capsys.readouterr().out
    assert "Result: agreement" in out
    assert "predicting for the observed kernel version 6.1.176" in out
    [kw] = calls
    assert kw["dts"] == Path("board.dts")
    assert kw["cmdline"] == "console=ttyAMA0" and kw["kernel_version"] == "6.1.176"


def test_check_mismatch_exit_1_and_tolerance(
    snap: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_resolver(monkeypatch, 0xBB000000)
    assert main(["check", "--observed", str(snap), "--dts", "b.dts", "--kernel-version", "6.1"]) == 1
    out = capsys.readouterr().out
    assert "moved" in out and "MISMATCH" in out
    assert main(["check", "--observed", str(snap), "--dts", "b.dts", "--tolerate-modelled"]) == 0


def test_check_json_output(
    snap: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_resolver(monkeypatch, 0xBB000000)
    assert main(["check", "--observed", str(snap), "--dts", "b.dts", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["entries"][0]["status"] == "moved"
    assert data["plan_kernel_version_from_observed"] is True


def test_check_cmdline_from_observed(snap: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_resolver(monkeypatch, 0xBA000000)
    assert main(["check", "--observed", str(snap), "--dts", "b.dts", "--cmdline-from-observed"]) == 0
    assert calls[0]["cmdline"] == "console=ttyAMA0"


def test_check_bad_input_exit_2(tmp_path: Path, snap: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_resolver(monkeypatch, 0xBA000000)
    assert main(["check", "--observed", str(tmp_path / "nope"), "--dts", "b.dts"]) == 2
    assert main(["check", "--observed", str(snap), "--dts", "a.dts", "--dtb", "b.dtb"]) == 2
    assert main(["check", "--observed", str(snap), "--cmdline", "x", "--cmdline-from-observed"]) == 2


def test_observe_live_and_paths_conflict(snap: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["observe", "--live", str(snap)]) == 2
    assert "either --live or PATH" in capsys.readouterr().err


def test_observe_save_needs_live(snap: Path, tmp_path: Path) -> None:
    assert main(["observe", "--save", str(tmp_path / "out"), str(snap)]) == 2
    assert not (tmp_path / "out").exists()
