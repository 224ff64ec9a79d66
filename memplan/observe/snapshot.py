"""Reading observed kernel state: single files, a snapshot directory, or the live system.

A snapshot directory may contain any of::

    iomem | iomem.txt       a copy of /proc/iomem
    meminfo | meminfo.txt   a copy of /proc/meminfo
    dmesg | dmesg.txt | kmsg | boot.log | console.log    the boot log
    cma/                    a copy of /sys/kernel/debug/cma
    mm-cma/                 a copy of /sys/kernel/mm/cma
    fdt | fdt.dtb           a copy of /sys/firmware/fdt (the DTB the kernel booted with)

A ``.tar.gz`` archive with that layout (below one top directory, as the script of
``memplan collect`` writes it) is read the same way, safely (:mod:`memplan.observe.archive`);
what its ``MANIFEST`` says the target skipped becomes a diagnostic.
Anything missing or unreadable is noted as an ``info``/``warning`` diagnostic, never fatal.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import attrs

from memplan.dts import Tree, read_dtb
from memplan.errors import MemplanError, ObserveError
from memplan.model import Diagnostic
from memplan.observe._common import check_page_size, diag, observed_source, unreadable
from memplan.observe.archive import SnapshotArchive, is_archive, read_archive
from memplan.observe.combine import build_observed
from memplan.observe.debugfs import read_debugfs_cma
from memplan.observe.dmesg import parse_dmesg
from memplan.observe.iomem import parse_iomem
from memplan.observe.meminfo import parse_meminfo
from memplan.observe.model import BootLog, DebugfsCmaArea, Iomem, Meminfo, Observed, SysfsCmaArea
from memplan.observe.sysfs import read_sysfs_cma
from memplan.source import Source

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
    #: An archive's ``version`` (text, label) and ``release`` (``uname -r``).
    version_line: tuple[str, str] | None = None
    release: str | None = None
    cmdline: str | None = None
    #: Temporary copies of archive directories -> the archive label that names them.
    relabel: dict[str, str] = attrs.field(factory=dict)
    tempdirs: list[tempfile.TemporaryDirectory[str]] = attrs.field(factory=list)

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
    return fdt_from_bytes(data, str(path), diagnostics)


def fdt_from_bytes(data: bytes, label: str, diagnostics: list[Diagnostic]) -> Tree | None:
    """Parse a DTB blob named ``label``; ``None`` (and a diagnostic) when it is not valid."""
    try:
        return read_dtb(data, filename=label, checks=False)  # the kernel booted it: no dtc checks
    except MemplanError as err:
        diagnostics.append(
            diag(
                "warning",
                "observe-fdt-invalid",
                f"the DTB could not be read: {err.message}",
                observed_source(label),
            )
        )
        return None


def _text_of(col: _Collected, path: Path, by_fallback: bool) -> str | None:
    """The text of an observed text file, or ``None`` (and a warning) when it is binary."""
    return _decode(col, path.read_bytes(), str(path), by_fallback)


def _decode(col: _Collected, data: bytes, label: str, by_fallback: bool) -> str | None:
    """``data`` as text, or ``None`` (and a warning) when it is binary: NUL bytes, or (for a
    file recognised by nothing) bytes that are not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if b"\0" in data or (text is None and by_fallback):
        col.diagnostics.append(
            diag(
                "warning",
                "observe-binary-input",
                f"{label} is a binary file, not an observed text file (iomem, meminfo, boot log); ignored",
                observed_source(label),
            )
        )
        return None
    if text is None:
        col.diagnostics.append(
            diag(
                "warning",
                "observe-not-utf8",
                f"{label} is not valid UTF-8; the bytes that are not were replaced",
                observed_source(label),
            )
        )
        text = data.decode("utf-8", errors="replace")
    return text


def _is_duplicate(col: _Collected, kind: FileKind, label: str) -> bool:
    """True (and a warning) when a text input of ``kind`` was already taken."""
    if (kind == "iomem" and col.iomem is not None) or (kind == "meminfo" and col.meminfo is not None):
        col.duplicate(kind, label)
        return True
    if kind == "dmesg" and col.log_text is not None:
        col.duplicate("boot log", label)
        return True
    return False


def _add_text(col: _Collected, kind: FileKind, text: str, label: str, by_fallback: bool = False) -> None:
    """Parse the text of an iomem, meminfo or boot-log input named ``label``."""
    if kind == "iomem":
        col.iomem = parse_iomem(text, label)
    elif kind == "meminfo":
        col.meminfo = parse_meminfo(text, label)
    else:
        col.log_text = (text, label)
        col.log_by_fallback = by_fallback


def _add_file(col: _Collected, path: Path, kind: FileKind, by_fallback: bool = False) -> None:
    text_path = str(path)
    if kind in ("iomem", "meminfo", "dmesg"):
        if _is_duplicate(col, kind, text_path):
            return
        text = _text_of(col, path, by_fallback)
        if text is None:
            return
        _add_text(col, kind, text, text_path, by_fallback)
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


def _add_archive(col: _Collected, path: Path) -> None:
    """Read a snapshot archive (see :mod:`memplan.observe.archive`)."""
    arc = read_archive(path)
    col.diagnostics.extend(arc.diagnostics)
    col.diagnostics.extend(manifest_notes(arc))
    found = False
    texts: tuple[tuple[tuple[str, ...], FileKind], ...] = (
        (("iomem", "iomem.txt"), "iomem"),
        (("meminfo", "meminfo.txt"), "meminfo"),
        (LOG_NAMES, "dmesg"),
    )
    for names, kind in texts:
        name = arc.first(*names)
        if name is None:
            continue
        found = True
        label = arc.label(name)
        if _is_duplicate(col, kind, label):
            continue
        text = _decode(col, arc.files[name], label, False)
        if text is not None:
            _add_text(col, kind, text, label)
        col.sources.append(label)
    if "version" in arc.files:
        col.version_line = (arc.files["version"].decode("utf-8", "replace"), arc.label("version"))
    if "cmdline" in arc.files:
        col.cmdline = arc.files["cmdline"].decode("utf-8", "replace").strip() or None
    if "release" in arc.files:
        col.release = arc.files["release"].decode("utf-8", "replace").strip() or None
    name = arc.first("fdt", "fdt.dtb")
    if name is not None:
        found = True
        if col.fdt is not None:
            col.duplicate("fdt", arc.label(name))
        else:
            col.fdt = fdt_from_bytes(arc.files[name], arc.label(name), col.diagnostics)
            col.sources.append(arc.label(name))
    for dirname, kind in (("cma", "debugfs"), ("mm-cma", "sysfs"), ("mm_cma", "sysfs")):
        if arc.has_dir(dirname):
            found = True
            _add_file(col, _materialise(col, arc, dirname), kind)
    if not found:
        col.diagnostics.append(
            diag(
                "warning",
                "observe-empty-snapshot",
                "the archive holds none of iomem, meminfo, dmesg, cma/, mm-cma/, fdt",
                observed_source(str(path)),
            )
        )


def _materialise(col: _Collected, arc: SnapshotArchive, dirname: str) -> Path:
    """Write the files below ``dirname`` of the archive to a private temporary directory (names
    were checked by the archive reader), for the directory readers; their findings are renamed
    back to the archive in :func:`_finish`."""
    tmp = tempfile.TemporaryDirectory(prefix="memplan-snapshot-")
    col.tempdirs.append(tmp)
    root = Path(tmp.name) / dirname
    root.mkdir()
    for rel, data in sorted(arc.below(dirname).items()):
        target = root / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as err:
            where = observed_source(arc.label(f"{dirname}/{rel}"))
            raise ObserveError(f"cannot copy the archive member: {err.strerror or err}", where) from None
    col.relabel[str(root)] = arc.label(dirname)
    return root


def manifest_notes(arc: SnapshotArchive) -> list[Diagnostic]:
    """What the snapshot's manifest says the target could not collect (a warning when a
    permission stopped it, else a note), and where a fallback was used."""
    notes: list[Diagnostic] = []
    for e in arc.manifest:
        where = observed_source(arc.label("MANIFEST"), e.line)
        if e.status == "skip":
            denied = any(w in e.reason for w in ("permission", "not permitted", "without root"))
            notes.append(
                diag(
                    "warning" if denied else "info",
                    "observe-snapshot-skipped",
                    f"the target did not collect {e.name} ({e.source}): {e.reason or 'no reason given'}",
                    where,
                )
            )
        elif e.status == "ok" and e.reason:
            message = f"{e.name} from {e.source}: {e.reason}"
            notes.append(diag("info", "observe-snapshot-note", message, where))
    return notes


def _renamed(text: str, relabel: dict[str, str]) -> str:
    for tmp, label in relabel.items():
        if text.startswith(tmp):
            return label + text[len(tmp) :]
    return text


def _relabel_source(src: Source, relabel: dict[str, str]) -> Source:
    if src.file is None:
        return src
    return attrs.evolve(src, file=_renamed(src.file, relabel))


def _relabel_diag(d: Diagnostic, relabel: dict[str, str]) -> Diagnostic:
    message = d.message
    for tmp, label in relabel.items():
        message = message.replace(tmp, label)
    source = _relabel_source(d.source, relabel) if d.source is not None else None
    return attrs.evolve(d, message=message, source=source)


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
    rl = col.relabel
    if col.debugfs_dir is not None:
        debugfs, d1 = read_debugfs_cma(col.debugfs_dir, page_size, version)
        debugfs = tuple(attrs.evolve(a, source=_relabel_source(a.source, rl)) for a in debugfs)
        col.diagnostics.extend(_relabel_diag(d, rl) for d in d1)
    if col.sysfs_dir is not None:
        sysfs, d2 = read_sysfs_cma(col.sysfs_dir)
        sysfs = tuple(attrs.evolve(a, source=_relabel_source(a.source, rl)) for a in sysfs)
        col.diagnostics.extend(_relabel_diag(d, rl) for d in d2)
    col.sources[:] = [_renamed(s, rl) for s in col.sources]
    observed = build_observed(
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
    return _with_identity(observed, col)


def _with_identity(observed: Observed, col: _Collected) -> Observed:
    """Without a boot log, the kernel version, release and command line of a snapshot archive
    come from its ``version`` (``/proc/version``, the same ``Linux version`` line), ``release``
    and ``cmdline`` (``/proc/cmdline``) files."""
    version, release = observed.kernel_version, observed.kernel_release
    cmdline = observed.cmdline if observed.cmdline is not None else col.cmdline
    if version is None and col.version_line is not None:
        parsed = parse_dmesg(*col.version_line)
        version, release = parsed.kernel_version, release or parsed.kernel_release
    if release is None and col.release is not None:
        release = col.release
    if (version, release, cmdline) == (observed.kernel_version, observed.kernel_release, observed.cmdline):
        return observed
    return attrs.evolve(observed, kernel_version=version, kernel_release=release, cmdline=cmdline)


PathArg = str | os.PathLike[str]


def read_observed(paths: PathArg | Sequence[PathArg], page_size: int = 4096) -> Observed:
    """Read snapshot directories and/or single files into one :class:`Observed`.

    ``paths`` is one path (``read_observed("snapshot/")``) or a sequence of them.

    A directory is a snapshot (see the module docstring) unless it is itself a copy of the
    cma debugfs (``cma``) or sysfs (``mm-cma``) directory. Files are recognised by name or
    content. A path that does not exist raises :class:`~memplan.errors.ObserveError`.
    """
    check_page_size(page_size)
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    col = _Collected()
    try:
        for raw in items:
            p = Path(raw)
            if not p.exists():
                raise ObserveError("no such file or directory", observed_source(str(p)))
            if p.is_dir() and p.name not in ("cma", "mm-cma", "mm_cma"):
                _add_directory(col, p)
            elif is_archive(p):
                _add_archive(col, p)
            else:
                try:
                    _add_file(col, p, *_classify(p))
                except OSError as err:
                    col.diagnostics.append(unreadable(p, err))
        return _finish(col, page_size)
    finally:
        for tmp in col.tempdirs:
            tmp.cleanup()


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
    """Copy the readable regular files below ``src`` (write-only hooks such as ``alloc`` skipped),
    in sorted order, depth first.

    Iterative (a stack of directory listings, not recursion), so the depth is bounded only by the
    file system; a directory reached again through a symlink (a loop) is reported, not entered
    again. Whatever cannot be listed or copied is reported and the rest is copied."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Iterator[Path], Path]] = []

    def enter(directory: Path, target: Path) -> None:
        st = directory.stat()
        key = (st.st_dev, st.st_ino)
        if key in seen:
            raise OSError(errno.ELOOP, "directory loop (a symlink to a directory above it)")
        seen.add(key)
        target.mkdir(parents=True, exist_ok=True)
        entries = sorted(directory.iterdir())
        stack.append((iter(entries), target))

    enter(src, dest)
    while stack:
        entries, target_dir = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        target = target_dir / entry.name
        try:
            if entry.is_dir():
                enter(entry, target)
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
    _save_prediction_inputs(r, d, diagnostics)
    return tuple(diagnostics)


def _save_prediction_inputs(r: Path, d: Path, diagnostics: list[Diagnostic]) -> None:
    """Also keep what a prediction needs when present (so ``memplan check DIR`` needs no other
    input, as for a ``memplan collect`` archive): the command line, ``/proc/version``, the
    kernel release and machine (of the running system), and the ``.config``."""
    release = os.uname().release if r == Path("/") else None
    if release is not None:
        (d / "release").write_text(release + "\n")
        (d / "machine").write_text(os.uname().machine + "\n")
    configs = [(r / "proc" / "config.gz", "config.gz")]
    if release is not None:
        configs += [
            (r / "boot" / f"config-{release}", "config"),
            (r / "lib" / "modules" / release / "config", "config"),
        ]
    for name in ("cmdline", "version", "zoneinfo"):
        _copy_if_present(r / "proc" / name, d / name, diagnostics)
    for src, name in configs:
        if _copy_if_present(src, d / name, diagnostics):
            break


def _copy_if_present(src: Path, dest: Path, diagnostics: list[Diagnostic]) -> bool:
    """Copy ``src`` (a regular file, links not followed) to ``dest``; False when it is absent."""
    if not src.is_file() or src.is_symlink():
        return False
    try:
        dest.write_bytes(src.read_bytes())
    except OSError as err:
        diagnostics.append(unreadable(src, err, verb="copy"))
        return False
    return True
