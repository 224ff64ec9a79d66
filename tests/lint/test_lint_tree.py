"""lint_tree on the miniature kernel tree: one entry per board .dts, the kernel's include path,
the per-architecture configuration, the assumed RAM, parallel runs and failures of single boards."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any, cast

import pytest
from lint_mini_tree import BOARDS, MINI

import memplan.lint.board as lint_board_module
import memplan.lint.run as lint_run
from memplan.dts.dtcversion import DEFAULT_DTC
from memplan.errors import MemplanError, ResolveError
from memplan.lint import LintError, LintReport, lint_tree
from memplan.lint.render import render_json

MIB = 1 << 20


def _board(report: LintReport, name: str):  # type: ignore[no-untyped-def]
    return next(b for b in report.boards if b.path.endswith("/" + name))


def test_every_board_dts_has_one_entry_with_its_status(mini_report: LintReport) -> None:
    assert {b.path: b.status for b in mini_report.boards} == BOARDS
    # sorted by architecture (arm first), then path; overlays and .dtsi files are not boards
    assert [b.path for b in mini_report.boards] == sorted(BOARDS)
    assert not any(b.path.endswith((".dtso", ".dtsi")) for b in mini_report.boards)


def test_a_board_that_does_not_build_is_reported_with_the_position(mini_report: LintReport) -> None:
    broken = _board(mini_report, "board-broken.dts")
    assert broken.status == "build-failed"
    (diag,) = broken.diagnostics
    assert (diag.severity, diag.code) == ("error", "build-failed")
    assert "no-such-file.dtsi" in diag.message
    assert diag.source is not None
    assert (diag.source.file, diag.source.line) == ("arch/arm64/boot/dts/vendor/board-broken.dts", 4)
    assert str(MINI) not in diag.message  # paths are relative to the tree
    assert broken.global_cma is None


def test_findings_point_into_the_shared_dtsi(mini_report: LintReport) -> None:
    overlap = _board(mini_report, "board-overlap.dts")
    errors = overlap.findings(("error",))
    assert [d.code for d in errors] == ["rmem-overlap"]
    assert errors[0].source is not None and errors[0].source.file == "arch/arm64/boot/dts/vendor/soc.dtsi"
    outside = _board(mini_report, "board-outside.dts")
    assert [d.code for d in outside.findings()] == ["rmem-outside-ram"]
    assert outside.memory == ((0x40000000, 128 * MIB),) and not outside.memory_assumed


def test_include_prefixes_reach_dt_bindings_and_the_arm_tree(mini_report: LintReport) -> None:
    clean = _board(mini_report, "board-clean.dts")
    assert clean.status == "clean" and clean.has_reserved_memory
    # the pool size is a macro from include/dt-bindings/memplan/sizes.h
    assert clean.global_cma is not None and clean.global_cma["size"] == 0x4000000
    assert clean.global_cma["origin"] == "dts"
    cross = _board(mini_report, "board-cross.dts")  # includes <arm/vendor2/common.dtsi>
    assert cross.status == "clean" and not cross.has_reserved_memory
    assert cross.memory == ((0x80000000, 0x80000000),)


def test_a_board_without_a_memory_size_is_laid_out_on_the_assumed_bank(mini_report: LintReport) -> None:
    board = _board(mini_report, "board-bootloader.dts")
    assert board.memory_assumed and board.memory == ((0x40000000, 1 << 30),)
    codes = [d.code for d in board.diagnostics]
    assert "memory-none" not in codes and "rmem-outside-ram" not in codes
    (note,) = [d for d in board.diagnostics if d.code == "lint-memory-assumed"]
    assert note.severity == "info" and "1 GiB at 0x40000000" in note.message
    assert note.source is not None and note.source.file == "arch/arm64/boot/dts/vendor/board-bootloader.dts"
    assert board.status == "clean"


def test_a_sized_bank_the_kernel_cannot_use_is_not_replaced_by_an_assumed_one(tmp_path: Path) -> None:
    """A /memory that gives its size is the board's RAM even when the configuration cannot use
    it (above 4 GiB on 32-bit ARM without LPAE): that is the finding, no bank is assumed."""
    root = tmp_path / "linux"
    shutil.copytree(MINI, root, symlinks=True)
    high = root / "arch/arm/boot/dts/vendor2/board-high.dts"
    high.write_text(
        (root / "arch/arm/boot/dts/vendor2/board32.dts").read_text()
        .replace("memory@60000000", "memory@800000000")
        .replace("reg = <0x60000000 0x20000000>;", "reg = <0x8 0x0 0x20000000>;")
        .replace("/ {", "/ {\n\t#address-cells = <2>;\n\t#size-cells = <1>;", 1)
    )
    (board,) = lint_tree(root, boards=["board-high.dts"], jobs=1).boards
    codes = [d.code for d in board.diagnostics]
    assert not board.memory_assumed and board.memory == ()
    assert "lint-memory-assumed" not in codes
    assert "memory-above-4g" in codes and "memory-none" in codes
    assert board.status == "errors"


def test_each_architecture_uses_its_default_configuration(mini_report: LintReport) -> None:
    configs = {c.arch: c for c in mini_report.configs}
    assert configs["arm"].config == "arch/arm/configs/multi_v7_defconfig"  # KBUILD_DEFCONFIG
    assert configs["arm64"].config == "arch/arm64/configs/defconfig"
    assert mini_report.kernel_version == "6.12.3" == configs["arm64"].kernel_version
    # no Kconfig files in the tree: memplan's bundled model, said once per architecture
    assert [d.code for d in configs["arm64"].diagnostics] == ["lint-config-bundled-model"]
    bootloader = _board(mini_report, "board-bootloader.dts").global_cma
    assert bootloader is not None and (bootloader["origin"], bootloader["size"]) == ("kconfig", 16 * MIB)
    board32 = _board(mini_report, "board32.dts")
    assert board32.global_cma is not None and board32.global_cma["size"] == 32 * MIB


def test_the_trees_own_kconfig_is_read(kconfig_tree: Path) -> None:
    report = lint_tree(kconfig_tree, arches=["arm64"], boards=["board-bootloader"], jobs=1)
    (board,) = report.boards
    # the fixture Kconfig's CMA_SIZE_MBYTES default is 48 (the bundled model's is 16)
    assert board.global_cma is not None and board.global_cma["size"] == 48 * MIB
    assert not any(d.code == "lint-config-bundled-model" for c in report.configs for d in c.diagnostics)


def test_parallel_and_serial_runs_give_the_same_report(mini_report: LintReport) -> None:
    assert lint_tree(MINI, jobs=2).to_dict() == mini_report.to_dict()
    # boards built ahead in batches while the configurations are read, then one a task
    for ahead in (1, 2, 100):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(lint_run, "_AHEAD", ahead)
            assert lint_tree(MINI, jobs=3).to_dict() == mini_report.to_dict()


@pytest.mark.skipif(shutil.which("cpp") is None, reason="needs the system cpp")
def test_boards_are_preprocessed_by_the_compiler_proper_with_the_same_report(
    mini_report: LintReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memplan.dts import cppdirect, cpprun

    asked: list[tuple[str, list[str] | None]] = []
    real = cppdirect.proper_command

    def recording(cmd: list[str]) -> list[str] | None:
        got = real(cmd)
        asked.append((cmd[-1], got))
        return got

    monkeypatch.setattr(cppdirect, "proper_command", recording)
    monkeypatch.setattr(cppdirect, "_TEMPLATES", {})  # only this lint's command shapes
    assert lint_tree(MINI, jobs=1).to_dict() == mini_report.to_dict()
    assert sorted(os.path.basename(main) for main, _ in asked) == sorted(os.path.basename(b) for b in BOARDS)
    if next(iter(cppdirect._TEMPLATES.values())) is not None:  # GCC's driver, as in CI
        assert all(got is not None and os.path.basename(got[0]) != os.path.basename(main)
                   and got[0] != shutil.which("cpp") for main, got in asked)
    # the setting ends with the lint; without a compiler proper (another driver) the report is the same
    assert cpprun.use_compiler_proper(False) is False
    assert cpprun.use_own_limit(False) is False  # on for the lint's worker (jobs=1: here), then off
    monkeypatch.setattr(cppdirect, "proper_command", lambda cmd: None)
    assert lint_tree(MINI, jobs=1).to_dict() == mini_report.to_dict()


def test_board_batches_keep_each_architecture_and_every_board_once() -> None:
    selected = [("arm", f"a{i}") for i in range(5)] + [("arm64", f"b{i}") for i in range(20)]
    tasks = list(lint_run._batches(selected, 2))
    assert [(arch, path) for arch, paths in tasks for path in paths] == selected
    assert [len(paths) for _arch, paths in tasks[:2]] == [5, 6]  # a batch stops at another arch
    assert all(len(paths) == 1 for _arch, paths in tasks[2:])  # too few left for runs


def test_board_batches_give_runs_of_consecutive_boards_then_single_ones() -> None:
    """After the first batches a task is a run of consecutive boards (so a worker's boards share
    their SoC's blocks, which the parser replays), shrinking to one board at the end."""
    selected = [("arm", f"a{i:03}") for i in range(300)] + [("riscv", f"r{i:03}") for i in range(30)]
    tasks = list(lint_run._batches(selected, 2))
    assert [(arch, path) for arch, paths in tasks for path in paths] == selected
    lengths = [len(paths) for _arch, paths in tasks[2:]]
    assert max(lengths) == lint_run._RUN
    # shorter towards the end (a run also stops where the architecture changes)
    assert lengths[: len(lengths) // 3] == [lint_run._RUN] * (len(lengths) // 3)
    assert lengths[-8:] == [1] * 8  # the last tasks are single boards
    assert all(len({arch for arch, p in selected if p in paths}) == 1 for _arch, paths in tasks)


def test_an_unreadable_configuration_stops_a_parallel_lint(tmp_path: Path) -> None:
    """The board workers, started before the configurations are read, wait for them: when one
    cannot be read, the lint fails with its error instead of waiting for ever."""
    bad = tmp_path / "bad_defconfig"
    bad.write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(MemplanError):
        lint_tree(MINI, arches=["arm64"], config=bad, jobs=2)


def test_the_report_does_not_depend_on_where_the_tree_is(mini_report: LintReport, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    shutil.copytree(MINI, copy, symlinks=True)
    other = lint_tree(copy, jobs=1).to_dict()
    mine = mini_report.to_dict()
    assert other["boards"] == mine["boards"] and other["summary"] == mine["summary"]


def test_summary_and_json_shape(mini_report: LintReport) -> None:
    data = json.loads(render_json(mini_report))
    assert set(data) >= {"boards", "summary"}
    assert [b["path"] for b in data["boards"]] == sorted(BOARDS)
    for entry in data["boards"]:
        assert {"path", "status", "diagnostics"} <= set(entry)
        assert entry["status"] in ("clean", "warnings", "errors", "build-failed")
    summary = data["summary"]
    assert (summary["boards"], summary["clean"], summary["warnings"], summary["errors"],
            summary["build_failed"]) == (7, 4, 1, 1, 1)
    by_code = {c["code"]: c for c in summary["by_code"]}
    assert by_code["build-failed"] == {
        "code": "build-failed", "severity": "error", "findings": 1, "boards": 1}
    assert by_code["rmem-overlap"]["boards"] == 1
    assert by_code["rmem-outside-ram"]["severity"] == "warning"
    assert "lint-memory-assumed" not in by_code  # info findings are not counted
    assert [c["severity"] for c in summary["by_code"]] == ["error", "error", "warning"]


def test_boards_can_be_chosen_by_name_or_path() -> None:
    by_name = lint_tree(MINI, boards=["board-clean", "board32.dts"], jobs=1)
    assert [b.path for b in by_name.boards] == [
        "arch/arm/boot/dts/vendor2/board32.dts", "arch/arm64/boot/dts/vendor/board-clean.dts"]
    by_path = lint_tree(MINI, boards=[str(MINI / "arch/arm64/boot/dts/vendor/board-clean.dts")], jobs=1)
    assert [b.path for b in by_path.boards] == ["arch/arm64/boot/dts/vendor/board-clean.dts"]
    assert [c.arch for c in by_path.configs] == ["arm64"]  # only the architectures linted
    with pytest.raises(LintError, match="no board 'board-clean'"):
        lint_tree(MINI, arches=["arm"], boards=["board-clean"], jobs=1)
    with pytest.raises(LintError, match=r"no board 'nothing\.dts'"):
        lint_tree(MINI, boards=["nothing.dts"], jobs=1)


def test_a_given_config_replaces_the_default_for_one_architecture() -> None:
    other = MINI / "arch/arm/configs/other_defconfig"
    report = lint_tree(MINI, arches=["arm"], config=other, jobs=1)
    (board,) = report.boards
    assert board.global_cma is not None and board.global_cma["size"] == 8 * MIB
    assert report.configs[0].config == "arch/arm/configs/other_defconfig"
    with pytest.raises(LintError, match="one architecture"):
        lint_tree(MINI, config=other, jobs=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"arches": ["sparc"]}, "unknown architecture 'sparc'"),
        ({"arches": ["x86"]}, "no board sources for x86"),
        ({"jobs": 0}, "at least 1"),
    ],
)
def test_unusable_requests_are_lint_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(LintError, match=message):
        lint_tree(MINI, **kwargs)  # type: ignore[arg-type]


def test_a_directory_that_is_not_a_kernel_tree(tmp_path: Path) -> None:
    with pytest.raises(LintError, match="not a Linux source tree"):
        lint_tree(tmp_path)
    with pytest.raises(LintError, match="not a directory"):
        lint_tree(tmp_path / "missing")


def test_a_failure_inside_memplan_is_reported_on_that_board_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = lint_board_module.resolve_extracted

    def flaky(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        tree = args[0]
        model = tree.root.get("model").as_strings()[0]  # type: ignore[attr-defined]
        if "overlap" in model:
            raise RuntimeError("boom")
        if "past the end" in model:
            raise ResolveError("cannot lay this out")
        return real(*args, **kwargs)

    monkeypatch.setattr(lint_board_module, "resolve_extracted", flaky)
    report = lint_tree(MINI, arches=["arm64"], jobs=1)
    statuses = {b.path.rsplit("/", 1)[1]: b.status for b in report.boards}
    assert statuses["board-overlap.dts"] == "errors" and statuses["board-outside.dts"] == "errors"
    assert statuses["board-clean.dts"] == "clean"
    (internal,) = _board(report, "board-overlap.dts").diagnostics
    assert internal.code == "lint-internal-error" and internal.message.startswith("RuntimeError: boom at ")
    (failed,) = _board(report, "board-outside.dts").diagnostics
    assert (failed.code, failed.message) == ("lint-resolve-failed", "cannot lay this out")


def test_a_linted_board_leaves_no_cyclic_garbage() -> None:
    """Each board's draft and tree are freed by reference counting when the board is done (no
    reference cycle is left for the cyclic collector, which cost a fifth of a worker's time)."""
    import gc

    from memplan.kconfig import load_config
    from memplan.lint.board import ArchContext, lint_board
    from memplan.lint.kbuild import KernelTree

    tree = KernelTree.open(MINI)
    checked = 0
    for arch in tree.arches_with_boards():
        kc = load_config(str(tree.default_config(arch)), arch=arch, kernel_version=str(tree.version))
        ctx = ArchContext(str(tree.root), arch, kc, kc.kernel_version or tree.version, tree.include_dirs)
        for path in tree.boards(arch):
            lint_board(ctx, path)  # first use: imports and caches fill once
            gc.collect()
            gc.disable()
            try:
                result = lint_board(ctx, path)
                garbage = gc.collect()
            finally:
                gc.enable()
            if result.status != "build-failed":
                assert garbage == 0, path
                checked += 1
    assert checked >= 3


def test_resolving_extracted_facts_is_resolving_the_tree() -> None:
    """The lint reads a board's facts once and hands them to the resolver: the plan is the one
    ``resolve`` gives the same tree (with and without RAM given)."""
    from memplan.api import resolve, resolve_extracted
    from memplan.dts import load_device_tree
    from memplan.dts.facts import extract
    from memplan.kconfig import load_config
    from memplan.lint import KernelTree
    from memplan.version import KernelVersion

    kc = load_config(text="CONFIG_CMA=y\nCONFIG_CMA_SIZE_MBYTES=32\n", arch="arm64", kernel_version="6.12")
    kernel = KernelTree.open(MINI)
    boards = [path for _arch, path in kernel.select_boards(["arm64"], []) if "broken" not in path]
    assert len(boards) > 2
    for board in boards:
        tree = load_device_tree(MINI / board, kernel.include_dirs).tree
        for memory in (None, [(0x40000000, 0x40000000)]):
            expected = resolve(dts=tree, config=kc, arch="arm64", kernel_version="6.12", memory=memory)
            plan = resolve_extracted(tree, extract(tree), kc, "arm64", KernelVersion(6, 12), memory)
            assert plan == expected


def _pid(_: object) -> int:
    return os.getpid()


def _die(_: object) -> None:
    os._exit(3)


def test_the_lint_pool_replaces_a_worker_that_dies_and_ends_when_closed() -> None:
    """The pool's keeper thread no longer waits on the results pipe, only on the workers'
    exits and the pool's own notices: a worker that dies is still replaced, and the pool ends."""
    pool = lint_run._new_pool(1, None, ())
    try:
        first = pool.apply_async(_pid, (0,)).get(timeout=30)
        pool.apply_async(_die, (0,))  # its result never comes
        second = pool.apply_async(_pid, (0,)).get(timeout=30)
        assert second != first
        assert sorted(pool.imap_unordered(_pid, range(20))) == [second] * 20
    finally:
        pool.terminate()
        pool.join()
    done = lint_run._new_pool(2, None, ())
    assert sorted(done.map(abs, range(-3, 0))) == [1, 2, 3]
    done.close()
    done.join()  # returns once the work is done


def _collector_threshold() -> int:
    return gc.get_threshold()[0]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_board_worker_keeps_its_collector_threshold_between_tasks() -> None:
    """Put back to the default after each task, the threshold made the collector walk what the
    task's boards left alive (the parser's replay records) at the end of every task."""
    build = (str(MINI), (), DEFAULT_DTC)
    fork = multiprocessing.get_context("fork")
    with fork.Pool(1, initializer=lint_run._init_waiting, initargs=({}, build)) as pool:
        assert pool.apply(_collector_threshold) == lint_run._GC_YOUNG_THRESHOLD
        assert pool.apply(_collector_threshold) == lint_run._GC_YOUNG_THRESHOLD
    assert _collector_threshold() != lint_run._GC_YOUNG_THRESHOLD  # this process keeps its own


def test_a_first_batch_is_built_ahead_only_until_its_configurations_are_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A worker builds its first boards while the configurations are read; once they are there,
    the rest of that batch is built and resolved one by one (nothing more is held built)."""
    import threading

    events: list[str] = []
    ready = threading.Event()
    handover = tmp_path / "arm64.pickle"
    lint_run.write_handover(str(handover), cast(Any, "context"), None)

    def build(srctree: str, arch: str, dirs: object, dtc: object, path: str) -> str:
        events.append(f"build {path}")
        if path == "b2":
            ready.set()  # the reader is done while b2 is built
        return path

    def lint(ctx: object, path: str, configs: object, finish: object, board: object) -> str:
        events.append(f"lint {path}")
        return path

    monkeypatch.setattr(lint_run, "build_board", build)
    monkeypatch.setattr(lint_run, "lint_with_defconfig", lint)
    monkeypatch.setattr(lint_run, "_CONTEXTS", {})
    monkeypatch.setattr(lint_run, "_BOARD_CONFIGS", {})
    monkeypatch.setattr(lint_run, "_WAITING", {"ready": {"arm64": (ready, str(handover))},
                                               "build": ("tree", (), DEFAULT_DTC)})
    got = lint_run._lint_batch(("arm64", ("b1", "b2", "b3", "b4")))
    assert cast(Any, got) == ["b1", "b2", "b3", "b4"]
    assert events == ["build b1", "build b2", "lint b1", "lint b2",
                      "build b3", "lint b3", "build b4", "lint b4"]
    assert lint_run._CONTEXTS == {"arm64": "context"}
