"""Extract what a recorded boot actually did, from its boot log and ``/proc/meminfo``.

This is the harness's own, deliberately simple reading of the log (independent of
``memplan.observe``), used to write ``expected.json`` next to each fixture: the global CMA area
(origin, size, base), every DT reserved-memory region the log mentions (status, base, size),
overlaps, crashkernel and the x86 user-defined memory map. Only the log formats of the kernels
in :mod:`tools.qemu.kernels` are handled.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_TS = re.compile(r"^\[\s*\d+\.\d+\]\s?")
_HEX = r"0x[0-9a-fA-F]+"
_CREATED = re.compile(
    rf"Reserved memory: created (CMA|DMA|restricted DMA) memory pool at ({_HEX}), size (\d+) MiB")
_INIT = re.compile(r"OF: reserved mem: initialized node (\S+), compatible id (\S+)")
_SUMMARY = re.compile(
    rf"OF: reserved mem: ({_HEX})\.\.({_HEX}) \((\d+) KiB\) (nomap|map) (reusable|non-reusable) (\S+)")
_BYPASS = re.compile(r"Reserved memory: bypass (\S+) node")
_SKIP = re.compile(r'Skipping dt linux,cma-default')
_MATCHFAIL = re.compile(r"OF: reserved mem: node (\S+) compatible matching fail")
_ALIGN = re.compile(r"Reserved memory: incorrect alignment of CMA region")
_ALLOCFAIL = re.compile(r"failed to allocate memory for node '([^']+)'")
_RESFAIL = re.compile(rf"failed to reserve memory for node '([^']+)': base ({_HEX}), size (\d+) MiB")
_OVERLAP = re.compile(rf"^(\S+) \(({_HEX})--({_HEX})\) overlaps with (\S+) \(({_HEX})--({_HEX})\)")
_CMA_OK = re.compile(rf"^cma: Reserved (\d+) MiB at ({_HEX})")
_CMA_RANGES = re.compile(r"^cma: Reserved (\d+) MiB in (\d+) ranges?")
_HUGETLB_OK = re.compile(r"^hugetlb_cma: reserved (\d+) MiB on node (\d+)")
_INACTIVE = re.compile(r"^cma: CMA area (\S+) could not be activated")
_CMA_FAIL = re.compile(r"^cma: Failed to reserve (\d+) MiB")
_CMA_ERR = re.compile(r"^cma: (Size .*exceeds limit.*|Region at .* must be aligned.*)$")
_CRASH_ARM = re.compile(rf"crashkernel reserved: ({_HEX}) - ({_HEX}) \((\d+) MB\)")
_CRASH_LOW = re.compile(rf"crashkernel low memory reserved: ({_HEX}) - ({_HEX}) \((\d+) MB\)")
_CRASH_X86 = re.compile(r"Reserving (\d+)MB of memory at (\d+)MB for crashkernel")
_E820 = re.compile(rf"^(BIOS-e820|user): \[mem ({_HEX})-({_HEX})\] (.+)$")
_MEMINFO = re.compile(r"^(CmaTotal|CmaFree):\s+(\d+) kB")
_LIMITED = re.compile(r"Memory limited to (\d+)MB")

MIB = 1 << 20


def log_lines(dmesg: str) -> list[str]:
    """The boot log with timestamps removed."""
    return [_TS.sub("", line.rstrip()) for line in dmesg.splitlines()]


_NODE_OPEN = re.compile(r"^(?:[\w-]+:\s*)?([\w,.@+/-]+)\s*\{$")


def _fragment_walk(board_dts: str | None) -> Iterator[tuple[tuple[str, ...], str, bool]]:
    """The scenario fragment of a merged DTS, line by line: (enclosing node names, the
    stripped line, whether the line opens a node -- then the node is last in the names)."""
    if not board_dts or "memplan scenario fragment" not in board_dts:
        return
    stack: list[str] = []
    for line in board_dts.split("memplan scenario fragment", 1)[1].splitlines():
        s = line.strip()
        m = _NODE_OPEN.match(s)
        if m:
            stack.append(m.group(1))
        elif s.startswith("};") and stack:
            stack.pop()
        yield tuple(stack), s, m is not None


def cma_default_nodes(board_dts: str | None) -> list[str]:
    """Names of the scenario-fragment nodes carrying ``linux,cma-default`` (DT order)."""
    return [stack[-1] for stack, s, _ in _fragment_walk(board_dts) if s == "linux,cma-default;" and stack]


def fragment_regions(board_dts: str | None) -> dict[str, dict[str, Any]]:
    """Children of ``/reserved-memory`` in the scenario fragment: name -> static ``reg`` (or None)."""
    out: dict[str, dict[str, Any]] = {}
    for stack, s, opened in _fragment_walk(board_dts):
        if len(stack) != 3 or stack[1] != "reserved-memory":
            continue
        if opened:
            out[stack[-1]] = {"reg": None}
        elif s.startswith("reg = <"):
            cells = [int(c, 16) for c in s[len("reg = <"):].rstrip(">;").split()]
            out[stack[-1]]["reg"] = ((cells[0] << 32) | cells[1], (cells[2] << 32) | cells[3])
    return out


def _cmdline_has_cma(cmdline: str) -> bool:
    for tok in shlex.split(cmdline):
        if tok == "--":
            return False
        if tok.split("=", 1)[0].replace("-", "_") == "cma" and "=" in tok:
            return True
    return False


def extract(dmesg: str, meminfo: str, cmdline: str, board_dts: str | None) -> dict[str, Any]:
    """What the kernel did, as a JSON-ready dict (addresses and sizes in bytes)."""
    lines = log_lines(dmesg)
    regions: dict[str, dict[str, Any]] = {}
    pending: tuple[str, int, int] | None = None
    align_pending = False
    overlaps: list[dict[str, Any]] = []
    global_cma: dict[str, Any] = {"origin": None, "size": None, "base": None, "region": None,
                                  "status": None}
    cma_failures: list[str] = []
    crash: dict[str, int] | None = None
    crash_low: dict[str, int] | None = None
    e820: dict[str, list[dict[str, Any]]] = {}
    defaults = cma_default_nodes(board_dts)
    skipped_default = False
    memory_limited: int | None = None
    init_order: list[str] = []
    cma_lines: list[dict[str, Any]] = []
    inactive: list[str] = []

    def reg(name: str) -> dict[str, Any]:
        return regions.setdefault(name, {"status": None, "base": None, "size": None})

    init_at: dict[str, int] = {}
    for idx, line in enumerate(lines):
        if m := _CREATED.search(line):
            pending = (m.group(1), int(m.group(2), 16), int(m.group(3)) * MIB)
        elif m := _INIT.search(line):
            init_order.append(m.group(1))
            init_at[m.group(1)] = idx
            r = reg(m.group(1))
            r["status"] = "ok"
            if pending is not None:
                r["kind"] = {"CMA": "reusable", "DMA": "dma-pool"}.get(pending[0], "restricted-dma")
                r["base"], r["size"] = pending[1], pending[2]
            pending = None
        elif m := _SUMMARY.search(line):
            r = reg(m.group(6))
            r["status"] = "ok"
            r["base"] = int(m.group(1), 16)
            r["size"] = int(m.group(3)) * 1024
            r["no_map"] = m.group(4) == "nomap"
            r["reusable"] = m.group(5) == "reusable"
        elif m := _BYPASS.search(line):
            reg(m.group(1))["status"] = "bypassed"
        elif _SKIP.search(line):
            skipped_default = True
        elif _ALIGN.search(line):
            align_pending = True
        elif m := _MATCHFAIL.search(line):
            r = reg(m.group(1))
            if r["status"] != "bypassed":
                r["status"] = "rejected"
                r["reason"] = "incorrect alignment" if align_pending else "no handler accepted the node"
            align_pending = False
            pending = None
        elif m := _ALLOCFAIL.search(line):
            reg(m.group(1))["status"] = "failed"
        elif m := _RESFAIL.search(line):
            r = reg(m.group(1))
            r["status"] = "failed"
            r["base"], r["size"] = int(m.group(2), 16), int(m.group(3)) * MIB
        elif m := _OVERLAP.search(line):
            overlaps.append({"a": m.group(1), "b": m.group(4)})
        elif m := _CMA_OK.search(line):
            cma_lines.append({"size": int(m.group(1)) * MIB, "base": int(m.group(2), 16), "kind": None,
                              "at": idx})
        elif m := _CMA_RANGES.search(line):
            cma_lines.append({"size": int(m.group(1)) * MIB, "base": None, "kind": None, "at": idx})
        elif m := _HUGETLB_OK.search(line):
            if cma_lines and cma_lines[-1]["kind"] is None:
                cma_lines[-1].update(kind="hugetlb", node=int(m.group(2)))
        elif m := _INACTIVE.search(line):
            inactive.append(m.group(1))
        elif _CMA_FAIL.search(line) or _CMA_ERR.search(line):
            cma_failures.append(line)
        elif m := _CRASH_ARM.search(line):
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            crash = {"base": lo, "size": hi - lo}
        elif m := _CRASH_LOW.search(line):
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            crash_low = {"base": lo, "size": hi - lo}
        elif m := _CRASH_X86.search(line):
            crash = {"base": int(m.group(2)) * MIB, "size": int(m.group(1)) * MIB}
        elif m := _E820.search(line):
            e820.setdefault(m.group(1), []).append(
                {"start": int(m.group(2), 16), "end": int(m.group(3), 16) + 1, "type": m.group(4).strip()})
        elif m := _LIMITED.search(line):
            memory_limited = int(m.group(1)) * MIB

    for name, info in fragment_regions(board_dts).items():
        if name not in regions and info["reg"] is not None and name not in defaults:
            # static node without any handler: stays reserved silently (only 6.3+ prints a summary)
            regions[name] = {"status": "ok", "base": info["reg"][0], "size": info["reg"][1],
                             "inferred": "static reg, no log line"}
    if skipped_default:
        for name in defaults:
            reg(name)["status"] = "bypassed"
    for name in inactive:
        if name in regions and regions[name]["status"] == "ok":
            # reserved and created, then dropped at core_initcall (the area spans two zones)
            regions[name]["status"] = "failed"
            regions[name]["reason"] = "could not be activated"
    if not _cmdline_has_cma(cmdline):
        # arm32/riscv 6.12: dma_contiguous_reserve() runs before the static DT nodes are
        # initialised, so a static default node initialised later is a second area that
        # takes over as the default; the Kconfig area stays as an ordinary CMA area
        later = [c for c in cma_lines if c["kind"] is None and c["base"] is not None]
        for c in later:
            if any(n in defaults and at > c["at"] and regions[n]["status"] == "ok"
                   for n, at in init_at.items()):
                c["kind"] = "kconfig"
    extra_cma = _classify_cma_lines(cma_lines, cmdline, inactive)
    rest = [c for c in cma_lines if c["kind"] is None]
    if len(rest) > 1:
        raise ValueError(f"cannot tell the global CMA area among {rest}")
    if rest:
        global_cma.update(size=rest[0]["size"], base=rest[0]["base"], region="reserved")
    if global_cma["base"] is not None:
        global_cma["origin"] = "cmdline" if _cmdline_has_cma(cmdline) else "kconfig"
    else:
        # the default pointer ends on the last default node initialised (log order)
        for name in reversed(init_order):
            if name not in defaults:
                continue
            dflt = regions.get(name)
            if dflt and dflt["status"] == "ok" and dflt.get("kind", "reusable") == "reusable":
                global_cma.update(origin="dts", size=dflt["size"], base=dflt["base"], region=name)
                break
    meminfo_vals = {
        m.group(1): int(m.group(2)) * 1024 for m in map(_MEMINFO.match, meminfo.splitlines()) if m
    }
    # CmaTotal is in /proc/meminfo only with CONFIG_CMA ("0K cma-reserved" is printed anyway);
    # a hung boot has no meminfo: then any cma: line says CMA is built in
    cma_configured = ("CmaTotal" in meminfo_vals) if meminfo.strip() else bool(cma_lines or cma_failures)
    _global_status(global_cma, cma_configured, _cmdline_has_cma(cmdline), bool(cma_failures))
    return {
        "global_cma": global_cma,
        "global_cma_failures": cma_failures,
        "regions": dict(sorted(regions.items())),
        "overlaps": overlaps,
        "crashkernel": crash,
        "crashkernel_low": crash_low,
        "e820": e820,
        "memory_limited": memory_limited,
        "cma_total": meminfo_vals.get("CmaTotal"),
        "extra_cma": extra_cma,
    }


def _global_status(g: dict[str, Any], cma_configured: bool, cma_param: bool, failed: bool) -> None:
    """Complete the global area's answer when there is none: the candidate that decided
    (``cmdline`` for ``cma=0`` or a failed ``cma=``, else ``kconfig``), size 0 and the status
    ``ok`` / ``disabled`` (size 0 asked) / ``failed`` (no room) / ``unsupported`` (no CONFIG_CMA)."""
    if g["origin"] is not None:
        g["status"] = "ok"
        return
    g["size"] = 0
    if not cma_configured:
        g.update(origin="kconfig", status="unsupported")
        return
    g.update(origin="cmdline" if cma_param else "kconfig", status="failed" if failed else "disabled")


def _cmdline_sizes(cmdline: str, name: str) -> list[int]:
    """Sizes given by ``cma_pernuma=S`` / ``numa_cma=n:S,...`` (plain M/G suffixes only)."""
    out: list[int] = []
    for tok in shlex.split(cmdline):
        key, _, val = tok.partition("=")
        if key.replace("-", "_") != name:
            continue
        for item in val.split(","):
            text = item.split(":")[-1].strip().upper()
            mult = {"K": 1 << 10, "M": MIB, "G": 1 << 30}.get(text[-1:], 1)
            out.append(int(text.rstrip("KMG"), 0) * mult)
    return out


def _classify_cma_lines(
    lines: list[dict[str, Any]], cmdline: str, inactive: list[str]
) -> list[dict[str, Any]]:
    """Mark per-node (``cma_pernuma`` / ``numa_cma``) and hugetlb areas among the ``cma: Reserved``
    lines; everything left is the global area. Returns the non-global areas."""
    node_sizes = _cmdline_sizes(cmdline, "cma_pernuma") + _cmdline_sizes(cmdline, "numa_cma")
    for c in lines:
        if c["kind"] is None and c["size"] in node_sizes:
            c["kind"] = "numa"
    extra = []
    for c in lines:
        if c["kind"] is None:
            continue
        name = f"hugetlb{c['node']}" if c["kind"] == "hugetlb" else None
        if c["kind"] == "kconfig":
            name = "reserved"
        extra.append({"kind": c["kind"], "size": c["size"], "base": c["base"],
                      "active": name not in inactive if name else True})
    return extra


def extract_fixture(directory: Path) -> dict[str, Any]:
    """:func:`extract` applied to a fixture directory.

    A boot that hung has no ``dmesg.txt``; its console log (``console.txt``, booted with
    ``loglevel=8``) is read instead and ``hang`` gives the last kernel message printed.
    """
    sc = json.loads((directory / "scenario.json").read_text())
    board = directory / "board.dts"
    hang: str | None = None
    if (directory / "dmesg.txt").exists():
        log = (directory / "dmesg.txt").read_text()
    else:
        log = "\n".join(line for line in (directory / "console.txt").read_text().splitlines()
                        if _TS.match(line))
        hang = log_lines(log)[-1] if log else ""
    out = extract(
        log,
        (directory / "meminfo.txt").read_text() if (directory / "meminfo.txt").exists() else "",
        sc["cmdline"],
        board.read_text() if board.exists() else None,
    )
    if hang is not None:
        out["hang"] = {"last_message": hang}
    return out


def write_expected(directory: Path) -> Path:
    """Write ``expected.json`` (the extraction) into a fixture directory."""
    out = directory / "expected.json"
    out.write_text(json.dumps(extract_fixture(directory), indent=2, sort_keys=True) + "\n")
    return out
