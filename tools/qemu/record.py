"""Boot scenarios and write their fixtures under ``tests/kernel/fixtures/<name>/``.

Usage: ``python -m tools.qemu [--jobs N] [--timeout S] [--list] [NAME ...]`` (no names: all).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.qemu.boot import BootResult, run_boot
from tools.qemu.fixtures import config_path, fixtures_root, shared_config_ref
from tools.qemu.kernels import KERNELS
from tools.qemu.scenarios import BY_NAME, SCENARIOS, Scenario
from tools.qemu.truth import write_expected


def scenario_json(res: BootResult) -> dict[str, object]:
    """The ``scenario.json`` content for a boot."""
    sc = res.scenario
    k = KERNELS[sc.kernel]
    return {
        "name": sc.name,
        "arch": k.arch,
        "kernel": sc.kernel,
        "kernel_version": k.upstream,
        "kernel_release": k.release,
        "debian_packages": list(k.packages),
        "debian_suite": k.suite,
        "config": shared_config_ref(sc.kernel),
        "ram": sc.ram,
        "smp": sc.smp,
        "cmdline": res.full_cmdline,
        "scenario_cmdline": sc.cmdline,
        "qemu_args": [a if "/" not in a else Path(a).name for a in res.qemu_cmd[1:]],
        "description": sc.description,
        "tests": sc.tests,
        "complete": res.complete,
        "returncode": res.returncode,
        "timed_out": res.timed_out,
        "expect_hang": sc.hang_timeout is not None,
    }


def write_fixture(res: BootResult, root: Path | None = None) -> Path:
    """Write all files of a boot into ``<root>/<scenario name>/``; returns the directory."""
    out = (root or fixtures_root()) / res.scenario.name
    if out.exists():
        for p in sorted(out.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
    out.mkdir(parents=True, exist_ok=True)
    sc_json = scenario_json(res)
    (out / "scenario.json").write_text(json.dumps(sc_json, indent=2) + "\n")
    if res.board_dts is not None:
        (out / "board.dts").write_text(res.board_dts)
    config = config_path(out, sc_json)  # one copy per kernel build, shared by its fixtures
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_bytes(gzip.compress(res.config_text.encode(), mtime=0))
    names = {"iomem": "iomem.txt", "meminfo": "meminfo.txt", "dmesg": "dmesg.txt", "cmdline": "cmdline.txt",
             "zoneinfo": "zoneinfo.txt"}
    for key, text in res.sections.items():
        if key == "fdt.base64":
            # the DTB the kernel really booted with (/sys/firmware/fdt, after QEMU's patches)
            (out / "fdt").write_bytes(base64.b64decode("".join(text.split())))
        elif key in names:
            (out / names[key]).write_text(text)
        elif key.startswith(("cma/", "sysfs-cma/")):
            # same layout as a memplan.observe snapshot: cma/ (debugfs), mm-cma/ (sysfs)
            p = out / key.replace("sysfs-cma/", "mm-cma/", 1)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
    if not res.complete:
        (out / "console.txt").write_text(res.console[-200_000:])
    if (out / "dmesg.txt").exists() or (out / "console.txt").exists():
        write_expected(out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(prog="python -m tools.qemu", description=__doc__)
    ap.add_argument("names", nargs="*")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--refresh-expected", action="store_true",
                    help="only rewrite expected.json of existing fixtures from their logs (no boot)")
    ap.add_argument("--out", type=Path, default=None, help="fixture root (default tests/kernel/fixtures)")
    args = ap.parse_args(argv)
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:40} {s.kernel:12} {s.description}")
        return 0
    chosen: list[Scenario] = [BY_NAME[n] for n in args.names] if args.names else list(SCENARIOS)
    if args.refresh_expected:
        for sc in chosen:
            d = (args.out or fixtures_root()) / sc.name
            if (d / "dmesg.txt").exists() or (d / "console.txt").exists():
                print(write_expected(d))
        return 0

    def one(sc: Scenario) -> tuple[str, bool, str]:
        try:
            res = run_boot(sc, timeout=sc.hang_timeout or args.timeout)
            path = write_fixture(res, args.out)
        except Exception as exc:  # report and continue with the others
            return sc.name, False, f"error: {type(exc).__name__}: {exc}"
        return sc.name, res.complete != (sc.hang_timeout is not None), str(path)

    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, ok, info in pool.map(one, chosen):
            failed += not ok
            print(f"{'OK  ' if ok else 'FAIL'} {name}: {info}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
