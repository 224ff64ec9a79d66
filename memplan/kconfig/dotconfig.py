"""Reading the text of a kernel ``.config`` or defconfig, line by line, with positions.

This layer knows the file format only (``CONFIG_X=value``, ``# CONFIG_X is not set``,
comments, the ``# Linux/<arch> <version> Kernel Configuration`` header); what the values
mean is decided later against the Kconfig model. Every assignment keeps its line, so a
diagnostic can point at ``defconfig:3``.
"""

from __future__ import annotations

import re

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
    assignments: tuple[Assignment, ...]
    header: Header | None
    diagnostics: tuple[Diagnostic, ...]

    def last(self) -> dict[str, Assignment]:
        """The effective assignment of each symbol (the last one wins, as in the kernel tools)."""
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
    assignments: list[Assignment] = []
    diags: list[Diagnostic] = []
    header: Header | None = None
    seen: dict[str, Assignment] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not line:
            continue
        m = _SET_RE.match(line)
        unset = False
        if m is None:
            m = _UNSET_RE.match(line)
            unset = m is not None
        if m is None:
            if line.lstrip().startswith("#"):
                if header is None and lineno <= HEADER_LINES:
                    hm = _HEADER_RE.match(line.strip())
                    if hm:
                        src = Source.config_line(name, lineno, raw)
                        header = Header(hm.group("arch"), hm.group("version"), src)
                continue
            diags.append(_malformed(line, Source.config_line(name, lineno, raw)))
            continue
        value = "n" if unset else m.group("value")
        assignment = Assignment(m.group("name"), value, lineno, name, raw, unset=unset)
        if not unset and not is_well_formed_value(value):
            diags.append(
                diag(
                    "kconfig-malformed-line",
                    f"CONFIG_{assignment.name}={shorten(value)}: not a valid value (expected y, m, n, a "
                    "number or a quoted string); the kernel's tools read only the first letter of a bool and "
                    "ignore the line otherwise",
                    assignment.source,
                    subject=f"CONFIG_{assignment.name}",
                )
            )
        previous = seen.get(assignment.name)
        if previous is not None:
            diags.append(
                diag(
                    "kconfig-duplicate",
                    f"CONFIG_{assignment.name} is set twice: line {previous.line} "
                    f"({_show(previous)}) and line {lineno} ({_show(assignment)}); the last one wins",
                    assignment.source,
                    subject=f"CONFIG_{assignment.name}",
                )
            )
        seen[assignment.name] = assignment
        assignments.append(assignment)
    return DotConfig(name, tuple(assignments), header, tuple(diags))


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
