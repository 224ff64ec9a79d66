"""A fake target for the collect script: a directory tree standing in for /proc, /sys, /boot and
/var/log (the script's MEMPLAN_ROOT), filled from a recorded QEMU boot, and a runner."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path

from memplan.collect import collect_script

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "kernel" / "fixtures"
#: A recorded arm64 boot: 96 MiB DT default pool plus cma=128M on 6.12 (the command line wins).
BOOT = FIXTURES / "arm64-6.12-dt-default-cma"
CONFIG = FIXTURES / "configs" / "arm64-6.12.config.gz"
RELEASE = "6.12.117+deb13-arm64"
BUSYBOX = shutil.which("busybox")


def make_root(
    root: Path, *, config_gz: bool = False, debugfs: bool = True, logfile: str | None = None
) -> Path:
    """Fill ``root`` like the target of :data:`BOOT`: procfs files, the booted DTB, a cma
    debugfs and sysfs area, the distribution's /boot/config-<release> (or /proc/config.gz)."""
    proc = root / "proc"
    (proc / "sys" / "kernel").mkdir(parents=True)
    (proc / "iomem").write_bytes((BOOT / "iomem.txt").read_bytes())
    (proc / "meminfo").write_bytes((BOOT / "meminfo.txt").read_bytes())
    (proc / "zoneinfo").write_text("Node 0, zone      DMA\n  pages free     20000\n")
    (proc / "cmdline").write_bytes((BOOT / "cmdline.txt").read_bytes())
    first = (BOOT / "dmesg.txt").read_text().splitlines()[0]
    (proc / "version").write_text(first.split("] ", 1)[1] + "\n")
    (proc / "sys" / "kernel" / "osrelease").write_text(RELEASE + "\n")
    (proc / "sys" / "kernel" / "arch").write_text("aarch64\n")
    fw = root / "sys" / "firmware"
    fw.mkdir(parents=True)
    (fw / "fdt").write_bytes((BOOT / "fdt").read_bytes())
    if debugfs:
        # the global area as the kernel's debugfs shows it (0xb5a00000, 128 MiB, 4 KiB pages)
        area = root / "sys" / "kernel" / "debug" / "cma" / "reserved"
        area.mkdir(parents=True)
        for name, value in (
            ("base_pfn", 0xB5A00),
            ("count", 32768),
            ("order_per_bit", 0),
            ("used", 0),
            ("maxchunk", 32768),
        ):
            (area / name).write_text(f"{value}\n")
        (area / "alloc").write_text("")  # write-only hooks in the real debugfs: never copied
        (area / "free").write_text("")
        os.symlink("/etc", area / "escape")  # a link: never followed
    sysfs = root / "sys" / "kernel" / "mm" / "cma" / "reserved"
    sysfs.mkdir(parents=True)
    (sysfs / "alloc_pages_success").write_text("3\n")
    (sysfs / "alloc_pages_fail").write_text("0\n")
    if config_gz:
        (proc / "config.gz").write_bytes(CONFIG.read_bytes())
    boot = root / "boot"
    boot.mkdir()
    (boot / f"config-{RELEASE}").write_bytes(gzip.decompress(CONFIG.read_bytes()))
    if logfile is not None:
        log = root / "var" / "log"
        log.mkdir(parents=True)
        (log / logfile).write_text(
            "Dec  1 10:00:00 board kernel: [    0.000000] Linux version 5.4.0 (an older boot)\n"
            "Dec  1 10:00:00 board kernel: [    0.000000] cma: Reserved 16 MiB at 0x0000000040000000\n"
            + "".join(
                f"Dec  2 09:00:00 board kernel: {line}\n"
                for line in (BOOT / "dmesg.txt").read_text().splitlines()
            )
        )
    return root


def fake_dmesg(directory: Path, *, fail: bool) -> Path:
    """A dmesg stand-in: prints the recorded boot log, or fails as a restricted dmesg does."""
    script = directory / "fake-dmesg"
    if fail:
        script.write_text("#!/bin/sh\necho 'dmesg: klogctl: Operation not permitted' >&2\nexit 1\n")
    else:
        script.write_text(f"#!/bin/sh\ncat '{BOOT / 'dmesg.txt'}'\n")
    script.chmod(0o755)
    return script


def run_collect(
    root: Path | None,
    out: str,
    cwd: Path,
    *,
    shell: str | None = None,
    env: Mapping[str, str] | None = None,
    user: int | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run the collect script (written to ``cwd/collect.sh``) with busybox ``sh`` (or ``shell``)."""
    script = cwd / "collect.sh"
    script.write_text(collect_script())
    script.chmod(0o755)
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(cwd)}
    if root is not None:
        full["MEMPLAN_ROOT"] = str(root)
    full.update(env or {})
    sh = [shell] if shell else [str(BUSYBOX), "sh"]
    return subprocess.run(
        [*sh, str(script), out], cwd=cwd, env=full, capture_output=True, timeout=60, check=False, user=user
    )


def members(archive: Path) -> dict[str, bytes]:
    """Every regular file of an archive (names as stored)."""
    out: dict[str, bytes] = {}
    with tarfile.open(archive) as tf:
        for m in tf.getmembers():
            f = tf.extractfile(m) if m.isreg() else None
            if f is not None:
                out[m.name] = f.read()
    return out


def manifest(archive: Path) -> list[list[str]]:
    """The MANIFEST lines of an archive, split at tabs."""
    text = members(archive)["memplan-snapshot/MANIFEST"].decode()
    return [line.split("\t") for line in text.splitlines()]
