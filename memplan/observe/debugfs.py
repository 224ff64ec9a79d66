"""``/sys/kernel/debug/cma/`` reader (mm/cma_debug.c, ``CONFIG_CMA_DEBUGFS``).

One directory per CMA area. Kernels before 6.0 name it ``cma-<name>`` built in a 16-byte
buffer (so at most 11 characters of the name survive); 6.0 and later use ``<name>``. Files
hold a decimal value and a newline: ``base_pfn``, ``count`` (pages), ``order_per_bit``,
``used`` (pages), ``maxchunk`` (pages), ``bitmap`` (32-bit words), and from 6.15
``ranges/<n>/base_pfn`` / ``ranges/<n>/bitmap``.
"""

from __future__ import annotations

from pathlib import Path

from memplan.errors import shorten
from memplan.kernel import rules
from memplan.model import Diagnostic
from memplan.numbers import is_int
from memplan.observe._common import (
    area_dirs,
    diag,
    malformed,
    observed_int,
    observed_source,
    read_value_file,
    unreadable,
)
from memplan.observe.model import CmaRange, DebugfsCmaArea
from memplan.version import KernelVersion

#: Length of the old ``cma-<name>`` directory-name buffer, terminating NUL included.
OLD_NAME_BUFFER = 16
OLD_PREFIX = "cma-"


def area_name_from_dir(dirname: str, kernel_version: KernelVersion | None = None) -> tuple[str, bool]:
    """The area name behind a debugfs directory name and whether it may be truncated.

    With a known kernel ≥ 6.0 the directory is the name. Otherwise a ``cma-`` prefix is taken
    as the old naming; a directory name using the whole 15 visible characters may have lost
    the end of the area name.
    """
    if kernel_version is not None and rules.debugfs_dir_is_area_name(kernel_version):
        return dirname, False
    if dirname.startswith(OLD_PREFIX) and len(dirname) > len(OLD_PREFIX):
        return dirname[len(OLD_PREFIX) :], len(dirname) >= OLD_NAME_BUFFER - 1
    return dirname, False


def _read_value(path: Path, diagnostics: list[Diagnostic]) -> str | None:
    if not path.exists():
        return None
    try:
        return read_value_file(path)
    except OSError as err:
        diagnostics.append(unreadable(path, err))
        return None


def _read_int(path: Path, diagnostics: list[Diagnostic]) -> int | None:
    text = _read_value(path, diagnostics)
    if text is None:
        return None
    value = text.strip()
    if not is_int(value):
        diagnostics.append(malformed(str(path), 1, shorten(text.rstrip("\n")), "cma debugfs value"))
        return None
    where = observed_source(str(path), 1, shorten(value))
    return observed_int(value, where, "cma debugfs value", diagnostics)


def _read_bitmap(path: Path, diagnostics: list[Diagnostic]) -> tuple[int, ...] | None:
    text = _read_value(path, diagnostics)
    if text is None:
        return None
    words = text.split()
    if not all(is_int(w) for w in words):
        diagnostics.append(malformed(str(path), 1, shorten(text.rstrip("\n")), "cma debugfs bitmap"))
        return None
    where = observed_source(str(path), 1)
    out: list[int] = []
    for w in words:
        number = observed_int(w, where, "cma debugfs bitmap word", diagnostics)
        if number is None:
            return None
        out.append(number)
    return tuple(out)


def read_debugfs_area(
    directory: str | Path, page_size: int = 4096, kernel_version: KernelVersion | None = None
) -> tuple[DebugfsCmaArea, tuple[Diagnostic, ...]]:
    """Read one area directory (e.g. ``/sys/kernel/debug/cma/reserved``)."""
    d = Path(directory)
    diagnostics: list[Diagnostic] = []
    name, truncated = area_name_from_dir(d.name, kernel_version)
    ranges: list[CmaRange] = []
    ranges_dir = d / "ranges"
    if ranges_dir.is_dir():
        for sub in sorted(
            (p for p in ranges_dir.iterdir() if p.is_dir() and is_int(p.name) and len(p.name) <= 9),
            key=lambda p: int(p.name),
        ):
            pfn = _read_int(sub / "base_pfn", diagnostics)
            if pfn is None:
                continue
            ranges.append(CmaRange(int(sub.name), pfn, _read_bitmap(sub / "bitmap", diagnostics) or ()))
    base_pfn = _read_int(d / "base_pfn", diagnostics)
    if base_pfn is None and ranges:
        base_pfn = ranges[0].base_pfn
    area = DebugfsCmaArea(
        dirname=d.name,
        name=name,
        name_truncated=truncated,
        base_pfn=base_pfn,
        count=_read_int(d / "count", diagnostics),
        order_per_bit=_read_int(d / "order_per_bit", diagnostics),
        used=_read_int(d / "used", diagnostics),
        maxchunk=_read_int(d / "maxchunk", diagnostics),
        bitmap=_read_bitmap(d / "bitmap", diagnostics),
        ranges=tuple(ranges),
        source=observed_source(str(d)),
        page_size=page_size,
    )
    if area.base_pfn is None or area.count is None:
        diagnostics.append(
            diag(
                "warning",
                "observe-debugfs-incomplete",
                f"CMA debugfs directory {d.name!r} lacks base_pfn or count",
                observed_source(str(d)),
                subject=name,
            )
        )
    return area, tuple(diagnostics)


def read_debugfs_cma(
    root: str | Path, page_size: int = 4096, kernel_version: KernelVersion | None = None
) -> tuple[tuple[DebugfsCmaArea, ...], tuple[Diagnostic, ...]]:
    """Read every area under a ``cma`` debugfs directory (or a copy of it), sorted by name."""
    r = Path(root)
    areas: list[DebugfsCmaArea] = []
    diagnostics: list[Diagnostic] = []
    for sub in area_dirs(r, "debugfs cma directory"):
        area, diags = read_debugfs_area(sub, page_size, kernel_version)
        areas.append(area)
        diagnostics.extend(diags)
    return tuple(areas), tuple(diagnostics)
