"""Linear growth of the DTS, dmesg and .config parsers on hostile-size inputs.

Run: ``python benchmarks/bench_parsers_linear.py [--scale K]``. For each parser it builds inputs of
n, 2n, 4n and 8n units (DTS: properties on ONE line; sibling nodes, up to 9,900 in one node as dtc
allows at most 9,988, more under several parents; and one string literal of n x 64 bytes; the tree:
the path of every node of n nested nodes, whose total length alone grows as n^2; dmesg: ``cma:``
reservation lines; .config: lines), times the parse (best of 3) and prints the time, the time per
unit and the ratio to the n-unit run next to the ratio a linear parser gives (2, 4, 8). A quadratic
parser shows 4, 16, 64. The peak memory of one more parse (``tracemalloc``, input text excluded) is
shown per unit as well: a lean parser keeps it flat. The peer of each row is the same parser on the
smallest input, in the same run; nothing here asserts a time.

``--config-lines N`` (e.g. 1000000) instead loads one N-line ``.config`` file the way
``memplan resolve --config`` does and prints its size against the default limit
(``MEMPLAN_MAX_CONFIG_BYTES``), the time and the peak memory of the (fresh) process.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memplan.dts import Node, parse_text
from memplan.kconfig import load_config
from memplan.observe import parse_dmesg


def dts_one_line(n: int) -> str:
    return "/dts-v1/;\n/ { " + " ".join(f"p{i} = <{i}>;" for i in range(n)) + " };\n"


#: dtc takes at most 9,988 siblings in one node (its parser stack: tests/dts/test_dtc_stack.py),
#: and memplan refuses more as dtc does; larger inputs put them under several parents.
_MAX_SIBLINGS = 9_900


def dts_siblings(n: int) -> str:
    nodes = [f"n{i} {{ reg = <{i}>; }};\n" for i in range(n)]
    if n <= _MAX_SIBLINGS:
        return "/dts-v1/;\n/ {\n" + "".join(nodes) + "};\n"
    groups = ["g{} {{\n{}}};\n".format(k // _MAX_SIBLINGS, "".join(nodes[k : k + _MAX_SIBLINGS]))
              for k in range(0, n, _MAX_SIBLINGS)]
    return "/dts-v1/;\n/ {\n" + "".join(groups) + "};\n"


def dts_string(n: int) -> str:
    return '/dts-v1/;\n/ { s = "' + "ab\\n" * (n * 16) + '"; };\n'


def nested_count(n: int) -> str:
    """The input of :func:`every_path`: just the depth (the tree is built by the timed call)."""
    return str(n)


def every_path(text: str) -> int:
    """A chain of ``int(text)`` nested nodes (names of ~6 characters: all but the first ~150
    levels are below the path length a node keeps), then the path of every node in walk order."""
    node = root = Node("")
    for i in range(int(text)):
        node = node.add_child(f"n{i:05d}")
    return sum(len(node.path) for node in root.walk())


def dmesg_lines(n: int) -> str:
    head = (
        "[    0.000000] Booting Linux on physical CPU 0x0\n"
        "[    0.000000] Linux version 6.1.0 (gcc) #1 SMP\n"
    )
    body = "".join(
        f"[    0.000000] cma: Reserved 16 MiB at 0x{0x40000000 + i * 0x1000000:016x}\n" for i in range(n)
    )
    return head + body


def config_lines(n: int) -> str:
    return "\n".join(["CONFIG_CMA=y", "CONFIG_DMA_CMA=y"] + [f"CONFIG_SYMBOL_{i}=y" for i in range(n)]) + "\n"


CASES: list[tuple[str, int, Callable[[int], str], Callable[[str], object]]] = [
    ("DTS: properties on one line", 5_000, dts_one_line, lambda t: parse_text(t, "<bench>")),
    ("DTS: sibling nodes", 1_200, dts_siblings, lambda t: parse_text(t, "<bench>")),
    ("DTS: one string literal (x64 bytes)", 10_000, dts_string, lambda t: parse_text(t, "<bench>")),
    ("Tree: path of every node, nested nodes (the paths' total length grows as n^2)", 1_000,
     nested_count, every_path),
    ("dmesg: cma: lines", 5_000, dmesg_lines, lambda t: parse_dmesg(t, "<bench>")),
    (".config: lines", 20_000, config_lines,
     lambda t: load_config(text=t, arch="arm64", kernel_version="6.1")),
]


def best_of(func: Callable[[str], object], text: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        func(text)
        best = min(best, time.perf_counter() - start)
    return best


def peak_bytes(func: Callable[[str], object], text: str) -> int:
    """Peak memory ``func(text)`` allocates (traced), the input text excluded."""
    tracemalloc.start()
    try:
        func(text)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def big_config(lines: int) -> None:
    """Load one ``lines``-line .config file as ``memplan resolve --config`` does."""
    from memplan.kconfig.limits import DEFAULT_MAX_CONFIG_BYTES, max_config_bytes

    load_config(text="CONFIG_CMA=y\n", arch="arm64", kernel_version="6.1")  # the Kconfig model, once
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.config")
        with open(path, "w") as fh:
            fh.write("CONFIG_CMA=y\nCONFIG_DMA_CMA=y\n")
            for i in range(lines):  # line by line: the process peak is the load's, not the writer's
                fh.write(f"CONFIG_SYMBOL_{i}=y\n")
        size = os.path.getsize(path)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        start = time.perf_counter()
        if size > max_config_bytes():
            print(f".config of {lines} lines: {size / 1e6:.1f} MB is over the limit "
                  f"({max_config_bytes()} bytes)")
            return
        cfg = load_config(path, arch="arm64", kernel_version="6.1")
        took = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f".config of {lines} lines: {size / 1e6:.1f} MB (default limit "
          f"{DEFAULT_MAX_CONFIG_BYTES / 1e6:.0f} MB), {took:.1f} s, process peak {peak / 1e6:.0f} MB "
          f"(before the load {before / 1e6:.0f} MB; "
          f"{(peak - before) / lines:.0f} B/line), {len(cfg.diagnostics)} diagnostics")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every input size by this")
    ap.add_argument("--config-lines", type=int, default=0, help="then load one .config of this many lines")
    args = ap.parse_args()
    if args.config_lines:
        big_config(args.config_lines)
        return
    for title, unit, build, parse in CASES:
        n0 = max(1, int(unit * args.scale))
        print(f"{title}:")
        base = None
        for k in (1, 2, 4, 8):
            n = n0 * k
            text = build(n)
            t = best_of(parse, text)
            base = base or t
            mem = peak_bytes(parse, text)
            print(f"  n={n:>8}  {len(text) / 1e6:7.2f} MB  {t * 1e3:9.1f} ms  {t / n * 1e6:7.2f} us/unit  "
                  f"ratio {t / base:5.2f} (linear {k})  peak {mem / 1e6:7.1f} MB  {mem / n:6.0f} B/unit")


if __name__ == "__main__":
    main()
