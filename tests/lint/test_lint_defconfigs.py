"""Each board is linted with the defconfig the tree implies (:mod:`memplan.lint.defconfigs`):
the Makefile's ``dtb-$(CONFIG_...)`` line that builds it and the defconfigs that enable that
symbol; an M-profile board gets a defconfig without MMU, a board with RAM only above 4 GiB one
with LPAE. A synthetic tree (no Kconfig files: the bundled model reads the defconfigs) covers
every rule; ``-m kernel_tree`` checks the Cortex-M7 and ARMv5 boards of a real tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import attrs
import pytest

from memplan.cli import main
from memplan.kconfig.engine import clear_cache
from memplan.lint import lint_tree
from memplan.lint.defconfigs import makefile_symbols, read_defconfigs

DTS = "arch/arm/boot/dts/vendor"

BOARD = """/dts-v1/;
/ {{
	#address-cells = <{ac}>;
	#size-cells = <1>;
	model = "{name}";
	memory@{unit} {{ device_type = "memory"; reg = <{reg} 0x10000000>; }};
	{extra}
}};
"""

NOMMU_CPU = ('cpus { #address-cells = <1>; #size-cells = <0>; '
             'cpu@0 { device_type = "cpu"; reg = <0>; mmu-type = "riscv,none"; }; };')
NVIC = 'nvic: interrupt-controller@e000e100 { compatible = "arm,armv7m-nvic"; reg = <0xe000e100 0xc00>; };'

MAKEFILE = """# SPDX-License-Identifier: GPL-2.0
dtb-$(CONFIG_ARCH_A7) += \\
	a7-board.dtb \\
	m-board.dtb \\
	nommu-cpu-board.dtb \\
	high-board.dtb
dtb-$(CONFIG_SOC_V5) += v5-board.dtb
dtb-$(CONFIG_ARCH_PLAT) += plat-board.dtb
dtb-$(CONFIG_ARCH_NOBODY) += nobody-board.dtb
dtb-y += always-board.dtb
"""

DEFCONFIGS = {
    "multi_v7_defconfig": "CONFIG_ARCH_A7=y\nCONFIG_CMA=y\n",
    "multi_v5_defconfig": "CONFIG_SOC_V5=y\nCONFIG_ARCH_OTHER=y\n",
    "v5plat_defconfig": "CONFIG_SOC_V5=y\n",
    "plat_defconfig": "CONFIG_ARCH_PLAT=y\n",
    "mcu_defconfig": "# CONFIG_MMU is not set\nCONFIG_ARCH_A7=y\n",
    "big_defconfig": "CONFIG_ARCH_A7=y\nCONFIG_ARM_LPAE=y\n",
}

BOARDS = {
    "a7-board": dict(ac=1, unit="40000000", reg="0x40000000", extra=""),
    "m-board": dict(ac=1, unit="c0000000", reg="0xc0000000", extra=NVIC),
    "nommu-cpu-board": dict(ac=1, unit="c0000000", reg="0xc0000000", extra=NOMMU_CPU),
    "high-board": dict(ac=2, unit="800000000", reg="0x8 0x00000000", extra=""),
    "v5-board": dict(ac=1, unit="20000000", reg="0x20000000", extra=""),
    "plat-board": dict(ac=1, unit="20000000", reg="0x20000000", extra=""),
    "nobody-board": dict(ac=1, unit="20000000", reg="0x20000000", extra=""),
    "always-board": dict(ac=1, unit="20000000", reg="0x20000000", extra=""),
    "orphan-board": dict(ac=1, unit="20000000", reg="0x20000000", extra=""),
}

#: board -> (defconfig, words its reason must contain)
EXPECTED = {
    "a7-board": ("multi_v7_defconfig", "ARCH_A7, which multi_v7_defconfig (the architecture's default)"),
    "m-board": ("mcu_defconfig", "Cortex-M"),
    "nommu-cpu-board": ("mcu_defconfig", "has no MMU"),
    "high-board": ("big_defconfig", "above 4 GiB"),
    "v5-board": ("multi_v5_defconfig", "builds the most boards"),
    "plat-board": ("plat_defconfig", "multi_v7_defconfig does not enable; plat_defconfig does"),
    "nobody-board": ("multi_v7_defconfig", "no defconfig of the tree enables"),
    "always-board": ("multi_v7_defconfig", "dtb-y"),
    "orphan-board": ("multi_v7_defconfig", "no dtb- rule"),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("linux")
    (root / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n")
    (root / "arch/arm/configs").mkdir(parents=True)
    (root / "arch/arm/Makefile").write_text("KBUILD_DEFCONFIG := multi_v7_defconfig\n")
    for name, text in DEFCONFIGS.items():
        (root / "arch/arm/configs" / name).write_text(text)
    (root / "arch/arm/configs/lpae.config").write_text("CONFIG_ARM_LPAE=y\n")  # a fragment, not a defconfig
    (root / DTS).mkdir(parents=True)
    (root / DTS / "Makefile").write_text(MAKEFILE)
    for name, fields in BOARDS.items():
        (root / DTS / f"{name}.dts").write_text(BOARD.format(name=name, **fields))
    (root / "scripts/dtc/include-prefixes").mkdir(parents=True)
    return root


def _by_board(report_boards: object) -> dict[str, object]:
    assert isinstance(report_boards, tuple)
    return {Path(b.path).stem: b for b in report_boards}


def test_makefile_and_defconfigs_are_read_as_kbuild_reads_them(tree: Path) -> None:
    symbols = makefile_symbols(tree, "arm")
    assert symbols[f"{DTS}/m-board.dts"] == ("ARCH_A7",)
    assert symbols[f"{DTS}/always-board.dts"] == ("y",)
    assert f"{DTS}/orphan-board.dts" not in symbols
    defconfigs = read_defconfigs(tree, "arm")
    assert set(defconfigs) == set(DEFCONFIGS)
    assert defconfigs["mcu_defconfig"].no_mmu and not defconfigs["mcu_defconfig"].lpae
    assert defconfigs["big_defconfig"].lpae and "ARCH_A7" in defconfigs["big_defconfig"].symbols


def test_each_board_gets_the_defconfig_the_tree_implies(tree: Path) -> None:
    report = lint_tree(tree, arches=["arm"], jobs=1)
    boards = _by_board(report.boards)
    assert set(boards) == set(BOARDS)
    for name, (defconfig, words) in EXPECTED.items():
        board = boards[name]
        assert board.defconfig == f"arch/arm/configs/{defconfig}", name  # type: ignore[attr-defined]
        assert words in board.defconfig_reason, (name, board.defconfig_reason)  # type: ignore[attr-defined]
        notes = [d for d in board.diagnostics if d.code == "lint-defconfig"]  # type: ignore[attr-defined]
        if defconfig == "multi_v7_defconfig":
            assert notes == []
        else:
            assert len(notes) == 1 and notes[0].severity == "info" and defconfig in notes[0].message
    # every defconfig used is listed once among the configurations, the default first
    configs = [c.config for c in report.configs]
    assert configs[0] == "arch/arm/configs/multi_v7_defconfig"
    assert sorted(configs[1:]) == [f"arch/arm/configs/{n}" for n in
                                   ("big_defconfig", "mcu_defconfig", "multi_v5_defconfig", "plat_defconfig")]


def test_the_choice_does_not_depend_on_which_boards_are_linted(tree: Path) -> None:
    alone = lint_tree(tree, arches=["arm"], boards=["v5-board.dts", "m-board.dts"], jobs=1)
    boards = _by_board(alone.boards)
    assert boards["v5-board"].defconfig == "arch/arm/configs/multi_v5_defconfig"  # type: ignore[attr-defined]
    assert boards["m-board"].defconfig == "arch/arm/configs/mcu_defconfig"  # type: ignore[attr-defined]


def test_an_architecture_is_read_in_one_process_with_every_defconfig_it_needs(
        tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With two jobs the defconfigs are read in worker processes, yet the architecture's Kconfig
    is parsed once for the five defconfigs its boards need, and the report is the serial one."""
    import kconfiglib

    log = tmp_path / "parses"

    class Counted(kconfiglib.Kconfig):  # type: ignore[misc]
        def __init__(self, *args: object, **kwargs: object) -> None:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"{os.environ.get('ARCH')} {os.getpid()}\n")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(kconfiglib, "Kconfig", Counted)  # the bundled model's parser (a fork sees it too)
    clear_cache()  # no model parsed in this process, for the workers to inherit
    parallel = lint_tree(tree, arches=["arm"], jobs=2).to_dict()
    (parse,) = log.read_text().splitlines()  # once, in a worker
    assert parse.split()[0] == "arm" and parse.split()[1] != str(os.getpid())
    assert len(parallel["configs"]) == 5
    assert parallel == lint_tree(tree, arches=["arm"], jobs=1).to_dict()
    clear_cache()  # the counting parser's model


def test_a_reader_writes_the_workers_share_itself_and_returns_summaries(tree: Path, tmp_path: Path) -> None:
    """With a hand-over file the reader process pickles the configurations for the board workers
    itself; the lint's own process gets them without values and sources (it reads only their
    fields and findings), so they are not pickled, unpickled and pickled once more."""
    import pickle

    from memplan.dts.dtcversion import DEFAULT_DTC
    from memplan.lint.kbuild import KernelTree
    from memplan.lint.run import ArchJob, Handover, read_arch

    kt = KernelTree.open(tree)
    boards = tuple(p for _a, p in kt.select_boards(["arm"], []))
    job = ArchJob(str(kt.root), "arm", str(kt.default_config("arm")), None, "6.12.0", boards)
    full_kc, full_bc = read_arch(job)
    where = tmp_path / "handover.pickle"
    h = Handover(str(where), kt.version, tuple(kt.include_dirs), DEFAULT_DTC)
    kc, bc = read_arch(attrs.evolve(job, handover=h))
    with open(where, "rb") as fh:
        ctx, configs = pickle.load(fh)
    assert full_bc is not None and bc is not None and configs is not None
    assert ctx.config == full_kc and dict(ctx.config.values) == dict(full_kc.values)
    assert (ctx.arch, ctx.include_dirs, ctx.dtc) == ("arm", h.include_dirs, DEFAULT_DTC)
    assert configs.configs.keys() == full_bc.configs.keys() == bc.configs.keys()
    assert len(full_bc.configs) == 5
    for name, full in full_bc.configs.items():
        written, summary = configs.configs[name], bc.configs[name]
        assert written == full and summary == full  # the fields and the findings
        assert list(written.values.items()) == list(full.values.items()) and full.values
        assert list(written.sources.items()) == list(full.sources.items())
        assert not summary.values and not summary.sources
    assert configs.boards == full_bc.boards == bc.boards and kc == full_kc and not kc.values


def test_once_the_configurations_are_there_each_board_is_resolved_as_soon_as_it_is_built(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's first batch is built while the configurations are read; after that a board is
    resolved right after it is built (a batch of built boards alive together makes the collector
    scan them over and over)."""
    from memplan.dts.dtcversion import DEFAULT_DTC
    from memplan.lint import run

    calls: list[tuple[str, str]] = []

    def build(_srctree: str, _arch: str, _dirs: object, _dtc: object, path: str) -> str:
        calls.append(("build", path))
        return path

    def lint(_ctx: object, path: str, _configs: object, _finish: object, _board: object) -> str:
        calls.append(("lint", path))
        return path

    monkeypatch.setattr(run, "build_board", build)
    monkeypatch.setattr(run, "lint_with_defconfig", lint)
    monkeypatch.setitem(run._WAITING, "build", ("/src", (), DEFAULT_DTC))
    monkeypatch.setitem(run._CONTEXTS, "arm", object())
    assert run._lint_batch(("arm", ("a.dts", "b.dts"))) == ["a.dts", "b.dts"]  # type: ignore[comparison-overlap]
    assert calls == [("build", "a.dts"), ("lint", "a.dts"), ("build", "b.dts"), ("lint", "b.dts")]


def test_a_given_config_is_used_for_every_board(tree: Path) -> None:
    report = lint_tree(tree, arches=["arm"], config=tree / "arch/arm/configs/plat_defconfig", jobs=1)
    # in parallel (the reader hands the configuration over without board configurations) the same
    parallel = lint_tree(tree, arches=["arm"], config=tree / "arch/arm/configs/plat_defconfig", jobs=2)
    assert parallel.to_dict() == report.to_dict()
    assert [c.config for c in report.configs] == ["arch/arm/configs/plat_defconfig"]
    for board in report.boards:
        assert board.defconfig is None and board.defconfig_reason is None
        assert not [d for d in board.diagnostics if d.code == "lint-defconfig"]


def test_json_keeps_its_keys_and_adds_the_defconfig(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["lint", str(tree), "--arch", "arm", "--format", "json", "-j", "1"])
    data = json.loads(capsys.readouterr().out)
    for board in data["boards"]:
        assert list(board)[:9] == ["path", "arch", "status", "diagnostics", "has_reserved_memory", "memory",
                                   "memory_assumed", "regions", "global_cma"]
        assert board["defconfig"].startswith("arch/arm/configs/") and board["defconfig_reason"]


LINUX = Path(os.environ.get("MEMPLAN_KERNEL_TREE", "/work/linux-6.12"))
CORTEX_M7 = ("stm32f746-disco.dts", "stm32f769-disco.dts", "stm32h743i-eval.dts", "stm32h750i-art-pi.dts")
ARMV5 = {"at91sam9g20ek.dts": "multi_v5_defconfig", "kirkwood-openblocks_a6.dts": "multi_v5_defconfig",
         "imx28-evk.dts": "mxs_defconfig", "imx27-phytec-phycard-s-rdk.dts": "multi_v5_defconfig",
         "omap3-beagle.dts": "multi_v7_defconfig"}


@pytest.mark.kernel_tree
@pytest.mark.skipif(not (LINUX / "arch/arm/configs/multi_v7_defconfig").is_file(), reason="no Linux tree")
def test_real_tree_cortex_m7_and_armv5_boards() -> None:
    report = lint_tree(LINUX, arches=["arm"], boards=[*CORTEX_M7, *ARMV5], jobs=2)
    boards = {Path(b.path).name: b for b in report.boards}
    for name in CORTEX_M7:
        board = boards[name]
        assert board.defconfig == "arch/arm/configs/stm32_defconfig", board.defconfig_reason
        assert "cma-place-failed" not in {d.code for d in board.diagnostics}
    for name, defconfig in ARMV5.items():
        assert boards[name].defconfig == f"arch/arm/configs/{defconfig}", boards[name].defconfig_reason


def test_text_names_each_defconfig_with_its_boards_and_one_summary_row(tree: Path) -> None:
    from memplan.lint.render import render_text

    text = render_text(lint_tree(tree, arches=["arm"], jobs=1))
    assert "arm: 4 boards resolved with arch/arm/configs/multi_v7_defconfig" in text
    assert "arm: 2 boards resolved with arch/arm/configs/mcu_defconfig" in text
    assert "arm: 1 board resolved with arch/arm/configs/plat_defconfig" in text
    summary = text.split("Summary of", 1)[1]
    assert len([line for line in summary.splitlines() if line.split()[:1] == ["arm"]]) == 1
