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


def _dts_dir(root: Path, folder: str, makefile: str, boards: tuple[str, ...]) -> None:
    where = root / "arch/arm64/boot/dts" / folder
    where.mkdir(parents=True)
    (where / "Makefile").write_text(makefile)
    for board in boards:
        (where / f"{board}.dts").write_text("/dts-v1/;\n/ { };\n")


def test_dtc_flags_of_each_board_as_makefile_dtbs_sets_them(tmp_path: Path) -> None:
    """``DTC_FLAGS`` of the board's directory, the defaults, ``DTC_FLAGS_<board>`` and ``-@`` for
    the base of a composite that a dtb- line builds; after a ``DTC_FLAGS :=`` make expands the
    last two at once, before any board is named, so they add nothing there."""
    from memplan.lint.kbuild import KBUILD_DTC_FLAGS

    (tmp_path / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\n")
    _dts_dir(tmp_path, "ti", (
        "DTC_FLAGS_base-b += -Wno-interrupt_map  # a comment\n"
        "DTC_FLAGS_plain := -Wfoo\nDTC_FLAGS_plain := -@\n"
        "dtb-$(CONFIG_ARCH_K3) += base-a.dtb base-b.dtb plain.dtb \\\n\tcombo.dtb\n"
        "combo-dtbs := base-a.dtb \\\n\tover.dtbo\n"
        "combo-dtbs += base-b.dtb\n"
        "unbuilt-dtbs := lonely.dtb over.dtbo\n"
    ), ("base-a", "base-b", "plain", "lonely"))
    _dts_dir(tmp_path, "bcm", "DTC_FLAGS := -@\nDTC_FLAGS_one := -Wbar\ndtb-y += one.dtb\n", ("one",))
    _dts_dir(tmp_path, "rec", "DTC_FLAGS = -x\nDTC_FLAGS += -y\nDTC_FLAGS_two := -Wbar\n", ("two",))
    flags = KernelTree.open(tmp_path).dtc_flags("arm64")
    ti, bcm, rec = ("arch/arm64/boot/dts/" + d for d in ("ti", "bcm", "rec"))
    assert flags == {
        f"{ti}/base-a.dts": (*KBUILD_DTC_FLAGS, "-@"),
        f"{ti}/base-b.dts": (*KBUILD_DTC_FLAGS, "-Wno-interrupt_map", "-@"),
        f"{ti}/plain.dts": (*KBUILD_DTC_FLAGS, "-@"),
        f"{ti}/lonely.dts": KBUILD_DTC_FLAGS,  # its composite is built by no dtb- line
        f"{bcm}/one.dts": ("-@", *KBUILD_DTC_FLAGS),
        f"{rec}/two.dts": ("-x", "-y", *KBUILD_DTC_FLAGS, "-Wbar"),
    }
    tree = KernelTree.open(tmp_path)
    cpp, dtc = tree.build_commands(f"{ti}/base-b.dts", "/t/b", cpp="gcc", flags=flags[f"{ti}/base-b.dts"])
    assert cpp == ["gcc", "-E", "-Wp,-MMD,/t/b.d.pre.tmp", "-nostdinc", "-I", "scripts/dtc/include-prefixes",
                   "-undef", "-D__DTS__", "-x", "assembler-with-cpp", "-o", "/t/b.dts.tmp",
                   f"{ti}/base-b.dts"]
    assert dtc == ["dtc", "-o", "/t/b.dtb", "-b", "0", "-i", f"{ti}/", "-i", "scripts/dtc/include-prefixes",
                   *flags[f"{ti}/base-b.dts"], "-d", "/t/b.d.dtc.tmp", "/t/b.dts.tmp"]
