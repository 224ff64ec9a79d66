"""Evaluating a kernel tree's own Kconfig (srctree=) instead of the bundled model."""

from __future__ import annotations

from pathlib import Path

import pytest

from memplan.errors import ConfigError
from memplan.kconfig import clear_cache, load_config
from memplan.version import KernelVersion

FILES = {
    "Makefile": "# SPDX\nVERSION = 6\nPATCHLEVEL = 16\nSUBLEVEL = 2\nEXTRAVERSION =\n",
    "Kconfig": 'mainmenu "fake tree"\n\nsource "arch/$(SRCARCH)/Kconfig"\nsource "mm/Kconfig"\n'
    'source "kernel/dma/Kconfig"\n',
    "arch/arm64/Kconfig": "config ARM64\n\tdef_bool y\n\tselect HAVE_DMA_CONTIGUOUS\n\n"
    "config MMU\n\tdef_bool y\n\nconfig HAVE_DMA_CONTIGUOUS\n\tbool\n",
    "arch/x86/Kconfig": "config X86\n\tdef_bool y\n\nconfig MMU\n\tdef_bool y\n",
    "mm/Kconfig": 'config CMA\n\tbool "cma"\n\tdepends on MMU\n\n'
    'config CMA_AREAS\n\tint "areas"\n\tdepends on CMA\n\tdefault 5\n\n'
    "config ARCH_FORCE_MAX_ORDER\n\tint\n\n"
    'config PAGE_BLOCK_MAX_ORDER\n\tint "pb"\n\trange 1 10 if ARCH_FORCE_MAX_ORDER = 0\n'
    "\tdefault 10 if ARCH_FORCE_MAX_ORDER = 0\n\trange 1 ARCH_FORCE_MAX_ORDER if ARCH_FORCE_MAX_ORDER != 0\n"
    "\tdefault ARCH_FORCE_MAX_ORDER if ARCH_FORCE_MAX_ORDER != 0\n",
    "kernel/dma/Kconfig": 'config DMA_CMA\n\tbool "dma cma"\n\tdepends on HAVE_DMA_CONTIGUOUS && CMA\n\n'
    'if DMA_CMA\nconfig CMA_SIZE_MBYTES\n\tint "mbytes"\n\tdefault 32\nendif\n',
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel, body in FILES.items():
        p = tmp_path / "linux" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
    return tmp_path / "linux"


def test_values_come_from_the_tree(tree: Path) -> None:
    c = load_config(text="CONFIG_CMA=y\nCONFIG_DMA_CMA=y\n", name="defconfig", arch="arm64", srctree=tree)
    assert (c.cma, c.dma_cma, c.cma_size_mbytes, c.cma_areas) == (True, True, 32, 5)
    assert c.kernel_version == KernelVersion(6, 16, 2)  # from the tree's Makefile
    # a bare int declaration reads as 0 (as with the kernel's own tools), so the `= 0` branch applies
    assert c.page_block_max_order == 10
    assert c.diagnostics == ()


def test_tree_rules_drive_the_diagnostics(tree: Path) -> None:
    c = load_config(text="CONFIG_DMA_CMA=y\nCONFIG_CMDLINE_FORCE=y\n", name="d", arch="x86", srctree=tree)
    assert not c.dma_cma
    found = [(d.code, d.source.line if d.source else None) for d in c.diagnostics]
    assert found == [("kconfig-unmet-dependency", 1), ("kconfig-not-in-version", 2)]
    assert str(tree) in c.diagnostics[1].message


def test_explicit_version_wins_over_the_makefile(tree: Path) -> None:
    c = load_config(text="", arch="arm64", kernel_version="6.1", srctree=tree)
    assert c.kernel_version == KernelVersion(6, 1)


def test_broken_tree_kconfig_is_a_positioned_error(tree: Path) -> None:
    (tree / "mm" / "Kconfig").write_text('config CMA\n\tbool "cma"\n\tdepends on (MMU\n')
    with pytest.raises(ConfigError) as info:
        load_config(text="", arch="arm64", srctree=tree)
    src = info.value.source
    assert src is not None and src.file is not None and src.file.endswith("mm/Kconfig")
    assert src.line == 3


def test_missing_tree_kconfig(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no top-level Kconfig"):
        load_config(text="", arch="arm64", srctree=tmp_path)


def test_tree_without_version_and_kconfig_warnings_are_reported(tree: Path) -> None:
    (tree / "Makefile").unlink()
    with (tree / "mm" / "Kconfig").open("a") as f:
        f.write('\nconfig ODD\n\tint "odd"\n\tselect MMU\n')
    c = load_config(text="CONFIG_CMA=y\n", arch="arm64", srctree=tree)
    assert c.kernel_version is None and c.cma
    by_code = {d.code: d for d in c.diagnostics}
    assert by_code["kconfig-version-assumed"].severity == "info"
    parse_time = [d for d in c.diagnostics if d.code == "kconfig-tool-warning" and d.severity == "info"]
    assert parse_time and all("ODD" in d.message for d in parse_time)
    # the warning points at the definition in the tree, not at the tree as a whole
    odd_line = (tree / "mm" / "Kconfig").read_text().splitlines().index("config ODD") + 1
    assert [(d.source.file, d.source.line) for d in parse_time if d.source is not None] == [
        (str(tree / "mm" / "Kconfig"), odd_line)
    ] * len(parse_time)


def test_symbols_the_tree_does_not_define_are_reported(tree: Path) -> None:
    text = "CONFIG_CMA=y\nCONFIG_SOME_DRIVER=m\nCONFIG_CMA_AREA=3\n"
    c = load_config(text=text, name="d", arch="arm64", srctree=tree)
    found = [(d.code, d.source.line if d.source else None) for d in c.diagnostics]
    assert found == [("kconfig-unknown-symbol", 2), ("kconfig-unknown-symbol", 3)]
    assert str(tree) in c.diagnostics[0].message
    assert "did you mean CONFIG_CMA_AREAS?" in c.diagnostics[1].message
    assert c.cma_areas == 5


def test_newer_kconfig_syntax_of_real_trees_is_read(tree: Path) -> None:
    # Since 5.13 the kernel marks MODULES with a bare `modules` line, which kconfiglib 14.1 rejects
    with (tree / "mm" / "Kconfig").open("a") as f:
        f.write('\nconfig MODULES\n\tbool "loadable modules"\n\tmodules\n\thelp\n\t  modules\n')
    c = load_config(text="CONFIG_MODULES=y\nCONFIG_CMA=y\n", name="d", arch="arm64", srctree=tree)
    assert c.cma and c.value("MODULES") == "y"
    assert not [d for d in c.diagnostics if d.code != "kconfig-version-assumed" and "modules" in d.message]
    # positions in the tree's files are unchanged by the rewriting
    with (tree / "mm" / "Kconfig").open("a") as f:
        f.write("\nconfig BROKEN\n\tdepends on (\n")
    clear_cache()
    with pytest.raises(ConfigError) as info:
        load_config(text="", arch="arm64", srctree=tree)
    src = info.value.source
    assert src is not None and src.line == len((tree / "mm" / "Kconfig").read_text().splitlines())


def test_warnings_do_not_depend_on_configurations_read_before(tmp_path: Path) -> None:
    """kconfiglib warns when it computes an int symbol in a bool context: each configuration
    gets that warning, whichever configurations the process evaluated before it."""
    root = tmp_path / "linux"
    files = {
        "Makefile": FILES["Makefile"],
        "Kconfig": 'mainmenu "fake tree"\n\nsource "arch/$(SRCARCH)/Kconfig"\n',
        "arch/arm64/Kconfig": "config ARM64\n\tdef_bool y\n\nconfig MMU\n\tdef_bool y\n\n"
        "config RND_BITS\n\tint\n\tdefault 18\n\nconfig FEATURE\n\tbool \"feature\"\n\tdepends on RND_BITS\n",
    }
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)
    clear_cache()

    def warned(text: str) -> int:
        c = load_config(text=text, name="defconfig", arch="arm64", srctree=root)
        return sum("logical context" in d.message for d in c.diagnostics)

    first = [warned("CONFIG_FEATURE=y\n"), warned("CONFIG_MMU=y\n"), warned("CONFIG_FEATURE=y\n")]
    clear_cache()
    alone = warned("CONFIG_MMU=y\n")
    assert alone >= 1
    assert first == [alone, alone, alone]
