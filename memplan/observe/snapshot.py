"""Reading observed kernel state: single files, a snapshot directory, or the live system.

A snapshot directory may contain any of::

    iomem | iomem.txt       a copy of /proc/iomem
    meminfo | meminfo.txt   a copy of /proc/meminfo
    dmesg | dmesg.txt | kmsg | boot.log | console.log    the boot log
    cma/                    a copy of /sys/kernel/debug/cma
    mm-cma/                 a copy of /sys/kernel/mm/cma
    fdt | fdt.dtb           a copy of /sys/firmware/fdt (the DTB the kernel booted with)

Anything missing or unreadable is noted as an ``info``/``warning`` diagnostic, never fatal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import attrs

from memplan.dts import Tree, read_dtb
from memplan.errors import MemplanError, ObserveError
from memplan.model import Diagnostic
from memplan.observe._common import check_page_size, diag, observed_source, unreadable
from memplan.observe.combine import build_observed
from memplan.observe.debugfs import read_debugfs_cma
from memplan.observe.dmesg import parse_dmesg
from memplan.observe.iomem import parse_iomem
from memplan.observe.meminfo import parse_meminfo
from memplan.observe.model import BootLog, DebugfsCmaArea, Iomem, Meminfo, Observed, SysfsCmaArea
from memplan.observe.sysfs import read_sysfs_cma

FileKind = Literal["iomem", "meminfo", "dmesg", "fdt", "debugfs", "sysfs"]

LOG_NAMES = ("dmesg", "dmesg.txt", "kmsg", "boot.log", "console.log")
FDT_MAGIC = b"\xd0\x0d\xfe\xed"


@attrs.define
class _Collected:
    """Pieces gathered so far (at most one of each)."""

    iomem: Iomem | None = None
    meminfo: Meminfo | None = None
    log_text: tuple[str, str] | None = None
    log_by_fallback: bool = False
    debugfs_dir: Path | None = None
    sysfs_dir: Path | None = None
    fdt: Tree | None = None
    sources: list[str] = attrs.field(factory=list)
    diagnostics: list[Diagnostic] = attrs.field(factory=list)

    def duplicate(self, kind: str, path: str) -> None:
        self.diagnostics.append(
            diag(
                "warning",
                "observe-duplicate",
                f"a second {kind} input was given; only the first is used",
                observed_source(path),
            )
        )


def classify(path: str | Path) -> FileKind:
    """Guess what an observed file is, from its name and then from its first bytes
    (anything unrecognised is taken for a boot log)."""
    return _classify(Path(path))[0]


def _classify(p: Path) -> tuple[FileKind, bool]:
    """:func:`classify` plus whether the kind is only the boot-log fallback."""
    kind = _by_name(p)
    if kind is not None:
        return kind, False
    head = p.read_bytes()[:4096]
    if head.startswith(FDT_MAGIC):
        return "fdt", False
    first = next((ln for ln in head.decode("ascii", "replace").splitlines() if ln.strip()), "")
    if first.startswith("MemTotal:"):
        return "meminfo", False
    if parse_iomem(first).entries:
        return "iomem", False
    return "dmesg", True


def _by_name(p: Path) -> FileKind | None:
    name = p.name.lower()
    if p.is_dir():
        return "sysfs" if name in ("mm-cma", "mm_cma") else "debugfs"
    if name in ("iomem", "iomem.txt", "proc-iomem") or name.endswith(".iomem"):
        return "iomem"
    if name in ("meminfo", "meminfo.txt") or name.endswith(".meminfo"):
        return "meminfo"
    if name == "fdt" or name.endswith(".dtb"):
        return "fdt"
    if name in LOG_NAMES or name.endswith((".log", ".dmesg")):
        return "dmesg"
    return None


def read_fdt(path: str | Path, diagnostics: list[Diagnostic]) -> Tree | None:
    """Read a DTB with :func:`memplan.dts.read_dtb`; ``None`` (and a diagnostic) on failure."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        diagnostics.append(unreadable(path, err, "the DTB"))
        return None
    try:
        return read_dtb(data)
    except MemplanError as err:
        diagnostics.append(
            diag(
                "warning",
                "observe-fdt-invalid",
                f"the DTB could not be read: {err.message}",
                observed_source(str(path)),
            )
        )
        return None


def _text_of(col: _Collected, path: Path, by_fallback: bool) -> str | None:
    """The text of an observed text file, or ``None`` (and a warning) when it is binary:
    NUL bytes, or (for a file recognised by nothing) bytes that are not UTF-8."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if b"\0" in data or (text is None and by_fallback):
        col.diagnostics.append(
            diag(
                "warning",
                "observe-binary-input",
                f"{path} is a binary file, not an observed text file (iomem, meminfo, boot log); ignored",
                observed_source(str(path)),
            )
        )
        return None
    if text is None:
        col.diagnostics.append(
            diag(
                "warning",
                "observe-not-utf8",
                f"{path} is not valid UTF-8; the bytes that are not were replaced",
                observed_source(str(path)),
            )
        )
        text = data.decode("utf-8", errors="replace")
    return text


def _add_file(col: _Collected, path: Path, kind: FileKind, by_fallback: bool = False) -> None:
    text_path = str(path)
    if kind in ("iomem", "meminfo", "dmesg"):
        if (kind == "iomem" and col.iomem is not None) or (kind == "meminfo" and col.meminfo is not None):
            col.duplicate(kind, text_path)
            return
        if kind == "dmesg" and col.log_text is not None:
            col.duplicate("boot log", text_path)
            return
        text = _text_of(col, path, by_fallback)
        if text is None:
            return
        if kind == "iomem":
            col.iomem = parse_iomem(text, text_path)
        elif kind == "meminfo":
            col.meminfo = parse_meminfo(text, text_path)
        else:
            col.log_text = (text, text_path)
            col.log_by_fallback = by_fallback
    elif kind == "fdt":
        if col.fdt is not None:
            col.duplicate(kind, text_path)
            return
        col.fdt = read_fdt(path, col.diagnostics)
    elif kind == "debugfs":
        if col.debugfs_dir is not None:
            col.duplicate("cma debugfs", text_path)
            return
        col.debugfs_dir = path
    else:
        if col.sysfs_dir is not None:
            col.duplicate("cma sysfs", text_path)
            return
        col.sysfs_dir = path
    col.sources.append(text_path)


def _add_directory(col: _Collected, directory: Path) -> None:
    found = False
    singles: tuple[tuple[tuple[str, ...], FileKind], ...] = (
        (("iomem", "iomem.txt"), "iomem"),
        (("meminfo", "meminfo.txt"), "meminfo"),
        (("fdt", "fdt.dtb"), "fdt"),
    )
    for names, kind in singles:
        for name in names:
            p = directory / name
            if p.is_file():
                _add_file(col, p, kind)
                found = True
                break
    for name in LOG_NAMES:
        p = directory / name
        if p.is_file():
            _add_file(col, p, "dmesg")
            found = True
            break
    if (directory / "cma").is_dir():
        _add_file(col, directory / "cma", "debugfs")
        found = True
    for name in ("mm-cma", "mm_cma"):
        if (directory / name).is_dir():
            _add_file(col, directory / name, "sysfs")
            found = True
            break
    if not found:
        col.diagnostics.append(
            diag(
                "warning",
                "observe-empty-snapshot",
                "the directory holds none of iomem, meminfo, dmesg, cma/, mm-cma/, fdt",
                observed_source(str(directory)),
            )
        )


def _finish(col: _Collected, page_size: int) -> Observed:
    log: BootLog | None = parse_dmesg(*col.log_text) if col.log_text is not None else None
    if log is not None and col.log_by_fallback and not log.events:
        col.diagnostics.append(
            diag(
                "warning",
                "observe-unrecognised-file",
                f"{log.file} was not recognised (not iomem, meminfo or a DTB) and, read as a boot log, "
                "holds no line memplan knows",
                observed_source(log.file),
            )
        )
    version = log.kernel_version if log is not None else None
    debugfs: tuple[DebugfsCmaArea, ...] = ()
    sysfs: tuple[SysfsCmaArea, ...] = ()
    if col.debugfs_dir is not None:
        debugfs, d1 = read_debugfs_cma(col.debugfs_dir, page_size, version)
        col.diagnostics.extend(d1)
    if col.sysfs_dir is not None:
        sysfs, d2 = read_sysfs_cma(col.sysfs_dir)
        col.diagnostics.extend(d2)
    return build_observed(
        log=log,
        iomem=col.iomem,
        meminfo=col.meminfo,
        debugfs=debugfs,
        sysfs=sysfs,
        fdt=col.fdt,
        page_size=page_size,
        sources=col.sources,
        diagnostics=col.diagnostics,
    )


def read_observed(paths: Sequence[str | Path], page_size: int = 4096) -> Observed:
    """Read snapshot directories and/or single files into one :class:`Observed`.

    A directory is a snapshot (see the module docstring) unless it is itself a copy of the
    cma debugfs (``cma``) or sysfs (``mm-cma``) directory. Files are recognised by name or
    content. A path that does not exist raises :class:`~memplan.errors.ObserveError`.
    """
    check_page_size(page_size)
    col = _Collected()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise ObserveError("no such file or directory", observed_source(str(p)))
        if p.is_dir() and p.name not in ("cma", "mm-cma", "mm_cma"):
            _add_directory(col, p)
        else:
            try:
                _add_file(col, p, *_classify(p))
            except OSError as err:
                col.diagnostics.append(unreadable(p, err))
    return _finish(col, page_size)


def read_kmsg(path: str | Path) -> str:
    """Read every record currently in ``/dev/kmsg`` without blocking (one record per read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    chunks: list[bytes] = []
    try:
        while True:
            try:
                chunk = os.read(fd, 8192)
            except BlockingIOError:
                break
            except BrokenPipeError:  # records overwritten while reading: skip ahead
                continue
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _live_log(root: Path, use_dmesg_command: bool, col: _Collected) -> None:
    if use_dmesg_command and shutil.which("dmesg"):
        try:
            res = subprocess.run(["dmesg"], capture_output=True, text=True, check=False, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            res = None
        if res is not None and res.returncode == 0 and res.stdout.strip():
            col.log_text = (res.stdout, "dmesg")
            col.sources.append("dmesg")
            return
    kmsg = root / "dev" / "kmsg"
    try:
        text = read_kmsg(kmsg)
    except OSError as err:
        col.diagnostics.append(
            diag(
                "warning",
                "observe-missing-source",
                f"boot log not read: dmesg failed and {kmsg}: {err.strerror}",
                observed_source(str(kmsg)),
            )
        )
        return
    col.log_text = (text, str(kmsg))
    col.sources.append(str(kmsg))


def _not_available(path: Path) -> Diagnostic:
    return diag("info", "observe-missing-source", f"{path} is not available", observed_source(str(path)))


def read_live(
    root: str | Path = "/", page_size: int | None = None, use_dmesg_command: bool | None = None
) -> Observed:
    """Observe the running system: ``/proc/iomem``, ``/proc/meminfo``, the cma debugfs and
    sysfs directories, the boot log (``dmesg`` or ``/dev/kmsg``) and ``/sys/firmware/fdt``.

    ``root`` lets tests point at a fake tree; the ``dmesg`` command is only tried for the real
    root. Each missing or unreadable piece becomes a diagnostic.
    """
    r = Path(root)
    if page_size is None:
        page_size = os.sysconf("SC_PAGE_SIZE") if r == Path("/") else 4096
    check_page_size(page_size)
    if use_dmesg_command is None:
        use_dmesg_command = r == Path("/")
    col = _Collected()
    pieces: tuple[tuple[Path, FileKind], ...] = (
        (r / "proc" / "iomem", "iomem"),
        (r / "proc" / "meminfo", "meminfo"),
        (r / "sys" / "kernel" / "debug" / "cma", "debugfs"),
        (r / "sys" / "kernel" / "mm" / "cma", "sysfs"),
        (r / "sys" / "firmware" / "fdt", "fdt"),
    )
    for path, kind in pieces:
        try:
            if not (path.is_dir() if kind in ("debugfs", "sysfs") else path.is_file()):
                col.diagnostics.append(_not_available(path))
                continue
            if kind in ("debugfs", "sysfs"):
                os.listdir(path)
            _add_file(col, path, kind)
        except OSError as err:
            col.diagnostics.append(unreadable(path, err))
    _live_log(r, use_dmesg_command, col)
    return _finish(col, page_size)


def _copy_tree(src: Path, dest: Path, diagnostics: list[Diagnostic]) -> None:
    """Copy the readable regular files below ``src`` (write-only hooks such as ``alloc`` skipped)."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        target = dest / entry.name
        try:
            if entry.is_dir():
                _copy_tree(entry, target, diagnostics)
            elif entry.is_file() and os.access(entry, os.R_OK) and entry.name not in ("alloc", "free"):
                target.write_bytes(entry.read_bytes())
        except OSError as err:
            diagnostics.append(unreadable(entry, err, verb="copy"))


def save_live_snapshot(
    dest: str | Path, root: str | Path = "/", use_dmesg_command: bool | None = None
) -> tuple[Diagnostic, ...]:
    """Copy the live system's observable state into a snapshot directory ``dest`` (the layout
    :func:`read_observed` reads), so it can be checked elsewhere. Returns what could not be copied."""
    r, d = Path(root), Path(dest)
    d.mkdir(parents=True, exist_ok=True)
    diagnostics: list[Diagnostic] = []
    pieces = (
        (r / "proc" / "iomem", "iomem"),
        (r / "proc" / "meminfo", "meminfo"),
        (r / "sys" / "firmware" / "fdt", "fdt"),
        (r / "sys" / "kernel" / "debug" / "cma", "cma"),
        (r / "sys" / "kernel" / "mm" / "cma", "mm-cma"),
    )
    for src, name in pieces:
        try:
            if src.is_dir():
                _copy_tree(src, d / name, diagnostics)
            elif src.is_file():
                (d / name).write_bytes(src.read_bytes())
            else:
                diagnostics.append(_not_available(src))
        except OSError as err:
            diagnostics.append(unreadable(src, err, verb="copy"))
    col = _Collected()
    _live_log(r, r == Path("/") if use_dmesg_command is None else use_dmesg_command, col)
    diagnostics.extend(col.diagnostics)
    if col.log_text is not None:
        (d / "dmesg").write_text(col.log_text[0], encoding="utf-8")
    return tuple(diagnostics)
