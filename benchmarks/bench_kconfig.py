"""The lint's configuration phase: CPU time of reading defconfigs through a kernel tree's Kconfig,
and an exact comparison of every ``load_config`` result between two checkouts of memplan.

    python benchmarks/bench_kconfig.py --tree /work/linux-6.12 --old /tmp/memplan-old
    python benchmarks/bench_kconfig.py --tree /work/linux-6.12 --arch arm --rounds 3 --old /tmp/old

Each round runs, per checkout (``--old`` first, then this one, interleaved round by round), one
process per architecture that reads every ``arch/<arch>/configs/*defconfig`` of the tree in name
order, as a lint's reader process does (the tree's Kconfig parsed once, by the first); with
``--together``, one process reads the architectures one after the other, as a lint's reader given
two of them does (a later architecture's parse then has the lines of the one before). It reports
the CPU time (user+sys, of that process) of the first defconfig (the parse, the probes it runs in
child processes are not included) and per further defconfig, and the process's whole CPU time
(children included). Like a lint's reader, the process keeps its parsed model out of the cyclic
collector's sight when the checkout can (``memplan.kconfig.engine.freeze_after_parse``; ``--no-freeze``:
never). The same defconfigs are also read against memplan's bundled model (on by default;
``--no-bundled``); that part is compared, not timed.

Every result is reduced to a canonical text: the configuration's fields, every value and source
(in the mappings' order), every diagnostic; the two checkouts must give the same text for every
defconfig, or the script names the first that differ and exits 1. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


def _source(src: Any) -> str:
    if src is None:
        return "-"
    return repr((src.kind, src.file, src.line, src.column, src.text, src.span, src.offset))


def canonical(kc: Any) -> str:
    """Everything a :class:`KernelConfig` holds, as text (mapping order included)."""
    out = [repr(kc)]
    for d in kc.diagnostics:
        out.append(f"D {d.severity} {d.code} {d.message!r} {_source(d.source)} {d.subject!r}")
    out.extend(f"V {name}={value!r}" for name, value in kc.values.items())
    out.extend(f"S {name} {_source(src)}" for name, src in kc.sources.items())
    return "\n".join(out) + "\n"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def read_all(tree: str, arch: str, bundled: bool, out_dir: str, freeze: bool) -> dict[str, Any]:
    """One reader: every defconfig of ``arch``; canonical texts written under ``out_dir``."""
    from memplan.errors import MemplanError
    from memplan.kconfig import engine, load_config

    if freeze and hasattr(engine, "freeze_after_parse"):
        engine.freeze_after_parse()

    paths = sorted((Path(tree) / "arch" / arch / "configs").glob("*defconfig"))
    times: list[float] = []
    digests: dict[str, str] = {}
    for mode in ("tree", "bundled") if bundled else ("tree",):
        for path in paths:
            t = _cpu()
            try:
                if mode == "tree":
                    kc = load_config(path, arch=arch, srctree=tree)
                else:
                    kc = load_config(path, arch=arch, kernel_version="6.12")
                text = canonical(kc)
            except MemplanError as err:
                text = f"E {type(err).__name__} {err}\n"
            spent = _cpu() - t
            if mode == "tree":
                times.append(spent)
            name = f"{arch}-{mode}-{path.name}"
            Path(out_dir, name).write_text(text)
            digests[name] = hashlib.sha256(text.encode()).hexdigest()
    return {"times": times, "digests": digests, "cpu": _cpu() + _child_cpu()}


def _run(checkout: str, tree: str, arches: list[str], bundled: bool, out_dir: str, freeze: bool
         ) -> dict[str, dict[str, Any]]:
    """Every defconfig of ``arches`` read in one process of ``checkout``: the results by arch."""
    env = dict(os.environ, PYTHONPATH=checkout)
    cmd = [sys.executable, __file__, "--child", "--tree", tree, "--out", out_dir]
    for arch in arches:
        cmd += ["--arch", arch]
    if not bundled:
        cmd.append("--no-bundled")
    if not freeze:
        cmd.append("--no-freeze")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{checkout} {' '.join(arches)}: failed\n{done.stderr}")
    result: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", required=True, help="a kernel source tree")
    ap.add_argument("--arch", action="append", help="architectures (default: arm, arm64, riscv)")
    ap.add_argument("--old", help="another checkout of memplan to compare with (its top folder)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--no-bundled", dest="bundled", action="store_false",
                    help="skip reading the defconfigs against the bundled model")
    ap.add_argument("--no-freeze", dest="freeze", action="store_false",
                    help="do not keep the parsed model out of the collector's sight")
    ap.add_argument("--together", action="store_true",
                    help="read the architectures one after the other in one process per checkout")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    arches = args.arch or ["arm", "arm64", "riscv"]
    if args.child:
        results = {}
        before = 0.0
        for arch in arches:  # each arch's "cpu": the process's CPU while it was read
            results[arch] = read_all(args.tree, arch, args.bundled, args.out, args.freeze)
            results[arch]["cpu"], before = results[arch]["cpu"] - before, results[arch]["cpu"]
        json.dump(results, sys.stdout)
        return 0
    checkouts = ([("old", args.old)] if args.old else []) + [("new", str(HERE))]
    work = tempfile.mkdtemp(prefix="memplan-bench-kconfig-")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    groups = [arches] if args.together else [[arch] for arch in arches]
    for rnd in range(args.rounds):
        for group in groups:
            for label, checkout in checkouts:
                out = os.path.join(work, label)
                os.makedirs(out, exist_ok=True)
                start = time.time()
                for arch, got in _run(checkout, args.tree, group, args.bundled, out, args.freeze).items():
                    runs.setdefault((label, arch), []).append(got)
                    extra = got["times"][1:]
                    print(f"round {rnd + 1} {arch:6} {label}: first {got['times'][0]:.2f} s, "
                          f"{len(extra)} more at {statistics.mean(extra) if extra else 0:.3f} s each, "
                          f"process {got['cpu']:.2f} s CPU ({time.time() - start:.1f} s wall)", flush=True)
    print("\nmedians over rounds (CPU seconds)")
    print(f"{'arch':6} {'checkout':8} {'first':>7} {'per more':>9} {'process':>8}")
    for arch in arches:
        for label, _ in checkouts:
            every = runs[(label, arch)]
            first = statistics.median(g["times"][0] for g in every)
            more = statistics.median(statistics.mean(g["times"][1:] or [0.0]) for g in every)
            whole = statistics.median(g["cpu"] for g in every)
            print(f"{arch:6} {label:8} {first:7.2f} {more:9.3f} {whole:8.2f}")
    status = 0
    if args.old:
        compared = 0
        for arch in arches:
            old_d = runs[("old", arch)][-1]["digests"]
            new_d = runs[("new", arch)][-1]["digests"]
            if old_d.keys() != new_d.keys():
                print(f"{arch}: different defconfigs read")
                status = 1
            for name in sorted(old_d.keys() & new_d.keys()):
                compared += 1
                if old_d[name] != new_d[name]:
                    print(f"DIFFERENT: {name}: diff {work}/old/{name} {work}/new/{name}")
                    status = 1
        print(f"\n{compared} results compared: {'identical' if status == 0 else 'NOT identical'} "
              f"(texts under {work})")
    return status


if __name__ == "__main__":
    sys.exit(main())
