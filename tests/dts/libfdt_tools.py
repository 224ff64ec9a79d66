"""The dtc and fdtoverlay builds that judge the parity tests, and the versions they report.

Two of each can be present: the installed ones (Debian's ``device-tree-compiler``, 1.6.1 in CI)
and the kernel tree's own (``scripts/dtc``, 1.7.0 in Linux 6.12: ``MEMPLAN_KERNEL_DTC`` names its
``dtc``, default ``/work/linux-6.12/scripts/dtc/dtc``). The kernel build makes ``dtc`` but not
always ``fdtoverlay``, so :func:`kernel_fdtoverlay` builds it with the C compiler from the same
sources (``fdtoverlay.c``, ``util.c`` and ``libfdt/``) into a cache folder outside the repository
(``MEMPLAN_TOOL_CACHE``, default ``~/.cache/memplan``), keyed by a hash of those sources. A
judge that is absent skips its tests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from memplan.dts.dtcversion import DtcVersion, parse_dtc_version

KERNEL_DTC = os.environ.get("MEMPLAN_KERNEL_DTC", "/work/linux-6.12/scripts/dtc/dtc")
JUDGES = ("installed", "kernel-tree")


def _cache() -> Path:
    return Path(os.environ.get("MEMPLAN_TOOL_CACHE", Path.home() / ".cache" / "memplan"))


def kernel_dtc_sources() -> Path:
    """The folder of the kernel tree's dtc sources (next to its ``dtc``)."""
    return Path(os.environ.get("MEMPLAN_DTC_SOURCES", Path(KERNEL_DTC).parent))


def kernel_fdtoverlay() -> str | None:
    """The kernel tree's fdtoverlay: built there already, or built (once) into the cache from the
    tree's sources; ``None`` when there are no sources or no C compiler."""
    src = kernel_dtc_sources()
    built = src / "fdtoverlay"
    if os.access(built, os.X_OK) and built.is_file():
        return str(built)
    files = [src / "fdtoverlay.c", src / "util.c", *sorted((src / "libfdt").glob("fdt*.c"))]
    headers = [src / "util.h", src / "version_gen.h", *sorted((src / "libfdt").glob("*.h"))]
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None or not all(f.is_file() for f in files + headers) or len(files) < 4:
        return None
    digest = hashlib.sha256()
    for f in files + headers:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    target = _cache() / f"fdtoverlay-{digest.hexdigest()[:16]}" / "fdtoverlay"
    if os.access(target, os.X_OK):
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".build-")
    os.close(fd)
    cmd = [cc, "-O1", "-w", f"-I{src}", f"-I{src / 'libfdt'}", "-o", tmp, *map(str, files)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        os.unlink(tmp)
        pytest.skip(f"building the kernel tree's fdtoverlay failed:\n{res.stderr[-2000:]}")
    os.replace(tmp, target)  # atomic: a parallel build of the same sources writes the same file
    return str(target)


def version_of(tool: str) -> DtcVersion:
    """The version ``tool --version`` reports (``Version: DTC 1.7.0-gbcd02b52``)."""
    res = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    return parse_dtc_version(res.stdout.strip().removeprefix("Version:"))


def dtc(judge: str) -> str:
    """The dtc of ``judge``; skips when it is absent."""
    path = shutil.which("dtc") if judge == "installed" else KERNEL_DTC
    if path is None or not os.access(path, os.X_OK):
        pytest.skip(f"no {judge} dtc (the kernel tree's: set MEMPLAN_KERNEL_DTC to its scripts/dtc/dtc)")
    return path


def fdtoverlay(judge: str) -> str:
    """The fdtoverlay of ``judge``; skips when it is absent and cannot be built."""
    path = shutil.which("fdtoverlay") if judge == "installed" else kernel_fdtoverlay()
    if path is None:
        pytest.skip(f"no {judge} fdtoverlay (the kernel tree's is built from the sources next to "
                    "MEMPLAN_KERNEL_DTC, with gcc)")
    return path
