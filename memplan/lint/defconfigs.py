"""Which defconfig each board is linted with, as the kernel tree itself implies it.

One defconfig per architecture (``KBUILD_DEFCONFIG``, ``multi_v7_defconfig`` on arm) does not
build every board: ARMv4/v5/v6 platforms (at91 SAM9, kirkwood, i.MX 2x, ixp4xx ...) are in
other defconfigs, and Cortex-M boards (stm32f7/h7, vf610m4, lpc18xx ...) need a kernel without
MMU. The tree says which configuration builds which board:

* ``arch/<arch>/boot/dts/**/Makefile``: ``dtb-$(CONFIG_FOO) += board.dtb`` builds ``board.dtb``
  when ``CONFIG_FOO`` is set (``dtb-y`` always);
* ``arch/<arch>/configs/*defconfig``: which symbols each defconfig enables.

For each board (:func:`plan_defconfigs`):

1. the architecture's default defconfig when it enables the board's symbol (its value after
   Kconfig, read through the tree's Kconfig);
2. else the defconfig enabling the symbol that builds the most boards of the architecture
   (``multi_v5_defconfig`` before ``at91_dt_defconfig``; ties by name). The multiplatform
   defconfigs (``multi_*``) are read through Kconfig, so a symbol they enable by default
   counts; the others by their ``CONFIG_FOO=y`` lines (and checked once read);
3. else (no defconfig builds it, or no Makefile rule names it) the default, saying so.

Two needs of a board's own Device Tree then override the choice, when a defconfig that
enables the board's symbol meets them (:func:`lint_with_defconfig` reads them from the tree the lint
built): a CPU without MMU (a ``arm,cortex-m*`` CPU, an NVIC interrupt controller, a RISC-V
CPU with ``mmu-type = "riscv,none"``) runs only a kernel without MMU (a defconfig with
``# CONFIG_MMU is not set``), and RAM only above 4 GiB needs LPAE (``CONFIG_ARM_LPAE=y``).

Each defconfig is read once. The board's report names the defconfig and the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

from memplan.diagnostics import diag
from memplan.dts import LoadedTree, Tree
from memplan.errors import MemplanError
from memplan.kconfig import KernelConfig
from memplan.lint.board import ArchContext
from memplan.lint.kbuild import KernelTree, boards_dir
from memplan.lint.model import BoardResult
from memplan.model import Diagnostic
from memplan.source import Source

__all__ = ["BoardConfigs", "BoardDefconfig", "Defconfig", "choose_board_configs", "extra_configs",
           "lint_with_defconfig", "makefile_symbols", "plan_defconfigs", "read_defconfigs"]

_ASSIGN = re.compile(r"^\s*dtb-(?:\$\(CONFIG_(\w+)\)|y)\s*[:+]?=(.*)$")
_ENABLED = re.compile(r"^CONFIG_(\w+)=[ym]\s*$", re.MULTILINE)
_NO_MMU = re.compile(r"^# CONFIG_MMU is not set\s*$", re.MULTILINE)
_LPAE = re.compile(r"^CONFIG_ARM_LPAE=y\s*$", re.MULTILINE)
#: The symbol name used for ``dtb-y`` (built by every configuration).
ALWAYS = "y"
_FOUR_GIB = 1 << 32
#: The NVIC's compatibles (drivers/irqchip/irq-nvic.c), NUL-terminated as in a property.
_NVIC = (b"arm,armv7m-nvic\0", b"arm,v7m-nvic\0", b"arm,v6m-nvic\0")


@attrs.frozen
class Defconfig:
    """One ``arch/<arch>/configs/*_defconfig``: the symbols its lines enable, and whether it
    builds a kernel without MMU or with LPAE."""

    name: str
    path: str
    symbols: frozenset[str]
    no_mmu: bool = False
    lpae: bool = False


@attrs.frozen
class BoardDefconfig:
    """The defconfig a board is linted with (a file name under ``arch/<arch>/configs``) and why;
    ``alternates``: ``(need, defconfig)`` to use instead when the board's tree has that need
    (``no-mmu``: a Cortex-M CPU; ``lpae``: RAM only above 4 GiB)."""

    defconfig: str
    reason: str
    symbols: tuple[str, ...] = ()
    alternates: tuple[tuple[str, str], ...] = ()


def makefile_symbols(root: Path, arch: str) -> dict[str, tuple[str, ...]]:
    """Board path (relative to the tree, ``.dts``) -> the ``CONFIG_`` symbols (without prefix)
    whose ``dtb-$(CONFIG_...)`` lines build its ``.dtb``, in Makefile order (``y``: ``dtb-y``)."""
    out: dict[str, list[str]] = {}
    base = root / boards_dir(arch)
    for makefile in sorted(base.rglob("Makefile")):
        try:
            text = makefile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        folder = makefile.parent.relative_to(root).as_posix()
        for line in text.replace("\\\n", " ").splitlines():
            found = _ASSIGN.match(line)
            if found is None:
                continue
            symbol = found.group(1) or ALWAYS
            for word in found.group(2).split():
                if word.endswith(".dtb"):
                    syms = out.setdefault(f"{folder}/{word[:-4]}.dts", [])
                    if symbol not in syms:
                        syms.append(symbol)
    return {board: tuple(syms) for board, syms in out.items()}


def read_defconfigs(root: Path, arch: str) -> dict[str, Defconfig]:
    """Every ``arch/<arch>/configs/*defconfig`` (``defconfig``, ``multi_v7_defconfig`` ...) by file
    name (a fragment such as ``lpae.config`` is not a defconfig)."""
    out: dict[str, Defconfig] = {}
    folder = root / "arch" / arch / "configs"
    for path in sorted(folder.glob("*defconfig")) if folder.is_dir() else ():
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        out[path.name] = Defconfig(path.name, str(path), frozenset(_ENABLED.findall(text)),
                                   _NO_MMU.search(text) is not None, _LPAE.search(text) is not None)
    return out


def _enables(defconfig: Defconfig, symbol: str, evaluated: Mapping[str, KernelConfig]) -> bool:
    if symbol == ALWAYS:
        return True
    kc = evaluated.get(defconfig.name)
    return kc.is_set(symbol) if kc is not None else symbol in defconfig.symbols


def _shown(symbols: Sequence[str]) -> str:
    return " or ".join("dtb-y" if s == ALWAYS else f"CONFIG_{s}" for s in symbols)


def plan_defconfigs(boards: Sequence[str], symbols: Mapping[str, tuple[str, ...]],
                    defconfigs: Mapping[str, Defconfig], default: str,
                    evaluated: Mapping[str, KernelConfig]) -> dict[str, BoardDefconfig]:
    """The defconfig of each board (rules in the module docstring). ``evaluated``: the defconfigs
    already read through Kconfig (at least ``default``), by file name."""
    # every board of the architecture counts, whichever are linted: the choice does not depend on it
    every = sorted({sym for syms in symbols.values() for sym in syms})
    builders = {sym: [d.name for d in defconfigs.values() if _enables(d, sym, evaluated)] for sym in every}
    reach: Counter[str] = Counter()
    for built_by in symbols.values():
        for name in {n for sym in built_by for n in builders[sym]}:
            reach[name] += 1
    out: dict[str, BoardDefconfig] = {}
    for board in boards:
        syms = symbols.get(board, ())
        if not syms:
            out[board] = BoardDefconfig(default, f"no dtb- rule of the Makefiles builds it: {default}, the "
                                        "architecture's default")
            continue
        names = sorted({n for sym in syms for n in builders.get(sym, ())}, key=lambda n: (-reach[n], n))
        # for each need, the first defconfig in that order that meets it
        alternates = tuple((need, found[0]) for need, found in (
            ("no-mmu", [n for n in names if defconfigs[n].no_mmu]),
            ("lpae", [n for n in names if defconfigs[n].lpae])) if found)
        built = f"the Makefile builds it with {_shown(syms)}"
        if default in names:
            why = f"{built}, which {default} (the architecture's default) enables"
            out[board] = BoardDefconfig(default, why, syms, alternates)
        elif names:
            count = f"{len(names)} defconfig{'s' if len(names) > 1 else ''}"
            why = (f"{built}, which {default} does not enable; {names[0]} does (of {count} enabling it, "
                   "the one that builds the most boards)")
            out[board] = BoardDefconfig(names[0], why, syms, alternates)
        else:
            why = f"{built}, which no defconfig of the tree enables: {default}, the architecture's default"
            out[board] = BoardDefconfig(default, why, syms)
    return out


def _cpu_compatibles(tree: Tree) -> list[str]:
    cpus = tree.root.children.get("cpus")
    out: list[str] = []
    for node in cpus.children.values() if cpus is not None else ():
        prop = node.properties.get("compatible")
        if prop is not None and prop.value.endswith(b"\0"):
            out.extend(prop.as_strings())
    return out


def _ram_only_above_4g(tree: Tree) -> bool:
    banks: list[int] = []
    acells, scells = tree.root.address_cells, tree.root.size_cells
    for node in tree.root.children.values():
        kind = node.properties.get("device_type")
        if node.basename != "memory" and (kind is None or kind.value != b"memory\0"):
            continue
        reg = node.properties.get("reg")
        if reg is None:
            continue
        try:
            banks.extend(base for base, size in reg.as_pairs(acells, scells) if size)
        except MemplanError:
            continue
    return bool(banks) and min(banks) >= _FOUR_GIB


def _without_mmu(tree: Tree) -> bool:
    """A CPU that runs only a kernel without MMU: a Cortex-M, or the interrupt controller only
    M-profile cores have (the NVIC: boards such as stm32f746 describe no CPU node at all), or a
    RISC-V CPU with ``mmu-type = "riscv,none"`` (the Kendryte K210)."""
    if any(c.startswith("arm,cortex-m") for c in _cpu_compatibles(tree)):
        return True
    cpus = tree.root.children.get("cpus")
    for cpu in cpus.children.values() if cpus is not None else ():
        mmu = cpu.properties.get("mmu-type")
        if mmu is not None and mmu.value == b"riscv,none\0":
            return True
    for node in tree.walk():
        prop = node.properties.get("compatible")
        if prop is not None and any(n in prop.value for n in _NVIC):
            return True
    return False


def board_needs(tree: Tree) -> tuple[str, ...]:
    """What the board's Device Tree asks of the kernel configuration: ``no-mmu`` (a CPU without
    MMU), ``lpae`` (every RAM bank above 4 GiB)."""
    needs = []
    if _without_mmu(tree):
        needs.append("no-mmu")
    if _ram_only_above_4g(tree):
        needs.append("lpae")
    return tuple(needs)


_NEED_WORDS = {"no-mmu": "its CPU has no MMU (a Cortex-M, or mmu-type none): it runs only such a kernel",
               "lpae": "its RAM lies only above 4 GiB, which needs LPAE"}


@attrs.frozen
class BoardConfigs:
    """The defconfig of every board of one architecture and the configurations read for them."""

    arch: str
    default: str
    boards: Mapping[str, BoardDefconfig]
    configs: Mapping[str, KernelConfig]
    labels: Mapping[str, str]

    def choice(self, path: str, needs: Sequence[str] = ()) -> BoardDefconfig:
        """The board's defconfig, with a need of its tree met by an alternate when one is read."""
        chosen = self.boards.get(path) or BoardDefconfig(self.default,
                                                         f"{self.default}, the architecture's default")
        for need in needs:
            for kind, name in chosen.alternates:
                if (kind == need and name in self.configs and name != chosen.defconfig
                        and _builds(self.configs[name], chosen.symbols)):
                    return BoardDefconfig(name, f"{chosen.reason}; but {_NEED_WORDS[need]}: {name} "
                                          f"(it enables {_shown(chosen.symbols)} and builds such a kernel)",
                                          chosen.symbols)
        return chosen

    def needs_tree(self, path: str) -> bool:
        """True when the board's tree decides between defconfigs (an alternate was read for it)."""
        chosen = self.boards.get(path)
        return chosen is not None and any(name in self.configs for _kind, name in chosen.alternates)

    def config(self, choice: BoardDefconfig) -> KernelConfig:
        return self.configs.get(choice.defconfig) or self.configs[self.default]

    def note(self, choice: BoardDefconfig) -> Diagnostic | None:
        """An info finding for a board linted with another defconfig than the architecture's."""
        if choice.defconfig == self.default:
            return None
        return diag("lint-defconfig", f"linted with {choice.defconfig}: {choice.reason}",
                    Source("file", file=self.labels.get(choice.defconfig, choice.defconfig)))


Reader = Callable[[Sequence[Path]], Sequence[KernelConfig]]


def choose_board_configs(tree: KernelTree, arch: str, boards: Sequence[str], default_path: Path,
                         default_config: KernelConfig, read: Reader) -> BoardConfigs:
    """Plan the defconfig of each of ``boards`` and read the ones needed (``read`` reads a list
    of defconfigs through Kconfig, in order; each is read once)."""
    defconfigs = read_defconfigs(tree.root, arch)
    default = default_path.name
    evaluated: dict[str, KernelConfig] = {default: default_config}
    if default not in defconfigs:  # a default outside arch/<arch>/configs: nothing to choose from
        return BoardConfigs(arch, default, {}, evaluated, {default: tree.relative(str(default_path))})
    symbols = makefile_symbols(tree.root, arch)
    wanted = [d for d in defconfigs.values() if d.name != default]
    multi = [d for d in wanted if d.name.startswith("multi_")
             and any(b in symbols and not any(_enables(defconfigs[default], s, evaluated) for s in symbols[b])
                     for b in boards)]
    evaluated.update(zip((d.name for d in multi), read([Path(d.path) for d in multi]), strict=True))
    plan = plan_defconfigs(boards, symbols, defconfigs, default, evaluated)
    needed = sorted({c.defconfig for c in plan.values()}
                    | {n for c in plan.values() for _k, n in c.alternates})
    todo = [n for n in needed if n not in evaluated]
    evaluated.update(zip(todo, read([Path(defconfigs[n].path) for n in todo]), strict=True))
    # a defconfig whose line enables the symbol but whose Kconfig drops it does not build the board
    checked = {b: c if c.defconfig == default or _builds(evaluated[c.defconfig], c.symbols)
               else _dropped(c, default) for b, c in plan.items()}
    used = {c.defconfig for c in checked.values()} | {n for c in checked.values() for _k, n in c.alternates}
    configs = {n: kc for n, kc in evaluated.items() if n in used or n == default}
    labels = {n: tree.relative(defconfigs[n].path) for n in configs}
    return BoardConfigs(arch, default, checked, configs, labels)


def _dropped(choice: BoardDefconfig, default: str) -> BoardDefconfig:
    why = (f"{choice.reason}; but once read through Kconfig {choice.defconfig} does not enable it: "
           f"{default}, the architecture's default")
    return BoardDefconfig(default, why, choice.symbols)


def _builds(kc: KernelConfig, symbols: Sequence[str]) -> bool:
    return any(s == ALWAYS or kc.is_set(s) for s in symbols)


def lint_with_defconfig(ctx: ArchContext, path: str, configs: BoardConfigs | None,
                        lint: Callable[[ArchContext, str], BoardResult],
                        built: LoadedTree | BoardResult) -> BoardResult:
    """``lint(ctx, path)`` with the board's own defconfig; the result names it and why (and an
    info ``lint-defconfig`` finding says so when it is not the architecture's default).

    ``built`` is the board as the lint built it: its tree decides between defconfigs where the
    board's needs do (a board that did not build has none)."""
    if configs is None:
        return lint(ctx, path)
    needs = board_needs(built.tree) if configs.needs_tree(path) and isinstance(built, LoadedTree) else ()
    choice = configs.choice(path, needs)
    config = configs.config(choice)
    result = lint(ctx if config is ctx.config else attrs.evolve(ctx, config=config), path)
    note = configs.note(choice)
    label = configs.labels.get(choice.defconfig, choice.defconfig)
    return attrs.evolve(result, defconfig=label, defconfig_reason=choice.reason,
                        diagnostics=result.diagnostics if note is None else (*result.diagnostics, note))


def extra_configs(configs: BoardConfigs) -> list[tuple[str, KernelConfig]]:
    """The configurations read besides the default (label, config), in name order."""
    return [(configs.labels[n], kc) for n, kc in sorted(configs.configs.items()) if n != configs.default]
