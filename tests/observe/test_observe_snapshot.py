"""Reading snapshot directories, single files and a fake live root."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from memplan.errors import ObserveError
from memplan.observe import read_live, read_observed
from memplan.observe.snapshot import classify, read_kmsg, save_live_snapshot

MIB = 1 << 20

IOMEM = "40000000-bfffffff : System RAM\n  40210000-4185ffff : Kernel code\n  b5a00000-bd9fffff : reserved\n"
MEMINFO = "MemTotal:        2030552 kB\nCmaTotal:         131072 kB\nCmaFree:          130304 kB\n"
DMESG = (
    "[    0.000000] Linux version 6.1.0-50-arm64 (x@y) (gcc) #1 SMP\n"
    "[    0.000000] Reserved memory: bypass linux,cma node, using cmdline CMA params instead\n"
    "[    0.000000] OF: reserved mem: node linux,cma compatible matching fail\n"
    "[    0.000000] cma: Reserved 128 MiB at 0x00000000b5a00000\n"
    "[    0.000000] Kernel command line: console=ttyAMA0 cma=128M\n"
)


def make_snapshot(d: Path, log_name: str = "dmesg") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "iomem").write_text(IOMEM)
    (d / "meminfo").write_text(MEMINFO)
    (d / log_name).write_text(DMESG)
    area = d / "cma" / "reserved"
    area.mkdir(parents=True)
    (area / "base_pfn").write_text(f"{0xB5A00000 // 4096}\n")
    (area / "count").write_text(f"{128 * MIB // 4096}\n")
    mm = d / "mm-cma" / "reserved"
    mm.mkdir(parents=True)
    (mm / "alloc_pages_success").write_text("3\n")
    return d


def test_directory_snapshot(tmp_path: Path) -> None:
    obs = read_observed([make_snapshot(tmp_path / "snap", "dmesg.txt")])
    assert str(obs.kernel_version) == "6.1.0-50-arm64"
    assert obs.cmdline == "console=ttyAMA0 cma=128M"
    assert obs.cma_total == 128 * MIB
    g = obs.global_cma
    assert (g.known, g.origin, g.name, g.base, g.size, g.size_granule) == (
        True,
        "cmdline",
        "reserved",
        0xB5A00000,
        128 * MIB,
        1,
    )
    assert g.dt_default_dropped
    assert obs.region("linux,cma").status == "bypassed"
    assert [a.name for a in obs.sysfs] == ["reserved"]
    assert len(obs.sources) == 5
    assert not [d for d in obs.diagnostics if d.severity != "info"]
    assert [(m.base, m.end, m.type) for m in obs.memory] == [(0x40000000, 0xC0000000, "System RAM")]


def test_individual_files_by_name_and_content(tmp_path: Path) -> None:
    snap = make_snapshot(tmp_path / "snap")
    renamed = tmp_path / "boot-output"
    renamed.write_text(DMESG)
    mystery = tmp_path / "capture1"
    mystery.write_text(IOMEM)
    mi = tmp_path / "capture2"
    mi.write_text(MEMINFO)
    assert classify(renamed) == "dmesg"
    assert classify(mystery) == "iomem"
    assert classify(mi) == "meminfo"
    assert classify(snap / "cma") == "debugfs"
    obs = read_observed([renamed, mystery, mi, snap / "cma"])
    assert obs.global_cma.base == 0xB5A00000 and obs.global_cma.size_granule == 1
    assert obs.iomem is not None and obs.meminfo is not None


def test_duplicate_inputs_are_noted(tmp_path: Path) -> None:
    snap = make_snapshot(tmp_path / "snap")
    obs = read_observed([snap, snap / "iomem"])
    assert any(d.code == "observe-duplicate" for d in obs.diagnostics)


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ObserveError, match="no such file"):
        read_observed([tmp_path / "nope"])


def test_empty_directory_warns(tmp_path: Path) -> None:
    obs = read_observed([tmp_path])
    assert [d.code for d in obs.diagnostics] == ["observe-empty-snapshot"]
    assert not obs.global_cma.known


def test_fake_live_root(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "iomem").write_text(IOMEM)
    (tmp_path / "proc" / "meminfo").write_text(MEMINFO)
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "kmsg").write_text(
        "".join(f"6,{i},0,-;{line.split('] ', 1)[1]}\n" for i, line in enumerate(DMESG.splitlines()))
    )
    obs = read_live(tmp_path)
    assert obs.global_cma.origin == "cmdline"
    assert obs.global_cma.size == 128 * MIB and obs.global_cma.size_granule == MIB
    missing = sorted(d.message for d in obs.diagnostics if d.code == "observe-missing-source")
    assert len(missing) == 3
    assert any("firmware/fdt" in m for m in missing)


def test_live_without_log(tmp_path: Path) -> None:
    obs = read_live(tmp_path)
    codes = [d.code for d in obs.diagnostics]
    assert codes.count("observe-missing-source") == 6
    assert not obs.global_cma.known


def test_read_kmsg_regular_file(tmp_path: Path) -> None:
    f = tmp_path / "kmsg"
    f.write_text("6,1,0,-;hello\n6,2,0,-;world\n")
    assert read_kmsg(f).splitlines() == ["6,1,0,-;hello", "6,2,0,-;world"]


def test_invalid_dtb_is_a_warning_not_fatal(tmp_path: Path) -> None:
    snap = make_snapshot(tmp_path / "snap")
    (snap / "fdt").write_bytes(b"\xd0\x0d\xfe\xed" + b"\x00" * 12)
    obs = read_observed([snap])
    assert obs.fdt is None
    assert "observe-fdt-invalid" in [d.code for d in obs.diagnostics]
    assert obs.global_cma.origin == "cmdline"


def test_dtb_names_the_dt_default(tmp_path: Path) -> None:
    dtc = shutil.which("dtc")
    if dtc is None:
        pytest.skip("dtc not installed")
    src = tmp_path / "b.dts"
    src.write_text(
        "/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>;\n"
        '  chosen { bootargs = "console=ttyAMA0 cma=64M"; };\n'
        "  reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;\n"
        '    big_pool: cma-pool { compatible = "shared-dma-pool"; reusable; size = <0 0x4000000>;\n'
        "      linux,cma-default; };\n"
        '    other { compatible = "shared-dma-pool"; reusable; size = <0 0x400000>; }; };\n};\n'
    )
    snap = tmp_path / "snap"
    snap.mkdir()
    subprocess.run([dtc, "-q", "-I", "dts", "-O", "dtb", "-o", str(snap / "fdt"), str(src)], check=True)
    (snap / "dmesg").write_text(
        'OF: reserved mem: Skipping dt linux,cma-default for "cma=" kernel param.\n'
        "cma: Reserved 64 MiB at 0x00000000bc000000\n"
    )
    obs = read_observed([snap])
    assert obs.dt_default_cma == ("cma-pool",)
    assert obs.region("cma-pool").status == "bypassed"
    # no "Kernel command line:" in the log: /chosen/bootargs of the booted DTB is used
    assert obs.cmdline == "console=ttyAMA0 cma=64M"
    assert (obs.global_cma.origin, obs.global_cma.dt_default_dropped) == ("cmdline", True)


def test_save_live_snapshot_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "iomem").write_text(IOMEM)
    (root / "proc" / "meminfo").write_text(MEMINFO)
    area = root / "sys" / "kernel" / "debug" / "cma" / "reserved"
    area.mkdir(parents=True)
    (area / "base_pfn").write_text(f"{0xB5A00000 // 4096}\n")
    (area / "count").write_text(f"{128 * MIB // 4096}\n")
    (area / "alloc").write_text("")  # write-only hook in the real debugfs: not copied
    (root / "dev").mkdir()
    (root / "dev" / "kmsg").write_text(
        "".join(f"6,{i},0,-;{ln.split('] ', 1)[1]}\n" for i, ln in enumerate(DMESG.splitlines()))
    )
    dest = tmp_path / "saved"
    diags = save_live_snapshot(dest, root)
    assert sorted(d.code for d in diags) == ["observe-missing-source", "observe-missing-source"]
    assert sorted(p.name for p in dest.iterdir()) == ["cma", "dmesg", "iomem", "meminfo"]
    assert not (dest / "cma" / "reserved" / "alloc").exists()
    saved = read_observed([dest])
    live = read_live(root)
    assert saved.global_cma.base == live.global_cma.base == 0xB5A00000
    assert saved.global_cma.size_granule == 1  # exact, from the copied debugfs
    assert saved.kernel_version == live.kernel_version


def test_save_live_snapshot_keeps_the_prediction_inputs_that_are_there(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "meminfo").write_text(MEMINFO)
    (root / "proc" / "cmdline").write_text("console=ttyAMA0 cma=64M\n")
    (root / "proc" / "config.gz").write_bytes(b"\x1f\x8b-not-really")
    (root / "proc" / "version").symlink_to(root / "proc" / "cmdline")  # links are not followed
    dest = tmp_path / "saved"
    save_live_snapshot(dest, root, use_dmesg_command=False)
    assert (dest / "cmdline").read_text() == "console=ttyAMA0 cma=64M\n"
    assert (dest / "config.gz").read_bytes() == b"\x1f\x8b-not-really"
    assert not (dest / "version").exists() and not (dest / "zoneinfo").exists()
    # the running system's release is only recorded for the real root
    assert not (dest / "release").exists()


def _remove_deep(top: Path) -> None:
    """Remove a tree deeper than the recursion limit, deepest directory first, with an explicit
    stack (shutil.rmtree, which pytest's clean-up uses, and os.walk before Python 3.12 recurse)."""
    stack = [str(top)]
    while stack:
        with os.scandir(stack[-1]) as entries:
            sub = None
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    sub = entry.path
                    break
                os.unlink(entry.path)
        if sub is not None:
            stack.append(sub)
        else:
            os.rmdir(stack.pop())


def test_save_live_snapshot_copies_a_deep_tree_without_recursion(tmp_path: Path) -> None:
    """The debugfs/sysfs copy walks with its own stack: a tree deeper than Python's recursion
    limit is copied whole, and a symlink back up (a loop) is reported, not followed forever."""
    import sys

    root = tmp_path / "r"
    top = root / "sys" / "kernel" / "mm" / "cma"
    dest = tmp_path / "saved"
    # The depth is fixed and the recursion limit set for the copy, so the test means the same
    # whatever limit an earlier test or plugin left behind (a raised limit once made the depth,
    # and the path, grow past PATH_MAX).  Two-character levels keep the path under PATH_MAX.
    limit = 1000
    depth = limit + 200
    top.mkdir(parents=True)
    old_limit = sys.getrecursionlimit()
    try:
        deep = top
        for _ in range(depth):  # one level at a time (pathlib's mkdir(parents=True) recurses)
            deep = deep / "d"
            deep.mkdir()
        (deep / "count").write_text("7\n")
        (top / "d" / "loop").symlink_to(top)
        sys.setrecursionlimit(limit)
        try:
            diags = save_live_snapshot(dest, root, use_dmesg_command=False)
        finally:
            sys.setrecursionlimit(old_limit)
        copied = dest / "mm-cma" / ("d/" * depth + "count")
        assert copied.read_text() == "7\n"
        loops = [d for d in diags if d.code == "observe-unreadable"]
        assert len(loops) == 1 and "loop" in loops[0].message
        assert loops[0].source is not None and loops[0].source.file == str(top / "d" / "loop")
    finally:
        for tree in (root, dest):
            if tree.exists():
                _remove_deep(tree)
