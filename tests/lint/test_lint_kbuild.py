"""What the lint takes from a kernel tree's build files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lint_mini_tree import MINI

from memplan.lint import KernelTree, LintError
from memplan.version import KernelVersion


def test_release_boards_and_include_path() -> None:
    tree = KernelTree.open(MINI)
    assert tree.version == KernelVersion(6, 12, 3)
    assert tree.include_dirs == (str(MINI / "scripts/dtc/include-prefixes"),)
    assert tree.arches_with_boards() == ("arm", "arm64")
    assert tree.boards("arm64") == tuple(
        f"arch/arm64/boot/dts/vendor/board-{n}.dts"
        for n in ("bootloader", "broken", "clean", "cross", "outside", "overlap")
    )
    assert not tree.has_kconfig


def test_the_default_configuration_follows_kbuild_defconfig(tmp_path: Path) -> None:
    tree = KernelTree.open(MINI)
    assert tree.default_config("arm") == MINI / "arch/arm/configs/multi_v7_defconfig"
    assert tree.default_config("arm64") == MINI / "arch/arm64/configs/defconfig"
    (tmp_path / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\n")
    (tmp_path / "arch/riscv/boot/dts").mkdir(parents=True)
    (tmp_path / "arch/riscv/Makefile").write_text("  KBUILD_DEFCONFIG := $(ARCH)_defconfig\n")
    bare = KernelTree.open(tmp_path)
    assert bare.version == KernelVersion(6, 1, 0)
    with pytest.raises(LintError, match="arch/riscv/configs/defconfig does not exist; pass --config"):
        bare.default_config("riscv")


def test_a_makefile_without_a_release() -> None:
    tree = KernelTree.open(MINI)
    assert KernelTree(tree.root / "arch").version is None


def test_ambiguous_board_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\n")
    for vendor in ("a", "b"):
        d = tmp_path / "arch/arm64/boot/dts" / vendor
        d.mkdir(parents=True)
        (d / "evk.dts").write_text("/dts-v1/;\n/ { };\n")
    tree = KernelTree.open(tmp_path)
    both = "arch/arm64/boot/dts/a/evk.dts, arch/arm64/boot/dts/b/evk.dts"
    with pytest.raises(LintError, match=re.escape(f"ambiguous: {both}")):
        tree.select_boards(["arm64"], ["evk"])
    assert tree.select_boards(["arm64"], ["arch/arm64/boot/dts/b/evk.dts"]) == (
        ("arm64", "arch/arm64/boot/dts/b/evk.dts"),)
