"""``lint_tree``: lint every board of a kernel tree, in parallel worker processes.

Each defconfig is read once, through the tree's own Kconfig files (memplan's kconfig front end
in srctree mode, as ``make olddefconfig`` would read it): the architecture's default, and the
others the boards need (:mod:`memplan.lint.defconfigs` says which board takes which). The boards
are shared out among ``jobs`` processes, started first: they build boards (which needs no
configuration) while the defconfigs are read, and resolve them once they are. Results come back
in completion order (for the progress callback) and are sorted by architecture and path, so the
report does not depend on timing.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from memplan.diagnostics import diag
from memplan.dts.dtcversion import DEFAULT_DTC, DtcVersion, tree_dtc_version
from memplan.dts.load import LoadedTree
from memplan.kconfig import KernelConfig, load_config, probes
from memplan.lint.board import ArchContext, build_board, finish_board, relativise
from memplan.lint.defconfigs import BoardConfigs, choose_board_configs, extra_configs, lint_with_defconfig
from memplan.lint.kbuild import KernelTree
from memplan.lint.model import ArchConfig, BoardResult, LintError, LintReport
from memplan.model import Diagnostic
from memplan.source import Source

#: ``progress(done, total)`` is called after each board.
Progress = Callable[[int, int], None]

_CONTEXTS: dict[str, ArchContext] = {}
_BOARD_CONFIGS: dict[str, BoardConfigs] = {}


def _pool_context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _init_worker(contexts: dict[str, ArchContext], board_configs: dict[str, BoardConfigs]) -> None:
    _CONTEXTS.clear()
    _CONTEXTS.update(contexts)
    _BOARD_CONFIGS.clear()
    _BOARD_CONFIGS.update(board_configs)


#: The young-generation threshold of the cyclic garbage collector while a board is linted. The
#: default (700 allocations) makes the collector run all through a parse that allocates hundreds
#: of thousands of objects which reference counting frees anyway; a board's cycles are collected
#: a little later instead (about a quarter less CPU time per board).
_GC_YOUNG_THRESHOLD = 50_000


def _lint_one(task: tuple[str, str]) -> BoardResult:
    arch, path = task
    saved = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, *saved[1:])
    try:
        ctx = _CONTEXTS[arch]
        board = build_board(ctx.srctree, ctx.arch, ctx.include_dirs, ctx.dtc, path)
        return lint_with_defconfig(ctx, path, _BOARD_CONFIGS.get(arch), partial(_finish, board), board)
    finally:
        gc.set_threshold(*saved)


#: A worker of :class:`_BoardPool`: how boards are built (source tree, include directories, dtc),
#: the event set once the configurations are written, and the file they are written to.
_WAITING: dict[str, Any] = {}

#: Boards a worker of :class:`_BoardPool` builds ahead, at most, before it needs a configuration.
_AHEAD = 48


def _init_waiting(ready: Any, where: str, build: tuple[str, tuple[str, ...], DtcVersion]) -> None:
    _CONTEXTS.clear()
    _BOARD_CONFIGS.clear()
    _WAITING.update(ready=ready, where=where, build=build)


def _lint_batch(task: tuple[str, tuple[str, ...]]) -> list[BoardResult]:
    """Lint boards of one architecture in a :class:`_BoardPool` worker: each is built, then,
    once the configurations are there (the worker waits for them the first time), resolved."""
    arch, paths = task
    saved = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, *saved[1:])
    try:
        srctree, include_dirs, dtc = _WAITING["build"]
        built = [(path, build_board(srctree, arch, include_dirs, dtc, path)) for path in paths]
        if not _CONTEXTS:
            _WAITING["ready"].wait()
            with open(_WAITING["where"], "rb") as fh:
                _init_worker(*pickle.load(fh))
        ctx, configs = _CONTEXTS[arch], _BOARD_CONFIGS.get(arch)
        return [lint_with_defconfig(ctx, path, configs, partial(_finish, board), board)
                for path, board in built]
    finally:
        gc.set_threshold(*saved)


def _finish(built: LoadedTree | BoardResult, ctx: ArchContext, path: str) -> BoardResult:
    return finish_board(ctx, path, built)


def _batches(selected: Sequence[tuple[str, str]], workers: int) -> Iterator[tuple[str, tuple[str, ...]]]:
    """The boards as :func:`_lint_batch` tasks: first one batch per worker (boards it builds
    while the configurations are read), then one board a task (the work stays balanced)."""
    ahead = max(min(_AHEAD, len(selected) // (2 * workers)), 1)
    i = 0
    for _ in range(workers):
        if i >= len(selected):
            return
        arch = selected[i][0]
        batch = [path for a, path in selected[i : i + ahead] if a == arch]
        yield arch, tuple(batch)
        i += len(batch)
    for arch, path in selected[i:]:
        yield arch, (path,)


class _BoardPool:
    """Board workers started before the configurations are read (:class:`_ConfigReaders`), so
    that building the boards, which needs no configuration, overlaps reading them: each worker
    builds a batch of boards, then waits for the configurations (:meth:`results` hands them
    over through a file) to resolve them, then lints one board a task."""

    def __init__(self, selected: Sequence[tuple[str, str]], workers: int,
                 build: tuple[str, tuple[str, ...], DtcVersion]) -> None:
        fd, self._where = tempfile.mkstemp(prefix="memplan-lint-", suffix=".pickle")
        os.close(fd)
        context = _pool_context()
        self._ready = context.Event()
        gc.freeze()  # as in _map: what exists before the fork stays shared
        self._pool = context.Pool(min(workers, len(selected)), initializer=_init_waiting,
                                  initargs=(self._ready, self._where, build))
        self._batches = self._pool.imap_unordered(_lint_batch, _batches(selected, workers), chunksize=1)

    def results(self, contexts: dict[str, ArchContext],
                board_configs: dict[str, BoardConfigs]) -> Iterator[BoardResult]:
        """Hand the configurations to the workers; every board's result, in completion order."""
        with open(self._where, "wb") as fh:
            pickle.dump((contexts, board_configs), fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._ready.set()
        for batch in self._batches:
            yield from batch

    def close(self) -> None:
        """Stop the workers (waiting ones too, when the configurations could not be read)."""
        self._pool.terminate()
        self._pool.join()
        gc.unfreeze()
        os.unlink(self._where)


def _read_config(job: tuple[str, str, str | None, str | None]) -> KernelConfig:
    """One configuration, read through the tree's Kconfig (``srctree``) or, for a tree without
    Kconfig files, memplan's bundled model for the tree's release."""
    path, arch, srctree, version = job
    if srctree is not None:
        return load_config(path, arch=arch, srctree=srctree)
    return load_config(path, arch=arch, kernel_version=version)


class _ConfigReaders:
    """Worker processes that read configurations (:func:`_read_config`), in parallel, results in
    order; they live until :meth:`close`, so that each parses the tree's Kconfig files (and runs
    the toolchain probes in them) once, however many defconfigs it reads in the lint's calls.

    With more than one worker allowed, even a single configuration is read in a worker: reading
    a tree's Kconfig leaves a large parsed model in the process that did it, which the board
    workers forked afterwards would otherwise inherit (and copy page by page as Python's
    reference counts touch it).
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: Any = None
        self._probes: str | None = None

    def read(self, jobs: Sequence[tuple[str, str, str | None, str | None]]) -> list[KernelConfig]:
        if self._workers <= 1 or not jobs:
            return [_read_config(job) for job in jobs]
        if self._pool is None:
            # the workers share the answers of the Kconfig files' toolchain probes (the same
            # commands, in every architecture's Kconfig and every worker's parse of one)
            self._probes = tempfile.mkdtemp(prefix="memplan-probes-")
            gc.freeze()  # as in _map: what exists before the fork stays shared
            self._pool = _pool_context().Pool(self._workers, initializer=probes.share_in,
                                              initargs=(self._probes,))
        return list(self._pool.imap(_read_config, jobs, chunksize=1))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
            gc.unfreeze()
        if self._probes is not None:
            shutil.rmtree(self._probes, ignore_errors=True)
            self._probes = None


def _reader(arch: str, srctree: str | None, version: str | None,
            readers: _ConfigReaders) -> Callable[[Sequence[Path]], list[KernelConfig]]:
    """Read defconfigs of ``arch`` as :func:`_read_config` does, in parallel, in order."""
    def read(paths: Sequence[Path]) -> list[KernelConfig]:
        return readers.read([(str(p), arch, srctree, version) for p in paths])
    return read


def _config_notes(tree: KernelTree, arch: str, kc: KernelConfig) -> tuple[Diagnostic, ...]:
    notes = relativise(kc.diagnostics, str(tree.root))
    if tree.has_kconfig:
        return notes
    note = diag(
        "lint-config-bundled-model",
        f"the tree has no top-level Kconfig file: the {arch} configuration was read against memplan's "
        "bundled Kconfig model",
        Source.builtin("no Kconfig in the source tree"),
    )
    return (note, *notes)


def _map(func: Callable[[Any], Any], jobs: Sequence[Any], workers: int, *, ordered: bool = False,
         init: Callable[..., None] | None = None, init_args: tuple[Any, ...] = ()) -> Iterator[Any]:
    """``func`` over ``jobs``: in this process when one worker suffices, else in a process pool;
    results in the order of ``jobs`` when ``ordered``, else in completion order."""
    if workers <= 1 or len(jobs) <= 1:
        if init is not None:
            init(*init_args)
        yield from map(func, jobs)
        return
    # Objects that exist before the fork are never collected in the workers: keep the collector
    # away from them, so that their pages stay shared.
    gc.freeze()
    try:
        with _pool_context().Pool(min(workers, len(jobs)), initializer=init, initargs=init_args) as pool:
            yield from (pool.imap if ordered else pool.imap_unordered)(func, jobs, chunksize=1)
    finally:
        gc.unfreeze()


def default_jobs() -> int:
    """One worker per core this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _config_label(tree: KernelTree, path: Path) -> str:
    return tree.relative(str(path))


def lint_tree(
    srctree: str | os.PathLike[str],
    arches: Sequence[str] = (),
    boards: Sequence[str] = (),
    config: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    dtc_version: DtcVersion | None = None,
) -> LintReport:
    """Lint the board ``.dts`` files of a kernel source tree.

    ``arches``: the architectures (default: every one memplan models that has boards in the
    tree); ``boards``: only these boards (paths or file names, see
    :meth:`KernelTree.select_boards`); ``config``: a ``.config`` or defconfig to use for every
    board instead of the defconfig the tree implies for each (``arch/<arch>/configs/$(KBUILD_DEFCONFIG)``
    when it builds the board; one architecture only); ``jobs``: worker
    processes (default: one per core); ``dtc_version``: the dtc whose rules the sources follow
    (default: the tree's own ``scripts/dtc``, which the kernel build uses, else dtc 1.6.1).
    Raises :class:`LintError` (or another
    :class:`~memplan.errors.MemplanError` for an unreadable configuration) when the lint cannot
    run; problems of single boards are findings in the report.
    """
    tree = KernelTree.open(srctree)
    chosen = tree.select_arches(arches)
    selected = tree.select_boards(chosen, boards)
    used = [a for a in chosen if any(arch == a for arch, _ in selected)]
    if config is not None and len(used) > 1:
        raise LintError(
            f"--config applies to one architecture, but boards of {', '.join(used)} were selected; "
            "pass --arch",
            Source.builtin("--config argument"),
        )
    workers = jobs if jobs is not None else default_jobs()
    if workers < 1:
        raise LintError(f"jobs must be at least 1, got {workers}", Source.builtin("--jobs argument"))
    paths = {a: Path(config) if config is not None else tree.default_config(a) for a in used}
    version = tree.version
    srctree_mode = str(tree.root) if tree.has_kconfig else None
    config_jobs = [(str(paths[a]), a, srctree_mode, str(version) if version else None) for a in used]
    dtc = dtc_version or tree_dtc_version(tree.root) or DEFAULT_DTC
    # with workers to spare, the boards are built while the configurations are read
    pool = _BoardPool(selected, workers, (str(tree.root), tuple(tree.include_dirs), dtc)) \
        if workers > 1 and len(selected) > 1 else None
    try:
        readers = _ConfigReaders(workers)
        try:
            loaded = dict(zip(used, readers.read(config_jobs), strict=True))
            # each board's own defconfig, as the tree's Makefiles and defconfigs imply (not with --config)
            board_configs = {} if config is not None else {
                a: choose_board_configs(tree, a, [p for x, p in selected if x == a], paths[a], loaded[a],
                                        _reader(a, srctree_mode, str(version) if version else None, readers))
                for a in used}
        finally:
            readers.close()
        contexts = {
            a: ArchContext(str(tree.root), a, loaded[a], loaded[a].kernel_version or version,
                           tree.include_dirs, dtc)
            for a in used
        }
        results: list[BoardResult] = []
        total = len(selected)
        if progress is not None:
            progress(0, total)
        stream = pool.results(contexts, board_configs) if pool is not None else \
            _map(_lint_one, selected, workers, init=_init_worker, init_args=(contexts, board_configs))
        for result in stream:
            results.append(result)
            if progress is not None:
                progress(len(results), total)
    finally:
        if pool is not None:
            pool.close()
    rank = {a: i for i, a in enumerate(used)}
    results.sort(key=lambda r: (rank[r.arch], r.path))
    configs = tuple(
        ArchConfig(
            a,
            _config_label(tree, paths[a]),
            str(contexts[a].kernel_version) if contexts[a].kernel_version else None,
            _config_notes(tree, a, loaded[a]),
        )
        for a in used
    ) + tuple(ArchConfig(a, label, str(contexts[a].kernel_version) if contexts[a].kernel_version else None,
                         _config_notes(tree, a, kc)) for a in used if a in board_configs
              for label, kc in extra_configs(board_configs[a]))
    return LintReport(str(tree.root), str(version) if version else None, configs, tuple(results))
