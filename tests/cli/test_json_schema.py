"""Every JSON document memplan writes validates against its published schema (memplan/schemas)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memplan.cli import main
from memplan.examples import example
from memplan.schemas import SCHEMA_VERSION, SCHEMAS, schema

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")

FIXTURES = Path(__file__).resolve().parents[1] / "kernel" / "fixtures"
EVK = example("evk")


def _validate(name: str, doc: Any) -> None:
    validator = jsonschema.Draft202012Validator(schema(name))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]
    assert doc["schema_version"] == SCHEMA_VERSION


def _json(argv: list[str], capsys: pytest.CaptureFixture[str], status: tuple[int, ...] = (0, 1)) -> Any:
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert code in status, err
    return json.loads(out)


def _fixtures(count: int) -> list[Path]:
    """A spread of completed boots (a boot that hangs on purpose keeps only its console log)."""
    found = sorted(
        p for p in FIXTURES.iterdir() if (p / "board.dts").is_file() and (p / "cmdline.txt").is_file()
    ) if FIXTURES.is_dir() else []
    step = max(1, len(found) // count)
    return found[::step][:count]


def test_schemas_are_valid_json_schemas() -> None:
    for name in SCHEMAS:
        jsonschema.Draft202012Validator.check_schema(schema(name))


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--kernel-version", "5.4"],
        ["--kernel-version", "6.1", "--cmdline", "cma=0 mem=1G crashkernel=64M bogus=1 cma=64M@zz"],
        ["--kernel-version", "6.12", "--precedence", "seed", "--memory", "4G"],
    ],
)
def test_resolve_json_matches_the_schema(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(["resolve", "--example", "evk", *extra], capsys)
    _validate("plan", doc)
    kinds = {d["source"]["kind"] for d in doc["diagnostics"] if d["source"]}
    assert kinds  # sources are structured objects, not strings


def test_sources_are_structured_with_the_text_form_beside(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(["resolve", "--example", "evk", "--kernel-version", "6.1"], capsys)
    bypass = next(d for d in doc["diagnostics"] if d["code"] == "cma-dt-bypassed")
    src = bypass["source"]
    assert src["kind"] == "file" and src["file"] == str(EVK.dts)
    assert src["text"] == f"{EVK.dts}:{src['line']}:{src['column']}"
    assert "linux,cma" in src["snippet"]
    winner = next(c for c in doc["global_cma"]["candidates"] if c["status"] == "selected")
    token = winner["source"]
    assert token["kind"] == "cmdline" and token["token"] == "cma=320M"
    start, end = token["span"]
    assert doc["cmdline"][start:end] == "cma=320M" and token["origin"] == "/chosen/bootargs"
    kconfig = next(c for c in doc["global_cma"]["candidates"] if c["origin"] == "kconfig")
    assert kconfig["source"]["kind"] == "config" and kconfig["source"]["file"] == str(EVK.config)
    assert "CONFIG_CMA_SIZE_MBYTES=32" in kconfig["source"]["snippet"]


def test_the_schema_rejects_what_it_does_not_describe(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(["resolve", "--example", "evk", "--kernel-version", "6.1"], capsys)
    validator = jsonschema.Draft202012Validator(schema("plan"))
    flat = json.loads(json.dumps(doc))
    flat["diagnostics"][0]["source"] = flat["diagnostics"][0]["source"]["text"]  # the old string form
    assert not validator.is_valid(flat)
    extra = json.loads(json.dumps(doc))
    extra["regions"][0]["undocumented"] = 1
    assert not validator.is_valid(extra)


@pytest.mark.parametrize("fixture", _fixtures(6), ids=lambda p: p.name)
def test_check_and_observe_json_match_their_schemas(
    fixture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _validate("observed", _json(["observe", str(fixture)], capsys, (0,)))
    scenario = json.loads((fixture / "scenario.json").read_text())
    argv = ["check", "--observed", str(fixture), "--dts", str(fixture / "board.dts"),
            "--arch", scenario["arch"]]
    # the boot loader's command line: a file beside the board, or only in the scenario
    cmdline = fixture / "cmdline.txt"
    argv += ["--cmdline-file", str(cmdline)] if cmdline.is_file() else ["--cmdline", scenario["cmdline"]]
    if scenario["arch"] == "x86":
        argv += ["--memory", scenario["ram"]]
    doc = _json(argv, capsys, (0, 1, 3))
    _validate("comparison", doc)
    # ... and the plan behind it
    plan = _json(["resolve", *argv[3:]], capsys)
    _validate("plan", plan)
