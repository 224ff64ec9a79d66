"""One serialiser for every JSON record (memplan.jsonform, on attrs.asdict): its rules, and no
hand-written ``to_dict`` left in the Plan, the model, the observe model or the comparison."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import attrs

import memplan
from memplan.jsonform import json_field, json_record, omit_none
from memplan.schemas import SCHEMA_VERSION
from memplan.source import Source
from memplan.version import KernelVersion

PKG = Path(memplan.__file__).parent
SERIALISED = (
    "plan.py", "model.py", "observe/model.py", "observe/compare.py", "observe/verdict.py", "kconfig/model.py",
    "lint/model.py",
)


@attrs.frozen
class Inner:
    a: int
    b: str = attrs.field(default="x", metadata=json_field(skip=True))


@attrs.frozen
class Outer:
    name: str
    version: KernelVersion | None
    where: Source
    said: Source = attrs.field(metadata=json_field(text=True))
    maybe: int | None = attrs.field(default=None, metadata=json_field(omit=omit_none))
    pairs: tuple[tuple[int, int], ...] = attrs.field(default=(), metadata=json_field(pairs=("lo", "hi")))
    table: tuple[tuple[str, int], ...] = attrs.field(default=(), metadata=json_field(pairs="object"))
    inner: Inner | None = attrs.field(default=None, metadata=json_field(only=("a",)))
    inners: tuple[Inner, ...] = ()
    hidden: object = attrs.field(default=None, metadata=json_field(skip=True))


@attrs.frozen
class Ordered:
    x: int
    y: int
    z: int = 0

    __json_keys__ = ("double", "y", ("ex", "x"))

    @property
    def double(self) -> int:
        return 2 * self.x


def test_fields_in_order_with_their_rules() -> None:
    src = Source("dts", file="b.dts", line=3, column=5)
    value = Outer(
        "n", KernelVersion(6, 1), src, src, None, ((1, 2),), (("k", 3),), Inner(4), (Inner(5),), object()
    )
    assert json_record(value) == {
        "name": "n",
        "version": "6.1.0",
        "where": src.to_dict(),
        "said": "b.dts:3:5",
        "pairs": [{"lo": 1, "hi": 2}],
        "table": {"k": 3},
        "inner": {"a": 4},
        "inners": [{"a": 5}],
    }
    keys = ["name", "version", "where", "said", "pairs", "table", "inner", "inners"]
    assert list(json_record(value)) == keys
    assert json_record(attrs.evolve(value, maybe=0, inner=None))["maybe"] == 0
    assert json_record(attrs.evolve(value, inner=None))["inner"] is None


def test_json_keys_order_rename_and_derived_values() -> None:
    record = json_record(Ordered(3, 4, 5))
    assert list(record.items()) == [("double", 6), ("y", 4), ("ex", 3)]


def test_plan_record_follows_its_schema() -> None:
    plan = memplan.resolve(
        dts="/dts-v1/; / { #address-cells = <2>; #size-cells = <2>; "
        'memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x40000000>; }; };',
        arch="arm64",
        kernel_version="6.1",
        cmdline="cma=32M",
    )
    schema = json.loads((PKG / "schemas" / "plan.schema.json").read_text())
    record = plan.to_dict()
    assert list(record) == list(schema["properties"])
    assert record["schema_version"] == SCHEMA_VERSION and record["kernel_version"] == "6.1.0"
    assert json.loads(plan.to_json()) == record


def test_no_hand_written_to_dict_is_left() -> None:
    """Every ``to_dict`` of these modules is the one serialiser, nothing else."""
    hand_written = []
    for rel in SERIALISED:
        tree = ast.parse((PKG / rel).read_text())
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            for fn in cls.body:
                if not isinstance(fn, ast.FunctionDef) or fn.name != "to_dict":
                    continue
                body = [
                    s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                ]
                ok = (
                    len(body) == 1
                    and isinstance(body[0], ast.Return)
                    and ast.unparse(body[0].value) == "json_record(self)"
                )
                if not ok:
                    hand_written.append(f"{rel}:{cls.name}")
    assert hand_written == []
