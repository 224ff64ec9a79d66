"""``--format sarif`` validates against the official SARIF 2.1.0 schema; both CI formats locate each
diagnostic on the line of the .dts or .config it comes from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memplan.cli import main
from memplan.examples import example
from memplan.model import Diagnostic
from memplan.render.github import render_github
from memplan.render.sarif import sarif_log
from memplan.source import Source

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
EVK = example("evk")


def _sarif_validator() -> Any:
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))


def _check(log: dict[str, Any]) -> None:
    errors = list(_sarif_validator().iter_errors(log))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) in (0, 1)
    return capsys.readouterr().out


def test_resolve_sarif_is_valid_and_located(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["resolve", "--example", "evk", "--kernel-version", "6.1", "--format", "sarif"]
    log = json.loads(_run(argv, capsys))
    _check(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "memplan"
    result = next(r for r in run["results"] if r["ruleId"] == "cma-dt-bypassed")
    assert result["level"] == "warning"
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == EVK.dts.as_uri()
    line = loc["region"]["startLine"]
    assert "linux,cma" in EVK.dts.read_text().splitlines()[line - 1]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules[result["ruleIndex"]] == "cma-dt-bypassed"


def test_every_kind_of_source_gives_valid_sarif_and_annotations() -> None:
    diags = [
        Diagnostic("error", "dts-x", "in a file", Source.at("boards/b.dts", 12, 5, "  x = <1>;")),
        Diagnostic("warning", "cfg-x", "in a config", Source.config_line("my config/.config", 3, "CONFIG_X")),
        Diagnostic("info", "cl-x", "a token", Source.token("cma=64M", 10, 17, "/chosen/bootargs")),
        Diagnostic("warning", "dtb-x", "in a blob", Source("dtb", file="b.dtb", offset=64)),
        Diagnostic("info", "def-x", "a default", Source.builtin("CONFIG_CMA_SIZE_MBYTES")),
        Diagnostic("error", "none-x", "no source, 100% bad,\nsecond line"),
    ]
    log = sarif_log(diags, version="0.0.0")
    _check(log)
    results = log["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 12, "startColumn": 5, "snippet": {"text": "  x = <1>;"}
    }
    assert results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "my%20config/.config"
    assert results[2]["locations"][0]["logicalLocations"][0]["name"] == "cma=64M"
    assert results[3]["locations"][0]["physicalLocation"]["region"] == {"byteOffset": 64}
    assert "locations" not in results[4] and "kernel default" in results[4]["message"]["text"]
    assert [r["level"] for r in results] == ["error", "warning", "note", "warning", "note", "error"]
    lines = render_github(diags).splitlines()
    assert lines[0] == "::error file=boards/b.dts,line=12,col=5,title=memplan dts-x::in a file"
    assert lines[1] == "::warning file=my config/.config,line=3,title=memplan cfg-x::in a config"
    assert lines[2].startswith("::notice title=memplan cl-x::a token (cmdline token 'cma=64M' at 10..17")
    assert lines[5] == "::error title=memplan none-x::no source, 100%25 bad,%0Asecond line"


def test_schema_catches_a_broken_log() -> None:
    log = sarif_log([Diagnostic("error", "x", "m", Source.at("b.dts", 0))], version="0")
    assert not _sarif_validator().is_valid(log)  # startLine must be >= 1


def test_lint_sarif_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = Path(__file__).resolve().parents[1] / "lint" / "fixtures" / "linux-mini"
    if not tree.is_dir():
        pytest.skip("no lint fixture tree")
    out = tmp_path / "lint.sarif"
    main(["lint", str(tree), "--format", "sarif", "-o", str(out), "--no-progress", "-j", "1"])
    capsys.readouterr()
    _check(json.loads(out.read_text()))
