"""Command-line parser benchmark: linear growth in the number of repeated parameters.

Run: ``python benchmarks/bench_cmdline.py [--max N] [--repeat R]``. For each family of hostile
command lines (one parameter repeated n times, or ``crashkernel=`` repeated inside one word) it
prints the time of :func:`memplan.cmdline.parse_cmdline` for n = 1k, 2k, 4k, ... and two
ratios: the time over the time at the smallest n (linear growth doubles it with n), and the
time over Python's own ``str.split()`` of the same text in the same run (the peer: it stays flat
when the parser is linear). pyparsing is imported before timing, and the per-value caches of
:mod:`memplan.cmdline.grammar` are emptied before every run. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memplan.cmdline import grammar, parse_cmdline

FAMILIES: dict[str, tuple[str, Callable[[int], str]]] = {
    "cma=": ("arm64", lambda n: " ".join(f"cma={i % 64 + 1}M" for i in range(n))),
    "cma=@base": ("arm64", lambda n: " ".join(f"cma=64M@{0x40000000 + i * 0x100000:#x}" for i in range(n))),
    "numa_cma=": ("arm64", lambda n: " ".join(f"numa_cma={i % 1000}:1M" for i in range(n))),
    "hugetlb_cma=": ("arm64", lambda n: " ".join(f"hugetlb_cma={i % 1000}:1M" for i in range(n))),
    "hugepagesz=": ("arm64", lambda n: " ".join(f"hugepagesz={i + 1}M hugepages=1" for i in range(n))),
    "memmap=exactmap": ("x86", lambda n: " ".join(["memmap=1M$16M memmap=exactmap"] * n)),
    "memmap=nn@ss": ("x86", lambda n: " ".join(f"memmap={i + 1}K@{i}M" for i in range(n))),
    "crashkernel= (one word)": ("arm64", lambda n: "crashkernel=" * n + "256M"),
    "mem=": ("arm64", lambda n: " ".join(["mem=1G"] * n)),
}




def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        grammar.clear_caches()  # every run parses each distinct value afresh
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max", type=int, default=32_000, help="largest n (default 32000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per point, the minimum is shown")
    args = ap.parse_args(argv)
    parse_cmdline("cma=1M numa_cma=0:1M crashkernel=1G-:1M memmap=1M@0", arch="x86")  # import pyparsing
    sizes = []
    n = 1000
    while n <= args.max:
        sizes.append(n)
        n *= 2
    print(f"{'family':26s} {'n':>7s} {'chars':>9s} {'parse s':>9s}", end="")
    print(f" {'x n=1k':>7s} {'linear':>7s} {'/split':>7s}")
    for name, (arch, build) in FAMILIES.items():
        first = None
        for n in sizes:
            text = build(n)
            parse = _best(lambda t=text, a=arch: parse_cmdline(t, arch=a, kernel_version="6.12"), args.repeat)
            split = _best(lambda t=text: t.split(), args.repeat)
            first = first or parse
            print(
                f"{name:26s} {n:7d} {len(text):9d} {parse:9.4f} {parse / first:7.1f} "
                f"{n / sizes[0]:7.1f} {parse / split:7.0f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
