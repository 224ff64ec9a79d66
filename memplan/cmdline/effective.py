"""The command line the kernel really parses (kernel-semantics.md §6).

DT architectures (drivers/of/fdt.c ``early_init_dt_scan_chosen``)::

    bl  = bootloader string when non-empty (EFI stub / loader), else DT /chosen/bootargs
    eff = FORCE  ? CONFIG_CMDLINE
        : EXTEND ? bl + " " + CONFIG_CMDLINE
        : bl if bl != "" else CONFIG_CMDLINE          (FROM_BOOTLOADER / FALLBACK)

A missing ``/chosen`` node before v6.1 means CONFIG_CMDLINE is not applied at all.

x86 (arch/x86/kernel/setup.c): without CMDLINE_BOOL the boot-protocol string as is; with
CMDLINE_BOOL the built-in string is **prepended** (``CONFIG_CMDLINE + " " + bootloader``), with
CMDLINE_OVERRIDE it replaces the bootloader string.

The result is cut to ``COMMAND_LINE_SIZE - 1`` characters (warned).
"""

from __future__ import annotations

from typing import Protocol

import attrs

from memplan.cmdline.arch import command_line_size, normalize_arch
from memplan.cmdline.tokenize import OriginLookup
from memplan.diagnostics import diag
from memplan.errors import CmdlineError, MemplanError
from memplan.kernel import rules
from memplan.model import Diagnostic
from memplan.source import Source
from memplan.version import KernelVersion

ORIGIN_BOOTLOADER = "bootloader"
ORIGIN_BOOTARGS = "/chosen/bootargs"
ORIGIN_CONFIG = "CONFIG_CMDLINE"

DT_MODES = ("bootloader", "extend", "force", "fallback")
X86_MODES = ("none", "prepend", "override")

_MODE_WORDS = {
    "bootloader": "CMDLINE_FROM_BOOTLOADER",
    "extend": "CMDLINE_EXTEND",
    "force": "CMDLINE_FORCE",
    "fallback": "CMDLINE_FALLBACK",
    "prepend": "CMDLINE_BOOL",
    "override": "CMDLINE_OVERRIDE",
}


class CmdlineConfig(Protocol):
    """What :func:`effective_cmdline` needs from a kernel configuration (``memplan.kconfig.KernelConfig``)."""

    @property
    def cmdline(self) -> str:
        """``CONFIG_CMDLINE`` (empty when unset)."""
        ...

    @property
    def cmdline_mode(self) -> str:
        """DT arches: ``bootloader``/``extend``/``force``/``fallback``; x86: ``none``/``prepend``/...."""
        ...

    def source_of(self, symbol: str) -> Source:
        """Where ``symbol`` was set."""
        ...


@attrs.frozen
class CmdlinePart:
    """A slice ``[start, end)`` of the effective command line and where it came from."""

    start: int
    end: int
    origin: str
    source: Source | None = None

    def covers(self, index: int) -> bool:
        """True when ``index`` lies in this part."""
        return self.start <= index < self.end


@attrs.frozen
class EffectiveCmdline:
    """The command line the kernel parses.

    ``origin`` says in words where it came from (e.g. ``"DT /chosen/bootargs + CONFIG_CMDLINE
    (CMDLINE_EXTEND)"``); ``parts`` map spans back to their origins; ``source`` covers the whole
    string; ``truncated`` is the number of characters cut at ``COMMAND_LINE_SIZE``.
    """

    text: str
    origin: str
    source: Source
    parts: tuple[CmdlinePart, ...] = ()
    arch: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    truncated: int = 0

    def origin_at(self, index: int) -> str | None:
        """The origin of the character at ``index`` (``None`` for a joining blank)."""
        for part in self.parts:
            if part.covers(index):
                return part.origin
        return None

    def part_at(self, index: int) -> CmdlinePart | None:
        """The part holding the character at ``index``."""
        for part in self.parts:
            if part.covers(index):
                return part
        return None

    def lookup(self) -> OriginLookup:
        """An origin lookup for the tokenizer."""
        return OriginLookup(tuple((p.start, p.end, p.origin) for p in self.parts), None)

    def __str__(self) -> str:
        return self.text


def _mode_error(
    mode: str, arch: str | None, expected: tuple[str, ...], source: Source | None
) -> CmdlineError:
    return CmdlineError(
        f"command-line mode {mode!r} does not exist on {arch or 'this architecture'} "
        f"(expected one of {', '.join(expected)})",
        source or Source.builtin("CONFIG_CMDLINE mode"),
    )


def _empty_forced(mode: str, source: Source | None) -> Diagnostic:
    """The built-in string replaces the bootloader's even when it is empty (arm64 before v5.10
    allowed CMDLINE_FORCE with an empty CONFIG_CMDLINE)."""
    return diag(
        "cmdline-forced-empty",
        f"{mode} with an empty CONFIG_CMDLINE: the kernel boots with an empty command line",
        source,
    )


def effective_cmdline(
    arch: str | None = None,
    bootloader: str | None = None,
    dt_bootargs: str | None = None,
    dt_bootargs_source: Source | None = None,
    config: CmdlineConfig | None = None,
    kernel_version: KernelVersion | str | None = None,
    *,
    has_chosen: bool | None = None,
    bootloader_source: Source | None = None,
) -> EffectiveCmdline:
    """Combine the bootloader string, DT ``/chosen/bootargs`` and ``CONFIG_CMDLINE`` as the kernel does.

    ``has_chosen``: whether the DT has a ``/chosen`` node (default: assumed when
    ``dt_bootargs`` is given or no DT facts are known). ``kernel_version`` decides the missing
    ``/chosen`` rule (before v6.1 CONFIG_CMDLINE is then not applied) and whether arm64 still
    has CMDLINE_EXTEND (gone in v5.12).
    """
    arch = normalize_arch(arch)
    version = KernelVersion.coerce(kernel_version)
    diags: list[Diagnostic] = []
    built_in = config.cmdline if config is not None else ""
    mode = config.cmdline_mode if config is not None else None
    cfg_src = config.source_of("CMDLINE") if config is not None else None
    mode_src: Source | None = None
    if config is not None and mode is not None:
        try:
            mode_src = config.source_of(f"CMDLINE_{mode.upper()}")
        except (LookupError, MemplanError):  # the config does not know the symbol
            mode_src = cfg_src
    pieces: list[tuple[str, str, Source | None]] = []  # (text, origin, source)
    bl_src: Source | None
    words: str
    if arch == "x86":
        mode = mode or "none"
        if mode not in X86_MODES:
            raise _mode_error(mode, arch, X86_MODES, mode_src)
        if dt_bootargs is not None:
            diags.append(
                diag(
                    "cmdline-dt-bootargs-ignored",
                    "x86 takes its command line from the boot protocol; DT /chosen/bootargs is not used",
                    dt_bootargs_source,
                )
            )
        bl = bootloader or ""
        bl_src = bootloader_source or Source.builtin("bootloader command line")
        if mode == "override":
            pieces = [(built_in, ORIGIN_CONFIG, cfg_src)]
            words = "CONFIG_CMDLINE (CMDLINE_OVERRIDE)"
            if not built_in:
                diags.append(_empty_forced("CMDLINE_OVERRIDE", cfg_src))
        elif mode == "prepend" and built_in:
            pieces = [(built_in, ORIGIN_CONFIG, cfg_src), (bl, ORIGIN_BOOTLOADER, bl_src)]
            words = "CONFIG_CMDLINE (CMDLINE_BOOL) + bootloader"
        else:
            pieces = [(bl, ORIGIN_BOOTLOADER, bl_src)]
            words = "bootloader"
    else:
        mode = mode or "bootloader"
        if mode not in DT_MODES:
            raise _mode_error(mode, arch, DT_MODES, mode_src)
        if (
            mode == "extend"
            and arch == "arm64"
            and version is not None
            and not rules.arm64_cmdline_extend(version)
        ):
            diags.append(
                diag(
                    "cmdline-extend-unavailable",
                    f"arm64 has CMDLINE_EXTEND only in v5.11 (kernel {version}); "
                    "treated as CMDLINE_FROM_BOOTLOADER",
                    mode_src,
                )
            )
            mode = "bootloader"
        if bootloader:
            bl, bl_origin = bootloader, ORIGIN_BOOTLOADER
            bl_src = bootloader_source or Source.builtin("bootloader command line")
            if dt_bootargs:
                diags.append(
                    diag(
                        "cmdline-bootargs-replaced",
                        "the bootloader's command line replaces DT /chosen/bootargs",
                        dt_bootargs_source,
                    )
                )
        else:
            bl, bl_origin, bl_src = dt_bootargs or "", ORIGIN_BOOTARGS, dt_bootargs_source
        bl_words = "bootloader" if bl_origin == ORIGIN_BOOTLOADER else "DT /chosen/bootargs"
        chosen = has_chosen if has_chosen is not None else True
        if not chosen and dt_bootargs:
            chosen = True
        if (
            not chosen
            and not bootloader
            and version is not None
            and not rules.cmdline_config_without_chosen(version)
        ):
            pieces = []
            words = "empty (no /chosen node; CONFIG_CMDLINE is not applied before v6.1)"
            if built_in:
                diags.append(
                    diag(
                        "cmdline-no-chosen",
                        f"no /chosen node: kernel {version} ignores CONFIG_CMDLINE and boots with an empty "
                        "command line",
                        cfg_src,
                    )
                )
        elif mode == "force":
            pieces = [(built_in, ORIGIN_CONFIG, cfg_src)]
            words = "CONFIG_CMDLINE (CMDLINE_FORCE)"
            if not built_in:
                diags.append(_empty_forced("CMDLINE_FORCE", cfg_src))
            if bl:
                diags.append(
                    diag(
                        "cmdline-bootargs-overridden",
                        f"CMDLINE_FORCE: the {bl_words} string is not used",
                        bl_src,
                    )
                )
        elif mode == "extend" and built_in:
            pieces = [(bl, bl_origin, bl_src), (built_in, ORIGIN_CONFIG, cfg_src)]
            words = f"{bl_words} + CONFIG_CMDLINE (CMDLINE_EXTEND)"
        elif bl:
            pieces = [(bl, bl_origin, bl_src)]
            words = bl_words
        elif built_in:
            pieces = [(built_in, ORIGIN_CONFIG, cfg_src)]
            words = f"CONFIG_CMDLINE ({_MODE_WORDS[mode]}: no bootargs)"
        else:
            pieces = []
            words = "empty"
    text, parts = _join(pieces)
    limit = command_line_size(arch) - 1
    cut = 0
    if len(text) > limit:
        cut = len(text) - limit
        dropped = text[limit:]
        text = text[:limit]
        parts = [attrs.evolve(p, end=min(p.end, limit)) for p in parts if p.start < limit]
        diags.append(
            diag(
                "cmdline-truncated",
                f"the command line is {limit + cut} characters; the kernel keeps only the first {limit} "
                f"(COMMAND_LINE_SIZE {limit + 1} on {arch or 'this architecture'}), dropping {dropped[:40]!r}"
                f"{'...' if len(dropped) > 40 else ''}",
                Source.token(text[max(0, limit - 20) :], max(0, limit - 20), limit, words),
            )
        )
    source = Source.token(text, 0, len(text), words)
    return EffectiveCmdline(text, words, source, tuple(parts), arch, tuple(diags), cut)


def _join(pieces: list[tuple[str, str, Source | None]]) -> tuple[str, list[CmdlinePart]]:
    text = ""
    parts: list[CmdlinePart] = []
    for i, (piece, origin, src) in enumerate(pieces):
        if i:
            text += " "
        start = len(text)
        text += piece
        if piece:
            parts.append(CmdlinePart(start, len(text), origin, src))
    return text, parts
