"""Running kconfiglib: parsing a Kconfig model (cached) and evaluating assignments against it.

kconfiglib reads its settings from environment variables (``srctree``, ``SRCARCH``, Kconfig
macros) and prints warnings to stderr. Both are contained here: the variables are set only
while a model is parsed and restored afterwards, warnings are captured and returned, and a
lock serialises use of the shared, mutable ``Kconfig`` objects.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import kconfiglib

from memplan.errors import ConfigError
from memplan.kconfig import probes, treeparse
from memplan.kconfig.dotconfig import INTERNAL_PREFIX
from memplan.source import Source

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Environment variables kconfiglib consults; they are cleared while memplan's model is parsed
#: so that a user's shell settings cannot change the result.
_KCONFIG_ENV = (
    "srctree",
    "ARCH",
    "SRCARCH",
    "KERNELVERSION",
    "CONFIG_",
    "KCONFIG_CONFIG",
    "KCONFIG_WARN_UNDEF",
    "KCONFIG_WARN_UNDEF_ASSIGN",
    "KCONFIG_STRICT",
    "KCONFIG_FUNCTIONS",
    "MEMPLAN_KVER",
    "MEMPLAN_CMDLINE",
)

_LOCK = threading.RLock()
_CACHE: dict[tuple[str, ...], tuple[Any, tuple[str, ...]]] = {}
_SEEDED: dict[int, frozenset[str]] = {}
_FACTS: dict[int, ModelFacts] = {}
_LOCATION_RE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>[0-9]{1,9}):")


@attrs.frozen
class ModelKey:
    """Which Kconfig model to parse: memplan's bundled one or a kernel tree's own."""

    arch: str
    version_code: int | None = None
    cmdline_file: str | None = None
    srctree: str | None = None
    kernelversion: str | None = None

    def cache_key(self) -> tuple[str, ...]:
        return (self.arch, str(self.version_code), self.cmdline_file or "", self.srctree or "",
                self.kernelversion or "")


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set exactly ``values`` among the kconfiglib variables; restore everything afterwards."""
    names = set(_KCONFIG_ENV) | set(values)
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def seeded_symbols(kconf: Any) -> frozenset[str]:
    """Names of the int/hex symbols :func:`_seed_int_defaults` gave a ``0`` default: the kernel's
    tools never write them to a ``.config`` while they are invisible, so they read as undefined."""
    return _SEEDED.get(id(kconf), frozenset())


def _seed_int_defaults(kconf: Any) -> None:
    """Give int/hex symbols without any default the C tools' starting value (``0``/``0x0``).

    kconfiglib starts them at ``""``, which turns ``SYM = 0`` into a string comparison that
    is false where the kernel's own tools say true (e.g. ``PAGE_BLOCK_MAX_ORDER`` on x86,
    whose defaults test ``ARCH_FORCE_MAX_ORDER = 0``).
    """
    seeded = set()
    for sym in kconf.unique_defined_syms:
        if sym.orig_type in (kconfiglib.INT, kconfiglib.HEX) and not sym.defaults:
            zero = "0" if sym.orig_type is kconfiglib.INT else "0x0"
            sym.defaults.append((kconf._lookup_const_sym(zero), kconf.y))
            seeded.add(sym.name)
    _SEEDED[id(kconf)] = frozenset(seeded)


#: What :attr:`ModelFacts.entries` says of a symbol's type.
BOOLEAN, TEXTUAL, OTHER = 0, 1, 2


class ModelFacts:
    """What every evaluation of one parsed model reads and no evaluation changes, worked out once.

    ``entries``: each defined symbol outside memplan's internal ones, in the model's order, as
    ``(symbol, name, kind, seeded)``; ``kind`` is :data:`BOOLEAN` (bool, tristate),
    :data:`TEXTUAL` (int, hex, string) or :data:`OTHER`; ``seeded``: one of
    :func:`seeded_symbols`. ``defined``: their names. ``numbers``: the int and hex symbols (internal
    ones too), in the model's order. A model's facts live as long as it stays
    in the model cache (:func:`model_facts`).
    """

    def __init__(self, kconf: Any) -> None:
        self.kconf = kconf
        seeded = seeded_symbols(kconf)
        kinds = {kconfiglib.BOOL: BOOLEAN, kconfiglib.TRISTATE: BOOLEAN, kconfiglib.INT: TEXTUAL,
                 kconfiglib.HEX: TEXTUAL, kconfiglib.STRING: TEXTUAL}
        self.entries: tuple[tuple[Any, str, int, bool], ...] = tuple(
            (sym, sym.name, kinds.get(sym.orig_type, OTHER), sym.name in seeded)
            for sym in kconf.unique_defined_syms
            if not sym.name.startswith(INTERNAL_PREFIX)
        )
        self.defined = frozenset(entry[1] for entry in self.entries)
        self.numbers: tuple[Any, ...] = tuple(
            sym for sym in kconf.unique_defined_syms if sym.orig_type in (kconfiglib.INT, kconfiglib.HEX))
        self._terms: dict[str, tuple[tuple[Any, str], ...]] = {}
        self._builtins: dict[str, Source] = {}

    def builtin_source(self, what: str) -> Source:
        """``Source.builtin(what)``, one object per text: the configurations evaluated with the
        model share the sources they have in common (pickled together, each is written once)."""
        src = self._builtins.get(what)
        if src is None:
            src = self._builtins[what] = Source.builtin(what)
        return src

    def selector_terms(self, sym: Any) -> tuple[tuple[Any, str], ...]:
        """The ``select`` terms of ``sym``'s reverse dependencies, each with the name of the
        selecting symbol (or choice), in kconfiglib's order; none when nothing selects it."""
        terms = self._terms.get(sym.name)
        if terms is None:
            if sym.rev_dep is self.kconf.n:
                terms = ()
            else:
                split = kconfiglib.split_expr
                terms = tuple((term, str(kconfiglib.standard_sc_expr_str(split(term, kconfiglib.AND)[0])))
                              for term in split(sym.rev_dep, kconfiglib.OR))
            self._terms[sym.name] = terms
        return terms


def model_facts(kconf: Any) -> ModelFacts:
    """The :class:`ModelFacts` of ``kconf``: kept with a model of the cache (:func:`load_model`),
    worked out anew for any other model."""
    facts = _FACTS.get(id(kconf))
    if facts is not None and facts.kconf is kconf:
        return facts
    return ModelFacts(kconf)


#: The young-generation threshold of the cyclic garbage collector while a Kconfig model is parsed.
#: A parse makes millions of objects that all live as long as the model; at the default (700
#: allocations) the collector scans them again and again as they pile up: about a quarter of a
#: kernel tree's parse in a fresh process, and as much as the parse itself in a process that
#: already holds another architecture's model. Nothing it could free is lost, only found later.
_PARSE_GC_THRESHOLD = 100_000


#: Whether :func:`load_model` moves what exists after a parse out of the collector's sight.
_FREEZE_AFTER_PARSE = [False]


def freeze_after_parse() -> None:
    """From now on, put every object of the process into the cyclic garbage collector's permanent
    generation (``gc.freeze()``) right after each Kconfig model is parsed.

    Only for a process that keeps its models to its end and then exits, such as a lint's
    configuration reader: nothing frozen is ever collected, not even once
    :func:`clear_cache` lets it go. There it saves the collector's first full pass after each
    parse, over every object of the model (about 0.1-0.25 s of CPU for a kernel tree's).
    """
    _FREEZE_AFTER_PARSE[0] = True


@contextlib.contextmanager
def _collector_relaxed() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(max(saved[0], _PARSE_GC_THRESHOLD), *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _error_source(message: str, fallback: Path) -> Source:
    m = _LOCATION_RE.match(message.strip())
    if m:
        return Source.at(m.group("file"), int(m.group("line")))
    return Source.at(str(fallback), 1)


def _setting(key: ModelKey) -> tuple[Path, dict[str, str]]:
    """The top-level Kconfig file of ``key`` and the environment kconfiglib reads it in."""
    if key.srctree is not None:
        top = Path(key.srctree) / "Kconfig"
        env = {"srctree": key.srctree, "ARCH": key.arch, "SRCARCH": key.arch}
        if key.kernelversion:
            env["KERNELVERSION"] = key.kernelversion
        # The kernel's scripts/Kconfig.include probes the toolchain; without these it stops.
        for tool, default in (("CC", "gcc"), ("HOSTCC", "gcc"), ("HOSTCXX", "g++"), ("LD", "ld")):
            env[tool] = os.environ.get(tool, default)
        # Its $(shell,...) probes, with kconfiglib's answers, but cheaper (memplan.kconfig.probes).
        env["KCONFIG_FUNCTIONS"] = probes.__name__
        return top, env
    return DATA_DIR / "Kconfig", {
        "srctree": str(DATA_DIR),
        "ARCH": key.arch,
        "SRCARCH": key.arch,
        "MEMPLAN_KVER": str(key.version_code),
        "MEMPLAN_CMDLINE": key.cmdline_file or "",
    }


def parse_model(key: ModelKey, parser: Any = None) -> tuple[Any, str]:
    """A fresh parse of the Kconfig model ``key`` (neither cached nor given memplan's int
    defaults) by ``parser`` (a ``kconfiglib.Kconfig`` class; by default
    :class:`memplan.kconfig.treeparse.TreeKconfig` for a kernel tree, kconfiglib's own for the
    bundled model), and what kconfiglib wrote to stderr meanwhile. Raises :class:`ConfigError`
    when the Kconfig files cannot be parsed."""
    top, env = _setting(key)
    if not top.is_file():
        raise ConfigError(f"no top-level Kconfig file at {top}", Source.at(str(top), 1))
    if parser is None:
        parser = treeparse.TreeKconfig if key.srctree is not None else kconfiglib.Kconfig
    stderr = io.StringIO()
    with _environment(env), contextlib.redirect_stderr(stderr), _collector_relaxed():
        try:
            kconf = parser(str(top), warn=True, warn_to_stderr=False)
            if _FREEZE_AFTER_PARSE[0]:
                gc.freeze()
        except kconfiglib.KconfigError as err:
            msg = str(err).strip()
            raise ConfigError(f"cannot parse Kconfig: {msg}", _error_source(msg, top)) from None
        except OSError as err:
            raise ConfigError(f"cannot read Kconfig: {err}", Source.at(str(top), 1)) from None
    return kconf, stderr.getvalue()


def load_model(key: ModelKey) -> tuple[Any, tuple[str, ...]]:
    """The parsed ``kconfiglib.Kconfig`` for ``key`` (cached in-process) and the warnings kconfiglib
    gave while parsing. Raises :class:`ConfigError` when the Kconfig files cannot be parsed."""
    with _LOCK:
        cached = _CACHE.get(key.cache_key())
        if cached is not None:
            return cached[0], cached[1]
        kconf, stderr = parse_model(key)
        _seed_int_defaults(kconf)
        _FACTS[id(kconf)] = ModelFacts(kconf)
        warnings = tuple(kconf.warnings) + tuple(line for line in stderr.splitlines() if line)
        _CACHE[key.cache_key()] = (kconf, warnings)
        return kconf, warnings


def model_lock() -> threading.RLock:
    """The lock that must be held while a cached model's values are set or read."""
    return _LOCK


def clear_cache() -> None:
    """Forget every parsed model (for tests and long-running tools that edit a srctree)."""
    with _LOCK:
        _CACHE.clear()
        _SEEDED.clear()
        _FACTS.clear()
        probes.forget()
        treeparse.forget()
