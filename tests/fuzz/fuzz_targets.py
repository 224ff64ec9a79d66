"""Fuzz targets: each front end, fed one input, must return or raise a MemplanError.

A MemplanError must be usable: its text stays short whatever the input (long offending text
is cut), and for the text front ends it carries a position. Anything else (a bare traceback,
a hang, a huge message) fails the test. Seeds come from the repository's fixtures: the
recorded kernel boots (board DTS, dmesg, /proc/iomem, /proc/meminfo, command lines, DTBs)
and the bundled example board and defconfig.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from memplan.errors import MemplanError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "kernel" / "fixtures"
REGRESSIONS = Path(__file__).resolve().parent / "regressions"

#: Longest acceptable error text (a message, a position and one caret line).
MAX_ERROR_TEXT = 2_000


def _fixture_files(name: str, limit: int = 6) -> list[str]:
    files = sorted(FIXTURES.glob(f"*/{name}"))[:limit]
    return [f.read_text(encoding="utf-8", errors="replace") for f in files]


@cache
def seeds(target: str) -> tuple[str, ...]:
    """Seed inputs of ``target`` (text; DTBs as latin-1 text so one mutator serves all)."""
    if target in ("dts", "pcpp"):
        out = _fixture_files("board.dts")
        out.append((REPO / "memplan/examples/evk/board.dts").read_text())
    elif target == "kconfig":
        out = [(REPO / "memplan/examples/evk/defconfig").read_text()]
        for gz in sorted((FIXTURES / "configs").glob("*.config.gz"))[:2]:
            out.append("\n".join(gzip.decompress(gz.read_bytes()).decode().splitlines()[:300]))
    elif target == "dtb":
        out = [f.read_bytes().decode("latin-1") for f in sorted(FIXTURES.glob("*/fdt"))[:4]]
    elif target in ("dmesg", "iomem", "meminfo", "cmdline"):
        out = _fixture_files({"dmesg": "dmesg.txt", "iomem": "iomem.txt", "meminfo": "meminfo.txt",
                              "cmdline": "cmdline.txt"}[target])
    elif target == "version":
        out = ["6.1", "5.10.223-rc1", "v6.12.0-13-arm64", "4.19"]
    elif target == "debugfs":
        out = ["base_pfn=524288\ncount=16384\norder_per_bit=0\nused=12\nmaxchunk=16372\nbitmap=4095 0 0 0\n",
               "base_pfn=0x80000\ncount=4096\nranges/0/base_pfn=524288\nranges/0/bitmap=1 2\n"]
    elif target == "sysfs":
        out = ["alloc_pages_success=12\nalloc_pages_fail=0\nrelease_pages_success=4\ntotal_pages=16384\n"
               "available_pages=16372\n"]
    else:
        raise KeyError(target)
    out += [p.read_text(encoding="utf-8", errors="surrogateescape")
            for p in sorted((REGRESSIONS / target).glob("*.in"))]
    return tuple(s for s in out if s)


def _area_dir(text: str, area: Path) -> None:
    """Write ``name=value`` lines of ``text`` as the value files of one CMA area directory
    (``a/b=v`` makes a subdirectory; other characters in names become ``_``)."""
    import re

    for line in text.split("\n"):
        name, sep, value = line.partition("=")
        parts = [re.sub(r"[^A-Za-z0-9_]", "_", p)[:40] or "_" for p in name.split("/")[:3]]
        if not sep or not parts:
            continue
        path = area.joinpath(*parts)
        if path.is_dir():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.is_file():
            continue
        path.write_text(value + "\n", encoding="utf-8", errors="surrogateescape")


def _debugfs(text: str) -> None:
    from memplan.observe.debugfs import read_debugfs_cma

    with tempfile.TemporaryDirectory() as tmp:
        _area_dir(text, Path(tmp) / "cma" / "reserved")
        read_debugfs_cma(Path(tmp) / "cma")


def _sysfs(text: str) -> None:
    from memplan.observe.sysfs import read_sysfs_cma

    with tempfile.TemporaryDirectory() as tmp:
        _area_dir(text, Path(tmp) / "cma" / "reserved")
        read_sysfs_cma(Path(tmp) / "cma")


def _dts(text: str) -> None:
    """The source parsed, then (when dtc's rules accept it) resolved."""
    import memplan
    from memplan.dts import parse_text

    parse_text(text, "<fuzz>")  # text with no location reads no include files
    memplan.resolve(dts=text, arch="arm64", kernel_version="6.12")


def _pcpp(text: str) -> None:
    from memplan.dts.preprocess import preprocess

    with tempfile.TemporaryDirectory() as tmp:
        board = Path(tmp) / "fuzz.dts"
        board.write_text(text, encoding="utf-8", errors="surrogateescape")
        preprocess(board, cpp="pcpp", include_roots=[tmp])


def _kconfig(text: str) -> None:
    from memplan.kconfig import load_config

    load_config(text=text, name="fuzz.config", arch="arm64", kernel_version="6.1")


def _dtb(text: str) -> None:
    """The blob read, then (when it reads) resolved: the resolver meets the odd trees a blob can
    hold and source cannot (empty names, unterminated strings, cells of any length)."""
    import memplan
    from memplan.dts.dtb import read_dtb

    blob = text.encode("latin-1", errors="replace")
    read_dtb(blob)
    memplan.resolve(dtb=blob, arch="arm64", kernel_version="6.12")


def _dmesg(text: str) -> None:
    from memplan.observe import parse_dmesg

    parse_dmesg(text, "fuzz.dmesg")


def _iomem(text: str) -> None:
    from memplan.observe import parse_iomem

    parse_iomem(text, "fuzz.iomem").to_dict()


def _meminfo(text: str) -> None:
    from memplan.observe import parse_meminfo

    parse_meminfo(text, "fuzz.meminfo")


def _cmdline(text: str) -> None:
    from memplan.cmdline import parse_cmdline

    parse_cmdline(text, arch="arm64", kernel_version="6.1")


def _version(text: str) -> None:
    from memplan.version import KernelVersion

    KernelVersion.parse(text)


#: target name -> (function, must an error carry a position?)
TARGETS: dict[str, tuple[Callable[[str], None], bool]] = {
    "dts": (_dts, True),
    "pcpp": (_pcpp, True),
    "kconfig": (_kconfig, False),
    "dtb": (_dtb, True),
    "dmesg": (_dmesg, True),
    "iomem": (_iomem, True),
    "meminfo": (_meminfo, True),
    "cmdline": (_cmdline, True),
    "version": (_version, False),
    "debugfs": (_debugfs, True),
    "sysfs": (_sysfs, True),
}


def check(target: str, text: str) -> bool:
    """Run ``target`` on ``text``; fail on anything but success or a short MemplanError.
    True when ``text`` was accepted, False when it was rejected with such an error."""
    func, positioned = TARGETS[target]
    try:
        func(text)
    except MemplanError as err:
        shown = str(err)
        assert len(shown) <= MAX_ERROR_TEXT, f"{target}: {len(shown)}-character error message"
        if positioned:
            assert err.source is not None, f"{target}: error without a position: {err.message}"
        return False
    return True
