"""``lint_tree``: lint every board of a kernel tree, in parallel worker processes.

Each defconfig is read once, through the tree's own Kconfig files (memplan's kconfig front end
in srctree mode, as ``make olddefconfig`` would read it): the architecture's default, and the
others the boards need (:mod:`memplan.lint.defconfigs` says which board takes which), all of one
architecture in one reader process (its Kconfig is parsed once). The boards are shared out among
``jobs`` processes, started first: they build boards (which needs no configuration) while the
defconfigs are read, and resolve those of an architecture as soon as its defconfigs are read.
Results come back in completion order (for the progress callback) and are sorted by architecture
and path, so the report does not depend on timing.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.pool
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import attrs

from memplan.diagnostics import diag
from memplan.dts import cpprun
from memplan.dts.dtcversion import DEFAULT_DTC, DtcVersion, tree_dtc_version
from memplan.dts.load import LoadedTree
from memplan.kconfig import KernelConfig, load_config, probes
from memplan.kconfig.engine import freeze_after_parse
from memplan.lint.board import ArchContext, build_board, finish_board, relativise
from memplan.lint.defconfigs import BoardConfigs, choose_board_configs, extra_configs, lint_with_defconfig
from memplan.lint.kbuild import KernelTree
from memplan.lint.model import ArchConfig, BoardResult, LintError, LintReport
from memplan.model import Diagnostic
from memplan.source import Source
from memplan.version import KernelVersion

#: ``progress(done, total)`` is called after each board.
Progress = Callable[[int, int], None]

_CONTEXTS: dict[str, ArchContext] = {}
_BOARD_CONFIGS: dict[str, BoardConfigs] = {}


def _pool_context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class _Pool(multiprocessing.pool.Pool):
    """multiprocessing's pool without the busy wait of its worker-keeping thread: that thread
    also waits on the pipe the results come through, which stays readable until the result
    thread has taken a result, so it spins while results arrive (1.1-1.6 s of this process's
    CPU time over 1033 boards with 2 workers). It needs waking only when a worker exits (it
    waits on their sentinels too) or the pool's state changes (the notifier)."""

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


def _new_pool(processes: int, init: Callable[..., None] | None, init_args: tuple[Any, ...]) -> _Pool:
    return _Pool(processes, initializer=init, initargs=init_args, context=_pool_context())


def _init_worker(contexts: dict[str, ArchContext], board_configs: dict[str, BoardConfigs]) -> None:
    cpprun.use_compiler_proper(True)  # for the worker's life (a forked worker has it already)
    cpprun.use_own_limit(True)  # a worker has one thread
    _CONTEXTS.clear()
    _CONTEXTS.update(contexts)
    _BOARD_CONFIGS.clear()
    _BOARD_CONFIGS.update(board_configs)


#: The young-generation threshold of the cyclic garbage collector while a board is linted (in a
#: board worker: for its life). The default (700 allocations) makes the collector run all through
#: a parse that allocates hundreds of thousands of objects which reference counting frees anyway
#: (about a quarter of a board's CPU time). At 50 000, it still walked a large board's whole tree
#: once the parse was over, and everything a task's boards left alive (the parser's replay
#: records) each time a task ended and the default came back: about 2 s of CPU over the 1033
#: boards of the issue's scenario, to collect some 2000 objects in each worker. A board leaves
#: almost no cycles: the collector runs once a million objects more are alive than after its last run.
_GC_YOUNG_THRESHOLD = 1_000_000


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
#: and per architecture the event set once its configurations are written and that file.
_WAITING: dict[str, Any] = {}

#: Boards a worker of :class:`_BoardPool` builds ahead, at most, before it needs a configuration
#: (it stops as soon as the configuration is there). With one reader for both workers, 48 left
#: the workers waiting for arm64's configuration for about 1.5 s at the start of the issue's scenario.
_AHEAD = 160

#: Consecutive boards a :class:`_BoardPool` task holds after the first batches, at most.
_RUN = 8


def _init_waiting(ready: dict[str, tuple[Any, str]], build: tuple[str, tuple[str, ...], DtcVersion]) -> None:
    cpprun.use_compiler_proper(True)
    cpprun.use_own_limit(True)  # a worker has one thread
    gc.set_threshold(_GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    _CONTEXTS.clear()
    _BOARD_CONFIGS.clear()
    _WAITING.update(ready=ready, build=build)


def _lint_batch(task: tuple[str, tuple[str, ...]]) -> list[BoardResult]:
    """Lint boards of one architecture in a :class:`_BoardPool` worker: each is built, then,
    once that architecture's configurations are there, resolved. The first time, the worker
    builds the batch's boards while they are read (until they are there: the rest of the batch
    is built and resolved one by one), then waits for them if it is done first.

    Once they are there, each board is resolved as soon as it is built: a batch built first
    keeps every board's objects alive together, and the collector's young-generation passes then
    scan them again and again (for arm64's boards, about 2.4 s of CPU a worker instead of 0.7 s).
    """
    arch, paths = task
    srctree, include_dirs, dtc = _WAITING["build"]
    out = []
    if arch not in _CONTEXTS:  # the first batch: built while the configurations are read
        event, where = _WAITING["ready"][arch]
        built = []
        for path in paths:
            if event.is_set():  # the rest is built and resolved one by one, as in later batches
                break
            built.append((path, build_board(srctree, arch, include_dirs, dtc, path)))
        event.wait()
        with open(where, "rb") as fh:
            _CONTEXTS[arch], first_configs = pickle.load(fh)
        if first_configs is not None:
            _BOARD_CONFIGS[arch] = first_configs
        ctx, configs = _CONTEXTS[arch], _BOARD_CONFIGS.get(arch)
        out = [lint_with_defconfig(ctx, path, configs, partial(_finish, board), board)
               for path, board in built]
        paths = paths[len(built):]
    ctx, configs = _CONTEXTS[arch], _BOARD_CONFIGS.get(arch)
    for path in paths:
        board = build_board(srctree, arch, include_dirs, dtc, path)
        out.append(lint_with_defconfig(ctx, path, configs, partial(_finish, board), board))
    return out


def _finish(built: LoadedTree | BoardResult, ctx: ArchContext, path: str) -> BoardResult:
    return finish_board(ctx, path, built)


def _batches(selected: Sequence[tuple[str, str]], workers: int) -> Iterator[tuple[str, tuple[str, ...]]]:
    """The boards as :func:`_lint_batch` tasks: first one batch per worker (boards it builds
    while the configurations are read), then runs of consecutive boards, down to one board a
    task at the end (the work stays balanced)."""
    ahead = max(min(_AHEAD, len(selected) // (2 * workers)), 1)
    i = 0
    for _ in range(workers):
        if i >= len(selected):
            return
        arch = selected[i][0]
        batch = [path for a, path in selected[i : i + ahead] if a == arch]
        yield arch, tuple(batch)
        i += len(batch)
    # then runs of consecutive boards, shorter towards the end: a worker's boards follow one
    # another in path order, so they share most of their SoC's top-level blocks, which the
    # parser replays instead of parsing again (memplan.dts.replay; one board a task, the two
    # workers took turns and each saw only every other board), while the last tasks are single
    # boards, so no worker is left with a long run when the others are done
    while i < len(selected):
        arch = selected[i][0]
        run = max(min(_RUN, (len(selected) - i) // (4 * workers)), 1)
        batch = [path for a, path in selected[i : i + run] if a == arch]
        yield arch, tuple(batch)
        i += len(batch)


class _BoardPool:
    """Board workers started before the configurations are read (:class:`_ArchReaders`), so
    that building the boards, which needs no configuration, overlaps reading them: each worker
    builds a batch of boards, then waits for the configurations of their architecture
    (:meth:`ready` hands them over through a file, each architecture's as soon as it is read)
    to resolve them, then lints the rest in runs of consecutive boards (:func:`_batches`)."""

    def __init__(self, selected: Sequence[tuple[str, str]], workers: int,
                 build: tuple[str, tuple[str, ...], DtcVersion]) -> None:
        context = _pool_context()
        self._ready: dict[str, tuple[Any, str]] = {}
        for arch in dict.fromkeys(a for a, _ in selected):
            fd, where = tempfile.mkstemp(prefix=f"memplan-lint-{arch}-", suffix=".pickle")
            os.close(fd)
            self._ready[arch] = (context.Event(), where)
        gc.freeze()  # as in _map: what exists before the fork stays shared
        self._pool = _new_pool(min(workers, len(selected)), _init_waiting, (self._ready, build))
        self._batches = self._pool.imap_unordered(_lint_batch, _batches(selected, workers), chunksize=1)

    def handover(self, arch: str) -> str:
        """The file an architecture's configurations are written to for the workers
        (:func:`write_handover`), by the process that read them."""
        return str(self._ready[arch][1])

    def ready(self, arch: str) -> None:
        """Tell the workers that an architecture's configurations are written (they may resolve
        its boards)."""
        self._ready[arch][0].set()

    def results(self) -> Iterator[BoardResult]:
        """Every board's result, in completion order."""
        for batch in self._batches:
            yield from batch

    def close(self) -> None:
        """Stop the workers (waiting ones too, when the configurations could not be read)."""
        self._pool.terminate()
        self._pool.join()
        gc.unfreeze()
        for _event, where in self._ready.values():
            os.unlink(where)


def _read_config(job: tuple[str, str, str | None, str | None]) -> KernelConfig:
    """One configuration, read through the tree's Kconfig (``srctree``) or, for a tree without
    Kconfig files, memplan's bundled model for the tree's release."""
    path, arch, srctree, version = job
    if srctree is not None:
        return load_config(path, arch=arch, srctree=srctree)
    return load_config(path, arch=arch, kernel_version=version)


@attrs.frozen
class ArchJob:
    """What :func:`read_arch` reads for one architecture: ``config`` (its default defconfig, or
    the ``--config`` file), through the tree's Kconfig (``srctree``) or the bundled model of
    ``version``; ``boards``: the selected boards, whose own defconfigs are chosen and read too
    (``None`` with ``--config``)."""

    root: str
    arch: str
    config: str
    srctree: str | None
    version: str | None
    boards: tuple[str, ...] | None
    handover: Handover | None = None


@attrs.frozen
class Handover:
    """Where :func:`read_arch` writes what the board workers of :class:`_BoardPool` need (the
    architecture's :class:`ArchContext` and its boards' configurations), and the parts of that
    context that do not come from the configuration."""

    path: str
    kernel_version: KernelVersion | None
    include_dirs: tuple[str, ...]
    dtc: DtcVersion


def arch_context(root: str, arch: str, kc: KernelConfig, version: KernelVersion | None,
                 include_dirs: tuple[str, ...], dtc: DtcVersion) -> ArchContext:
    """What every board of the architecture is linted with (``version``: the tree's, for a
    configuration that names none)."""
    return ArchContext(root, arch, kc, kc.kernel_version or version, include_dirs, dtc)


def _summary(kc: KernelConfig) -> KernelConfig:
    """``kc`` without its values and sources (what the lint's own process reads of a
    configuration the board workers resolve with: its fields and findings)."""
    return attrs.evolve(kc, values={}, sources={})


def read_arch(job: ArchJob) -> tuple[KernelConfig, BoardConfigs | None]:
    """An architecture's configuration and each board's defconfig (read as they are needed),
    all in one process, so the tree's Kconfig files are parsed (and their toolchain probes run)
    once per architecture, however many defconfigs the boards need.

    With ``job.handover``, the board workers' share is written to its file here, and only the
    configurations' summaries (:func:`_summary`) are returned: the whole configurations would
    otherwise be pickled once more to come back, unpickled and pickled again for the workers."""
    def read(paths: Sequence[Path]) -> list[KernelConfig]:
        return [_read_config((str(p), job.arch, job.srctree, job.version)) for p in paths]

    (config,) = read([Path(job.config)])
    configs = None if job.boards is None else choose_board_configs(
        KernelTree(Path(job.root)), job.arch, job.boards, Path(job.config), config, read)
    if job.handover is None:
        return config, configs
    h = job.handover
    write_handover(h.path, arch_context(job.root, job.arch, config, h.kernel_version, h.include_dirs, h.dtc),
                   configs)
    return _summary(config), None if configs is None else attrs.evolve(
        configs, configs={name: _summary(kc) for name, kc in configs.configs.items()})


def write_handover(path: str, context: ArchContext, configs: BoardConfigs | None) -> None:
    """Write what :func:`_lint_batch` loads for an architecture."""
    with open(path, "wb") as fh:
        pickle.dump((context, configs), fh, protocol=pickle.HIGHEST_PROTOCOL)


def _init_reader(probe_dir: str) -> None:
    """A process of :class:`_ArchReaders`: it shares the probes' answers through ``probe_dir``
    and keeps its Kconfig models out of the collector's sight (it holds them to its end)."""
    probes.share_in(probe_dir)
    freeze_after_parse()


#: Board workers per configuration reader process (:class:`_ArchReaders`).
_WORKERS_PER_READER = 2


class _ArchReaders:
    """Processes that read the architectures' configurations (:func:`read_arch`): one for
    every :data:`_WORKERS_PER_READER` board workers (at least one, at most one an architecture).
    Each architecture goes to the reader with the least so far, the heaviest (the most
    defconfigs in the tree to choose from) first; a reader reads its architectures in the order
    the board workers need them (the lightest first, as :func:`_lint_tree` orders the boards).
    Results are handed to ``done`` as each architecture finishes (from a helper thread) and
    returned in the order of the jobs.

    A reader's second and later architectures cost less than its first: most of their Kconfig
    lines were tokenized by the first (:mod:`memplan.kconfig.treeparse`) and their toolchain
    probes answered. So a reader is not started for each architecture: with two board workers
    (``-j 2``), one reader reads them all while the workers build and lint the boards of the
    architectures read first, which is less CPU time in all and no later for the workers.

    Reading a tree's Kconfig leaves a large parsed model in the process that did it, which the
    board workers forked afterwards would otherwise inherit (and copy page by page as Python's
    reference counts touch it): with more than one worker allowed, even a single architecture
    is read in a reader process. The readers share the answers of the Kconfig toolchain probes
    (the same commands in every architecture's Kconfig) through a directory of the run.
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers

    def read(self, jobs: Sequence[ArchJob], weight: Callable[[str], int],
             done: Callable[[ArchJob, tuple[KernelConfig, BoardConfigs | None]], None]
             ) -> list[tuple[KernelConfig, BoardConfigs | None]]:
        if self._workers <= 1 or not jobs:
            out = []
            for job in jobs:
                out.append(read_arch(job))
                done(job, out[-1])
            return out
        count = min(max(self._workers // _WORKERS_PER_READER, 1), len(jobs))
        load = [0] * count
        where: dict[int, int] = {}
        for i in sorted(range(len(jobs)), key=lambda i: (-weight(jobs[i].arch), i)):
            where[i] = min(range(count), key=lambda r: (load[r], r))
            load[where[i]] += max(weight(jobs[i].arch), 1)
        probe_dir = tempfile.mkdtemp(prefix="memplan-probes-")
        gc.freeze()  # as in _map: what exists before the fork stays shared
        pools = [_new_pool(1, _init_reader, (probe_dir,)) for _ in range(count)]
        failed: list[BaseException] = []

        def hand_over(job: ArchJob, got: tuple[KernelConfig, BoardConfigs | None]) -> None:
            try:
                done(job, got)
            except BaseException as err:  # raised below, in the caller's thread
                failed.append(err)

        try:
            needed = sorted(range(len(jobs)), key=lambda i: (weight(jobs[i].arch), jobs[i].arch))
            pending = {i: pools[where[i]].apply_async(read_arch, (jobs[i],),
                                                      callback=partial(hand_over, jobs[i]))
                       for i in needed}
            out = [pending[i].get() for i in range(len(jobs))]
            if failed:
                raise failed[0]
            return out
        finally:
            for pool in pools:
                pool.terminate()  # a reader that finished has nothing to free; one that failed stops
                pool.join()
            gc.unfreeze()
            shutil.rmtree(probe_dir, ignore_errors=True)


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
        with _new_pool(min(workers, len(jobs)), init, init_args) as pool:
            yield from (pool.imap if ordered else pool.imap_unordered)(func, jobs, chunksize=1)
    finally:
        gc.unfreeze()


def default_jobs() -> int:
    """One worker per core this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _choices(tree: KernelTree, arch: str) -> int:
    """How many defconfigs the tree has for ``arch`` (how much choosing the boards' may read)."""
    folder = tree.root / "arch" / arch / "configs"
    return sum(1 for _ in folder.glob("*defconfig")) if folder.is_dir() else 0


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
    # the board workers run cpp's compiler proper themselves: the driver's own start is about a
    # fifth of a board's preprocessing, and a lint has one command shape per architecture
    # and bound it by their own address-space limit rather than through a shell (use_own_limit,
    # which a lint run in this process turns on here too, and off again after)
    own_limit = cpprun.use_own_limit(False)
    try:
        with cpprun.compiler_proper():
            return _lint_tree(srctree, arches, boards, config, jobs, progress, dtc_version)
    finally:
        cpprun.use_own_limit(own_limit)


def _lint_tree(
    srctree: str | os.PathLike[str], arches: Sequence[str], boards: Sequence[str],
    config: str | os.PathLike[str] | None, jobs: int | None, progress: Progress | None,
    dtc_version: DtcVersion | None,
) -> LintReport:
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
    dtc = dtc_version or tree_dtc_version(tree.root) or DEFAULT_DTC
    jobs_of = [ArchJob(str(tree.root), a, str(paths[a]), srctree_mode, str(version) if version else None,
                       None if config is not None else tuple(p for x, p in selected if x == a)) for a in used]
    weights = {a: _choices(tree, a) for a in used}
    # with workers to spare, the boards are built while the configurations are read; the
    # architectures with the fewest defconfigs to choose from (read soonest) are built first
    order = {a: i for i, a in enumerate(sorted(used, key=lambda a: (weights[a], a)))}
    pool = _BoardPool(sorted(selected, key=lambda s: order[s[0]]), workers,
                      (str(tree.root), tuple(tree.include_dirs), dtc)) \
        if workers > 1 and len(selected) > 1 else None

    if pool is not None:  # the readers write the workers' share themselves
        jobs_of = [attrs.evolve(job, handover=Handover(pool.handover(job.arch), version,
                                                       tuple(tree.include_dirs), dtc)) for job in jobs_of]

    def context(job: ArchJob, kc: KernelConfig) -> ArchContext:
        return arch_context(str(tree.root), job.arch, kc, version, tuple(tree.include_dirs), dtc)

    def done(job: ArchJob, got: tuple[KernelConfig, BoardConfigs | None]) -> None:
        if pool is not None:
            pool.ready(job.arch)

    try:
        read = _ArchReaders(workers).read(jobs_of, weights.__getitem__, done)
        loaded = {job.arch: kc for job, (kc, _bc) in zip(jobs_of, read, strict=True)}
        # each board's own defconfig, as the tree's Makefiles and defconfigs imply (not with --config)
        board_configs = {job.arch: bc for job, (_kc, bc) in zip(jobs_of, read, strict=True) if bc is not None}
        contexts = {job.arch: context(job, loaded[job.arch]) for job in jobs_of}
        results: list[BoardResult] = []
        total = len(selected)
        if progress is not None:
            progress(0, total)
        stream = pool.results() if pool is not None else \
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
