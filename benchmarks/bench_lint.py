"""Kernel-tree lint benchmark: ``memplan lint`` against kbuild's own ``cpp + dtc`` on the same boards,
with the same number of parallel processes, in one run. Prints the ratio (target: at most 1.5).

Run: ``python benchmarks/bench_lint.py --tree ~/linux [--arch arm64] [--sample 200 | --all] [-j N]``
(or ``MEMPLAN_KERNEL_TREE=~/linux``). Boards are every ``.dts`` of the architectures, or ``--sample``
of them evenly spaced in path order; ``--reserved-memory`` keeps only boards whose preprocessed
source has a ``reserved-memory`` node (decided by a ``cpp`` pass before anything is timed).

What is timed (wall clock):

* ``cpp+dtc``: for each board the two commands of kbuild's ``cmd_dtc`` (``KernelTree.build_commands``:
  ``cpp -nostdinc -I scripts/dtc/include-prefixes -undef -D__DTS__ -x assembler-with-cpp`` then
  ``dtc -b 0 -i <board dir> -i scripts/dtc/include-prefixes`` with kbuild's ``DTC_FLAGS``), boards
  spread over ``-j`` workers, each running one board's two processes at a time.
* ``lint``: ``memplan.lint.lint_tree`` on the same boards with ``jobs=-j`` — building, resolving,
  the assumed-RAM second pass where needed, the report. ``lint (boards)`` leaves out reading the
  defconfig through the tree's Kconfig (once per architecture, before the first board; kbuild's
  ``make defconfig`` is not timed on the other side either); ``lint (all)`` includes it.

The two are run alternately ``--rounds`` times and the minimum of each is kept (on a shared
machine the minimum is least disturbed by other load). Besides wall time, the CPU time (user +
system, of this process and every finished descendant: cpp and dtc, the lint's workers and their
cpp) is printed; on a machine busy with other work, it is the fairer comparison, since the
scheduler does not share the cores evenly between many short processes and a few long ones.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memplan.lint import KernelTree, default_jobs, lint_tree
from memplan.lint.kbuild import KBUILD_CPP_FLAGS


def _kbuild_one(tree: KernelTree, board: str, tmp: str) -> bool:
    cpp, dtc = tree.build_commands(board, tmp, dtc=tree.dtc())
    if subprocess.run(cpp, cwd=tree.root, capture_output=True).returncode != 0:
        return False
    return subprocess.run(dtc, cwd=tree.root, capture_output=True).returncode == 0


def cpu_seconds() -> float:
    """User + system time of this process and of every finished, waited-for descendant."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def time_kbuild(tree: KernelTree, boards: list[str], jobs: int) -> tuple[float, float, int]:
    """Wall and CPU time of cpp + dtc over ``boards`` on ``jobs`` workers, and how many built."""
    with tempfile.TemporaryDirectory() as tmp:
        names = [f"{tmp}/b{i}" for i in range(len(boards))]
        start, cpu = time.perf_counter(), cpu_seconds()
        with ThreadPoolExecutor(jobs) as pool:
            built = sum(pool.map(lambda pair: _kbuild_one(tree, *pair), zip(boards, names, strict=True)))
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
    args = ap.parse_args(argv)
    if not args.tree:
        ap.error("give --tree or set MEMPLAN_KERNEL_TREE")
    tree = KernelTree.open(args.tree)
    arches = list(tree.select_arches(args.arch or ["arm64"]))
    boards = [path for _, path in tree.select_boards(arches, [])]
    if args.reserved_memory:
        boards = [b for b in boards if _has_reserved_memory(tree, b)]
    if not args.all and len(boards) > args.sample:
        step = len(boards) / args.sample
        boards = [boards[int(i * step)] for i in range(args.sample)]
    where = f"{', '.join(arches)} in {tree.root} (Linux {tree.version})"
    print(f"{len(boards)} boards of {where}, {args.jobs} jobs")
    kb: list[float] = []
    kb_cpu: list[float] = []
    lint_all: list[float] = []
    lint_boards: list[float] = []
    lint_cpu: list[float] = []
    lint_boards_cpu: list[float] = []
    for _ in range(args.rounds):
        t, c, kb_built = time_kbuild(tree, boards, args.jobs)
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
