"""``mem=`` per architecture (kernel-semantics.md §8.1)."""

from __future__ import annotations

from typing import Literal

import attrs

from memplan.cmdline.arch import MEM_SEMANTICS
from memplan.cmdline.common import Sink, no_value, note_trailing, read_size
from memplan.cmdline.tokenize import Token
from memplan.source import Source
from memplan.units import format_size

MemKind = Literal["size-cap", "bank", "address-cap", "unknown"]


@attrs.frozen
class MemParam:
    """One accepted ``mem=`` occurrence.

    ``kind`` (from the architecture): ``size-cap`` keep only the first ``value`` bytes of RAM
    (arm64 masks it to the page size first; arm64 keeps the last occurrence, riscv the smallest);
    ``bank`` the first occurrence removes all RAM found so far and each occurrence adds
    ``[start, start + value)`` (``start`` ``None`` = the architecture default: ``PHYS_OFFSET`` on
    arm, 0 on mips/loongarch); ``address-cap`` (x86) remove RAM at and above ``value``;
    ``unknown`` architecture not given (``start`` recorded when written).
    """

    kind: MemKind
    value: int
    source: Source
    start: int | None = None


def mem_kind(arch: str | None) -> MemKind:
    """What ``mem=`` means on ``arch`` (see :class:`MemParam`)."""
    sem = MEM_SEMANTICS.get(arch or "")
    for kind in ("size-cap", "bank", "address-cap"):
        if sem == kind:
            return kind
    return "unknown"


def parse_mem(token: Token, arch: str | None, sink: Sink) -> MemParam | None:
    """Parse one ``mem=`` token for ``arch``; returns ``None`` when the kernel ignores it."""
    text = token.value
    kind = mem_kind(arch)
    if no_value(token, sink, "cmdline-mem-invalid") or text is None:
        return None
    if kind == "address-cap" and text == "nopentium":
        sink.add(
            "info",
            "cmdline-mem-nopentium",
            f"{token.shown} only disables large pages on 32-bit x86; it does not limit memory",
            token,
        )
        return None
    value, i = read_size(token, 0)
    start: int | None = None
    if kind in ("bank", "unknown") and text[i : i + 1] == "@":
        start, i = read_size(token, i + 1)
    note_trailing(token, i, sink, "cmdline-mem-trailing")
    if kind == "address-cap" and value == 0:
        sink.add(
            "warning",
            "cmdline-mem-invalid",
            f"{token.shown} reads as 0; x86 refuses it so that not all memory is removed",
            token,
        )
        return None
    if kind == "size-cap" and value == 0:
        sink.add("info", "cmdline-mem-zero", f"{token.shown} reads as 0, which means no limit", token)
    if kind == "bank" and value == 0:
        sink.add(
            "warning",
            "cmdline-mem-zero",
            f"{token.shown} reads as 0: the kernel still removes the memory found so far and adds "
            "an empty bank",
            token,
        )
    if kind == "size-cap" and value:
        sink.add("info", "cmdline-mem-limit", f"{token.shown}: memory limited to {format_size(value)}", token)
    return MemParam(kind, value, token.source, start)


def mem_size_limit(params: tuple[MemParam, ...], arch: str | None) -> int | None:
    """The size limit the ``size-cap`` architectures end up with (``None`` = no limit).

    arm64/powerpc/arc: the last occurrence wins; riscv keeps the smallest (``min_t``).
    [unverified] some riscv releases start ``memory_limit`` at 0, which makes ``min_t`` and
    therefore ``mem=`` a no-op there; early riscv (before ``min_t``) kept the last occurrence.
    """
    caps = [p.value for p in params if p.kind == "size-cap"]
    if not caps:
        return None
    if arch == "riscv":
        return min(caps) or None
    return caps[-1] or None
