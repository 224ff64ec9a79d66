"""``load_config``: a ``.config``/defconfig → :class:`KernelConfig`, resolved with kconfiglib."""

from __future__ import annotations

import difflib
import os
import re
import stat
import zlib
from collections.abc import Mapping
from pathlib import Path

from memplan.arch import normalise_arch
from memplan.argnames import argument, argument_value
from memplan.diagnostics import diag
from memplan.errors import ConfigError, MemplanError, shorten
from memplan.kconfig import limits
from memplan.kconfig.dotconfig import (
    Assignment,
    DotConfig,
    WrittenSources,
    WrittenValues,
    decode,
    parse_dotconfig,
)
from memplan.kconfig.engine import ModelKey, load_model
from memplan.kconfig.evaluate import INTERNAL_PREFIX, Evaluation, evaluate
from memplan.kconfig.model import CmaSizeSel, CmdlineMode, KernelConfig
from memplan.kconfig.symbols import MEMPLAN_SYMBOLS, arch_from_symbols, normalize_arch
from memplan.kernel import rules
from memplan.model import Diagnostic
from memplan.source import Source
from memplan.version import KernelVersion

#: The newest release memplan's Kconfig model describes; assumed when no version is known.
NEWEST_MODELLED = rules.KCONFIG_NEWEST_MODELLED
#: The oldest release the model was checked against.
OLDEST_MODELLED = rules.KCONFIG_OLDEST_MODELLED

_MAKEFILE_RE = re.compile(r"^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*([0-9]+)\s*$", re.MULTILINE)


def version_code(version: KernelVersion) -> int:
    """``major * 100 + minor``: the number the bundled Kconfig model compares eras with."""
    return rules.version_key(version)


def cmdline_model_file(arch: str, version: KernelVersion) -> str:
    """The bundled Kconfig file for the architecture's built-in command line symbols.

    arm64 changed twice (kernel-semantics §5.3): up to 5.10 a lone ``CMDLINE_FORCE`` bool,
    in 5.11 a choice with ``CMDLINE_EXTEND``, from 5.12 a choice without it.
    """
    if arch == "arm64":
        return f"cmdline-arm64-{rules.arm64_cmdline_kconfig(version)}.Kconfig"
    return f"cmdline-{arch}.Kconfig"


def _argument_source(what: str, value: str) -> Source:
    return Source("config", file=f"<{what} argument>", text=value)


def read_config_file(path: str | os.PathLike[str], name: str) -> str:
    """The text of a config file (gzip-compressed allowed), read and decompressed within
    :func:`memplan.kconfig.limits.max_config_bytes`; :class:`ConfigError` naming ``name``
    for a file that cannot be read, is too large, is corrupt gzip or is not text."""
    return _read(path, name)


def _read(path: str | os.PathLike[str], name: str) -> str:
    where = Source("config", file=name)
    limit = limits.max_config_bytes()
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ConfigError("not a regular file, not a kernel config file", where)
            data = f.read(limit + 1)
    except IsADirectoryError:
        raise ConfigError("is a directory, not a kernel config file", where) from None
    except OSError as err:
        reason = err.strerror or str(err)
        raise ConfigError(f"cannot read kernel config: {reason}", where) from None
    if data[:2] == b"\x1f\x8b":  # /proc/config.gz and the like
        data = _gunzip(data, where, limit)
    if len(data) > limit:
        raise ConfigError(limits.too_big_message("kernel config", limit), where)
    return decode(data, name)


def _gunzip(data: bytes, where: Source, limit: int) -> bytes:
    """Decompress gzip ``data`` (all members), refusing output beyond ``limit`` bytes: a small
    "bomb" must not take gigabytes. The check runs as the data streams, never after."""
    out: list[bytes] = []
    total = 0
    rest = data
    try:
        while rest:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = rest
            while not d.eof:
                chunk = d.decompress(pending, limit + 1 - total)
                pending = d.unconsumed_tail
                total += len(chunk)
                out.append(chunk)
                if total > limit:
                    raise ConfigError(limits.too_big_message("decompressed kernel config", limit), where)
                if not chunk and not pending:
                    raise ConfigError("corrupt gzip data: the compressed stream ends early", where)
            rest = d.unused_data.lstrip(b"\x00")  # gzip allows zero padding after a member
    except zlib.error as err:
        raise ConfigError(f"corrupt gzip data: {err}", where) from None
    return b"".join(out)


def _coerce_version(value: KernelVersion | str | tuple[int, ...] | None) -> KernelVersion | None:
    try:
        return KernelVersion.coerce(value)
    except MemplanError as err:
        raise ConfigError(err.message, _argument_source("kernel_version", str(value))) from None


def _srctree_version(srctree: Path) -> KernelVersion | None:
    try:
        text = (srctree / "Makefile").read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return None
    found = dict(_MAKEFILE_RE.findall(text))
    if "VERSION" in found and "PATCHLEVEL" in found:
        where = Source("file", file=str(srctree / "Makefile"))
        text = f"{found['VERSION']}.{found['PATCHLEVEL']}.{found.get('SUBLEVEL', '0')}"
        try:
            return KernelVersion.parse(text, where)
        except MemplanError as err:
            raise ConfigError(err.message, where) from None
    return None


#: The bundled Kconfig model for an architecture memplan knows by name but does not model
#: (``arch-generic.Kconfig``, ``cmdline-generic.Kconfig``).
GENERIC_MODEL = "generic"


def _model_arch(arch: str) -> str:
    """The bundled model an architecture is evaluated with: its own, or the generic one."""
    return arch if normalize_arch(arch) is not None else GENERIC_MODEL


def _decide_arch(dot: DotConfig, arch: str | None, diags: list[Diagnostic]) -> str:
    header_arch = normalise_arch(dot.header.arch) if dot.header else None
    symbol_arch, symbol_src = arch_from_symbols(dot.last())
    if arch is not None:
        wanted = normalise_arch(arch)
        if wanted is None:
            raise ConfigError(
                f"unknown architecture {arch!r} (memplan models arm, arm64, riscv and x86)",
                _argument_source("arch", arch),
            )
        for found, src, where in ((header_arch, dot.header.source if dot.header else None, "the header"),
                                  (symbol_arch, symbol_src, "the config symbols")):
            if found is not None and found != wanted:
                diags.append(diag(
                    "kconfig-arch-mismatch",
                    f"{where} name{'s' if where == 'the header' else ''} {found}, "
                    f"but {argument_value('arch', wanted)} was given; using {wanted}",
                    src,
                ))
        return wanted
    if header_arch is not None:
        if symbol_arch is not None and symbol_arch != header_arch:
            diags.append(diag(
                "kconfig-arch-mismatch",
                f"the config symbols say {symbol_arch}, the header says {header_arch}; using {header_arch}",
                symbol_src,
            ))
        return header_arch
    if dot.header is not None:
        raise ConfigError(
            f"the header names architecture {dot.header.arch!r}, which memplan does not know "
            f"(it models arm, arm64, riscv, x86); pass {argument('arch')} to override",
            dot.header.source,
        )
    if symbol_arch is not None:
        return symbol_arch
    raise ConfigError(
        "cannot tell the architecture: no '# Linux/<arch> <version> Kernel Configuration' header and no "
        f"CONFIG_ARM64/CONFIG_ARM/CONFIG_X86/CONFIG_RISCV line; pass {argument('arch')}",
        Source("config", file=dot.name),
    )


def _decide_version(
    dot: DotConfig, explicit: KernelVersion | None, diags: list[Diagnostic]
) -> KernelVersion | None:
    header_version: KernelVersion | None = None
    if dot.header is not None:
        try:
            header_version = KernelVersion.parse(dot.header.version, dot.header.source)
        except MemplanError as err:
            diags.append(diag(
                "kconfig-header-version",
                f"cannot read a kernel version from the header ({shorten(dot.header.version)!r}): "
                f"{err.message}",
                dot.header.source,
            ))
    if explicit is not None:
        if (
            header_version is not None
            and rules.same_series(header_version, explicit)
            and explicit.patch in (0, header_version.patch)
        ):
            return header_version  # the same release; the header is more precise
        if header_version is not None:
            diags.append(diag(
                "kconfig-version-mismatch",
                f"the header says Linux {header_version}, "
                f"but {argument_value('kernel_version', explicit)} was given; using {explicit}",
                dot.header.source if dot.header else None,
            ))
        return explicit
    return header_version


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    name: str | None = None,
    arch: str | None = None,
    kernel_version: KernelVersion | str | tuple[int, ...] | None = None,
    srctree: str | os.PathLike[str] | None = None,
) -> KernelConfig:
    """Read a kernel ``.config`` or minimal defconfig and resolve it like ``make olddefconfig``.

    Give ``path`` (plain or gzip-compressed, like ``/proc/config.gz``) or ``text`` (``name``
    names the input in diagnostics). ``arch`` and ``kernel_version`` default to the
    ``# Linux/<arch> <version> Kernel Configuration`` header (explicit arguments win, with a
    warning when they disagree); the architecture can
    also come from ``CONFIG_ARM64=y`` and the like. Symbols are evaluated against memplan's
    bundled Kconfig model for that architecture and release, or, with ``srctree``, against
    the kernel tree's own ``Kconfig``. Raises :class:`ConfigError` for unusable input.
    """
    if (path is None) == (text is None):
        raise ConfigError(
            "give exactly one of a config path or text=", Source("config", file=name or "<config>")
        )
    if path is not None:
        label = name or os.fspath(path)
        body = _read(path, label)
    else:
        assert text is not None
        label = name or "<config>"
        body = text
        limit = limits.max_config_bytes()
        if len(body) > limit:
            raise ConfigError(
                limits.too_big_message("kernel config text", limit), Source("config", file=label)
            )
    dot = parse_dotconfig(body, label)
    diags: list[Diagnostic] = list(dot.diagnostics)
    the_arch = _decide_arch(dot, arch, diags)
    tree = Path(srctree).resolve() if srctree is not None else None
    version = _decide_version(dot, _coerce_version(kernel_version), diags)
    if version is None and tree is not None:
        version = _srctree_version(tree)
    modelled = version
    if version is None:
        modelled = NEWEST_MODELLED
        newest = f"{NEWEST_MODELLED.major}.{NEWEST_MODELLED.minor}"
        diags.append(diag(
            "kconfig-version-assumed",
            f"no kernel version given or found in the header; the Linux {newest} rules are used"
            if tree is None else
            f"no kernel version given or found in the header or the tree's Makefile; version-dependent "
            f"readings (the meaning of the buddy order limit) follow Linux {newest}",
            Source("config", file=label),
        ))
    elif not rules.kconfig_model_covers(version) and tree is None:
        diags.append(diag(
            "kconfig-version-unmodelled",
            f"Linux {version} is older than memplan's Kconfig model ({OLDEST_MODELLED.major}."
            f"{OLDEST_MODELLED.minor}); its oldest rules are used",
            dot.header.source if dot.header else None,
        ))
    assert modelled is not None
    if tree is not None:
        key = ModelKey(the_arch, srctree=str(tree), kernelversion=str(version) if version else None)
    else:
        model = _model_arch(the_arch)
        key = ModelKey(model, version_code(modelled), cmdline_model_file(model, modelled))
        if model == GENERIC_MODEL:
            diags.append(diag(
                "kconfig-arch-generic",
                f"memplan has no Kconfig model for {the_arch}: the .config is read with the generic one "
                "(values as written; a symbol left out takes the generic default)",
                dot.header.source if dot.header else Source("config", file=label),
            ))
    kconf, parse_warnings = load_model(key)
    effective = dot.last()
    version_text = _version_text(the_arch, modelled)
    result = evaluate(kconf, dot.assignments, effective, version_text, label, partial_model=tree is None)
    diags.extend(result.diagnostics)
    where = version_text if tree is None else f"in the Kconfig files of {tree}"
    diags.extend(_absent_symbols(effective, result, where))
    diags.extend(_unknown_symbols(effective, result, where, full_model=tree is not None))
    for warning in parse_warnings:  # about the Kconfig files, not the user's config
        diags.append(diag("kconfig-tool-warning", f"kconfiglib: {warning.strip()}",
                                _kconfig_position(warning, tree)))
    for warning in result.warnings:
        if "outside the active range" in warning:
            continue  # reported as kconfig-out-of-range with the line
        diags.append(diag("kconfig-tool-warning",
                                f"kconfiglib: {shorten(warning.strip(), limits.TOOL_WARNING_LIMIT)}",
                                Source("config", file=label), severity="warning"))
    return _build(the_arch, version, modelled, label, effective, result, diags)


_DEFINED_AT_RE = re.compile(r"(?:defined at |^)(?P<file>[^\s:()]+):(?P<line>[0-9]{1,9})")


def _kconfig_position(warning: str, tree: Path | None) -> Source:
    """Where in the Kconfig files a kconfiglib warning points (``defined at file:line``)."""
    root = tree if tree is not None else Path("memplan/kconfig/data")
    m = _DEFINED_AT_RE.search(warning.strip())
    if m is None:
        return Source.at(str(root), 1)
    return Source.at(str(root / m.group("file")), int(m.group("line")))


def _version_text(arch: str, version: KernelVersion) -> str:
    return f"on {arch} in Linux {version.major}.{version.minor}"


def _absent_symbols(effective: Mapping[str, Assignment], result: Evaluation, where: str) -> list[Diagnostic]:
    """Lines setting a symbol memplan reads that this architecture/release does not have."""
    out = []
    for name in effective:
        if name in MEMPLAN_SYMBOLS and name not in result.defined:
            out.append(diag(
                "kconfig-not-in-version",
                f"CONFIG_{name} does not exist {where}; the line has no effect",
                effective[name].source, f"CONFIG_{name}",
            ))
    return out


_PREFIXES = frozenset(name[:3] for name in MEMPLAN_SYMBOLS)
#: The last ``(defined, by_upper)`` of :func:`_names_by_upper`: the evaluations of one model share
#: one ``defined`` set (:class:`memplan.kconfig.engine.ModelFacts`).
_BY_UPPER: list[tuple[frozenset[str], dict[str, str]]] = []


def _names_by_upper(defined: frozenset[str]) -> dict[str, str]:
    """Each known symbol (defined, or read by memplan) by its upper-case spelling; of names
    that differ only in case, the last in sorted order."""
    last = _BY_UPPER[-1] if _BY_UPPER else None
    if last is not None and last[0] is defined:
        return last[1]
    by_upper = {name.upper(): name for name in sorted(MEMPLAN_SYMBOLS | defined)}
    _BY_UPPER[:] = [(defined, by_upper)]
    return by_upper


def _unknown_symbols(
    effective: Mapping[str, Assignment], result: Evaluation, where: str, *, full_model: bool
) -> list[Diagnostic]:
    """Lines naming a symbol the Kconfig files do not define (the kernel's tools skip them silently).

    Against a kernel tree every such line is reported. memplan's bundled model leaves out most
    of the kernel, so there only names that look like a misspelt symbol memplan reads are
    reported (``CMA_SIZE_MBYTE``, ``cma``), with the likely intended name.
    """
    by_upper = _names_by_upper(result.defined)
    prefixes = _PREFIXES
    out = []
    for name in effective:
        if name in result.defined or name in MEMPLAN_SYMBOLS or name.startswith(INTERNAL_PREFIX):
            continue
        guess = by_upper.get(name.upper())
        if guess is None and len(name) >= 6 and name[:3] in prefixes:
            # a near miss with the same start (BCMA_DEBUG is a real symbol, not a CMA_DEBUG typo)
            close = difflib.get_close_matches(name, sorted(MEMPLAN_SYMBOLS), n=1, cutoff=0.9)
            guess = close[0] if close and close[0][:3] == name[:3] else None
        if guess is None and not full_model:
            continue
        hint = f"; did you mean CONFIG_{guess}?" if guess else ""
        out.append(diag(
            "kconfig-unknown-symbol",
            f"CONFIG_{name} is not a symbol {where}; the kernel's tools ignore the line{hint}",
            effective[name].source, f"CONFIG_{name}",
        ))
    return out


def _build(
    arch: str,
    version: KernelVersion | None,
    modelled: KernelVersion,
    label: str,
    effective: Mapping[str, Assignment],
    result: Evaluation,
    diags: list[Diagnostic],
) -> KernelConfig:
    # Every other written symbol keeps its value as written and its line, looked up in the
    # config's own columns when asked for (no copy per line: a config may have a million).
    # the evaluations of one model share one set of defined names: kept as the same object where
    # it is the whole set, so that pickling a model's configurations together writes it once
    written = MEMPLAN_SYMBOLS & effective.keys()
    hidden = result.defined if written <= result.defined else frozenset(result.defined | written)
    own_sources: dict[str, Source] = dict(result.sources)
    for name in MEMPLAN_SYMBOLS & effective.keys():
        if name not in result.defined:  # a symbol this kernel lacks: the line has no effect
            line = effective[name].line
            own_sources[name] = Source.builtin(f"CONFIG_{name} does not exist here (line {line} of {label})")
    values: Mapping[str, str] = WrittenValues(dict(result.values), effective, hidden)
    sources: Mapping[str, Source] = WrittenSources(own_sources, effective, frozenset(result.defined))

    def on(symbol: str) -> bool:
        return values.get(symbol) in ("y", "m")

    def number(symbol: str) -> int | None:
        return limits.checked_int(symbol, values.get(symbol, ""), sources.get(symbol))

    page_size = _page_size(values, sources, diags)

    return KernelConfig(
        arch=arch,
        kernel_version=version,
        cma=on("CMA"),
        dma_cma=on("DMA_CMA"),
        cma_size_sel=_size_sel(values),
        cma_size_mbytes=number("CMA_SIZE_MBYTES"),
        cma_size_percentage=number("CMA_SIZE_PERCENTAGE"),
        cma_alignment=number("CMA_ALIGNMENT"),
        cma_areas=number("CMA_AREAS"),
        dma_numa_cma=on("DMA_NUMA_CMA"),
        dma_pernuma_cma=on("DMA_PERNUMA_CMA"),
        numa=on("NUMA"),
        cmdline=values.get("CMDLINE", ""),
        cmdline_mode=_cmdline_mode(arch, values),
        page_size=page_size,
        max_order=_max_order(values, sources, modelled, page_size),
        hugetlb=on("HUGETLB_PAGE"),
        transparent_hugepage=on("TRANSPARENT_HUGEPAGE"),
        highmem=on("HIGHMEM"),
        arm_lpae=on("ARM_LPAE"),
        page_block_max_order=number("PAGE_BLOCK_MAX_ORDER"),
        diagnostics=tuple(diags),
        name=label,
        values=values,
        sources=sources,
    )


def _size_sel(values: Mapping[str, str]) -> CmaSizeSel:
    for symbol, sel in (
        ("CMA_SIZE_SEL_PERCENTAGE", "percentage"),
        ("CMA_SIZE_SEL_MIN", "min"),
        ("CMA_SIZE_SEL_MAX", "max"),
    ):
        if values.get(symbol) == "y":
            return sel  # type: ignore[return-value]
    return "mbytes"


def _cmdline_mode(arch: str, values: Mapping[str, str]) -> CmdlineMode:
    """How the built-in command line combines with the bootloader's (kernel-semantics §6)."""
    if arch == "x86":
        if values.get("CMDLINE_BOOL") != "y":
            return "none"
        return "override" if values.get("CMDLINE_OVERRIDE") == "y" else "prepend"
    if values.get("CMDLINE_FORCE") == "y":
        return "force"
    if values.get("CMDLINE_EXTEND") == "y":
        return "extend"
    return "fallback" if arch == "riscv" else "bootloader"


def _page_size(values: Mapping[str, str], sources: Mapping[str, Source], diags: list[Diagnostic]) -> int:
    for symbol in ("ARM64_PAGE_SHIFT", "PAGE_SHIFT"):
        shift = limits.page_shift(symbol, values.get(symbol, ""), sources.get(symbol), diags)
        if shift:
            return 1 << shift
    for symbol, size in (("ARM64_64K_PAGES", 65536), ("PAGE_SIZE_64KB", 65536),
                         ("ARM64_16K_PAGES", 16384), ("PAGE_SIZE_16KB", 16384)):
        if values.get(symbol) == "y":
            return size
    return 4096


def _max_order(
    values: Mapping[str, str], sources: Mapping[str, Source], version: KernelVersion, page_size: int
) -> int:
    """The largest buddy order, inclusive. Before 6.4 the Kconfig value is ``MAX_ORDER``, one
    more than the largest order ("mm, treewide: redefine MAX_ORDER sanely", 6.4). The result
    is range-checked (:func:`memplan.kconfig.limits.check_max_order`) at its config line."""
    symbol = "ARCH_FORCE_MAX_ORDER"
    forced = limits.checked_int(symbol, values.get(symbol, ""), sources.get(symbol))
    exclusive = not rules.max_order_is_inclusive(version)
    if not forced:
        symbol = "FORCE_MAX_ZONEORDER"
        forced = limits.checked_int(symbol, values.get(symbol, ""), sources.get(symbol))
        if forced:
            exclusive = True
    if not forced:
        return 10
    order = forced - 1 if exclusive else forced
    limits.check_max_order(symbol, values[symbol], order, page_size, sources.get(symbol))
    return order
