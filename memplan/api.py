"""The facade: :func:`resolve` turns a Device Tree, a command line and a ``.config`` into a :class:`Plan`.

Inputs may be paths or text; :func:`resolve`'s docstring states how the two are told apart and
which argument values are accepted (anything else is a :class:`~memplan.errors.ResolveError`).
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import attrs

from memplan.arch import ARCH_SYMBOLS, ARCHES, MODELLED_ARCHES, is_modelled, normalise_arch
from memplan.argnames import argument, in_cli
from memplan.cmdline import effective_cmdline, parse_cmdline
from memplan.diagnostics import diag
from memplan.dts import Tree, read_dtb
from memplan.dts.archhint import infer_arch
from memplan.dts.dtb import FDT_MAGIC
from memplan.dts.dtcversion import DEFAULT_DTC, DtcVersion, choose_dtc, parse_dtc_version, with_dtc_reason
from memplan.dts.facts import DtFacts, extract
from memplan.errors import ConfigError, DtsError, MemplanError, ResolveError
from memplan.model import Diagnostic, PrecedenceRequest
from memplan.plan import Plan
from memplan.resolve.build import cmdline_facts, config_facts, guessed_base, pc_firmware_map
from memplan.resolve.e820 import E820_RAM, E820Entry
from memplan.resolve.engine import resolve_inputs
from memplan.resolve.firmware import firmware_notes
from memplan.resolve.inputs import Inputs
from memplan.resolve.precedence import DEFAULT_MODEL_VERSION, resolve_policy
from memplan.source import Source
from memplan.units import parse_size
from memplan.version import KernelVersion

if TYPE_CHECKING:  # the .config front end and overlays are imported only when given
    from memplan.dts.overlay_input import OverlaySpec
    from memplan.kconfig import KernelConfig
    from memplan.kconfig.dotconfig import DotConfig

__all__ = ["resolve"]

PathOrText = str | os.PathLike[str]

#: Endings that mark a single-line string as a file name rather than inline text.
_PATH_SUFFIXES = (".dts", ".dtsi", ".dtb", ".config", "defconfig", ".gz")
#: Characters or prefixes that only inline DTS/config text has (never a plausible path).
_TEXT_MARKERS = (";", "{", "}", '"')
_PRECEDENCES = ("auto", "seed", "kernel")
#: The smallest x86 RAM size the PC firmware map can describe (low RAM, BIOS areas, RAM above 1 MiB).
_X86_MIN_MEMORY = 2 << 20
_MAX_ADDRESS = 1 << 64


def _arg_error(arg: str, message: str) -> ResolveError:
    """A :class:`ResolveError` about the ``arg=`` argument of :func:`resolve` (``--arg`` in the CLI)."""
    return ResolveError(f"{argument(arg)}: {message}", _arg_source(arg))


def _arg_source(arg: str) -> Source | None:
    """The source of an argument error: the API names the keyword; the CLI message already does."""
    return None if in_cli() else Source.builtin(f"{arg} argument")


def _looks_like_path(value: str) -> bool:
    """True for a single-line string that can only be meant as a file name."""
    if value.endswith(_PATH_SUFFIXES):
        return True
    if any(m in value for m in _TEXT_MARKERS) or value.lstrip().startswith(("CONFIG_", "#")):
        return False
    return "/" in value


def _check_file(path: Path, arg: str) -> Path:
    """``path`` when it is a regular file; else "is a directory" / "no such file"."""
    name = os.fspath(path)
    if path.is_dir():
        raise ResolveError(f"{argument(arg)}: {name!r} is a directory, not a file", Source("file", file=name))
    if not path.is_file():
        raise ResolveError(f"{argument(arg)}: no such file: {name!r}", Source("file", file=name))
    return path


def _path_or_text(value: object, arg: str) -> Path | str:
    """Decide whether ``value`` is a file (``Path``) or inline text (``str``); see :func:`resolve`."""
    if isinstance(value, os.PathLike):
        raw = os.fspath(value)
        if not isinstance(raw, str):
            raise _arg_error(arg, "a path must be text, not bytes")
        return _check_file(Path(raw), arg)
    if not isinstance(value, str):
        raise _arg_error(arg, f"expected a path or text, got {type(value).__name__}")
    if "\n" in value or "\x00" in value:
        return value
    if value and os.path.isfile(value):
        return Path(value)
    if value and os.path.isdir(value):
        return _check_file(Path(value), arg)
    if _looks_like_path(value.strip()):
        return _check_file(Path(value), arg)
    return value


def _decode_text(value: bytes | bytearray, arg: str) -> str:
    """UTF-8 text of a bytes argument, or a :class:`ResolveError` naming the bad byte."""
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError as err:
        raise ResolveError(
            f"{argument(arg)}: bytes are not UTF-8 text "
            f"(byte 0x{value[err.start]:02x} at offset {err.start})",
            Source("builtin", text=f"{arg} argument", offset=err.start),
        ) from None


def _load_tree(
    dts: object, dtb: object, include_dirs: Sequence[str], notes: list[Diagnostic], symbols: bool = False,
    include_roots: Sequence[str] | None = None, dtc: DtcVersion = DEFAULT_DTC,
) -> Tree | None:
    """The Device Tree from ``dts=`` or ``dtb=`` (``notes`` receives the preprocessor's warnings);
    ``symbols``: source gets ``/__symbols__`` as ``dtc -@`` gives it."""
    from memplan.dts import load_device_tree, parse_dts

    if dts is not None and dtb is not None:
        raise ResolveError(
            f"give either {argument('dts')} or {argument('dtb')}, not both", _arg_source("dts")
        )
    if isinstance(dts, Tree):
        return dts
    if isinstance(dtb, Tree):
        return dtb
    if dts is not None:
        if isinstance(dts, bytes | bytearray):
            if bytes(dts[:4]) == FDT_MAGIC.to_bytes(4, "big"):
                return read_dtb(bytes(dts))
            dts = _decode_text(dts, "dts")
        where = _path_or_text(dts, "dts")
        if isinstance(where, str):
            tree: Tree = parse_dts(text=where, filename="<dts>", include_dirs=include_dirs, symbols=symbols,
                                   include_roots=include_roots, dtc=dtc)
            return tree
        loaded = load_device_tree(where, include_dirs, symbols=symbols, include_roots=include_roots, dtc=dtc)
        notes.extend(loaded.diagnostics)
        return loaded.tree
    if dtb is not None:
        if isinstance(dtb, bytes | bytearray):
            return read_dtb(bytes(dtb))
        if not isinstance(dtb, str | os.PathLike):
            raise _arg_error("dtb", f"expected a path, blob bytes or a Tree, got {type(dtb).__name__}")
        return read_dtb(os.fspath(_check_file(Path(os.fspath(dtb)), "dtb")))
    return None


def _apply_overlays(
    tree: Tree | None, overlays: object, include_dirs: Sequence[str], include_roots: Sequence[str] | None,
    dtc: DtcVersion = DEFAULT_DTC,
) -> Tree:
    """``tree`` (a copy when the caller passed a Tree) with ``overlays`` applied in order."""
    from memplan.dts.overlay_input import OverlaySpec, apply_overlay_specs

    if tree is None:
        raise _arg_error("overlays", "overlays need a base Device Tree (dts= or dtb=)")
    if isinstance(overlays, str | os.PathLike | OverlaySpec):
        overlays = [overlays]  # one overlay alone, as include_dirs takes one folder alone
    if not isinstance(overlays, Sequence):
        raise _arg_error("overlays", f"expected a list of overlay files, got {type(overlays).__name__}")
    merged = copy.deepcopy(tree)
    apply_overlay_specs(merged, list(overlays), include_dirs, include_roots=include_roots, dtc=dtc)
    return merged


def _infer_arch(dt: DtFacts | None, tree: Tree | None) -> str | None:
    """The architecture the Device Tree tells (:func:`memplan.dts.archhint.infer_arch`), else ``None``."""
    hint = infer_arch(tree) if tree is not None else None
    return hint.arch if hint is not None else None


@attrs.frozen
class _ConfigText:
    """A ``.config`` read once: its text, the label that names it and its header's version."""

    body: str
    label: str
    header_version: KernelVersion | None


def _read_config(config: object) -> _ConfigText:
    """Read the ``config=`` argument (path, gzip path or text) exactly once."""
    from memplan.kconfig.dotconfig import parse_dotconfig
    from memplan.kconfig.load import read_config_file

    where = _path_or_text(config, "config")
    if isinstance(where, str):
        body, label = where, "<config>"
    else:
        label = os.fspath(where)
        try:  # bounded read and gunzip (a small gzip bomb must not take gigabytes)
            body = read_config_file(where, label)
        except ConfigError as err:
            raise ConfigError(f"{argument('config')}: {err.message}", err.source) from None
    parsed = parse_dotconfig(body, label)
    _check_is_config(parsed)
    header = parsed.header
    version: KernelVersion | None = None
    if header is not None:
        try:
            version = KernelVersion.parse(header.version)
        except MemplanError:
            version = None  # load_config reports the unreadable header
    return _ConfigText(body, label, version)


def _check_is_config(parsed: DotConfig) -> None:
    """A file in which no line sets a symbol and some line is not a comment is not a kernel
    ``.config`` (e.g. a ``.dts`` given as one): one error instead of a warning per line."""
    bad = [d for d in parsed.diagnostics if d.code == "kconfig-malformed-line"]
    if parsed.assignments or not bad:
        return
    raise ConfigError(
        f"{argument('config')}: this is not a kernel .config or defconfig: no line sets a CONFIG_ symbol "
        f"and {len(bad)} line(s) are neither settings nor comments",
        bad[0].source,
    )


def _as_kernel_config(value: object) -> KernelConfig | None:
    """``value`` when it is a :class:`~memplan.kconfig.KernelConfig`. None can exist unless
    ``memplan.kconfig`` was imported, so a run without a ``.config`` does not import it."""
    kconfig = sys.modules.get("memplan.kconfig")
    if kconfig is None or not isinstance(value, kconfig.KernelConfig):
        return None
    return cast("KernelConfig", value)


def _config(cfg: _ConfigText, arch: str | None, version: KernelVersion) -> KernelConfig:
    """Evaluate the already-read ``.config`` under the one version this resolution uses."""
    from memplan.kconfig import load_config

    return load_config(text=cfg.body, name=cfg.label, arch=arch, kernel_version=version)


MemoryArg = str | int | Sequence[tuple[int, int]]


def _check_memory(memory: object) -> int | tuple[tuple[int, int], ...] | None:
    """The ``memory=`` argument validated: a positive size or ``(base, size)`` pairs."""
    if memory is None:
        return None
    if isinstance(memory, bool):
        raise _arg_error("memory", "expected a size or (base, size) pairs, got a bool")
    if isinstance(memory, str):
        try:
            size = parse_size(memory)
        except MemplanError as err:
            raise _arg_error("memory", err.message) from None
        memory = size
    if isinstance(memory, int):
        if not 0 < memory < _MAX_ADDRESS:
            raise _arg_error("memory", f"RAM size must be positive and below 2^64, got {memory}")
        return memory
    if not isinstance(memory, Sequence) or not memory:
        raise _arg_error("memory", "expected a size (e.g. '2G') or a non-empty list of (base, size) pairs")
    banks: list[tuple[int, int]] = []
    for i, pair in enumerate(memory):
        ok = isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2
        if not ok or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
            raise _arg_error("memory", f"entry {i} is not a (base, size) pair of integers: {pair!r}")
        base, size = int(pair[0]), int(pair[1])
        if base < 0 or size <= 0 or base + size > _MAX_ADDRESS:
            raise _arg_error(
                "memory", f"entry {i} ({base:#x}, {size:#x}): base must be >= 0, size > 0, end <= 2^64"
            )
        banks.append((base, size))
    return tuple(banks)


def _memory_map(
    memory: int | tuple[tuple[int, int], ...] | None, dt: DtFacts | None, arch: str
) -> tuple[tuple[E820Entry, ...] | None, Diagnostic | None]:
    """The RAM map ``memory=`` describes (``None`` without it) and the base-guess note, if any."""
    if memory is None:
        return None, None
    if isinstance(memory, int):
        if arch == "x86":
            if memory < _X86_MIN_MEMORY:
                raise _arg_error(
                    "memory", f"{memory} bytes is too little for a PC memory map (at least 2 MiB on x86)"
                )
            return pc_firmware_map(memory), None
        base, note = guessed_base(dt)
        return (E820Entry(base, memory, E820_RAM),), note
    return tuple(E820Entry(b, s, E820_RAM) for b, s in memory), None


def _arch_guessed(arch: str, kc: KernelConfig | None, tree: Tree | None, config_label: str) -> Diagnostic:
    """The ``arch-guessed`` note, pointing at the .config symbol or the DT ``/cpus`` node."""
    if kc is not None:
        symbol = next((sym for sym, name in ARCH_SYMBOLS if name == arch), None)
        src = kc.source_of(symbol) if symbol is not None else None
        if src is None or src.kind != "config":
            src = Source("config", file=config_label, text="the .config header")
        return diag("arch-guessed", f"architecture {arch} inferred from the .config", src)
    hint = infer_arch(tree) if tree is not None else None
    if hint is None:
        return diag("arch-guessed", f"architecture {arch} inferred from the Device Tree", None)
    return diag("arch-guessed", f"architecture {arch} inferred from {hint.reason}", hint.source)


def _version_unknown(assumed: KernelVersion, with_config: bool) -> Diagnostic:
    """The single note that says which release is assumed when none is known (layout, .config
    reading and command-line parsing all use it)."""
    what = "the layout and the .config reading follow" if with_config else "the layout follows"
    return diag(
        "version-unknown",
        f"kernel version unknown: {what} the {assumed.major}.{assumed.minor} rules and the global CMA pool "
        "the documented DTS > CMDLINE > DEFCONFIG rule; kernels 5.6 and later let cma= win over the "
        "Device Tree default pool",
        Source.builtin(f"Linux {assumed.major}.{assumed.minor} assumed: no version given or in a header"),
    )


def _check_version(value: object) -> KernelVersion | None:
    """``kernel_version=`` as a :class:`KernelVersion` within the range of real releases."""
    if value is None:
        return None
    if isinstance(value, tuple) and not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise _arg_error("kernel_version", f"a version tuple holds integers, got {value!r}")
    if isinstance(value, tuple) and not 2 <= len(value) <= 3:
        raise _arg_error("kernel_version", f"expected (major, minor) or (major, minor, patch), got {value!r}")
    if not isinstance(value, KernelVersion | str | tuple):
        raise _arg_error("kernel_version", f"expected e.g. '6.1' or (6, 1), got {type(value).__name__}")
    try:
        version = KernelVersion.coerce(value)
    except MemplanError as err:
        raise _arg_error("kernel_version", err.message) from None
    assert version is not None
    problem = version.implausible()
    if problem is not None:
        raise _arg_error("kernel_version", problem)
    return version


def _check_include_dirs(value: object, arg: str = "include_dirs") -> list[str]:
    """``include_dirs=`` (or ``include_roots=``) as a list of directory names; a single path
    counts as one directory. Include roots must exist (a root that is not there confines to
    nothing, which is never meant)."""
    if isinstance(value, str | os.PathLike):
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, bytes | bytearray):
        raise _arg_error(arg, f"expected a list of directories, got {type(value).__name__}")
    out: list[str] = []
    for d in value:
        if not isinstance(d, str | os.PathLike) or not isinstance(os.fspath(d), str):
            raise _arg_error(arg, f"not a directory name: {d!r}")
        if arg == "include_roots" and not os.path.isdir(d):
            raise _arg_error(arg, f"not a directory: {os.fspath(d)!r}")
        out.append(os.fspath(d))
    return out


def _check_dtc_version(value: object) -> DtcVersion | None:
    """``dtc_version=`` as a :class:`DtcVersion` (``None`` when not given)."""
    if value is None:
        return None
    if isinstance(value, DtcVersion):
        return value
    if not isinstance(value, str):
        raise _arg_error("dtc_version", f"expected e.g. '1.7', got {type(value).__name__}")
    try:
        return parse_dtc_version(value)
    except MemplanError as err:
        raise _arg_error("dtc_version", err.message) from None


def _check_cmdline(value: object, arg: str) -> str | None:
    """A command-line argument as text (UTF-8 bytes are decoded)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return _decode_text(value, arg)
    raise _arg_error(arg, f"expected a string, got {type(value).__name__}")


def resolve(
    dts: PathOrText | bytes | Tree | None = None,
    dtb: PathOrText | bytes | Tree | None = None,
    cmdline: str | bytes | None = None,
    config: PathOrText | KernelConfig | None = None,
    arch: str | None = None,
    kernel_version: KernelVersion | str | tuple[int, ...] | None = None,
    precedence: PrecedenceRequest = "auto",
    include_dirs: Sequence[PathOrText] | PathOrText = (),
    memory: MemoryArg | None = None,
    bootloader_cmdline: str | bytes | None = None,
    overlays: Sequence[PathOrText | OverlaySpec] = (),
    include_roots: Sequence[PathOrText] | PathOrText | None = None,
    dtc_version: DtcVersion | str | None = None,
) -> Plan:
    """Resolve the physical memory layout a kernel builds from these inputs.

    ``dts``/``dtb``: a path, DTS text (or blob bytes) or a parsed :class:`~memplan.dts.Tree`;
    a file given as ``dts=`` that starts with the blob magic ``0xd00dfeed`` is read as a DTB.
    ``cmdline``: the command line the boot loader passes (it replaces ``/chosen/bootargs`` when
    non-empty; ``CONFIG_CMDLINE`` rules still apply; ``bootloader_cmdline`` is a synonym);
    ``config``: a ``.config``/defconfig path (gzip allowed), text or
    :class:`~memplan.kconfig.KernelConfig`; ``kernel_version``: the version whose rules apply
    (else the ``.config`` header; else 6.1 is assumed, with a ``version-unknown`` note);
    ``precedence``: ``auto`` (the kernel's rule when the version is known, else the documented
    seed rule), ``seed`` or ``kernel``; ``include_dirs``: directories for DTS includes (one path
    alone counts as one directory); ``memory``: RAM size (``"2G"`` or bytes) or
    ``[(base, size), ...]`` — required on x86 (at least 2 MiB), replaces ``/memory`` elsewhere
    (a size-only value starts at the Device Tree's lowest /memory base; when there is none the
    base is guessed and a ``memory-base-guessed`` warning says so); ``overlays``: Device Tree
    overlays applied to the tree in order, as the boot loader does (``.dtbo`` files, overlay
    sources, or ``"FILE:param=value,..."`` with Raspberry Pi parameters; one alone counts as a
    list of one; a source base tree is then compiled with ``__symbols__`` as ``dtc -@`` does);
    ``include_roots``: directories that
    confine every Device Tree read (the files, their includes and ``/incbin/`` data, after
    symlinks; never a device or FIFO) — by default includes are found as cpp and dtc find them,
    and DTS given as text reads only from ``include_dirs``; ``dtc_version``: the dtc whose rules
    the source follows where dtc versions differ (``"1.7"``, or a
    :class:`~memplan.dts.dtcversion.DtcVersion`; default: with ``kernel_version``, the dtc that
    release carries in scripts/dtc (a ``dtc-from-kernel`` note says which), else 1.6.1, which
    refuses an array element out of range where 1.7 truncates it with a warning —
    :mod:`memplan.dts.dtcversion`).

    Path or text: for ``dts=`` and ``config=``, an ``os.PathLike`` is always a path; a string
    naming an existing file is a path; a string with a newline is text; any other one-line
    string is a path when it looks like one (it ends in ``.dts``, ``.dtsi``, ``.dtb``,
    ``.config``, ``defconfig`` or ``.gz``, or contains ``/`` but none of ``; { } "`` and does
    not start with ``CONFIG_`` or ``#``) — then a missing file is an error naming the argument —
    and text otherwise. Bytes: ``dtb=`` takes a raw blob; ``dts=`` bytes are a blob when they
    start with the magic, else UTF-8 DTS text; ``cmdline=`` bytes are decoded as UTF-8 (invalid
    UTF-8 is an error). Every invalid argument raises :class:`~memplan.errors.ResolveError`
    (source ``kernel default (<name> argument)``); any other unusable input raises another
    :class:`~memplan.errors.MemplanError`.
    """
    loader_cl = _check_cmdline(cmdline, "cmdline")
    loader_bl = _check_cmdline(bootloader_cmdline, "bootloader_cmdline")
    if loader_cl is not None and loader_bl is not None and loader_cl != loader_bl:
        raise ResolveError(
            "give the boot loader command line once (cmdline= or bootloader_cmdline=)",
            _arg_source("cmdline"),
        )
    loader = loader_bl if loader_bl is not None else loader_cl
    if not isinstance(precedence, str) or precedence not in _PRECEDENCES:
        raise _arg_error("precedence", f"expected one of {', '.join(_PRECEDENCES)}, got {precedence!r}")
    if arch is not None and not isinstance(arch, str):
        raise _arg_error("arch", f"expected a string such as 'arm64', got {type(arch).__name__}")
    explicit = _check_version(kernel_version)
    dirs = _check_include_dirs(include_dirs)
    roots = None if include_roots is None else _check_include_dirs(include_roots, "include_roots")
    dtc, dtc_note = choose_dtc(_check_dtc_version(dtc_version), explicit)
    ram = _check_memory(memory)
    wanted = normalise_arch(arch)
    if arch is not None and wanted is None:
        raise ResolveError(
            f"{argument('arch')}: unknown architecture {arch!r} (expected one of {', '.join(ARCHES)})"
            if in_cli()
            else f"unknown architecture {arch!r} (expected one of {', '.join(ARCHES)})",
            _arg_source("arch"),
        )
    notes: list[Diagnostic] = []
    if dtc_note is not None and ((dts is not None and not isinstance(dts, Tree)) or overlays):
        notes.append(dtc_note)  # only where source is compiled
    try:
        tree = _load_tree(dts, dtb, dirs, notes, symbols=bool(overlays), include_roots=roots, dtc=dtc)
        if overlays:
            tree = _apply_overlays(tree, overlays, dirs, roots, dtc)
    except DtsError as err:
        raise with_dtc_reason(err, dtc_note) from None
    dt = extract(tree) if tree is not None else None
    return _resolve_tree(tree, dt, notes, loader=loader, config=config, wanted=wanted, explicit=explicit,
                         precedence=precedence, ram=ram, memory_given=memory is not None)


def resolve_extracted(
    tree: Tree,
    facts: DtFacts,
    config: KernelConfig,
    arch: str,
    kernel_version: KernelVersion | None = None,
    memory: Sequence[tuple[int, int]] | None = None,
) -> Plan:
    """:func:`resolve` of a parsed ``tree`` whose facts the caller has already read
    (``facts = extract(tree)``, which must be of this very tree, unchanged since), with a
    :class:`~memplan.kconfig.KernelConfig`, a known architecture, the version whose rules
    apply (else the configuration's) and optionally the RAM banks. For callers that read the
    facts themselves first (the tree lint decides from them whether to assume RAM), so that
    they are not read twice. The same checks and errors as :func:`resolve`."""
    wanted = normalise_arch(arch)
    if wanted is None:
        raise _arg_error("arch", f"unknown architecture {arch!r} (expected one of {', '.join(ARCHES)})")
    return _resolve_tree(tree, facts, [], loader=None, config=config, wanted=wanted,
                         explicit=_check_version(kernel_version), precedence="auto",
                         ram=_check_memory(memory), memory_given=memory is not None)


def _resolve_tree(
    tree: Tree | None, dt: DtFacts | None, notes: list[Diagnostic], *, loader: str | None, config: object,
    wanted: str | None, explicit: KernelVersion | None, precedence: PrecedenceRequest,
    ram: int | tuple[tuple[int, int], ...] | None, memory_given: bool,
) -> Plan:
    """The resolution of a loaded tree (``None``: none given) and its facts, once the arguments
    are checked; ``notes`` holds the loader's notes so far."""
    if tree is not None:
        notes.extend(tree.warnings)
    guessed = _infer_arch(dt, tree)
    # Decide the kernel version once, before the .config is evaluated, so that it is read a
    # single time under the same assumption the layout uses.
    given_kc = _as_kernel_config(config)
    cfg_text = _read_config(config) if config is not None and given_kc is None else None
    version = explicit
    if version is None and cfg_text is not None:
        version = cfg_text.header_version
    if version is None and given_kc is not None:
        version = given_kc.kernel_version
    known = version is not None
    if version is None:
        version = DEFAULT_MODEL_VERSION
    policy = resolve_policy(precedence, known)
    kc: KernelConfig | None = given_kc
    if cfg_text is not None:
        try:
            kc = _config(cfg_text, wanted, version)
        except MemplanError:
            if wanted is not None or guessed is None:
                raise
            kc = _config(cfg_text, guessed, version)
    the_arch = wanted or (kc.arch if kc is not None else None) or guessed
    if the_arch is None:
        option = "--arch" if in_cli() else "--arch (arch= in Python)"
        raise ResolveError(
            "cannot tell the architecture: no hint in the Device Tree (path under arch/, CPU compatible "
            f"or enable-method, root compatible); give {option}, e.g. --arch arm64, or a .config",
            tree.root.source if tree is not None else _arg_source("arch"),
        )
    if not is_modelled(the_arch):
        notes.insert(0, diag(
            "arch-unmodelled",
            f"architecture {the_arch} is not modelled (memplan models {', '.join(MODELLED_ARCHES)}): only "
            "the generic Device Tree and CMA rules are applied",
            _arg_source("arch") if wanted is not None else (tree.root.source if tree is not None else None),
        ))
    if wanted is None:
        notes.append(_arch_guessed(the_arch, kc, tree, cfg_text.label if cfg_text else "<config>"))
    if tree is not None:
        notes.extend(firmware_notes(the_arch, tree, dt.secure_status if dt is not None else None))
    if not known:
        notes.append(_version_unknown(version, kc is not None))
    if dt is None and ram is None:
        raise ResolveError(
            f"no Device Tree and no {argument('memory')} map: nothing to lay out "
            f"(x86 needs {argument('memory')}, e.g. '4G')",
            _arg_source("memory"),
        )
    e820, base_note = _memory_map(ram, dt, the_arch)
    if base_note is not None:
        notes.append(base_note)
    eff = effective_cmdline(
        arch=the_arch,
        bootloader=loader,
        dt_bootargs=dt.bootargs if dt else None,
        dt_bootargs_source=dt.bootargs_source if dt else None,
        config=kc,
        kernel_version=version,
        has_chosen=dt.has_chosen if dt else None,
    )
    cl = parse_cmdline(eff, arch=the_arch, kernel_version=version)
    facts = cmdline_facts(cl, eff.origin, the_arch)
    inputs = Inputs(
        arch=the_arch,
        version=version,
        version_known=known,
        precedence=policy,
        precedence_requested=precedence,
        dt=dt,
        cmdline=facts,
        config=config_facts(kc, the_arch),
        e820=e820,
        memory_source=Source.builtin("memory= argument") if memory_given else None,
        diagnostics=tuple(notes),
    )
    return resolve_inputs(inputs)
