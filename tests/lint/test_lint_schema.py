"""``memplan lint --format json`` validates against the published lint schema."""

from __future__ import annotations

import json

import pytest
from lint_mini_tree import MINI

from memplan.cli import main
from memplan.schemas import SCHEMA_VERSION, schema

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")


def test_lint_json_matches_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(MINI), "-j", "1", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    validator = jsonschema.Draft202012Validator(schema("lint"))
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]
    assert errors == []
    assert doc["schema_version"] == SCHEMA_VERSION
    # the schema can fail: a status outside the four is refused
    doc["boards"][0]["status"] = "fine"
    assert not validator.is_valid(doc)


def test_shared_definitions_are_the_plans() -> None:
    lint, plan = schema("lint"), schema("plan")
    for name in ("source", "diagnostic", "candidate", "global_cma"):
        assert lint["$defs"][name] == plan["$defs"][name], name
