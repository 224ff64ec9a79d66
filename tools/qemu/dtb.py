"""Device tree for an arm64 ``-M virt`` boot: QEMU's own DTB plus a scenario fragment.

The machine DTB is dumped with exactly the options of the real boot (``-machine dumpdtb=``),
decompiled with dtc, the scenario's DTS fragment (a ``/ { ... };`` block, may use labels) is
appended -- dtc merges repeated node definitions -- and the result is compiled back to a DTB.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class DtbError(RuntimeError):
    """QEMU or dtc failed while preparing the device tree."""


def dump_machine_dtb(qemu_cmd: list[str], out: Path) -> Path:
    """Run ``qemu_cmd`` (a full boot command line) with ``-machine dumpdtb=out``; QEMU exits at once."""
    cmd = list(qemu_cmd)
    i = cmd.index("-M")
    cmd[i + 1] = cmd[i + 1] + f",dumpdtb={out}"
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if not out.exists():
        raise DtbError(f"dumpdtb failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return out


def decompile(dtb: Path) -> str:
    """DTB -> DTS text (dtc, warnings suppressed)."""
    proc = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", str(dtb)], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise DtbError(f"dtc decompile failed: {proc.stderr}")
    return proc.stdout


def merge(base_dts: str, fragment: str | None, memreserve: tuple[tuple[int, int], ...] = ()) -> str:
    """Base DTS text with the scenario fragment appended (dtc merges the two root definitions)
    and ``/memreserve/`` entries inserted after the ``/dts-v1/;`` header."""
    text = base_dts
    if memreserve:
        head, sep, rest = text.partition("/dts-v1/;\n")
        if not sep:
            raise DtbError("no /dts-v1/; header to put /memreserve/ after")
        lines = "".join(f"/memreserve/ 0x{a:x} 0x{s:x};\n" for a, s in memreserve)
        text = head + sep + lines + rest
    if not fragment:
        return text
    return text.rstrip() + "\n\n/* ---- memplan scenario fragment ---- */\n" + fragment.strip() + "\n"


def compile_dts(dts_path: Path, out: Path) -> Path:
    """DTS file -> DTB (dtc); raises :class:`DtbError` with dtc's message."""
    proc = subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(out), str(dts_path)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DtbError(f"dtc compile of {dts_path} failed: {proc.stderr}")
    return out
