"""The prediction inputs a snapshot carries: the booted DTB, the ``.config``, the command line,
the kernel release and version, the machine.

``memplan check SNAPSHOT`` needs nothing else when the snapshot has them: :func:`fill_inputs`
completes whatever the user did not give from the snapshot, and says where each piece came from.
A snapshot is a ``.tar.gz`` archive (``memplan collect``) or a snapshot directory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from memplan.arch import normalise_arch
from memplan.cmdline import effective_cmdline
from memplan.dts import Tree, read_dtb
from memplan.errors import MemplanError, ObserveError
from memplan.kconfig import KernelConfig, load_config
from memplan.kconfig.dotconfig import decode as decode_config
from memplan.observe.archive import MAX_MEMBER_BYTES, decompress_limited, is_archive, read_archive
from memplan.observe.dmesg import parse_dmesg
from memplan.observe.model import Observed
from memplan.source import Source
from memplan.version import KernelVersion

#: A line of the boot log's ``Early memory node ranges`` block (memblock's RAM, no-map included).
_NODE_RANGE = re.compile(r"\bnode\s+\d+: \[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\]")

#: e820 types that are RAM (older kernels print ``usable``, 7.x ``System RAM``).
E820_RAM_TYPES = ("usable", "System RAM")


@attrs.frozen
class Piece:
    """One file of a snapshot: its bytes and the name that points at it (``ARCHIVE!/fdt``)."""

    data: bytes
    label: str


@attrs.frozen
class SnapshotInputs:
    """The pieces of a snapshot a prediction can use (each ``None`` when absent)."""

    dtb: Piece | None = None
    config: Piece | None = None
    cmdline: Piece | None = None
    release: Piece | None = None
    machine: Piece | None = None
    version: Piece | None = None
    log: Piece | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in attrs.fields(SnapshotInputs))


#: Snapshot member names for each piece, in order of preference.
_NAMES: dict[str, tuple[str, ...]] = {
    "dtb": ("fdt", "fdt.dtb"),
    "config": ("config.gz", "config", ".config"),
    "cmdline": ("cmdline", "cmdline.txt"),
    "release": ("release",),
    "machine": ("machine",),
    "version": ("version",),
    "log": ("dmesg", "dmesg.txt", "kmsg", "boot.log", "console.log"),
}


def _from_directory(d: Path) -> SnapshotInputs:
    found: dict[str, Piece] = {}
    for key, names in _NAMES.items():
        for name in names:
            p = d / name
            # regular files only: a symbolic link in a snapshot directory is not followed
            if p.is_file() and not p.is_symlink():
                if p.stat().st_size > MAX_MEMBER_BYTES:
                    raise ObserveError(
                        f"larger than a snapshot file may be ({MAX_MEMBER_BYTES >> 20} MiB)",
                        Source("observed", file=str(p)),
                    )
                found[key] = Piece(p.read_bytes(), str(p))
                break
    return SnapshotInputs(**found)


def read_snapshot_inputs(paths: Sequence[str | Path]) -> SnapshotInputs:
    """The prediction inputs of the first snapshot (archive or directory) among ``paths``
    that carries any; an empty :class:`SnapshotInputs` when none does."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            got = _from_directory(p)
        elif is_archive(p):
            arc = read_archive(p)
            found: dict[str, Piece] = {}
            for key, names in _NAMES.items():
                name = arc.first(*names)
                if name is not None:
                    found[key] = Piece(arc.files[name], arc.label(name))
            got = SnapshotInputs(**found)
        else:
            continue
        if not got.empty:
            return got
    return SnapshotInputs()


def _text(piece: Piece) -> str:
    return piece.data.decode("utf-8", errors="replace").strip()


def config_text(piece: Piece) -> str:
    """The ``.config`` text of a snapshot piece (``config.gz`` unpacked, size-capped)."""
    data = piece.data
    if data[:2] == b"\x1f\x8b":
        data = decompress_limited(data, piece.label)
    return decode_config(data, piece.label)


def _dt_bootargs(tree: Tree) -> str | None:
    chosen = tree.root.children.get("chosen")
    prop = chosen.get("bootargs") if chosen is not None else None
    if prop is None:
        return None
    try:
        strings = prop.as_strings()
    except MemplanError:
        return None
    return strings[0] if strings else None


def kernel_version_of(snap: SnapshotInputs, observed: Observed) -> tuple[KernelVersion | None, str]:
    """The version to predict for and where it came from: the boot log's ``Linux version``
    line, else ``/proc/version`` (the same line), else the release (``uname -r``)."""
    if observed.log is not None and observed.log.kernel_version is not None:
        return observed.log.kernel_version, "the boot log"
    if snap.version is not None:
        v = parse_dmesg(_text(snap.version), snap.version.label).kernel_version
        if v is not None:
            return v, snap.version.label
    if snap.release is not None:
        try:
            return KernelVersion.parse(_text(snap.release)), snap.release.label
        except MemplanError:
            pass
    if observed.kernel_version is not None:
        return observed.kernel_version, "the observed state"
    return None, ""


def loader_cmdline(
    observed: str, config: object, arch: str | None, version: KernelVersion | None, tree: Tree | None
) -> str | None:
    """The boot loader command line that, with the ``.config``'s built-in one
    (``CONFIG_CMDLINE``), gives the ``observed`` ``/proc/cmdline`` by the kernel's rules, when
    that differs from ``observed`` itself; ``None`` when ``observed`` is already the boot
    loader's (no built-in command line, or none of the candidates explains it)."""
    if not isinstance(config, KernelConfig) or not config.cmdline.strip():
        return None
    built_in = config.cmdline.strip()
    candidates = [observed]
    if observed.startswith(built_in + " "):
        candidates.append(observed[len(built_in) + 1 :])
    if observed.endswith(" " + built_in):
        candidates.append(observed[: -len(built_in) - 1])
    candidates.append("")
    has_chosen = tree is not None and "chosen" in tree.root.children
    for loader in candidates:
        try:
            eff = effective_cmdline(
                arch=arch or config.arch,
                bootloader=loader,
                config=config,
                kernel_version=version,
                has_chosen=has_chosen if tree is not None else None,
            )
        except MemplanError:
            return None
        if eff.text.strip() == observed.strip():
            return None if loader == observed else loader
    return None


def _firmware_ram(observed: Observed) -> list[tuple[int, int]]:
    """The RAM ranges of the firmware's e820 map in the boot log (``BIOS-e820`` lines)."""
    if observed.log is None:
        return []
    out: list[tuple[int, int]] = []
    for e in observed.log.of_kind("e820-bios"):
        if e.base is not None and e.end is not None and e.end > e.base and (e.text or "") in E820_RAM_TYPES:
            out.append((e.base, e.end - e.base))
    return out


def early_memory_ranges(log: Piece | None) -> list[tuple[int, int]]:
    """RAM as the kernel's memblock had it: the ``Early memory node ranges`` block of the boot
    log (``node 0: [mem 0x40000000-0xbfffffff]``), ranges merged where they touch."""
    if log is None:
        return []
    out: list[tuple[int, int]] = []
    inside = False
    for line in log.data.decode("utf-8", "replace").splitlines():
        if "Early memory node ranges" in line:
            inside, out = True, []
            continue
        if not inside:
            continue
        m = _NODE_RANGE.search(line)
        if m is None:
            inside = False
            continue
        base, last = int(m.group(1), 16), int(m.group(2), 16)
        if last < base:
            continue
        if out and out[-1][0] + out[-1][1] == base:
            out[-1] = (out[-1][0], last + 1 - out[-1][0])
        else:
            out.append((base, last + 1 - base))
    return out


def _has_memory(tree: Tree) -> bool:
    """True when the Device Tree describes RAM (a ``/memory`` bank of non-zero size)."""
    from memplan.dts.facts import extract

    return any(size > 0 for m in extract(tree).memory_nodes for _, size in (m.ranges or ()))


@attrs.frozen
class Filled:
    """Arguments for :func:`memplan.resolve` and a note per piece taken from the snapshot."""

    kwargs: dict[str, Any]
    notes: tuple[str, ...]


def _fill_cmdline(
    kw: dict[str, Any],
    snap: SnapshotInputs,
    observed: Observed,
    tree: Tree | None,
    version: KernelVersion | None,
    notes: list[str],
) -> None:
    """The command line of :func:`fill_inputs` (the snapshot's DT, or none, is used)."""
    if tree is not None and _dt_bootargs(tree) is not None:
        notes.append("command line: the booted Device Tree's /chosen/bootargs")
        return
    observed_cl = _text(snap.cmdline) if snap.cmdline is not None else observed.cmdline
    if not observed_cl:
        return
    where = snap.cmdline.label if snap.cmdline is not None else "the boot log"
    config = kw.get("config")
    arch: str | None = kw.get("arch") or (config.arch if isinstance(config, KernelConfig) else None)
    loader = loader_cmdline(observed_cl, config, arch, version, tree)
    if loader is None:
        kw["cmdline"] = observed_cl
        notes.append(f"command line: the observed one, {where} (taken as the boot loader's)")
    else:
        kw["cmdline"] = loader
        notes.append(
            f"command line: the boot loader's part of the observed one, {where} "
            "(the .config's built-in command line taken out)"
        )


def fill_inputs(given: dict[str, Any], snap: SnapshotInputs, observed: Observed) -> Filled:
    """Complete the resolve arguments ``given`` (``dts``, ``dtb``, ``config``, ``arch``,
    ``kernel_version``, ``cmdline``, ``memory``; ``None`` = not given) from the snapshot:

    * the Device Tree: the booted DTB (``/sys/firmware/fdt``);
    * the kernel version: the observed one (boot log, ``/proc/version``, ``uname -r``);
    * the ``.config``: ``/proc/config.gz`` or the distribution's copy, read for that version;
    * the architecture: ``uname -m``;
    * the command line (unless the user gave a Device Tree): none when the booted Device Tree
      has ``/chosen/bootargs`` (that *is* what the boot loader passed); else the observed
      ``/proc/cmdline``, less the ``.config``'s built-in command line when the kernel added it
      (:func:`loader_cmdline`);
    * RAM (no Device Tree, e.g. x86): the firmware's e820 RAM ranges from the boot log; with
      the booted Device Tree but no ``/memory`` in it (an EFI boot): the boot log's ``Early
      memory node ranges``.
    """
    kw = dict(given)
    notes: list[str] = []
    tree: Tree | None = None
    if kw.get("dts") is None and kw.get("dtb") is None and snap.dtb is not None:
        tree = read_dtb(snap.dtb.data, filename=snap.dtb.label, checks=False)  # booted: no dtc checks
        kw["dtb"] = tree
        notes.append(f"Device Tree: the booted one, {snap.dtb.label}")
    version = KernelVersion.coerce(kw.get("kernel_version"))
    if version is None:
        version, origin = kernel_version_of(snap, observed)
        if version is not None:
            kw["kernel_version"] = str(version)
            notes.append(f"kernel version: {version}, from {origin}")
    if kw.get("arch") is None and snap.machine is not None:
        arch = normalise_arch(_text(snap.machine))
        if arch is not None:
            kw["arch"] = arch
            notes.append(f"architecture: {arch}, from {snap.machine.label} ({_text(snap.machine)})")
    if kw.get("config") is None and snap.config is not None:
        kw["config"] = load_config(
            text=config_text(snap.config), name=snap.config.label, arch=kw.get("arch"), kernel_version=version
        )
        notes.append(f".config: {snap.config.label}")
    user_dt = kw.get("dts") is not None or (kw.get("dtb") is not None and tree is None)
    if kw.get("cmdline") is None and not user_dt:
        _fill_cmdline(kw, snap, observed, tree, version, notes)
    if kw.get("memory") is None and kw.get("dts") is None and kw.get("dtb") is None:
        ram = _firmware_ram(observed)
        if ram:
            kw["memory"] = ram
            notes.append(f"RAM: the firmware's e820 map in the boot log ({len(ram)} RAM ranges)")
    if kw.get("memory") is None and tree is not None and not _has_memory(tree):
        # An EFI stub removes /memory from the DT it hands over: the RAM came from the EFI map.
        ram = early_memory_ranges(snap.log)
        if ram:
            kw["memory"] = ram
            notes.append(
                "RAM: the boot log's 'Early memory node ranges' (the booted Device Tree has no /memory, "
                f"as after an EFI boot; {len(ram)} ranges)"
            )
    return Filled(kw, tuple(notes))
