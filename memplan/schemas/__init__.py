"""The published JSON Schemas of memplan's JSON output, shipped inside the package.

* ``plan.schema.json``: ``memplan resolve --format json`` and :meth:`memplan.Plan.to_json`;
* ``comparison.schema.json``: ``memplan check --format json`` and ``Comparison.to_json``;
* ``observed.schema.json``: ``memplan observe --format json`` and ``Observed.to_dict``;
* ``lint.schema.json``: ``memplan lint --format json`` and ``LintReport.to_dict``.

Every document carries ``schema_version`` (:data:`SCHEMA_VERSION`): the minor number grows when
fields are added, the major one if a field is ever renamed, removed or changes meaning.
:func:`schema` returns a schema as a dictionary (validate with any JSON Schema 2020-12 validator).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SCHEMAS", "SCHEMA_VERSION", "schema"]

#: The version of the JSON documents memplan writes.
SCHEMA_VERSION = "1.2"

#: The published schemas, by document name.
SCHEMAS: tuple[str, ...] = ("plan", "comparison", "observed", "lint")


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of document ``name`` (one of :data:`SCHEMAS`)."""
    from importlib import resources  # here: importing it costs start-up time (zipfile, tempfile)

    if name not in SCHEMAS:
        raise KeyError(f"no schema {name!r} (the schemas: {', '.join(SCHEMAS)})")
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
