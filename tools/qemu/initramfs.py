"""A tiny busybox initramfs, written as a newc cpio archive in Python (no root, no cpio tool).

The ``/init`` script mounts proc/sys/debugfs, prints every interesting file between markers
(``@@MEMPLAN-BEGIN <name>`` / ``@@MEMPLAN-END <name>``) on the console, then powers off.
"""

from __future__ import annotations

import gzip
import stat
from pathlib import Path

BEGIN = "@@MEMPLAN-BEGIN "
END = "@@MEMPLAN-END "
DONE = "@@MEMPLAN-DONE"

INIT_SCRIPT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
emit() { echo "@@MEMPLAN-BEGIN $1"; cat "$2"; echo "@@MEMPLAN-END $1"; }
emit cmdline /proc/cmdline
emit iomem /proc/iomem
emit meminfo /proc/meminfo
for d in /sys/kernel/debug/cma/*; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    b=${f##*/}
    case "$b" in alloc|free|bitmap) continue;; esac
    [ -f "$f" ] && emit "cma/${d##*/}/$b" "$f"
  done
done
for d in /sys/kernel/mm/cma/*; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    [ -f "$f" ] && emit "sysfs-cma/${d##*/}/${f##*/}" "$f"
  done
done
if [ -r /sys/firmware/fdt ]; then
  echo "@@MEMPLAN-BEGIN fdt.base64"; base64 /sys/firmware/fdt; echo "@@MEMPLAN-END fdt.base64"
fi
dmesg > /tmp/dmesg.txt
emit dmesg /tmp/dmesg.txt
echo "@@MEMPLAN-DONE"
poweroff -f
echo o > /proc/sysrq-trigger
"""


class _Cpio:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.ino = 1

    def add(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        namez = name.encode() + b"\0"
        fields = [
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(namez), 0,
        ]
        self.ino += 1
        header = b"070701" + b"".join(f"{v:08x}".encode() for v in fields)
        self.parts.append(header + namez + b"\0" * ((4 - (len(header) + len(namez)) % 4) % 4))
        self.parts.append(data + b"\0" * ((4 - len(data) % 4) % 4))

    def finish(self) -> bytes:
        self.add("TRAILER!!!", 0)
        return b"".join(self.parts)


def script_digest() -> str:
    """A short digest of the ``/init`` script (initramfs cache key)."""
    import hashlib

    return hashlib.sha256(INIT_SCRIPT.encode()).hexdigest()[:12]


def build_initramfs(busybox: Path, out: Path) -> Path:
    """Write a gzip-compressed newc initramfs with ``busybox`` and the capture ``/init``."""
    c = _Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "sbin"):
        c.add(d, stat.S_IFDIR | 0o755)
    c.add("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    c.add("dev/null", stat.S_IFCHR | 0o666, rdev=(1, 3))
    c.add("bin/busybox", stat.S_IFREG | 0o755, busybox.read_bytes())
    c.add("bin/sh", stat.S_IFLNK | 0o777, b"busybox")
    c.add("init", stat.S_IFREG | 0o755, INIT_SCRIPT.encode())
    out.write_bytes(gzip.compress(c.finish(), compresslevel=6, mtime=0))
    return out


def split_console(text: str) -> tuple[dict[str, str], bool]:
    """Split captured console output into ``{name: content}`` by markers; second value: DONE seen."""
    sections: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []
    done = False
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if current is None:
            # firmware output (escape sequences, no newline) may precede a marker on its line
            if BEGIN in line:
                current = line[line.index(BEGIN) + len(BEGIN):].strip()
                buf = []
            elif line.strip().endswith(DONE):
                done = True
        elif line == END + current:
            sections[current] = "\n".join(buf) + ("\n" if buf else "")
            current = None
        else:
            buf.append(line)
    return sections, done
