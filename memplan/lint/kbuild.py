"""What the kernel build itself knows about a source tree: its version, its board ``.dts`` files,
the include path it compiles them with and each architecture's default configuration.

Facts taken from the kernel's build files (Linux 6.12):

* ``scripts/Makefile.dtbs`` (``scripts/Makefile.lib`` before 6.12) preprocesses a board with
  ``$(HOSTCC) -E -nostdinc -I scripts/dtc/include-prefixes -undef -D__DTS__ -x assembler-with-cpp``
  and compiles the result with ``dtc -i <the board's directory> -i scripts/dtc/include-prefixes``.
  So ``scripts/dtc/include-prefixes`` (symlinks ``arm``, ``arm64``, ``dt-bindings`` ... into the
  tree) is the only include directory; ``#include "x"`` and ``/include/ "x"`` are also looked up
  next to the including file. memplan's DTS loader does the same with that one directory.
* ``scripts/kconfig/Makefile``: ``make defconfig`` reads ``arch/$(SRCARCH)/configs/$(KBUILD_DEFCONFIG)``,
  where ``KBUILD_DEFCONFIG`` is set by ``arch/$(SRCARCH)/Makefile`` (``multi_v7_defconfig`` on
  arm) and defaults to ``defconfig``.
* The top ``Makefile``'s ``VERSION``/``PATCHLEVEL``/``SUBLEVEL`` give the release.

A board is every ``*.dts`` file under ``arch/<arch>/boot/dts`` (overlays are ``.dtso``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs

from memplan.arch import MODELLED_ARCHES, normalise_arch
from memplan.lint.model import LintError
from memplan.source import Source
from memplan.version import KernelVersion

#: The include directory of ``dtc_cpp_flags``/``DTC_INCLUDE`` in ``scripts/Makefile.dtbs``.
DTC_INCLUDE = "scripts/dtc/include-prefixes"

#: ``dtc_cpp_flags`` without the dependency-file option, then ``-x assembler-with-cpp``.
KBUILD_CPP_FLAGS: tuple[str, ...] = (
    "-nostdinc", "-I", DTC_INCLUDE, "-undef", "-D__DTS__", "-x", "assembler-with-cpp",
)

#: ``DTC_FLAGS`` of a default build (``KBUILD_EXTRA_WARN`` unset): the checks kbuild turns off.
KBUILD_DTC_FLAGS: tuple[str, ...] = (
    "-Wno-unique_unit_address",
    "-Wno-unit_address_vs_reg",
    "-Wno-avoid_unnecessary_addr_size",
    "-Wno-alias_paths",
    "-Wno-graph_child_address",
    "-Wno-simple_bus_reg",
)

#: Lines of a board directory's Makefile that decide its boards' ``DTC_FLAGS`` (continuations joined).
_DIR_FLAGS = re.compile(r"^\s*DTC_FLAGS\s*(:=|::=|\+=|\?=|=)(.*)$")
_STEM_FLAGS = re.compile(r"^\s*DTC_FLAGS_(\S+?)\s*(:=|::=|\+=|\?=|=)(.*)$")
_COMPOSITE = re.compile(r"^\s*(\S+?)-dtbs\s*(:=|::=|\+=|=)(.*)$")
_DTB_LINE = re.compile(r"^\s*dtb-(?:\$\(CONFIG_\w+\)|y)\s*[:+]?=(.*)$")

_VERSION_RE = re.compile(r"^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d+)\s*$", re.MULTILINE)
_DEFCONFIG_RE = re.compile(r"^\s*KBUILD_DEFCONFIG\s*:?=\s*(\S+)\s*$", re.MULTILINE)


def boards_dir(arch: str) -> str:
    """Where an architecture's board sources live, relative to the tree."""
    return f"arch/{arch}/boot/dts"


@attrs.frozen
class KernelTree:
    """A Linux source tree (``root`` is absolute)."""

    root: Path

    @classmethod
    def open(cls, srctree: str | os.PathLike[str]) -> KernelTree:
        """The tree at ``srctree``; :class:`LintError` when it is not a kernel source tree."""
        root = Path(srctree).resolve()
        where = Source("file", file=os.fspath(srctree))
        if not root.is_dir():
            raise LintError(f"not a directory: {os.fspath(srctree)}", where)
        missing = [p for p in ("Makefile", "arch") if not (root / p).exists()]
        if missing:
            raise LintError(
                f"not a Linux source tree (no {', '.join(missing)} in {os.fspath(srctree)})", where
            )
        return cls(root)

    @property
    def version(self) -> KernelVersion | None:
        """The release named by the top ``Makefile``, ``None`` when it names none."""
        try:
            text = (self.root / "Makefile").read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError:
            return None
        found = dict(_VERSION_RE.findall(text))
        if "VERSION" not in found or "PATCHLEVEL" not in found:
            return None
        return KernelVersion(int(found["VERSION"]), int(found["PATCHLEVEL"]), int(found.get("SUBLEVEL", 0)))

    @property
    def has_kconfig(self) -> bool:
        """Whether the tree has its Kconfig files (a stripped tree may keep only ``arch/``)."""
        return (self.root / "Kconfig").is_file()

    @property
    def include_dirs(self) -> tuple[str, ...]:
        """The include path the kernel build compiles board sources with (absolute)."""
        return (str(self.root / DTC_INCLUDE),)

    def build_commands(
        self, board: str, tmp: str, cpp: str = "cpp", dtc: str = "dtc", flags: Sequence[str] | None = None
    ) -> tuple[list[str], list[str]]:
        """The two commands ``cmd_dtc`` runs for ``board`` (relative to the tree): the
        preprocessor writing ``<tmp>.dts.tmp`` and dtc compiling it to ``<tmp>.dtb`` (with
        ``-q`` added: warnings are not wanted, errors still fail). Run them from the tree's top
        directory, as kbuild does.

        With ``flags`` (the board's ``DTC_FLAGS``, :meth:`dtc_flags`) they are kbuild's very
        commands instead, dependency files included (``<tmp>.d.pre.tmp``, ``<tmp>.d.dtc.tmp``)
        and no ``-q``; ``cpp`` is then ``$(HOSTCC)``, run with ``-E``, as kbuild runs it."""
        pre = f"{tmp}.dts.tmp"
        board_dir = board.rpartition("/")[0] or "."
        if flags is None:
            return ([cpp, *KBUILD_CPP_FLAGS, "-o", pre, board],
                    [dtc, "-q", "-o", f"{tmp}.dtb", "-b", "0", "-i", board_dir, "-i", DTC_INCLUDE,
                     *KBUILD_DTC_FLAGS, pre])
        return ([cpp, "-E", f"-Wp,-MMD,{tmp}.d.pre.tmp", *KBUILD_CPP_FLAGS, "-o", pre, board],
                [dtc, "-o", f"{tmp}.dtb", "-b", "0", "-i", f"{board_dir}/", "-i", DTC_INCLUDE, *flags,
                 "-d", f"{tmp}.d.dtc.tmp", pre])

    def dtc_flags(self, arch: str) -> dict[str, tuple[str, ...]]:
        """Board path -> its ``DTC_FLAGS`` in a default build of every board (``scripts/Makefile.dtbs``):
        its directory Makefile's ``DTC_FLAGS``, the defaults (:data:`KBUILD_DTC_FLAGS`),
        ``DTC_FLAGS_<board>``, and ``-@`` for a base DTB that an overlay is applied onto (the
        first ``.dtb`` of a ``<name>-dtbs`` composite that a ``dtb-`` line builds). As make reads
        it: after a ``DTC_FLAGS :=`` in the directory the last two are expanded at once, when
        no board is named yet, and so add nothing."""
        out: dict[str, tuple[str, ...]] = {}
        for makefile in sorted((self.root / boards_dir(arch)).rglob("Makefile")):
            try:
                text = makefile.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            folder = makefile.parent.relative_to(self.root).as_posix()
            own: list[str] = []
            simple = False
            stems: dict[str, list[str]] = {}
            composites: dict[str, list[str]] = {}
            built: set[str] = set()
            for line in text.replace("\\\n", " ").splitlines():
                line = line.split("#", 1)[0]
                if m := _DIR_FLAGS.match(line):
                    own = [*own, *m.group(2).split()] if m.group(1) == "+=" else m.group(2).split()
                    simple = simple if m.group(1) == "+=" else m.group(1) in (":=", "::=")
                elif m := _STEM_FLAGS.match(line):
                    words = m.group(3).split()
                    stems[m.group(1)] = [*stems.get(m.group(1), []), *words] if m.group(2) == "+=" else words
                elif m := _COMPOSITE.match(line):
                    words = m.group(3).split()
                    composites[m.group(1)] = [*composites.get(m.group(1), []), *words] if m.group(2) == "+=" \
                        else words
                elif m := _DTB_LINE.match(line):
                    built.update(w[:-4] for w in m.group(1).split() if w.endswith(".dtb"))
            bases = {w[:-4] for name, words in composites.items() if name in built
                     for w in words if w.endswith(".dtb")}
            for dts in makefile.parent.glob("*.dts"):
                stem = dts.name[:-4]
                extra = [] if simple else [*stems.get(stem, ()), *(["-@"] if stem in bases else [])]
                out[f"{folder}/{dts.name}"] = (*own, *KBUILD_DTC_FLAGS, *extra)
        return out

    def dtc(self) -> str:
        """The dtc kbuild runs: the tree's own ``scripts/dtc/dtc`` once built (``make scripts_dtc``),
        else ``$MEMPLAN_KERNEL_DTC``, else ``dtc`` on ``PATH`` (which may be older than the tree's)."""
        own = self.root / "scripts" / "dtc" / "dtc"
        if own.is_file() and os.access(own, os.X_OK):
            return str(own)
        return os.environ.get("MEMPLAN_KERNEL_DTC") or "dtc"

    def arches_with_boards(self) -> tuple[str, ...]:
        """The architectures memplan models that have board sources in this tree."""
        return tuple(a for a in MODELLED_ARCHES if (self.root / boards_dir(a)).is_dir())

    def boards(self, arch: str) -> tuple[str, ...]:
        """Every board ``.dts`` of ``arch``, relative to the tree, sorted."""
        top = self.root / boards_dir(arch)
        found = [p.relative_to(self.root).as_posix() for p in top.rglob("*.dts") if p.is_file()]
        return tuple(sorted(found))

    def default_config(self, arch: str) -> Path:
        """``arch/<arch>/configs/$(KBUILD_DEFCONFIG)``: the configuration ``make defconfig`` uses."""
        name = "defconfig"
        makefile = self.root / "arch" / arch / "Makefile"
        try:
            text = makefile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        for value in _DEFCONFIG_RE.findall(text):
            if "$" not in value:  # x86 picks one by $(ARCH); take the first literal name
                name = value
                break
        path = self.root / "arch" / arch / "configs" / name
        if not path.is_file():
            raise LintError(
                f"no default configuration for {arch}: {path.relative_to(self.root).as_posix()} does not "
                "exist; pass --config",
                Source("file", file=str(makefile)),
            )
        return path

    def relative(self, path: str) -> str:
        """``path`` relative to the tree when it lies inside it, else unchanged."""
        prefix = str(self.root) + os.sep
        return path[len(prefix):] if path.startswith(prefix) else path

    def select_arches(self, wanted: Sequence[str]) -> tuple[str, ...]:
        """The architectures to lint: ``wanted`` (normalised, in the order given, duplicates
        dropped) or every one with boards. :class:`LintError` for an unknown name or one
        without boards in this tree."""
        available = self.arches_with_boards()
        if not wanted:
            if not available:
                raise LintError(
                    f"no board sources under arch/{{{','.join(MODELLED_ARCHES)}}}/boot/dts",
                    Source("file", file=str(self.root)),
                )
            return available
        out: list[str] = []
        for name in wanted:
            arch = normalise_arch(name)
            if arch is None or arch not in MODELLED_ARCHES:
                raise LintError(
                    f"unknown architecture {name!r} (expected one of {', '.join(MODELLED_ARCHES)})",
                    Source.builtin("--arch argument"),
                )
            if arch not in available:
                raise LintError(
                    f"no board sources for {arch} in this tree ({boards_dir(arch)} does not exist)",
                    Source("file", file=str(self.root / boards_dir(arch))),
                )
            if arch not in out:
                out.append(arch)
        return tuple(out)

    def select_boards(self, arches: Sequence[str], names: Iterable[str]) -> tuple[tuple[str, str], ...]:
        """``(arch, path)`` of every board to lint: all boards of ``arches`` when ``names`` is
        empty, else the named ones. A name is a path (relative to the tree or the working
        directory, or absolute) or a board file name with or without ``.dts``; a name that
        matches no board of ``arches``, or several, is a :class:`LintError`."""
        every = [(arch, path) for arch in arches for path in self.boards(arch)]
        wanted = list(names)
        if not wanted:
            return tuple(every)
        by_path = {path: arch for arch, path in every}
        by_name: dict[str, list[str]] = {}
        for _, path in every:
            by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
        chosen: dict[str, str] = {}
        for name in wanted:
            path = self._board_path(name, by_path, by_name)
            chosen[path] = by_path[path]
        return tuple(sorted(((arch, path) for path, arch in chosen.items()), key=_board_order(arches)))

    def _board_path(self, name: str, by_path: dict[str, str], by_name: dict[str, list[str]]) -> str:
        where = Source.builtin(f"BOARD argument {name!r}")
        candidates = [name]
        if os.path.exists(name):
            candidates.append(self.relative(str(Path(name).resolve())))
        for cand in candidates:
            if cand.replace(os.sep, "/") in by_path:
                return cand.replace(os.sep, "/")
        base = name if name.endswith(".dts") else name + ".dts"
        hits = by_name.get(base.rsplit("/", 1)[-1], []) if "/" not in name else []
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise LintError(f"board {name!r} is ambiguous: {', '.join(hits)}; give its path", where)
        raise LintError(
            f"no board {name!r} among the .dts files of {', '.join(sorted(set(by_path.values())))} in "
            f"{self.root}",
            where,
        )


def _board_order(arches: Sequence[str]) -> Callable[[tuple[str, str]], tuple[int, str]]:
    rank = {a: i for i, a in enumerate(arches)}

    def key(item: tuple[str, str]) -> tuple[int, str]:
        return rank[item[0]], item[1]

    return key
