"""Reading the text of a kernel ``.config`` or defconfig, line by line, with positions.

This layer knows the file format only (``CONFIG_X=value``, ``# CONFIG_X is not set``,
comments, the ``# Linux/<arch> <version> Kernel Configuration`` header); what the values
mean is decided later against the Kconfig model. Every assignment keeps its line, so a
diagnostic can point at ``defconfig:3``.

A config is read lean: the lines are walked without a list of them, and the assignments are
kept as columns (:class:`AssignmentTable`: names, values, line numbers and offsets into the
text) from which an :class:`Assignment` is made only when one is asked for. A million-line
config costs a couple of hundred bytes a line (its text, each name once, a slot in the
columns and in the name index), however the rest of memplan looks at it.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar, overload

import attrs

from memplan.diagnostics import diag
from memplan.errors import ConfigError, shorten
from memplan.model import Diagnostic
from memplan.source import Source

_SET_RE = re.compile(r"^CONFIG_(?P<name>[A-Za-z0-9_]+)=(?P<value>.*)$")
_UNSET_RE = re.compile(r"^# CONFIG_(?P<name>[A-Za-z0-9_]+) is not set$")
_HEADER_RE = re.compile(
    r"^#\s*Linux/(?P<arch>[A-Za-z0-9_.+-]+)\s+(?P<version>\S+)\s+Kernel Configuration\s*$"
)
_CONFIG_PREFIX_RE = re.compile(r"^\s*CONFIG_")
_NUMBER_RE = re.compile(r"^(?:-?[0-9]+|0[xX][0-9a-fA-F]+)$")
_STRING_RE = re.compile(r'^"(?:[^"\\]|\\.)*"$')

_BINARY = "binary data (NUL byte): not a kernel config file"

#: How many leading lines may hold the ``# Linux/... Kernel Configuration`` header.
HEADER_LINES = 8

#: One line and its ending, with the line breaks ``str.splitlines`` knows.
_LINE_RE = re.compile(
    "([^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*)(?:\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029])?"
)
_BODY_RE = re.compile("[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*")


@attrs.frozen
class Assignment:
    """One ``CONFIG_NAME=value`` or ``# CONFIG_NAME is not set`` line.

    ``value`` is the raw text right of ``=`` (``"n"`` for the "is not set" form); strings keep
    their quotes. ``source`` is the config line (``file``, ``line`` and the text ``raw``), made
    only when asked for, so a million-line config does not build a million positions.
    """

    name: str
    value: str
    line: int
    file: str
    raw: str = attrs.field(repr=False)
    unset: bool = False

    @property
    def source(self) -> Source:
        """The config line."""
        return Source.config_line(self.file, self.line, self.raw)


class AssignmentTable(Sequence[Assignment]):
    """The assignments of one config in file order, stored as columns; an item is an
    :class:`Assignment` made when it is asked for (its ``raw`` line cut from the text)."""

    __slots__ = ("file", "lines", "names", "starts", "text", "unset", "values")

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.names: list[str] = []
        self.values: list[str] = []
        self.lines = array("I")
        self.starts = array("Q")
        self.unset = bytearray()

    def append(self, name: str, value: str, line: int, start: int, unset: bool) -> int:
        """Add one assignment; its index."""
        self.names.append(name)
        self.values.append(value)
        self.lines.append(line)
        self.starts.append(start)
        self.unset.append(unset)
        return len(self.names) - 1

    def raw(self, index: int) -> str:
        """The text of the line of assignment ``index`` (without its line ending)."""
        m = _BODY_RE.match(self.text, self.starts[index])
        return m.group() if m is not None else ""

    def __len__(self) -> int:
        return len(self.names)

    @overload
    def __getitem__(self, index: int) -> Assignment: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Assignment]: ...

    def __getitem__(self, index: int | slice) -> Assignment | Sequence[Assignment]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return Assignment(self.names[index], self.values[index], self.lines[index], self.file,
                          self.raw(index), unset=bool(self.unset[index]))

    def __iter__(self) -> Iterator[Assignment]:
        for i in range(len(self.names)):
            yield self[i]


class LastAssignments(Mapping[str, Assignment]):
    """Symbol name -> its effective (last) assignment, in the order symbols first appear."""

    __slots__ = ("index", "table")

    def __init__(self, table: AssignmentTable, index: dict[str, int]) -> None:
        self.table = table
        self.index = index

    def __getitem__(self, name: str) -> Assignment:
        return self.table[self.index[name]]

    def __contains__(self, name: object) -> bool:
        return name in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)

    def written_value(self, name: str) -> str:
        """The value as the file gives it (``n`` for "is not set", quotes removed)."""
        i = self.index[name]
        return "n" if self.table.unset[i] else unquote(self.table.values[i])


@attrs.frozen
class Header:
    """What the ``# Linux/<arch> <version> Kernel Configuration`` comment says."""

    arch: str
    version: str
    source: Source


@attrs.frozen
class DotConfig:
    """A parsed ``.config``: assignments in file order, the header, and format diagnostics."""

    name: str
    assignments: Sequence[Assignment]
    header: Header | None
    diagnostics: tuple[Diagnostic, ...]
    latest: LastAssignments | None = attrs.field(default=None, repr=False, eq=False)

    def last(self) -> Mapping[str, Assignment]:
        """The effective assignment of each symbol (the last one wins, as in the kernel tools)."""
        if self.latest is not None:
            return self.latest
        out: dict[str, Assignment] = {}
        for a in self.assignments:
            out[a.name] = a
        return out


def is_well_formed_value(value: str) -> bool:
    """True for the value forms a ``.config`` can hold: y/m/n, a quoted string or a number."""
    return value in ("y", "m", "n") or bool(_NUMBER_RE.match(value)) or bool(_STRING_RE.match(value))


def unquote(value: str) -> str:
    """The text of a quoted ``.config`` string (``\\"`` and ``\\\\`` escapes undone)."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        body = value[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    return value


def decode(data: bytes, name: str) -> str:
    """Bytes of a config file as text; :class:`ConfigError` (with the line) for binary data."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ConfigError(_BINARY, Source.config_line(name, line))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ConfigError(
            f"not UTF-8 text (byte 0x{data[err.start]:02x}); is this a kernel config?",
            Source.config_line(name, line),
        ) from None


def parse_dotconfig(text: str, name: str) -> DotConfig:
    """Split config text into assignments; malformed lines and repeated symbols become diagnostics.

    A malformed line is reported with code ``kconfig-malformed-line`` and otherwise ignored; a
    symbol assigned twice is reported with ``kconfig-duplicate`` (the later line wins).
    """
    if "\x00" in text:
        nul_line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError(_BINARY, Source.config_line(name, nul_line))
    table = AssignmentTable(name, text)
    diags: list[Diagnostic] = []
    header: Header | None = None
    seen: dict[str, int] = {}
    # the columns, appended to directly (a million-line config: no call per line)
    names, values = table.names, table.values
    add_name, add_value = names.append, values.append
    add_line, add_start, add_unset = table.lines.append, table.starts.append, table.unset.append
    common = _COMMON_VALUES.get
    set_match, unset_match = _SET_RE.match, _UNSET_RE.match
    count = 0
    lineno = 0
    for m in _LINE_RE.finditer(text):
        raw = m.group(1)
        if not raw:
            if m.end() == m.start():
                break  # the empty match at the end of the text
            lineno += 1
            continue
        lineno += 1
        line = raw.rstrip()
        if not line:
            continue
        sm = set_match(line)
        unset = False
        if sm is None:
            sm = unset_match(line)
            unset = sm is not None
        if sm is None:
            if line.lstrip().startswith("#"):
                if header is None and lineno <= HEADER_LINES:
                    hm = _HEADER_RE.match(line.strip())
                    if hm:
                        src = Source.config_line(name, lineno, raw)
                        header = Header(hm.group("arch"), hm.group("version"), src)
                continue
            diags.append(_malformed(line, Source.config_line(name, lineno, raw)))
            continue
        symbol = sm.group("name")
        if unset:
            value = "n"
        else:
            value = sm.group("value")
            value = common(value, value)
            if not is_well_formed_value(value):
                diags.append(_malformed_value(symbol, value, Source.config_line(name, lineno, raw)))
        previous = seen.get(symbol)
        if previous is not None:
            before = table[previous]
            diags.append(
                diag(
                    "kconfig-duplicate",
                    f"CONFIG_{symbol} is set twice: line {before.line} "
                    f"({_show(before)}) and line {lineno} "
                    f"({'is not set' if unset else '=' + shorten(value)}); the last one wins",
                    Source.config_line(name, lineno, raw),
                    subject=f"CONFIG_{symbol}",
                )
            )
            symbol = names[previous]  # one string per symbol name
        add_name(symbol)
        add_value(value)
        add_line(lineno)
        add_start(m.start())
        add_unset(unset)
        seen[symbol] = count
        count += 1
    return DotConfig(name, table, header, tuple(diags), LastAssignments(table, seen))


#: Values most lines have, kept as one shared string each.
_COMMON_VALUES = {v: v for v in ("y", "m", "n", "0", "1", '""')}


def _common(value: str) -> str:
    return _COMMON_VALUES.get(value, value)


def _malformed_value(symbol: str, value: str, src: Source) -> Diagnostic:
    return diag(
        "kconfig-malformed-line",
        f"CONFIG_{symbol}={shorten(value)}: not a valid value (expected y, m, n, a number or a quoted "
        "string); the kernel's tools read only the first letter of a bool and ignore the line otherwise",
        src,
        subject=f"CONFIG_{symbol}",
    )


def _show(a: Assignment) -> str:
    return "is not set" if a.unset else f"={shorten(a.value)}"


def _malformed(line: str, src: Source) -> Diagnostic:
    stripped = line.strip()
    if not _CONFIG_PREFIX_RE.match(line):
        why = "not an assignment, a comment or a blank line"
    elif line[:1].isspace():
        why = "leading whitespace: a line must start with CONFIG_ or #"
    elif "=" not in stripped:
        why = "an assignment without '=' (expected CONFIG_NAME=value)"
    else:
        why = "not of the form CONFIG_NAME=value (no spaces around '=', name of A-Z, 0-9, _)"
    return diag("kconfig-malformed-line", f"ignored line {shorten(stripped)!r}: {why}", src)


#: Symbols of memplan's own Kconfig model (never a user's value).
INTERNAL_PREFIX = "MEMPLAN_"


_V = TypeVar("_V")


class _Written(Mapping[str, _V]):
    """``base`` (what the Kconfig evaluation decided) over what the file wrote for every other
    symbol (except ``hidden`` ones and memplan's internal ones), looked up in the config's own
    columns when asked for. Immutable and picklable."""

    __slots__ = ("base", "hidden", "latest")

    def __init__(self, base: Mapping[str, _V], latest: Mapping[str, Assignment],
                 hidden: frozenset[str]) -> None:
        self.base = base
        self.latest = latest
        self.hidden = hidden

    def _written(self, name: str) -> bool:
        return name in self.latest and name not in self.hidden and not name.startswith(INTERNAL_PREFIX)

    def _make(self, name: str) -> _V:
        raise NotImplementedError

    def __getitem__(self, name: str) -> _V:
        if name in self.base:
            return self.base[name]
        if isinstance(name, str) and self._written(name):
            return self._make(name)
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self.base or (isinstance(name, str) and self._written(name))

    def __iter__(self) -> Iterator[str]:
        yield from self.base
        for name in self.latest:
            if name not in self.base and self._written(name):
                yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]


class WrittenValues(_Written[str]):
    """Symbol -> value: the evaluated ones, then the others as written (quotes removed)."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as columns: the names (one tuple for every configuration of a Kconfig model, which
        # evaluates its symbols in one order: pickled together, it is written once) and the values
        # joined into one string, rather than a dict entry per symbol (some 18,000 of them).
        base = self.base
        if type(base) is dict and base:
            joined = _SEPARATOR.join(base.values())
            if joined.count(_SEPARATOR) == len(base) - 1:  # no value holds the separator
                return _values_from_columns, (_shared_names(tuple(base)), joined, self.latest, self.hidden)
        return WrittenValues, (base, self.latest, self.hidden)

    def _make(self, name: str) -> str:
        latest = self.latest
        if isinstance(latest, LastAssignments):
            return latest.written_value(name)
        a = latest[name]
        return "n" if a.unset else unquote(a.value)


class WrittenSources(_Written[Source]):
    """Symbol -> where its value came from: the evaluation's, then the config line."""

    __slots__ = ()

    def _make(self, name: str) -> Source:
        return self.latest[name].source


_SEPARATOR = "\0"
#: The last names :func:`_shared_names` gave (the configurations of one model share them).
_NAMES: list[tuple[str, ...]] = []


def _shared_names(names: tuple[str, ...]) -> tuple[str, ...]:
    last = _NAMES[-1] if _NAMES else None
    if last is not None and last == names:
        return last
    _NAMES[:] = [names]
    return names


def _values_from_columns(names: tuple[str, ...], joined: str, latest: Mapping[str, Assignment],
                         hidden: frozenset[str]) -> WrittenValues:
    """A :class:`WrittenValues` from its pickled columns (:meth:`WrittenValues.__reduce__`)."""
    return WrittenValues(dict(zip(names, joined.split(_SEPARATOR), strict=True)), latest, hidden)
