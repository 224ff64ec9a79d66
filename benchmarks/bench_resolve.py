"""Resolver benchmark: time per corpus board, and a synthetic board with up to 10,000 regions.

Run: ``python benchmarks/bench_resolve.py [--boards N]``. Prints the time per corpus board and,
for the synthetic board (90 % static ``reg`` regions, 10 % dynamic ``size`` regions, v6.13 rules,
which register any number of regions), the time for n = 1k, 2k, 4k, 8k, 10k regions with the
ratio to n = 1k next to the ratio n log n predicts. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memplan.dts.facts import DtFacts, MemoryNode, RmemNode
from memplan.resolve.engine import resolve_inputs
from memplan.resolve.inputs import Inputs, kernel_rule_inputs
from memplan.source import Source
from memplan.version import KernelVersion

CORPUS = Path(os.environ.get("MEMPLAN_CORPUS", "/work/shared/corpus"))
SRC = Source.builtin("synthetic")


def synthetic_inputs(n: int, version: str = "6.13") -> Inputs:
    """n reserved-memory nodes on 64 GiB of RAM: 9 in 10 static 64 KiB regions spread over the
    low 32 GiB, 1 in 10 dynamic 2 MiB CMA pools allocated top-down."""
    nodes: list[RmemNode] = []
    for i in range(n):
        dynamic = i % 10 == 9
        base = 0x40000000 + i * 0x300000
        nodes.append(
            RmemNode(
                name=f"r{i}@{base:x}" if not dynamic else f"pool{i}",
                path=f"/reserved-memory/r{i}",
                index=i,
                source=SRC,
                enabled=True,
                compatible=("shared-dma-pool",) if dynamic else (),
                no_map=not dynamic,
                reusable=dynamic,
                reg=None if dynamic else ((base, 0x10000),),
                size=0x200000 if dynamic else None,
                has_size=dynamic,
            )
        )
    dt = DtFacts(
        addr_cells=2,
        size_cells=2,
        memory_nodes=(MemoryNode("/memory@40000000", 1, True, ((0x40000000, 64 << 30),), SRC),),
        rmem_present=True,
        rmem_format_ok=True,
        rmem_format_problem="",
        rmem_source=SRC,
        rmem_nodes=tuple(nodes),
        memreserves=(),
        devices=(),
        phandle_paths={},
        bootargs=None,
        bootargs_source=None,
        compatible=(),
        model=None,
        has_chosen=False,
    )
    return kernel_rule_inputs("arm64", KernelVersion.parse(version), dt)


def bench_synthetic() -> None:
    print("synthetic board (resolve_inputs, v6.13 rules):")
    base_t = 0.0
    for n in (1000, 2000, 4000, 8000, 10000):
        inp = synthetic_inputs(n)
        best = min(_time(lambda inp=inp: resolve_inputs(inp)) for _ in range(3))
        if n == 1000:
            base_t = best
        nlogn = (n * math.log2(n)) / (1000 * math.log2(1000))
        print(
            f"  n={n:>6}: {best * 1000:8.1f} ms   ratio {best / base_t:5.2f}   "
            f"(n log n predicts {nlogn:5.2f}, n^2 would be {(n / 1000) ** 2:6.1f})"
        )


def _time(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


def bench_corpus(limit: int | None) -> None:
    import memplan

    manifest = CORPUS / "manifest.json"
    if not manifest.is_file():
        print("corpus not found; skipping")
        return
    entries = json.loads(manifest.read_text())[:limit]
    root = CORPUS / "linux-v5.7"
    times = []
    for e in entries:
        board = root / e["path"]
        inc = [board.parent, root / "include", root / "src" / e["arch"], root / "src"]
        t = _time(
            lambda board=board, inc=inc, e=e: memplan.resolve(
                dts=str(board), include_dirs=inc, arch=e["arch"], kernel_version="5.7"
            )
        )
        times.append((t, e["path"]))
    ts = [t for t, _ in times]
    print(
        f"corpus: {len(ts)} boards, total {sum(ts):.1f} s, median {statistics.median(ts) * 1000:.0f} ms, "
        f"max {max(ts) * 1000:.0f} ms ({max(times)[1]}) - includes the C preprocessor and the DTS parser"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--boards", type=int, default=None, help="only the first N corpus boards")
    ap.add_argument("--no-corpus", action="store_true")
    args = ap.parse_args()
    bench_synthetic()
    if not args.no_corpus:
        bench_corpus(args.boards)


if __name__ == "__main__":
    main()
