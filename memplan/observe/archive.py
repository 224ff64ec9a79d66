"""Reading a snapshot archive (``.tar.gz``, as ``memplan collect``'s script writes it) safely.

Nothing is extracted to disk and no link is followed: regular files are read into memory under
a cap per file, in total and on the number of members; a member whose name is absolute or
climbs out with ``..`` is refused, as is anything that is not a regular file or a directory
(symbolic and hard links, devices, FIFOs). When every member lies below one top directory
(``memplan-snapshot/``), names are taken relative to it.

The archive's ``MANIFEST`` (tab-separated ``status name source reason`` lines; ``status`` is
``ok``, ``skip`` or ``info``) says what the target collected and why it skipped the rest.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import attrs

from memplan.errors import ObserveError
from memplan.model import Diagnostic
from memplan.observe._common import diag, observed_source

#: The largest file a snapshot may hold (a boot log, a DTB, a .config are far smaller).
MAX_MEMBER_BYTES = 64 << 20
#: The most a whole snapshot may unpack to.
MAX_TOTAL_BYTES = 256 << 20
#: The most members (files, directories) a snapshot may have.
MAX_MEMBERS = 20_000
#: The manifest format this reader understands.
MANIFEST_FORMAT = "1"

GZIP_MAGIC = b"\x1f\x8b"
#: Folders of the snapshot layout itself: a flat archive holding only one of them keeps its names.
_SNAPSHOT_DIRS = frozenset({"cma", "mm-cma", "mm_cma"})


def is_archive(path: str | Path) -> bool:
    """True for a regular file that is a gzip-compressed tar archive: named ``.tar.gz`` or
    ``.tgz`` with the gzip magic, or gzip data whose first block is a tar header (a
    gzip-compressed boot log is not an archive)."""
    p = Path(path)
    if not p.is_file():
        return False
    with p.open("rb") as fh:
        if fh.read(2) != GZIP_MAGIC:
            return False
    if p.name.lower().endswith((".tar.gz", ".tgz")):
        return True
    try:
        with gzip.open(p, "rb") as gz:
            head = gz.read(512)
    except (OSError, EOFError, zlib.error):
        return False
    return head[257:262] == b"ustar"


@attrs.frozen
class ManifestEntry:
    """One ``MANIFEST`` line: ``status`` ``ok``/``skip``/``info``, the snapshot ``name``, the
    ``source`` on the target (``/proc/iomem``, ``uname -r``) and the ``reason`` (may be empty)."""

    status: str
    name: str
    source: str
    reason: str
    line: int


@attrs.frozen
class SnapshotArchive:
    """The readable content of a snapshot archive: ``files`` maps a ``/``-separated name
    (relative to the snapshot's top directory) to its bytes."""

    path: str
    files: Mapping[str, bytes]
    manifest: tuple[ManifestEntry, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    def label(self, name: str) -> str:
        """How a member is named in sources and messages: ``ARCHIVE!/NAME``."""
        return f"{self.path}!/{name}"

    def first(self, *names: str) -> str | None:
        """The first of ``names`` the archive holds as a file."""
        return next((n for n in names if n in self.files), None)

    def has_dir(self, name: str) -> bool:
        """True when some file lies below directory ``name``."""
        prefix = name.rstrip("/") + "/"
        return any(f.startswith(prefix) for f in self.files)

    def below(self, name: str) -> dict[str, bytes]:
        """The files below directory ``name``, keyed by their path relative to it."""
        prefix = name.rstrip("/") + "/"
        return {f[len(prefix) :]: data for f, data in self.files.items() if f.startswith(prefix)}

    def manifest_entry(self, name: str, status: str = "ok") -> ManifestEntry | None:
        """The manifest line for ``name`` with ``status``, if any."""
        return next((e for e in self.manifest if e.name == name and e.status == status), None)


def _safe_name(name: str) -> str | None:
    """``name`` normalised (no ``./``), or ``None`` when absolute, climbing (``..``) or empty."""
    if "\0" in name or "\\" in name:
        return None
    p = PurePosixPath(name)
    if p.is_absolute():
        return None
    parts = [part for part in p.parts if part != "."]
    if not parts or any(part == ".." for part in parts):
        return None
    return "/".join(parts)


def _refused(path: str, member: str, why: str) -> Diagnostic:
    return diag(
        "warning",
        "observe-archive-member-refused",
        f"archive member {member!r} not read: {why}",
        observed_source(path),
    )


def _kind(m: tarfile.TarInfo) -> str:
    if m.issym():
        return f"a symbolic link (to {m.linkname!r}); links are not followed"
    if m.islnk():
        return f"a hard link (to {m.linkname!r}); links are not followed"
    if m.ischr() or m.isblk():
        return "a device node"
    if m.isfifo():
        return "a FIFO"
    return "not a regular file"


def _members(path: str) -> tuple[dict[str, bytes], list[str], list[Diagnostic]]:
    """Read the regular files of the archive at ``path`` (stream mode: one pass, no seeking)."""
    files: dict[str, bytes] = {}
    dirs: list[str] = []
    notes: list[Diagnostic] = []
    total = 0
    count = 0
    with tarfile.open(path, mode="r|gz") as tf:
        for m in tf:
            count += 1
            if count > MAX_MEMBERS:
                raise ObserveError(
                    f"the archive has more than {MAX_MEMBERS} members; not a memplan snapshot",
                    observed_source(path),
                )
            name = _safe_name(m.name)
            if name is None:
                notes.append(_refused(path, m.name, "its name is absolute or leaves the archive"))
                continue
            if m.isdir():
                dirs.append(name)
                continue
            if not m.isreg():
                notes.append(_refused(path, m.name, _kind(m)))
                continue
            if m.size > MAX_MEMBER_BYTES:
                raise ObserveError(
                    f"archive member {m.name!r} has {m.size} bytes, more than a snapshot file may have "
                    f"({MAX_MEMBER_BYTES >> 20} MiB)",
                    observed_source(path),
                )
            total += m.size
            if total > MAX_TOTAL_BYTES:
                raise ObserveError(
                    f"the archive unpacks to more than {MAX_TOTAL_BYTES >> 20} MiB; not a memplan snapshot",
                    observed_source(path),
                )
            fh = tf.extractfile(m)
            data = fh.read(m.size) if fh is not None else b""
            if name in files:
                notes.append(_refused(path, m.name, "a second member of the same name; the first is used"))
                continue
            files[name] = data
    return files, dirs, notes


def _strip_top(files: dict[str, bytes], dirs: list[str]) -> dict[str, bytes]:
    """Names relative to the single top directory every member lies below, if there is one."""
    tops = {n.split("/", 1)[0] for n in (*files, *dirs)}
    if len(tops) != 1 or any("/" not in n for n in files) or tops & _SNAPSHOT_DIRS:
        return files
    return {n.split("/", 1)[1]: data for n, data in files.items()}


def parse_manifest(text: str, label: str) -> tuple[tuple[ManifestEntry, ...], tuple[Diagnostic, ...]]:
    """Parse a ``MANIFEST``; malformed lines and an unknown format are reported, not fatal."""
    entries: list[ManifestEntry] = []
    notes: list[Diagnostic] = []
    for no, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        fields = raw.split("\t")
        if fields[0] == "format":
            if fields[1:2] != [MANIFEST_FORMAT]:
                notes.append(
                    diag(
                        "warning",
                        "observe-manifest-format",
                        f"snapshot manifest format {fields[1] if len(fields) > 1 else '?'!r} is not "
                        f"the {MANIFEST_FORMAT!r} this memplan reads; its lines may be misread",
                        observed_source(label, no, raw),
                    )
                )
            continue
        if len(fields) < 3 or fields[0] not in ("ok", "skip", "info"):
            notes.append(
                diag(
                    "warning",
                    "observe-malformed-line",
                    "snapshot manifest: line not in any known format, ignored",
                    observed_source(label, no, raw),
                )
            )
            continue
        reason = "\t".join(fields[3:]).strip()
        entries.append(ManifestEntry(fields[0], fields[1], fields[2], reason, no))
    return tuple(entries), tuple(notes)


def read_archive(path: str | Path) -> SnapshotArchive:
    """Read a snapshot archive; raises :class:`~memplan.errors.ObserveError` when it is not a
    readable gzip-compressed tar archive or exceeds the size caps."""
    name = str(path)
    try:
        files, dirs, notes = _members(name)
    except ObserveError:
        raise
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise ObserveError(f"not a readable .tar.gz snapshot: {err}", observed_source(name)) from None
    except OSError as err:
        raise ObserveError(f"cannot read the archive: {err.strerror or err}", observed_source(name)) from None
    files = _strip_top(files, dirs)
    folders = {name.rsplit("/", 1)[0] for name in files if "/" in name}
    folders |= {f.rsplit("/", i)[0] for f in folders for i in range(1, f.count("/") + 1)}
    for clash in sorted(folders & files.keys()):
        notes.append(_refused(name, clash, "a file of the same name as a folder of the archive"))
        del files[clash]
    manifest: tuple[ManifestEntry, ...] = ()
    if "MANIFEST" in files:
        text = files["MANIFEST"].decode("utf-8", errors="replace")
        manifest, more = parse_manifest(text, f"{name}!/MANIFEST")
        notes.extend(more)
    return SnapshotArchive(name, MappingProxyType(files), manifest, tuple(notes))


def decompress_limited(data: bytes, label: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """gunzip ``data`` (e.g. ``config.gz``), refusing more than ``limit`` bytes of output."""
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as err:
        raise ObserveError(f"corrupt gzip data: {err}", observed_source(label)) from None
    if len(out) > limit or d.unconsumed_tail:
        raise ObserveError(f"unpacks to more than {limit >> 20} MiB", observed_source(label))
    if not d.eof:
        raise ObserveError("truncated gzip data", observed_source(label))
    return out
