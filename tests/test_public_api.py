"""The public surface of ``memplan``: exported names, Literal-typed fields, one-path readers, lazy import."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import memplan
from memplan.model import REGION_KINDS

FIXTURE = Path(__file__).resolve().parent / "kernel" / "fixtures" / "arm64-6.1-dt-default"


def test_every_exported_name_resolves() -> None:
    for name in memplan.__all__:
        assert getattr(memplan, name) is not None, name
    assert memplan.Comparison.__name__ == "Comparison" and memplan.Observed.__name__ == "Observed"


def test_literal_aliases_type_the_model() -> None:
    hints = typing.get_type_hints(memplan.Region)
    assert hints["kind"] is memplan.RegionKind
    assert typing.get_args(memplan.RegionKind) == REGION_KINDS
    import memplan.plan as plan_module

    # (the Plan's annotations name types only imported for type checking: compare names)
    plan_hints = memplan.Plan.__annotations__
    for field, alias in (("arch", "Arch"), ("precedence", "Precedence"),
                         ("precedence_requested", "PrecedenceRequest")):
        assert plan_hints[field] == alias
        assert getattr(plan_module, alias) is getattr(memplan, alias)
    assert "arm64" in typing.get_args(memplan.Arch)


def test_resolve_stays_a_function_after_the_resolver_package_is_imported() -> None:
    code = "import memplan.resolve.engine, memplan; assert callable(memplan.resolve), memplan.resolve"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_memplan_is_lazy() -> None:
    code = "import sys, memplan; print(sorted(m for m in sys.modules if m.startswith(('memplan.', 'attr'))))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_read_observed_takes_one_path() -> None:
    if not FIXTURE.is_dir():
        import pytest

        pytest.skip("no kernel fixture")
    one = memplan.read_observed(FIXTURE)
    assert one.kernel_version is not None and one.regions
    assert memplan.read_observed(str(FIXTURE)) == one == memplan.read_observed([FIXTURE])


def test_example_board_paths() -> None:
    board = memplan.example("evk")
    assert board.dts.is_file() and board.config.is_file()
    plan = memplan.resolve(**board.inputs(), kernel_version="6.1")  # type: ignore[arg-type]
    assert plan.global_cma.origin == "cmdline"


def test_resolve_without_a_config_does_not_import_the_config_front_end() -> None:
    code = (
        "import sys, memplan; b = memplan.example(); "
        "memplan.resolve(dts=b.dts, include_dirs=b.include_dirs, arch='arm64', kernel_version='6.1'); "
        "print(sorted(m for m in sys.modules if 'kconfig' in m))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
