"""A tiny busybox initramfs, written as a newc cpio archive in Python (no root, no cpio tool).

The ``/init`` script mounts proc/sys/debugfs, prints every interesting file between markers
(``@@MEMPLAN-BEGIN <name>`` / ``@@MEMPLAN-END <name>``) on the console, then powers off.
Extra files can be added to the archive; when ``/memplan/guest-command`` exists, ``/init`` runs
it with ``sh`` after the standard capture and its output becomes the ``guest-command`` section.
"""

from __future__ import annotations

import gzip
import hashlib
import stat
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

BEGIN = "@@MEMPLAN-BEGIN "
END = "@@MEMPLAN-END "
DONE = "@@MEMPLAN-DONE"
#: Where the optional guest command is stored in the initramfs, and its console section.
GUEST_COMMAND_PATH = "memplan/guest-command"
GUEST_SECTION = "guest-command"

INIT_SCRIPT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
emit() { echo "@@MEMPLAN-BEGIN $1"; cat "$2"; echo "@@MEMPLAN-END $1"; }
emit cmdline /proc/cmdline
emit iomem /proc/iomem
emit meminfo /proc/meminfo
emit zoneinfo /proc/zoneinfo
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
if [ -r /memplan/guest-command ]; then
  echo "@@MEMPLAN-BEGIN guest-command"; sh /memplan/guest-command 2>&1; echo "@@MEMPLAN-END guest-command"
fi
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


def script_digest(extra: Mapping[str, bytes] | None = None) -> str:
    """A short digest of the ``/init`` script and any extra files (initramfs cache key)."""
    h = hashlib.sha256(INIT_SCRIPT.encode())
    for name in sorted(extra or {}):
        data = (extra or {})[name]
        h.update(f"\0{name}\0{len(data)}\0".encode() + data)
    return h.hexdigest()[:12]


def build_initramfs(busybox: Path, out: Path, extra: Mapping[str, bytes] | None = None) -> Path:
    """Write a gzip-compressed newc initramfs with ``busybox``, the capture ``/init`` and the
    ``extra`` files (relative path -> content; parent directories are created, mode 0755)."""
    c = _Cpio()
    dirs = ["bin", "dev", "proc", "sys", "tmp", "sbin"]
    for name in sorted(extra or {}):
        parts = PurePosixPath(name).parts
        if PurePosixPath(name).is_absolute() or ".." in parts or not parts:
            raise ValueError(f"initramfs path must be relative and inside the archive: {name!r}")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.append(d)
    for d in dirs:
        c.add(d, stat.S_IFDIR | 0o755)
    c.add("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    c.add("dev/null", stat.S_IFCHR | 0o666, rdev=(1, 3))
    c.add("bin/busybox", stat.S_IFREG | 0o755, busybox.read_bytes())
    c.add("bin/sh", stat.S_IFLNK | 0o777, b"busybox")
    c.add("init", stat.S_IFREG | 0o755, INIT_SCRIPT.encode())
    for name in sorted(extra or {}):
        c.add(name, stat.S_IFREG | 0o755, (extra or {})[name])
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
