"""Whole-process start-up and run time of the ``memplan`` command against its peers, in one run.

Three ratios, each measured as wall time of whole processes of the same interpreter, the
commands taking turns round after round (so that load on the machine hits them alike):

* ``memplan --version`` against a bare ``python3 -c pass`` (target: at most 2x);
* ``memplan dts BOARD`` against the peer ``cpp`` + Zephyr's dtlib (``cpp`` with kbuild's flags
  into a file, then a Python process that imports dtlib and parses that file), on the largest
  corpus boards (target: at most 0.6x);
* ``memplan resolve --dts BOARD`` against the same peer (target: at most 0.8x).

``memplan`` is run as its console script runs it (``from memplan.cli import main``), from this
checkout. The dtlib peer is PyPI's ``devicetree`` package (installed into a cache directory on
first use, as ``bench_dts_parse.py`` does) or ``--dtlib`` PATH to a ``dtlib.py`` of a Zephyr
checkout. Needs the corpus (``../shared/corpus`` or ``MEMPLAN_CORPUS``) and ``cpp``.

    python benchmarks/bench_startup.py                  # 5 largest boards, best of 7 rounds
    python benchmarks/bench_startup.py --repeat 11 --stat median
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_dts_parse import corpus_dir, largest_boards, load_dtlib  # noqa: E402  (after sys.path)

PY = sys.executable
#: What the ``memplan`` console script runs.
ENTRY = "import sys; from memplan.cli import main; sys.exit(main())"
#: The dtlib peer: import dtlib from a folder, parse one preprocessed file.
PEER = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from {module} import dtlib; dtlib.DT(sys.argv[2], include_path=sys.argv[3:])"
)
TARGETS = {"version": 2.0, "dts": 0.6, "resolve": 0.8}


def _env() -> dict[str, str]:
    """The environment of every timed process: this checkout first on the path, and bytecode
    caching on (an installed package has its ``.pyc`` files, as the dtlib peer has; with
    ``PYTHONDONTWRITEBYTECODE`` set, every run would compile memplan's modules again)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "memplan")], env=env, check=True)
    return env


def _run(cmd: Sequence[str], env: dict[str, str]) -> None:
    res = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if res.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {res.returncode}: {res.stderr.decode()[-400:]}")


def time_rounds(jobs: dict[str, Callable[[], None]], repeat: int, stat: str) -> dict[str, float]:
    """Milliseconds per job: ``min`` or ``median`` of ``repeat`` interleaved rounds (after a warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for job in jobs.values():
        job()
    for _ in range(repeat):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - start)
    pick = min if stat == "min" else statistics.median
    return {name: pick(ts) * 1000 for name, ts in times.items()}


def _dtlib_location(path: str | None) -> tuple[str, str, str]:
    """(folder to put on sys.path, module that holds dtlib, description) for the peer process."""
    module, name = load_dtlib(path)
    file = Path(module.__file__ or "")
    if path:
        return str(file.parent), "", name
    return str(file.parent.parent), "devicetree", name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--boards", type=int, default=5, help="how many of the largest boards (default 5)")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--stat", choices=("min", "median"), default="min")
    parser.add_argument("--dtlib", help="dtlib.py of a Zephyr checkout (default: PyPI devicetree)")
    args = parser.parse_args(argv)
    if shutil.which("cpp") is None:
        raise SystemExit("cpp is not installed (apt-get install cpp)")
    env = _env()
    folder, package, dtlib_name = _dtlib_location(args.dtlib)
    peer_code = PEER.format(module=package) if package else PEER.replace("from {module} import", "import")
    corpus = corpus_dir()
    root = corpus / "linux-v5.7"
    print(f"{PY} ({sys.version.split()[0]}); peer: cpp + {dtlib_name}; "
          f"{args.stat} of {args.repeat} rounds, ms")

    base = time_rounds(
        {
            "python -c pass": lambda: _run([PY, "-c", "pass"], env),
            "memplan --version": lambda: _run([PY, "-c", ENTRY, "--version"], env),
        },
        args.repeat * 3,
        args.stat,
    )
    version_ratio = base["memplan --version"] / base["python -c pass"]
    print(f"python -c pass {base['python -c pass']:.1f}  memplan --version {base['memplan --version']:.1f}  "
          f"ratio {version_ratio:.2f} (target <= {TARGETS['version']})")

    header = f"{'board':44} {'peer':>7} {'dts':>7} {'resolve':>8} {'dts/peer':>9} {'res/peer':>9}"
    print(header)
    print("-" * len(header))
    dts_ratios: list[float] = []
    res_ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="memplan-startup-") as scratch:
        for entry in largest_boards(corpus, args.boards):
            board = root / entry["path"]
            arch = entry["arch"]
            dirs = [str(board.parent), str(root / "include"), str(root / "src" / arch), str(root / "src")]
            includes = [a for d in dirs for a in ("-I", d)]
            pre = Path(scratch) / "board.pp.dts"
            cpp = ["cpp", "-nostdinc", *includes, "-undef", "-D__DTS__", "-x", "assembler-with-cpp",
                   str(board), "-o", str(pre)]

            def peer(cpp: list[str] = cpp, pre: Path = pre, dirs: list[str] = dirs) -> None:
                _run(cpp, env)
                _run([PY, "-c", peer_code, folder, str(pre), *dirs], env)

            def dts(board: Path = board, includes: list[str] = includes) -> None:
                _run([PY, "-c", ENTRY, "dts", str(board), *includes], env)

            def resolve(board: Path = board, includes: list[str] = includes, arch: str = arch) -> None:
                _run([PY, "-c", ENTRY, "resolve", "--dts", str(board), *includes, "--arch", arch,
                      "--kernel-version", "5.7", "--format", "json"], env)

            t = time_rounds({"peer": peer, "dts": dts, "resolve": resolve}, args.repeat, args.stat)
            dts_ratios.append(t["dts"] / t["peer"])
            res_ratios.append(t["resolve"] / t["peer"])
            name = entry["path"].removeprefix("src/")
            print(f"{name:44} {t['peer']:7.1f} {t['dts']:7.1f} {t['resolve']:8.1f} "
                  f"{dts_ratios[-1]:9.2f} {res_ratios[-1]:9.2f}")
    dts_mean = statistics.geometric_mean(dts_ratios)
    print(f"geometric mean dts/peer {dts_mean:.2f} (target <= {TARGETS['dts']}), "
          f"resolve/peer {statistics.geometric_mean(res_ratios):.2f} (target <= {TARGETS['resolve']}); "
          f"worst {max(dts_ratios):.2f} / {max(res_ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
