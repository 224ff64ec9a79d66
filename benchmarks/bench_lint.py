"""Kernel-tree lint benchmark: ``memplan lint`` against kbuild's own ``cpp + dtc`` on the same boards,
with the same number of parallel processes, in one run. Prints the ratio (target: at most 1.5).

Run: ``python benchmarks/bench_lint.py --tree ~/linux [--arch arm64] [--sample 200 | --all] [-j N]``
(or ``MEMPLAN_KERNEL_TREE=~/linux``). Boards are every ``.dts`` of the architectures, or ``--sample``
of them evenly spaced in path order; ``--reserved-memory`` keeps only boards whose preprocessed
source has a ``reserved-memory`` node (decided by a ``cpp`` pass before anything is timed).

What is timed (wall clock):

* ``cpp+dtc``: for each board the two commands of kbuild's ``cmd_dtc`` (``KernelTree.build_commands``
  with the board's ``DTC_FLAGS``, as ``scripts/Makefile.dtbs`` runs them in a tree built in place:
  ``$(HOSTCC) -E -Wp,-MMD,<dep>.pre.tmp -nostdinc -I scripts/dtc/include-prefixes -undef -D__DTS__
  -x assembler-with-cpp -o <tmp> <board>`` then ``dtc -o <dtb> -b 0 -i <board dir>/ -i
  scripts/dtc/include-prefixes <DTC_FLAGS> -d <dep>.dtc.tmp <tmp>``, where ``DTC_FLAGS`` holds
  the directory's own, the defaults, ``DTC_FLAGS_<board>`` and ``-@`` for a base of an overlay
  composite: ``KernelTree.dtc_flags``), boards spread over ``-j`` workers, each running one
  board's two processes at a time. ``HOSTCC`` defaults to ``gcc``. Not counted: what make adds
  around them (a ``/bin/sh`` per recipe, the ``cat`` joining the two dependency files, ``fixdep``).
* ``lint``: ``memplan.lint.lint_tree`` on the same boards with ``jobs=-j`` — building, resolving,
  the assumed-RAM layout where needed, the report. ``lint (boards)`` leaves out reading the
  defconfigs through the tree's Kconfig and choosing each board's (kbuild's ``make defconfig`` is
  not timed on the other side either); ``lint (all)`` includes it. The lint's board workers
  start building boards while the defconfigs are read (only resolving needs them): the CPU time
  of ``lint (boards)`` is still all of theirs (a worker's time is counted when it ends), but its
  wall time, counted from the moment the defconfigs are read, misses what they built meanwhile:
  for wall time, ``lint (all)`` is the figure to compare.

``--profile N`` instead profiles the lint of N boards of the first architecture in this process
(runs of 8 consecutive boards, evenly spaced over all of them, as one worker takes them; the
parser's block replay starts empty in each pass) with cProfile on CPU time and prints each
phase's share: reading the defconfigs through the tree's Kconfig (with its toolchain probes)
and choosing each board's, the preprocessor (memplan's side and the ``cpp`` processes), the DTS
parse, dtc's semantic checks and the tree conversion, the resolve, the cyclic garbage collector,
the JSON report, and sending results back from a worker (pickling).

``--old CHECKOUT`` (another memplan checkout, e.g. ``git archive <commit> | tar -x -C /tmp/old``)
instead compares whole ``memplan lint`` processes (the interpreter's start and imports included, the
JSON report written to ``/dev/null``) of this checkout and that one, each with ``PYTHONPATH`` set to
its checkout, against ``cpp+dtc``: every round runs ``cpp+dtc`` and then the two lints, their order
swapped from one round to the next (a slow spell of a shared host then hits each side alike), and
prints every round's figures and the means, not only the minimum. On a shared two-core machine,
the ratio of one run moves by 15 % from round to round; a change smaller than that needs several
rounds.

The two are run alternately ``--rounds`` times and the minimum of each is kept (on a shared
machine the minimum is least disturbed by other load). Besides wall time, the CPU time (user +
system, of this process and every finished descendant: cpp and dtc, the lint's workers and their
cpp) is printed; on a machine busy with other work, it is the fairer comparison, since the
scheduler does not share the cores evenly between many short processes and a few long ones.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pickle
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memplan.lint import KernelTree, default_jobs, lint_tree
from memplan.lint.kbuild import KBUILD_CPP_FLAGS, KBUILD_DTC_FLAGS


def _kbuild_one(tree: KernelTree, board: str, tmp: str, flags: tuple[str, ...] | None) -> bool:
    cpp, dtc = tree.build_commands(board, tmp, cpp=os.environ.get("HOSTCC", "gcc"), dtc=tree.dtc(),
                                   flags=KBUILD_DTC_FLAGS if flags is None else flags)
    if subprocess.run(cpp, cwd=tree.root, capture_output=True).returncode != 0:
        return False
    return subprocess.run(dtc, cwd=tree.root, capture_output=True).returncode == 0


def cpu_seconds() -> float:
    """User + system time of this process and of every finished, waited-for descendant."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def time_kbuild(tree: KernelTree, arches: list[str], boards: list[str], jobs: int
                ) -> tuple[float, float, int]:
    """Wall and CPU time of cpp + dtc over ``boards`` on ``jobs`` workers, and how many built."""
    flags = {board: f for arch in arches for board, f in tree.dtc_flags(arch).items()}
    with tempfile.TemporaryDirectory() as tmp:
        names = [f"{tmp}/b{i}" for i in range(len(boards))]
        start, cpu = time.perf_counter(), cpu_seconds()
        with ThreadPoolExecutor(jobs) as pool:
            built = sum(pool.map(lambda pair: _kbuild_one(tree, pair[0], pair[1], flags.get(pair[0])),
                                 zip(boards, names, strict=True)))
        return time.perf_counter() - start, cpu_seconds() - cpu, built


def time_lint(
    tree: KernelTree, arches: list[str], boards: list[str], jobs: int
) -> tuple[float, float, float, float, int]:
    """Wall and CPU time of the whole lint and of its board phase, and how many boards built.

    The configurations are read before the first progress call (in this process, or in worker
    processes that have ended by then), so the CPU time spent up to that call is theirs."""
    marks: dict[str, tuple[float, float]] = {}

    def progress(done: int, total: int) -> None:
        marks.setdefault("boards", (time.perf_counter(), cpu_seconds()))

    start, cpu = time.perf_counter(), cpu_seconds()
    report = lint_tree(tree.root, arches=arches, boards=boards, jobs=jobs, progress=progress)
    end, cpu_end = time.perf_counter(), cpu_seconds()
    built = sum(1 for b in report.boards if b.status != "build-failed")
    wall_mark, cpu_mark = marks.get("boards", (start, cpu))
    return end - start, end - wall_mark, cpu_end - cpu, cpu_end - cpu_mark, built


def time_lint_process(checkout: Path, tree: KernelTree, arches: list[str], boards: list[str], jobs: int,
                      listing: str) -> tuple[float, float]:
    """Wall and CPU time of a whole ``memplan lint`` process of ``checkout`` (its ``memplan``
    package first on the path) over ``boards`` (listed in the file ``listing``)."""
    code = (
        "import json, sys\n"
        "import memplan\n"
        f"assert memplan.__file__.startswith({str(checkout) + os.sep!r}), memplan.__file__\n"
        "from memplan.cli import main\n"
        f"boards = json.load(open({listing!r}))\n"
        f"args = ['lint', {str(tree.root)!r}, *[a for x in {arches!r} for a in ('--arch', x)],\n"
        f"        '--format', 'json', '-o', '/dev/null', '-j', '{jobs}', '--fail-on', 'never', *boards]\n"
        "sys.exit(main(args))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    start, cpu = time.perf_counter(), cpu_seconds()
    # run from the checkout: ``python -c`` puts the current directory first on the path
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=checkout, capture_output=True, text=True,
                          check=False)
    wall, used = time.perf_counter() - start, cpu_seconds() - cpu
    if done.returncode != 0:
        raise SystemExit(f"the lint of {checkout} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, used


def compare(
    tree: KernelTree, arches: list[str], boards: list[str], jobs: int, old: Path, rounds: int
) -> None:
    """``--old``: whole lint processes of this checkout and ``old`` against ``cpp+dtc``, round
    after round, the lints' order swapped every round."""
    here = Path(__file__).resolve().parents[1]
    sides = {"new": here, "old": old.resolve()}
    got: dict[str, list[tuple[float, float]]] = {"cpp+dtc": [], "new": [], "old": []}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump([str(tree.root / b) if not os.path.isabs(b) else b for b in boards], fh)
        listing = fh.name
    try:
        for r in range(rounds):
            wall, cpu, _built = time_kbuild(tree, arches, boards, jobs)
            got["cpp+dtc"].append((wall, cpu))
            for name in ("new", "old") if r % 2 == 0 else ("old", "new"):
                got[name].append(time_lint_process(sides[name], tree, arches, boards, jobs, listing))
            peer_wall, peer_cpu = got["cpp+dtc"][-1]
            print(f"round {r + 1}: cpp+dtc {peer_wall:.2f} s / {peer_cpu:.2f} s; " + "; ".join(
                f"{name} {got[name][-1][0]:.2f} s / {got[name][-1][1]:.2f} s "
                f"= {got[name][-1][0] / peer_wall:.2f}x / {got[name][-1][1] / peer_cpu:.2f}x"
                for name in ("new", "old")), flush=True)
    finally:
        os.unlink(listing)
    print(f"means over {rounds} rounds (wall / CPU, ratio to cpp+dtc of the same round):")
    for name in ("new", "old"):
        walls = [w / p[0] for (w, _c), p in zip(got[name], got["cpp+dtc"], strict=True)]
        cpus = [c / p[1] for (_w, c), p in zip(got[name], got["cpp+dtc"], strict=True)]
        print(f"  {name} ({sides[name]}): {sum(walls) / rounds:.2f}x / {sum(cpus) / rounds:.2f}x"
              f" (CPU ratios {min(cpus):.2f}x-{max(cpus):.2f}x)")


#: Phases of one board and the functions whose cumulative CPU time is theirs.
_PHASES = (
    ("preprocessor (memplan's side)", "memplan/dts/preprocess.py", "preprocess"),
    ("DTS parse", "memplan/dts/parser.py", "parse"),
    ("dtc semantic checks", "memplan/dts/semantics.py", "run"),
    ("tree conversion", "memplan/dts/semantics.py", "build_tree"),
    ("dtc address checks", "memplan/dts/checks.py", "address_warnings"),
    ("DT facts and resolve", "memplan/lint/board.py", "_resolve"),
)


#: Consecutive boards in a row of the profiled sample, as a lint worker takes them (neighbouring
#: boards share their SoC's top-level blocks, which the parser replays).
PROFILE_RUN = 8


def _runs(boards: list[str], count: int) -> list[str]:
    """``count`` boards (at most): runs of :data:`PROFILE_RUN` consecutive ones, evenly spaced."""
    count = min(count, len(boards))
    runs = max(count // PROFILE_RUN, 1)
    step = len(boards) / runs
    picked: list[str] = []
    for i in range(runs):
        start = int(i * step)
        picked.extend(boards[start : start + min(PROFILE_RUN, count - len(picked))])
    return picked


def profile(tree: KernelTree, arch: str, boards: list[str]) -> None:
    """Each phase's share of linting ``boards`` in this process, CPU time (see the module doc)."""
    from memplan.dts.dtcversion import DEFAULT_DTC, tree_dtc_version
    from memplan.lint.board import ArchContext, lint_board
    from memplan.lint.model import LintReport
    from memplan.lint.render import render_json
    from memplan.lint.run import ArchJob, _lint_one, read_arch

    cpu0, own0 = cpu_seconds(), time.process_time()
    # the default defconfig and the boards' own, as lint_tree reads them (here in this process)
    kc, board_configs = read_arch(ArchJob(str(tree.root), arch, str(tree.default_config(arch)),
                                          str(tree.root), None, tuple(boards)))
    assert board_configs is not None
    config_cpu = cpu_seconds() - cpu0
    config_own = time.process_time() - own0
    ctx = ArchContext(str(tree.root), arch, kc, kc.kernel_version or tree.version, tree.include_dirs,
                      tree_dtc_version(tree.root) or DEFAULT_DTC)
    import memplan.lint.run as run

    run._init_worker({arch: ctx}, {arch: board_configs})
    lint_board(ctx, boards[0])  # imports and caches fill once, as in a worker before its first board
    gc.collect()
    gc.freeze()
    collector = [0.0, 0.0]

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collector[1] = time.process_time()
        else:
            collector[0] += time.process_time() - collector[1]

    gc.callbacks.append(on_gc)
    from memplan.dts import replay

    replay.clear()  # each pass starts with no block kept, as a fresh worker does
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own0 = time.process_time()
    results = [_lint_one((arch, b)) for b in boards]  # as a worker runs them, unprofiled
    own = time.process_time() - own0
    gc.callbacks.remove(on_gc)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpp_cpu = kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime
    prof = cProfile.Profile(time.process_time)
    replay.clear()
    prof.enable()
    for b in boards:  # again, profiled: only the shares of the phases are taken from this run
        _lint_one((arch, b))
    prof.disable()
    start = time.process_time()
    for r in results:
        pickle.dumps(r)
    pickling = time.process_time() - start
    start = time.process_time()
    render_json(LintReport(str(tree.root), str(tree.version), (), tuple(results)))
    rendering = time.process_time() - start
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    cumulative: dict[str, float] = {}
    for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.items():
        for label, where, name in _PHASES:
            if func == name and file.endswith(where):
                cumulative[label] = cumulative.get(label, 0.0) + ct
    n = len(boards)
    # cProfile's own cost inflates every phase alike: the shares are scaled to the run without it
    scale = own / max(sum(st[3] for key, st in stats.items() if key[2] == "_lint_one"), 1e-9)
    other = own - sum(cumulative.values()) * scale
    rows: list[tuple[str, float, float | None]] = [
        ("defconfigs through the tree's Kconfig (once)", config_cpu, config_own)]
    rows += [(label, cumulative.get(label, 0.0) * scale, None) for label, _w, _f in _PHASES]
    rows += [("the rest of a board's lint", other, None)]
    rows += [("  (of the above: cyclic garbage collector)", collector[0], None),
             ("cpp processes", cpp_cpu, None),
             ("pickling the results", pickling, None), ("JSON report", rendering, None)]
    total = config_cpu + own + cpp_cpu + pickling + rendering
    print(f"profile of {n} boards of {arch} (one process, CPU time; cProfile's overhead scaled out)")
    for label, value, own_part in rows:
        per = value / n * 1000
        extra = f"  ({own_part:.2f} s in this process)" if own_part is not None else ""
        print(f"  {label:46} {value:7.2f} s {per:7.1f} ms/board {100 * value / total:5.1f} %{extra}")
    print(f"  {'all':46} {total:7.2f} s {total / n * 1000:7.1f} ms/board")


def _has_reserved_memory(tree: KernelTree, board: str) -> bool:
    res = subprocess.run(["cpp", *KBUILD_CPP_FLAGS, board], cwd=tree.root, capture_output=True, text=True,
                         errors="replace")
    return "reserved-memory" in res.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=os.environ.get("MEMPLAN_KERNEL_TREE"), help="kernel source tree")
    ap.add_argument("--arch", action="append", default=[], help="architecture(s) (default arm64)")
    ap.add_argument("--sample", type=int, default=200, help="boards, evenly spaced (default 200)")
    ap.add_argument("--all", action="store_true", help="every board of the architectures")
    ap.add_argument("--reserved-memory", action="store_true", help="only boards with /reserved-memory")
    ap.add_argument("-j", "--jobs", type=int, default=default_jobs(), help="parallel processes")
    ap.add_argument("--rounds", type=int, default=1, help="alternate runs of each side (minimum kept)")
    ap.add_argument("--profile", type=int, metavar="N", help="profile N of the boards instead (see above)")
    ap.add_argument("--old", type=Path, metavar="CHECKOUT",
                    help="compare whole lint processes of this checkout and another (see above)")
    args = ap.parse_args(argv)
    if not args.tree:
        ap.error("give --tree or set MEMPLAN_KERNEL_TREE")
    tree = KernelTree.open(args.tree)
    arches = list(tree.select_arches(args.arch or ["arm64"]))
    boards = [path for _, path in tree.select_boards(arches, [])]
    if args.reserved_memory:
        boards = [b for b in boards if _has_reserved_memory(tree, b)]
    if args.profile:
        first = {path for arch, path in tree.select_boards(arches[:1], [])}
        profile(tree, arches[0], _runs([b for b in boards if b in first], args.profile))
        return 0
    if not args.all and len(boards) > args.sample:
        step = len(boards) / args.sample
        boards = [boards[int(i * step)] for i in range(args.sample)]
    where = f"{', '.join(arches)} in {tree.root} (Linux {tree.version})"
    print(f"{len(boards)} boards of {where}, {args.jobs} jobs")
    if args.old is not None:
        compare(tree, arches, boards, args.jobs, args.old, args.rounds)
        return 0
    kb: list[float] = []
    kb_cpu: list[float] = []
    lint_all: list[float] = []
    lint_boards: list[float] = []
    lint_cpu: list[float] = []
    lint_boards_cpu: list[float] = []
    for _ in range(args.rounds):
        t, c, kb_built = time_kbuild(tree, arches, boards, args.jobs)
        kb.append(t)
        kb_cpu.append(c)
        t_all, t_boards, c_all, c_boards, lint_built = time_lint(tree, arches, boards, args.jobs)
        lint_boards_cpu.append(c_boards)
        lint_all.append(t_all)
        lint_boards.append(t_boards)
        lint_cpu.append(c_all)
    best, best_cpu = min(kb), min(kb_cpu)
    print(f"  {'':14} {'wall':>9} {'ratio':>6} {'cpu':>9} {'ratio':>6}")
    print(f"  {'cpp+dtc':14} {best:8.2f}s {'':6} {best_cpu:8.2f}s {'':6}  ({kb_built} built)")
    print(f"  {'lint (boards)':14} {min(lint_boards):8.2f}s {min(lint_boards) / best:6.2f}"
          f" {min(lint_boards_cpu):8.2f}s {min(lint_boards_cpu) / best_cpu:6.2f}  ({lint_built} built)")
    print(f"  {'lint (all)':14} {min(lint_all):8.2f}s {min(lint_all) / best:6.2f}"
          f" {min(lint_cpu):8.2f}s {min(lint_cpu) / best_cpu:6.2f}  (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
