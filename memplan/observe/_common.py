"""Small helpers shared by the observed-state parsers."""

from __future__ import annotations

import errno
from pathlib import Path

from memplan.diagnostics import diag as registered
from memplan.errors import ObserveError
from memplan.model import Diagnostic, Severity
from memplan.numbers import Base, parse_int
from memplan.source import Source

#: The largest address or size a 64-bit kernel can report.
U64_MAX = (1 << 64) - 1


def observed_source(file: str | None, line: int | None = None, text: str | None = None) -> Source:
    """A :class:`Source` of kind ``observed`` (``file`` defaults to ``<input>``)."""
    return Source("observed", file=file or "<input>", line=line, text=text)


def diag(
    severity: Severity, code: str, message: str, source: Source | None = None, subject: str | None = None
) -> Diagnostic:
    """A registered diagnostic (see :func:`memplan.diagnostics.diag`), severity first."""
    return registered(code, message, source, subject, severity)


def unreadable(path: str | Path, err: OSError, what: str | None = None, verb: str = "read") -> Diagnostic:
    """The warning for a file or directory that exists but could not be read (or copied):
    ``cannot <verb> <what, default the path>: <reason>``, at ``path``."""
    return registered(
        "observe-unreadable",
        f"cannot {verb} {what if what is not None else path}: {err.strerror}",
        observed_source(str(path)),
    )


def malformed(file: str | None, line: int, text: str, what: str) -> Diagnostic:
    """The diagnostic for a known line whose text does not have the expected format."""
    return registered(
        "observe-malformed-line",
        f"{what}: line not in any known format, ignored",
        observed_source(file, line, text),
    )


def observed_int(
    text: str,
    where: Source,
    what: str,
    diagnostics: list[Diagnostic],
    *,
    base: Base = 10,
    max_value: int = U64_MAX,
) -> int | None:
    """``text`` read by :func:`memplan.numbers.parse_int` (at most 64 bits unless ``max_value``
    says otherwise); a refusal becomes an ``observe-malformed-line`` warning at ``where`` in
    ``diagnostics`` and the result is ``None``."""
    try:
        return parse_int(text, error=ObserveError, source=where, base=base, what=what, max_value=max_value)
    except ObserveError as err:
        diagnostics.append(diag("warning", "observe-malformed-line", f"{err.message}, ignored", where))
        return None


#: Largest sysfs/debugfs value file read (the kernel's show() buffers are one page; a CMA
#: bitmap of a huge area is a few MB).
MAX_VALUE_FILE = 64 << 20


def read_value_file(path: Path) -> str:
    """A small kernel value file as text (stray bytes replaced). A file larger than
    :data:`MAX_VALUE_FILE` (none comes from a kernel) raises ``OSError(EFBIG)``, which the
    readers report as unreadable, like any other failed read."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_VALUE_FILE + 1)
    if len(data) > MAX_VALUE_FILE:
        raise OSError(errno.EFBIG, f"larger than {MAX_VALUE_FILE} bytes, not a kernel value file")
    return data.decode("ascii", errors="replace")


def area_dirs(root: Path, what: str) -> list[Path]:
    """The subdirectories of ``root`` (one per CMA area), sorted; an :class:`ObserveError`
    naming ``root`` (``what``: which directory it should be) when it cannot be listed."""
    try:
        return sorted(p for p in root.iterdir() if p.is_dir())
    except OSError as err:
        message = f"cannot list the {what} {root}: {err.strerror}"
        raise ObserveError(message, observed_source(str(root))) from None


def read_text(path: str | Path) -> str:
    """Read a text file leniently (kernel files are ASCII; stray bytes are replaced)."""
    return Path(path).read_bytes().decode("utf-8", errors="replace")


def check_page_size(page_size: int, origin: str = "page_size") -> int:
    """Return ``page_size`` when it is a positive power of two; otherwise raise
    :class:`~memplan.errors.ObserveError` naming ``origin`` (e.g. ``--page-size``)."""
    if page_size <= 0 or page_size & (page_size - 1):
        text = str(page_size)
        raise ObserveError(
            f"page size {page_size} is not a positive power of two",
            Source.token(text, 0, len(text), origin),
        )
    return page_size
