"""The lint builds each board with the rules of the tree's own dtc (``scripts/dtc/version_gen.h``):
an array element out of range fails the build up to dtc 1.6.1 and is truncated with a warning
from 1.7.0, so a tree whose dtc builds such a board is not reported as build-failed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lint_mini_tree import MINI

from memplan.dts.dtcversion import parse_dtc_version
from memplan.lint import lint_tree

BOARD = "arch/arm64/boot/dts/vendor/board-wide.dts"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "linux"
    shutil.copytree(MINI, root, symlinks=True)
    clean = (root / "arch/arm64/boot/dts/vendor/board-clean.dts").read_text()
    line = 'compatible = "memplan,board-clean";'
    (root / BOARD).write_text(clean.replace(line, line + "\n\tvendor,wide = <0x100000001>;"))
    return root


def _board(root: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    report = lint_tree(root, arches=["arm64"], boards=[BOARD], jobs=1, **kwargs)  # type: ignore[arg-type]
    (board,) = report.boards
    return board


def _say(root: Path, version: str) -> None:
    (root / "scripts" / "dtc" / "version_gen.h").write_text(f'#define DTC_VERSION "DTC {version}"\n')


def test_without_a_dtc_version_the_board_fails_as_with_dtc_1_6(tree: Path) -> None:
    board = _board(tree)
    assert board.status == "build-failed"
    assert "Value out of range for 32-bit array element" in board.diagnostics[0].message
    assert board.diagnostics[0].message.endswith("with a warning: --dtc-version 1.7)")


@pytest.mark.parametrize("version", ["1.7.0-gbcd02b52", "1.6.1-gabbd523b"])
def test_the_trees_own_dtc_truncates(tree: Path, version: str) -> None:
    _say(tree, version)
    board = _board(tree)
    assert board.status == "warnings"
    [warning] = [d for d in board.diagnostics if d.code == "dtc-value-truncated"]
    assert warning.message == "Value 0x0000000100000001 truncated to 0x00000001"
    assert warning.source is not None and warning.source.file == BOARD and warning.source.line == 8


def test_an_older_tree_dtc_and_an_explicit_version(tree: Path) -> None:
    _say(tree, "1.6.1-g55778a03")
    assert _board(tree).status == "build-failed"
    assert _board(tree, dtc_version=parse_dtc_version("1.7.2")).status == "warnings"


def test_cli_option(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from memplan.cli import main

    args = ["lint", str(tree), BOARD, "--arch", "arm64", "-j", "1", "--no-progress", "--format", "json"]
    assert main(args) == 1  # build-failed
    assert '"build-failed"' in capsys.readouterr().out
    assert main([*args, "--dtc-version", "1.7"]) == 0
    assert "dtc-value-truncated" in capsys.readouterr().out
