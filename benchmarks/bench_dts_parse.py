"""DTS parse time of the largest corpus boards: memplan vs Zephyr's dtlib vs dtc, in one run.

Every board is preprocessed once with the system cpp (kbuild's flags, as ``reference.sh``
runs them); then, on that same preprocessed text, the benchmark times

* memplan: ``parse_dts(text=...)`` alone, and ``parse_dts(text=...)`` + ``Tree.to_dtb()``, each
  a cold parse (:func:`memplan.dts.replay.paused`: a board parsed again in one process would
  otherwise replay its blocks, see ``--tree``);
* dtlib: ``dtlib.DT(file)`` (Zephyr's pure-Python DTS library; installed at run time from
  PyPI's ``devicetree`` package into a cache directory, or taken from ``--dtlib PATH`` to a
  ``dtlib.py`` of a zephyr checkout, ``scripts/dts/python-devicetree/src/devicetree``);
* dtc: ``dtc -I dts -O dtb`` as a subprocess (process start-up included).

The tools take turns, round after round, so that load on the machine hits them alike. It
prints the best (minimum) of ``--repeat`` rounds per tool (``--stat median`` for medians) and
the ratios memplan/dtlib (parse vs parse) and memplan/dtc (parse + DTB vs dts -> dtb).
Ratios below 1 mean memplan is faster.

    python benchmarks/bench_dts_parse.py                 # the 5 largest boards
    python benchmarks/bench_dts_parse.py --boards 10 --repeat 9
    python benchmarks/bench_dts_parse.py --dtlib ZEPHYR/scripts/dts/python-devicetree/src/devicetree/dtlib.py
    python -m pytest benchmarks/bench_dts_parse.py       # the same boards through pytest-benchmark

``--tree LINUX`` instead measures what a lint worker does: consecutive boards of ``--arch`` (with
``/reserved-memory``, as the issue's scenario), preprocessed once as the lint preprocesses them,
then parsed in path order in this process, every ``--stride``-th board (a lint with 2 jobs gives
each worker about every other board): CPU time per board of the parse alone (``Parser.parse``:
no semantic passes), with the blocks of boards parsed before replayed (:mod:`memplan.dts.replay`)
and cold, alternately, ``--repeat`` rounds (minimum kept), and the share of the text replayed.

    python benchmarks/bench_dts_parse.py --tree ~/linux --arch arm64 --count 100 --stride 2
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memplan.dts import parse_dts, replay  # noqa: E402  (after the sys.path tweak)

DTC_WARNINGS_OFF = (
    "-Wno-unit_address_vs_reg", "-Wno-unit_address_format", "-Wno-avoid_unnecessary_addr_size",
    "-Wno-alias_paths", "-Wno-graph_child_address", "-Wno-simple_bus_reg", "-Wno-unique_unit_address",
    "-Wno-pci_device_reg", "-Wno-interrupt_provider",
)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "memplan-bench"


def corpus_dir() -> Path:
    """``$MEMPLAN_CORPUS`` or ``<repo>/../shared/corpus``."""
    env = os.environ.get("MEMPLAN_CORPUS")
    path = Path(env) if env else REPO.parent / "shared" / "corpus"
    if not (path / "manifest.json").is_file():
        raise SystemExit(f"corpus not found at {path} (set MEMPLAN_CORPUS)")
    return path


def largest_boards(corpus: Path, count: int) -> list[dict[str, Any]]:
    """The ``count`` boards with the most preprocessed lines."""
    manifest: list[dict[str, Any]] = json.loads((corpus / "manifest.json").read_text())
    return sorted(manifest, key=lambda b: (-b["preprocessed_lines"], b["path"]))[:count]


def load_dtlib(path: str | None) -> tuple[ModuleType, str]:
    """Zephyr's dtlib: from ``path``, else PyPI's ``devicetree`` installed into the cache dir."""
    if path:
        spec = importlib.util.spec_from_file_location("bench_dtlib", path)
        if spec is None or spec.loader is None:
            raise SystemExit(f"cannot load dtlib from {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_dtlib"] = module
        spec.loader.exec_module(module)
        return module, f"dtlib from {path}"
    target = CACHE / "devicetree"
    if not any(target.glob("devicetree-*.dist-info")):
        print(f"installing the latest 'devicetree' from PyPI into {target} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--upgrade", "--target", str(target),
             "devicetree"],
            check=True,
        )
    sys.path.insert(0, str(target))
    from devicetree import dtlib

    dist = sorted(target.glob("devicetree-*.dist-info"))
    version = dist[-1].name.removeprefix("devicetree-").removesuffix(".dist-info") if dist else "?"
    return dtlib, f"PyPI devicetree {version}"


def time_interleaved(
    funcs: dict[str, Callable[[], object]], repeat: int, stat: str = "min"
) -> dict[str, float]:
    """Wall time of each function in milliseconds: ``min`` or ``median`` over ``repeat`` rounds.

    Each round calls every function once, in turn, after one untimed warm-up call of each,
    so that changing load on the machine affects all of them alike. A function that raises
    gets ``nan`` (and the error is printed).
    """
    times: dict[str, list[float]] = {name: [] for name in funcs}
    live = dict(funcs)
    for name, func in funcs.items():
        try:
            func()
        except Exception as err:  # e.g. dtlib rejecting a kernel source: report, keep going
            print(f"{name} failed: {err}", file=sys.stderr)
            del live[name]
    for _ in range(repeat):
        for name, func in live.items():
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    pick = min if stat == "min" else statistics.median
    return {name: pick(ts) * 1000 if ts else float("nan") for name, ts in times.items()}


class Board:
    """One corpus board, preprocessed once into a scratch file."""

    def __init__(self, corpus: Path, entry: dict[str, Any], scratch: Path) -> None:
        self.root = corpus / "linux-v5.7"
        self.entry = entry
        self.rel = entry["path"]
        self.board = self.root / self.rel
        arch = entry["arch"]
        self.dtc_dirs = [str(self.board.parent), str(self.root / "src" / arch), str(self.root / "src"),
                         str(self.root / "include")]
        cpp_dirs = [str(self.board.parent), str(self.root / "include"), str(self.root / "src" / arch),
                    str(self.root / "src")]
        cmd = ["cpp", "-nostdinc", *[a for d in cpp_dirs for a in ("-I", d)], "-undef", "-D__DTS__",
               "-x", "assembler-with-cpp", str(self.board)]
        self.text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        self.lines = self.text.count("\n")
        self.file = scratch / (self.rel.replace("/", "_") + ".pp.dts")
        self.file.write_text(self.text)

    def memplan_parse(self) -> object:
        with replay.paused():
            return parse_dts(text=self.text, filename=str(self.board), include_dirs=self.dtc_dirs)

    def memplan_dtb(self) -> bytes:
        with replay.paused():
            return parse_dts(text=self.text, filename=str(self.board), include_dirs=self.dtc_dirs).to_dtb()

    def dtlib_parse(self, dtlib: ModuleType) -> object:
        return dtlib.DT(str(self.file), include_path=self.dtc_dirs)

    def dtc(self) -> None:
        cmd = ["dtc", "-q", "-I", "dts", "-O", "dtb", "-b", "0", "-o", os.devnull,
               *[a for d in self.dtc_dirs for a in ("-i", d)], *DTC_WARNINGS_OFF, str(self.file)]
        subprocess.run(cmd, check=True, capture_output=True)


def run(args: argparse.Namespace) -> int:
    """Time every tool on every board and print the table."""
    for tool in ("cpp", "dtc"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install cpp device-tree-compiler)")
    corpus = corpus_dir()
    dtlib, dtlib_name = load_dtlib(args.dtlib)
    dtc_version = subprocess.run(["dtc", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"memplan vs {dtlib_name} vs {dtc_version}; {args.stat} of {args.repeat} runs, milliseconds")
    header = (f"{'board':44} {'lines':>6} {'memplan':>8} {'+dtb':>8} {'dtlib':>8} {'dtc':>7} "
              f"{'mp/dtlib':>9} {'mp+dtb/dtc':>11}")
    print(header)
    print("-" * len(header))
    ratios_dtlib: list[float] = []
    ratios_dtc: list[float] = []
    with tempfile.TemporaryDirectory(prefix="memplan-bench-") as scratch:
        for entry in largest_boards(corpus, args.boards):
            board = Board(corpus, entry, Path(scratch))
            t = time_interleaved(
                {
                    "memplan": board.memplan_parse,
                    "memplan+dtb": board.memplan_dtb,
                    "dtlib": functools.partial(board.dtlib_parse, dtlib),
                    "dtc": board.dtc,
                },
                args.repeat,
                args.stat,
            )
            mp, mp_dtb, dl, dc = t["memplan"], t["memplan+dtb"], t["dtlib"], t["dtc"]
            ratios_dtlib.append(mp / dl)
            ratios_dtc.append(mp_dtb / dc)
            print(f"{board.rel.removeprefix('src/'):44} {board.lines:6d} {mp:8.1f} {mp_dtb:8.1f} {dl:8.1f} "
                  f"{dc:7.1f} {mp / dl:9.2f} {mp_dtb / dc:11.2f}")
    valid = [r for r in ratios_dtlib if r == r]
    if valid:
        print(f"geometric mean memplan/dtlib: {statistics.geometric_mean(valid):.2f}  "
              f"memplan+dtb/dtc: {statistics.geometric_mean(ratios_dtc):.2f}")
    return 0


def tree_boards(root: str, arch: str, start: int, count: int) -> list[tuple[str, str, list[str]]]:
    """``count`` boards of ``arch`` with ``/reserved-memory`` from the ``start``-th on, in path
    order: (path, preprocessed text, dtc include dirs), preprocessed as the lint does."""
    from memplan.dts.preprocess import preprocess
    from memplan.lint import KernelTree

    tree = KernelTree.open(root)
    dirs = list(tree.include_dirs)
    out: list[tuple[str, str, list[str]]] = []
    for _, rel in list(tree.select_boards([arch], []))[start:]:
        path = f"{tree.root}/{rel}"
        text = preprocess(path, include_dirs=dirs).text
        if "reserved-memory" in text:
            out.append((path, text, dirs))
            if len(out) == count:
                break
    return out


def parse_in_order(boards: list[tuple[str, str, list[str]]], replayed: bool) -> tuple[float, int]:
    """CPU seconds to parse ``boards`` in order (``Parser.parse`` only) in this process, cold or
    with the blocks of the boards before replayed; and the characters replayed."""
    from memplan.dts.includes import IncludePolicy
    from memplan.dts.parser import Parser

    replay.clear()
    done = 0
    collecting = gc.isenabled()
    gc.disable()  # as parse_text does
    try:
        start = time.process_time()
        for path, text, dirs in boards:
            with replay.paused() if not replayed else contextlib.nullcontext():
                parser = Parser(text, path, [Path(d) for d in dirs], Path(path).parent, None, IncludePolicy())
                cache = parser.blocks
                before = cache.replayed if cache is not None else 0
                parser.parse()
                done += cache.replayed - before if cache is not None else 0
        return time.process_time() - start, done
    finally:
        if collecting:
            gc.enable()


def run_tree(args: argparse.Namespace) -> int:
    """The ``--tree`` mode (see the module's docstring)."""
    boards = tree_boards(args.tree, args.arch, args.start, args.count)[:: args.stride]
    chars = sum(len(text) for _, text, _ in boards)
    first, last = (boards[i][0].rsplit("/", 1)[-1] for i in (0, -1))
    print(f"{len(boards)} boards of {args.arch} (every {args.stride}. of {args.count} with /reserved-memory "
          f"from the {args.start}. on, {first} .. {last}), {chars / len(boards) / 1000:.0f} k characters a "
          f"board; parse only, CPU, best of {args.repeat}")
    cold: list[float] = []
    warm: list[float] = []
    share = 0
    for _ in range(args.repeat):
        cold.append(parse_in_order(boards, False)[0])
        seconds, share = parse_in_order(boards, True)
        warm.append(seconds)
    c, w = min(cold) * 1000 / len(boards), min(warm) * 1000 / len(boards)
    print(f"  cold      {c:7.2f} ms a board")
    print(f"  replayed  {w:7.2f} ms a board  ({w / c:.2f} of cold; {100 * share / chars:.1f} % of the text "
          "replayed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--boards", type=int, default=5, help="how many of the largest boards (default 5)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per tool and board (default 5)")
    parser.add_argument("--stat", choices=("min", "median"), default="min", help="statistic (default min)")
    parser.add_argument("--dtlib", metavar="PATH", help="a dtlib.py to use instead of PyPI's devicetree")
    parser.add_argument("--tree", metavar="LINUX", help="boards of a kernel tree in path order (see above)")
    parser.add_argument("--arch", default="arm64", help="with --tree: the architecture (default arm64)")
    parser.add_argument("--start", type=int, default=0, help="with --tree: the first board (default 0)")
    parser.add_argument("--count", type=int, default=100, help="with --tree: how many boards (default 100)")
    parser.add_argument("--stride", type=int, default=2, help="with --tree: parse every N-th (default 2)")
    args = parser.parse_args(argv)
    return run_tree(args) if args.tree else run(args)


# ---- pytest-benchmark entry points (python -m pytest benchmarks/bench_dts_parse.py) ----

def _bench_boards() -> list[dict[str, Any]]:
    try:
        return largest_boards(corpus_dir(), 5)
    except SystemExit:
        return []


try:  # pragma: no cover - only when run under pytest
    import pytest

    @pytest.fixture(scope="module", params=_bench_boards(), ids=lambda e: e["path"].rsplit("/", 1)[-1])
    def bench_board(request: Any, tmp_path_factory: Any) -> Board:
        return Board(corpus_dir(), request.param, tmp_path_factory.mktemp("pp"))

    def test_memplan_parse(benchmark: Any, bench_board: Board) -> None:
        benchmark(bench_board.memplan_parse)

    def test_dtlib_parse(benchmark: Any, bench_board: Board) -> None:
        dtlib, _ = load_dtlib(os.environ.get("MEMPLAN_BENCH_DTLIB"))
        benchmark(bench_board.dtlib_parse, dtlib)

    def test_dtc_compile(benchmark: Any, bench_board: Board) -> None:
        benchmark(bench_board.dtc)

except ImportError:  # pragma: no cover
    pass


if __name__ == "__main__":
    sys.exit(main())
