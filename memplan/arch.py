"""Architecture names, shared by every front end.

One table maps the names people and tools use (``aarch64``, ``x86_64``, ``armhf`` ...) to the
kernel's ``SRCARCH`` names; :func:`normalise_arch` applies it. The per-architecture facts that
more than one front end needs live here too; facts that only one part uses stay with that part
(``memplan.cmdline.arch`` for ``COMMAND_LINE_SIZE``, ``mem=`` and ``memmap=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

#: An architecture name memplan knows (kernel ``SRCARCH`` spelling).
Arch = Literal["arm", "arm64", "riscv", "x86", "mips", "xtensa", "powerpc", "arc", "loongarch"]

#: Architectures memplan knows by name (kernel ``SRCARCH`` spelling).
ARCHES: tuple[Arch, ...] = get_args(Arch)

#: Architectures with a bundled Kconfig model (``memplan.kconfig``) and a resolver.
MODELLED_ARCHES: tuple[str, ...] = ("arm", "arm64", "riscv", "x86")

#: Other spellings of an architecture (distribution, ``uname -m`` and toolchain names) -> ``SRCARCH``.
ARCH_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "aarch64": "arm64",
        "arm32": "arm",
        "armhf": "arm",
        "armel": "arm",
        "armv7": "arm",
        "armv7l": "arm",
        "x86_64": "x86",
        "x86-64": "x86",
        "amd64": "x86",
        "i386": "x86",
        "i686": "x86",
        "riscv32": "riscv",
        "riscv64": "riscv",
        "mips64": "mips",
        "mipsel": "mips",
        "ppc": "powerpc",
        "ppc64": "powerpc",
        "ppc64le": "powerpc",
        "loong64": "loongarch",
        "loongarch64": "loongarch",
    }
)

#: Kconfig symbols that name the architecture a ``.config`` was made for, most specific first.
ARCH_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("ARM64", "arm64"),
    ("X86_64", "x86"),
    ("X86_32", "x86"),
    ("X86", "x86"),
    ("RISCV", "riscv"),
    ("ARM", "arm"),
)


_BY_NAME: Mapping[str, Arch] = MappingProxyType({a: a for a in ARCHES})


def normalise_arch(name: str | None) -> Arch | None:
    """The ``SRCARCH`` name for ``name`` (``aarch64`` → ``arm64``, ``x86_64`` → ``x86``).

    Case and surrounding blanks do not matter. Returns ``None`` for ``None`` and for a name
    memplan does not know; callers decide whether that is an error.
    """
    if name is None:
        return None
    key = name.strip().lower()
    key = ARCH_ALIASES.get(key, key)
    return _BY_NAME.get(key)


def is_modelled(arch: str | None) -> bool:
    """True when ``arch`` (any spelling) has a Kconfig model and a resolver."""
    return normalise_arch(arch) in MODELLED_ARCHES



# ---------------------------------------------------------------- architecture from a Device Tree

__all__ = [
    "ARCHES",
    "ARCH_ALIASES",
    "ARCH_SYMBOLS",
    "MODELLED_ARCHES",
    "is_modelled",
    "normalise_arch",
]
