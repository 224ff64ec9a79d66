"""Per-architecture facts of the command-line front end (names come from :mod:`memplan.arch`)."""

from __future__ import annotations

from memplan.arch import ARCHES, normalise_arch
from memplan.errors import CmdlineError
from memplan.source import Source

#: ``COMMAND_LINE_SIZE`` by architecture (the kernel keeps at most this minus one character).
#: arm64/arm/riscv/generic from kernel-semantics.md §6.1; x86 (2048) and mips (4096) from the
#: arch headers; the others use the generic 512 [unverified for xtensa/powerpc/arc/loongarch].
COMMAND_LINE_SIZE: dict[str | None, int] = {
    "arm64": 2048,
    "arm": 1024,
    "riscv": 1024,
    "x86": 2048,
    "mips": 4096,
}
GENERIC_COMMAND_LINE_SIZE = 512


def normalize_arch(arch: str | None) -> str | None:
    """Canonical architecture name (``x86_64`` → ``x86``, ``aarch64`` → ``arm64``); ``None`` = unknown.

    Raises :class:`CmdlineError` for a name that is no architecture memplan knows.
    """
    if arch is None:
        return None
    name = normalise_arch(arch)
    if name is None:
        raise CmdlineError(
            f"unknown architecture {arch!r} (expected one of {', '.join(ARCHES)})",
            Source.builtin("architecture argument"),
        )
    return name


def command_line_size(arch: str | None) -> int:
    """``COMMAND_LINE_SIZE`` of ``arch`` (unknown arch: the largest, so nothing is cut wrongly)."""
    if arch is None:
        return max(COMMAND_LINE_SIZE.values())
    return COMMAND_LINE_SIZE.get(arch, GENERIC_COMMAND_LINE_SIZE)


#: Architectures with a ``memmap=`` early parameter (arch/x86/kernel/e820.c,
#: arch/mips/kernel/setup.c, arch/xtensa/mm/init.c). Everywhere else it is an unknown parameter.
MEMMAP_ARCHES = frozenset({"x86", "mips", "xtensa"})

#: How ``mem=`` works per architecture (kernel-semantics.md §8.1):
#: ``size-cap`` keep the first N bytes of RAM (arm64 arch/arm64/mm/init.c, riscv, powerpc
#: arch/powerpc/kernel/prom.c, arc ``low_mem_sz``); ``bank`` the first occurrence removes all
#: memory and every occurrence adds ``size[@start]`` (arm arch/arm/kernel/setup.c, mips,
#: loongarch); ``address-cap`` remove RAM at and above the value (x86 e820.c).
MEM_SEMANTICS: dict[str, str] = {
    "arm64": "size-cap",
    "riscv": "size-cap",
    "powerpc": "size-cap",
    "arc": "size-cap",
    "arm": "bank",
    "mips": "bank",
    "loongarch": "bank",
    "x86": "address-cap",
}

__all__ = [
    "ARCHES",
    "COMMAND_LINE_SIZE",
    "GENERIC_COMMAND_LINE_SIZE",
    "MEMMAP_ARCHES",
    "MEM_SEMANTICS",
    "command_line_size",
    "normalize_arch",
]
