"""C preprocessing of Device Tree sources, the way kbuild runs it.

The kernel feeds every board ``.dts`` through the C preprocessor before ``dtc`` sees it::

    cpp -nostdinc -I <dirs> -undef -D__DTS__ -x assembler-with-cpp board.dts

:func:`preprocess` does the same with the system ``cpp`` when one is installed, or with a
pure-Python fallback built on ``pcpp`` that copies the behaviour that matters for DTS:

* lines such as ``#address-cells = <1>;`` look like unknown directives and pass through
  untouched (assembler-with-cpp mode);
* ``#include "x"`` is looked up next to the including file, then in the include dirs;
  ``#include <x>`` only in the include dirs (``-nostdinc``);
* only ``__DTS__``, ``__ASSEMBLER__``, ``__STDC__`` and ``__STDC_HOSTED__`` are predefined
  (``-undef``: no ``linux`` macro that would turn ``linux,cma-default`` into ``1,cma-default``).

Includes are found as cpp finds them (``..``, absolute paths and symlinks allowed) unless
``include_roots`` confines every read (:mod:`memplan.dts.includes`); the system cpp runs with
a time, memory and output bound (:mod:`memplan.dts.cpprun`), the pcpp back end with a time
and expansion-size bound and every failure of pcpp itself turned into a positioned error.

Either way the output carries GNU linemarkers (``# <line> "<file>" [flags]``; flag 1 enters
an included file, flag 2 returns to the includer) so that the DTS parser can map every
token back to its original file and line. Problems are raised as
:class:`~memplan.errors.IncludeError` (missing include, include cycle, an include outside
the include roots) or :class:`~memplan.errors.PreprocessError` (anything else cpp rejects),
each carrying the position of the offending directive.
"""

from __future__ import annotations

import copy
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from memplan.diagnostics import diag
from memplan.dts import limits
from memplan.dts.cpprun import cpp_command, find_system_cpp, run_cpp
from memplan.dts.includes import STDIN_NAME, IncludePolicy
from memplan.errors import IncludeError, MemplanError, PreprocessError, shorten
from memplan.model import Diagnostic
from memplan.source import Source

if TYPE_CHECKING:
    from memplan.dts.sandbox import View

Tool = Literal["cpp", "pcpp", "none"]
CppChoice = Literal["auto", "system", "pcpp", "none"]

#: The flags kbuild passes to the preprocessor for DTS (besides ``-I`` and ``-D``).
KBUILD_CPP_FLAGS: tuple[str, ...] = ("-nostdinc", "-undef", "-D__DTS__", "-x", "assembler-with-cpp")

#: Macros GNU cpp still defines under ``-undef -x assembler-with-cpp`` (plus ``__DTS__``).
PREDEFINED_MACROS: tuple[tuple[str, str], ...] = (
    ("__STDC__", "1"),
    ("__STDC_HOSTED__", "1"),
    ("__ASSEMBLER__", "1"),
    ("__DTS__", "1"),
)

#: GNU cpp's default ``-fmax-include-depth``; deeper nesting is reported as an include cycle.
MAX_INCLUDE_DEPTH = 200

#: Reads allowed anywhere (still never a device or FIFO, and size-bounded).
_ANYWHERE = IncludePolicy()

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"

_LINEMARKER = re.compile(
    r'^#(?:line)?\s+([0-9]{1,40})\s+"((?:[^"\\]++|\\.)*+)"((?:\s+[0-9]{1,4})*)\s*$', re.ASCII
)
_DIAGNOSTIC = re.compile(
    r"^(?P<file>.+?):(?P<line>[0-9]{1,12}):(?:(?P<col>[0-9]{1,12}):)?\s*"
    r"(?P<kind>fatal error|error|warning|note):\s*(?P<msg>.*)$"
)
#: An escaped character in a linemarker's file name.
_ESCAPED = re.compile(r"\\(.)")
_INCLUDE_TARGET = re.compile(r'#\s*(?:include(?:_next)?|import)\s*(?P<target>["<])')
_INCLUDE_NAME = re.compile(r'#\s*(?:include(?:_next)?|import)\s*["<](?P<name>[^">]*)[">]')


def _spelled(where: Source, fallback: str) -> str:
    """The file name as the ``#include`` at ``where`` spells it (else ``fallback``), so an error
    names what the user wrote, not where cpp found it."""
    m = _INCLUDE_NAME.search(where.text or "")
    return m.group("name") if m is not None else fallback


@attrs.frozen
class Linemarker:
    """One GNU linemarker: the next output line is ``line`` of ``file``.

    ``flags`` holds the numeric flags: 1 = entering an included file, 2 = returning to the
    includer, 3 = a system header.
    """

    line: int
    file: str
    flags: tuple[int, ...] = ()


@attrs.frozen
class Preprocessed:
    """The result of :func:`preprocess`.

    ``text`` is what ``dtc`` would read (with linemarkers), ``files`` every file that was
    read (the main file first, in the order they were first entered), ``tool`` which
    preprocessor ran, ``command`` the command line when the system ``cpp`` ran,
    ``diagnostics`` the preprocessor's warnings (code ``cpp-warning``).
    """

    text: str
    files: tuple[str, ...]
    tool: Tool
    main_file: str
    include_dirs: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()


def parse_linemarker(line: str) -> Linemarker | None:
    """Decode ``# 12 "file.dtsi" 1`` (or ``#line 12 "file"``); ``None`` for any other line."""
    if not line.startswith("#"):
        return None
    m = _LINEMARKER.match(line)
    if m is None:
        return None
    name = m.group(2)
    if "\\" in name:
        name = _ESCAPED.sub(r"\1", name)
    flags = tuple(int(f) for f in m.group(3).split())
    return Linemarker(int(m.group(1)), name, flags)


def format_linemarker(line: int, file: str, flags: Sequence[int] = ()) -> str:
    """Encode a GNU linemarker (without the trailing newline)."""
    escaped = file.replace("\\", "\\\\").replace('"', '\\"')
    tail = "".join(f" {f}" for f in flags)
    return f'# {line} "{escaped}"{tail}'


def source_lines(text: str) -> Iterator[tuple[str, int, str]]:
    """Walk preprocessed text: ``(file, line, text)`` for every line that is not a linemarker."""
    file, line = "<input>", 1
    for raw in text.split("\n"):
        mk = parse_linemarker(raw) if raw.startswith("#") else None
        if mk is not None:
            file, line = mk.file, mk.line
            continue
        yield file, line, raw
        line += 1


def preprocess(
    path: str | os.PathLike[str],
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    cpp: CppChoice | str = "auto",
    defines: Iterable[str] = (),
    include_roots: Iterable[str | os.PathLike[str]] | None = None,
) -> Preprocessed:
    """Run the C preprocessor over a DTS file the way kbuild does.

    ``cpp``: ``"auto"`` (system ``cpp`` when present, else pcpp), ``"system"``, ``"pcpp"``
    or ``"none"`` (no preprocessing: the file's text with one linemarker in front).
    ``defines`` are ``NAME`` or ``NAME=VALUE`` strings (``-D``). ``include_roots`` confines
    every read to those directories (see :mod:`memplan.dts.includes`); with it, ``"auto"`` and
    ``"system"`` first walk the includes with the pcpp back end (whose every file read memplan
    makes and checks itself), then run cpp (bounded) where only the roots exist
    (:mod:`memplan.dts.sandbox`), so the output is cpp's own, and check the files it read once
    more; where that confinement is impossible the pcpp back end preprocesses instead, with the
    info diagnostic ``cpp-not-confined``. Raises :class:`IncludeError` or
    :class:`PreprocessError` with the position of the problem.
    """
    main = os.fspath(path)
    policy = IncludePolicy.make(include_roots)
    where = Source.at(main, 1)
    if not os.path.isfile(main):
        raise IncludeError(f"no such DTS file: {main}", where)
    if not policy.inside(main):
        raise policy.outside_error("DTS file", main, where)
    return _preprocess(main, None, include_dirs, cpp, defines, policy)



#: Text of inputs that are not files (standard input), for carets under error positions.
_MEMORY: dict[str, list[str]] = {}


def preprocess_stdin(
    data: bytes,
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    cpp: CppChoice | str = "auto",
    defines: Iterable[str] = (),
    include_roots: Iterable[str | os.PathLike[str]] | None = None,
) -> Preprocessed:
    """Preprocess DTS read from standard input as ``cpp ... -`` does: the input is named
    ``<stdin>`` and its quoted includes are looked up in the current directory, then in the
    include dirs. ``include_roots`` confines every include read as for a file (the input
    itself is not a file, so it is not checked); otherwise as :func:`preprocess`."""
    text = data.decode(_ENCODING, _ERRORS)
    text = text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
    _MEMORY[STDIN_NAME] = text.splitlines()
    return _preprocess(STDIN_NAME, text, include_dirs, cpp, defines, IncludePolicy.make(include_roots))


def _preprocess(
    main: str, data: str | None, include_dirs: Iterable[str | os.PathLike[str]], cpp: CppChoice | str,
    defines: Iterable[str], policy: IncludePolicy,
) -> Preprocessed:
    """:func:`preprocess` of the file ``main``, or of the text ``data`` named ``main``."""
    dirs = tuple(os.fspath(d) for d in include_dirs)
    defs = tuple(defines)
    where = Source.at(main, 1)
    if cpp == "none":
        text = policy.read_text(main, "DTS file", where) if data is None else data
        body = text if text.endswith("\n") or not text else text + "\n"
        return Preprocessed(
            text=format_linemarker(1, main) + "\n" + body, files=(main,), tool="none", main_file=main,
            include_dirs=dirs,
        )
    if cpp not in ("auto", "system", "pcpp"):
        raise PreprocessError(f"unknown preprocessor choice {cpp!r} (auto, system, pcpp or none)")
    exe = find_system_cpp() if cpp in ("auto", "system") else None
    if cpp == "system" and exe is None:
        raise PreprocessError("no system C preprocessor found (install cpp, or use --cpp pcpp)")
    if exe is None:
        return _run_pcpp(main, dirs, defs, policy, data)
    if policy.confined:
        # "auto" and "system" alike: the output is cpp's own (as the kernel build makes it)
        _vet_includes(main, dirs, defs, policy, data)
        return _run_confined_cpp(exe, main, dirs, defs, policy, data)
    return _run_system_cpp(exe, main, dirs, defs, policy, data)


def _run_confined_cpp(
    exe: str, main: str, dirs: tuple[str, ...], defs: tuple[str, ...], policy: IncludePolicy, data: str | None
) -> Preprocessed:
    """The system cpp where only the include roots (and its own program files) exist
    (:mod:`memplan.dts.sandbox`), so no ``#if`` it evaluates differently from the walk ahead of it
    can make it read outside. Where this system cannot confine it, cpp is not run: the pcpp back
    end (every read checked by memplan) preprocesses instead, with an info diagnostic saying why."""
    import shutil

    from memplan.dts import sandbox

    program = shutil.which(exe) or exe
    try:
        view = sandbox.plan_view(program, policy.roots or (), [*dirs, *([main] if data is None else [])])
        return _run_system_cpp(program, main, dirs, defs, policy, data, view)
    except sandbox.Unavailable as why:
        result = _run_pcpp(main, dirs, defs, policy, data)
        note = diag(
            "cpp-not-confined",
            f"the system cpp cannot be confined to the include roots here: {why.reason}; the pcpp back "
            "end, whose every read memplan checks, preprocessed instead (drop --include-root to run the "
            "system cpp)",
            Source.at(main, 1),
        )
        return attrs.evolve(result, diagnostics=(note, *result.diagnostics))


def _vet_includes(
    main: str, dirs: tuple[str, ...], defs: tuple[str, ...], policy: IncludePolicy, data: str | None
) -> None:
    """Before a confined system cpp run: walk the includes with the pcpp back end, whose every
    read memplan checks, so cpp is never started on an include outside the roots, a device or a
    FIFO.

    The walk goes on past the errors cpp goes on after too (``#error``, a bad ``#if``), so an
    include further down is checked as well. An include outside the roots stops everything: the
    error raised is then the first problem in source order, the one the pcpp back end reports.
    When the walk cannot finish (pcpp fails on a construct or hits one of its bounds), cpp is not
    started at all: what it would read cannot be checked beforehand. Otherwise cpp runs and
    judges the input itself; the files it read are checked once more from its line markers.

    The confined view alone keeps cpp inside the roots; the walk (most of the cost: about a
    second on a large board, against 50-90 ms for the confined cpp) is what keeps both back
    ends' answers the same: ``__has_include`` of a name outside the roots is an error, not 0,
    and a search that passes a folder outside the roots before finding the name inside is an
    error, not a silent use of the later file.
    """
    run = _PcppRun(main, dirs, defs, policy, data, vet=True)
    try:
        run.run()
    except (IncludeError, PreprocessError):
        if run.errors:
            raise run.errors[0] from None
        raise


# --------------------------------------------------------------------------------------
# helpers shared by both back ends


def _norm(p: str) -> str:
    return os.path.normpath(os.path.abspath(p))


_LINES: dict[tuple[str, int, int, int, IncludePolicy], list[str] | None] = {}


def _lines_of(file: str, policy: IncludePolicy) -> list[str] | None:
    """The lines of ``file``, read once per (file, mtime, size) however many messages point
    into it (a file with thousands of ``#warning`` lines must not be read thousands of times)."""
    if file in _MEMORY:
        return _MEMORY[file]
    try:
        st = os.stat(file)
    except OSError:
        return None
    key = (file, st.st_ino, st.st_mtime_ns, st.st_size, policy)
    if key not in _LINES:
        if len(_LINES) > 64:
            _LINES.clear()
        try:
            _LINES[key] = policy.read_text(file, "file", None).splitlines()
        except (OSError, IncludeError):
            _LINES[key] = None
    return _LINES[key]


def _line_of(file: str, line: int, policy: IncludePolicy = _ANYWHERE) -> str | None:
    """Line ``line`` of ``file`` for a caret, when the policy lets memplan read it (never a
    device, FIFO or a file outside the roots; a file cpp named may be anything)."""
    lines = _lines_of(file, policy)
    if lines is None:
        return None
    return lines[line - 1] if 0 < line <= len(lines) else None


def _directive_source(
    file: str, line: int, column: int | None = None, policy: IncludePolicy = _ANYWHERE
) -> Source:
    """Position of a directive: column of the include target when it is an ``#include``."""
    text = _line_of(file, line, policy)
    if column is None and text is not None:
        m = _INCLUDE_TARGET.search(text)
        if m is not None:
            column = m.start("target") + 1
        else:
            stripped = len(text) - len(text.lstrip())
            column = stripped + 1
    return Source.at(file, line, column, text)


def _cycle_chain(stack: Sequence[str]) -> list[str]:
    """The shortest repeating tail of an include stack (``a -> b -> a``), or the whole stack."""
    seen: dict[str, int] = {}
    for i, name in enumerate(stack):
        key = _norm(name)
        if key in seen:
            return list(stack[seen[key] : i + 1])
        seen[key] = i
    return list(stack)


def _cycle_error(stack: Sequence[str], where: Source) -> IncludeError:
    chain = " -> ".join(_cycle_chain(stack))
    return IncludeError(f"include cycle: {chain} (nesting deeper than {MAX_INCLUDE_DEPTH})", where)


def _missing_error(name: str, searched: Sequence[str], where: Source) -> IncludeError:
    dirs = ", ".join(d or "." for d in searched) if searched else "no include directories given"
    return IncludeError(f"include file {name!r} not found (searched: {dirs})", where)


# --------------------------------------------------------------------------------------
# system cpp


def _run_system_cpp(
    exe: str, main: str, dirs: tuple[str, ...], defs: tuple[str, ...], policy: IncludePolicy,
    data: str | None = None, view: View | None = None,
) -> Preprocessed:
    cmd = cpp_command(exe, main if data is None else "-", dirs, defs)
    given = None if data is None else data.encode(_ENCODING, _ERRORS)
    returncode, stdout, stderr = run_cpp(cmd, Source.at(main, 1), given, view)
    out = stdout.decode(_ENCODING, _ERRORS)
    err = stderr.decode(_ENCODING, _ERRORS)
    files, problem = _scan_cpp_output(out, policy)
    if data is not None:
        files.insert(0, main)  # cpp names its standard input "<stdin>", which the scan skips
    errors, warnings = _parse_cpp_stderr(err, policy)
    if problem is not None:
        raise problem
    if errors:  # the first in source order, as the pcpp back end (which stops there) reports it
        msg, where = errors[0]
        if "nested depth" in msg:
            stack = _deepest_include_stack(out)
            # cpp puts the column after the directive; point at the include target instead
            at = _directive_source(where.file, where.line or 1, policy=policy) if where.file else where
            raise _cycle_error(stack, at)
        if msg.endswith(": No such device or address"):  # a socket, or the one covering a FIFO
            name = _spelled(where, msg.rsplit(": ", 1)[0])
            raise IncludeError(f"include {shorten(name)!r} is not a regular file (a device, FIFO or socket)",
                               where)
        if "No such file or directory" in msg or "no include path" in msg:
            name = _missing_name(msg)
            searched = [] if "no include path" in msg else _cpp_search(where, main, dirs)
            policy.find(name, searched, "include", where)  # outside the roots: the same error as a hit
            raise _missing_error(name, searched, where)
        raise PreprocessError(f"preprocessor error: {msg}", where)
    if returncode != 0:
        detail = shorten(err.strip(), 400) or f"exit status {returncode}"
        raise PreprocessError(f"{exe} failed: {detail}", Source.at(main, 1))
    return Preprocessed(
        text=_drop_builtin_markers(out), files=tuple(files), tool="cpp", main_file=main, include_dirs=dirs,
        command=tuple(cmd), diagnostics=tuple(warnings),
    )


def _drop_builtin_markers(out: str) -> str:
    """Remove GCC's ``# 0 "<built-in>"``-style preamble markers (they name no real file): any of
    the first four lines that starts with ``# 0 `` (only those lines are looked at)."""
    keep: list[str] = []
    start = 0
    for _ in range(4):
        end = out.find("\n", start)
        if end < 0:
            if not out.startswith("# 0 ", start):
                keep.append(out[start:])
            return "\n".join(keep)
        if not out.startswith("# 0 ", start):
            keep.append(out[start:end])
        start = end + 1
    keep.append(out[start:])
    return "\n".join(keep)


def _hash_lines(out: str) -> list[str]:
    """The lines of ``out`` that start with '#' (without their newline), in order: found by a
    search for '\\n#' (a string search, where a multi-line pattern tried every position)."""
    lines: list[str] = []
    find = out.find
    start = 0 if out.startswith("#") else find("\n#") + 1
    if start == 0 and not out.startswith("#"):
        return lines
    while True:
        end = find("\n", start)
        if end < 0:
            lines.append(out[start:])
            return lines
        lines.append(out[start:end])
        start = find("\n#", end) + 1
        if start == 0:
            return lines


def _scan_cpp_output(out: str, policy: IncludePolicy) -> tuple[list[str], IncludeError | None]:
    """Files entered (from linemarkers) and the first include outside the policy's roots."""
    files: dict[str, None] = {}
    stack: list[str] = []
    escaped: tuple[str, str] | None = None  # (escaping file, its includer)
    for line in _hash_lines(out):  # (only they can be markers)
        mk = parse_linemarker(line)
        if mk is None or mk.file.startswith("<"):
            continue
        if 1 in mk.flags:
            includer = stack[-1] if stack else mk.file
            stack.append(mk.file)
            if escaped is None and not policy.inside(mk.file):
                escaped = (mk.file, includer)
        elif 2 in mk.flags:
            while stack and stack[-1] != mk.file:
                stack.pop()
            if escaped is not None and escaped[1] == mk.file:
                where = _directive_source(mk.file, max(mk.line - 1, 1), policy=policy)
                return list(files), policy.outside_error("include", _spelled(where, escaped[0]), where)
        elif not stack:
            stack.append(mk.file)
        files.setdefault(mk.file, None)
    if escaped is not None:
        where = Source.at(escaped[1], 1)
        return list(files), policy.outside_error("include", escaped[0], where)
    return list(files), None


def _deepest_include_stack(out: str) -> list[str]:
    """The longest chain of nested includes seen in cpp's linemarkers."""
    stack: list[str] = []
    deepest: list[str] = []
    for line in out.split("\n"):
        mk = parse_linemarker(line) if line.startswith("#") else None
        if mk is None or mk.file.startswith("<"):
            continue
        if 1 in mk.flags or not stack:
            stack.append(mk.file)
            if len(stack) > len(deepest):
                deepest = list(stack)
        elif 2 in mk.flags:
            while stack and stack[-1] != mk.file:
                stack.pop()
    return deepest


def _parse_cpp_stderr(
    err: str, policy: IncludePolicy = _ANYWHERE
) -> tuple[list[tuple[str, Source]], list[Diagnostic]]:
    errors: list[tuple[str, Source]] = []
    warnings: list[Diagnostic] = []
    for line in err.splitlines():
        m = _DIAGNOSTIC.match(line)
        if m is None:
            continue
        file, lineno = m.group("file"), int(m.group("line"))
        col = int(m.group("col")) if m.group("col") else None
        where = Source.at(file, lineno, col, _line_of(file, lineno, policy))
        kind, msg = m.group("kind"), m.group("msg")
        if kind in ("error", "fatal error"):
            errors.append((msg, where))
        elif kind == "warning":
            warnings.append(diag("cpp-warning", msg, where))
    return errors, warnings


def _missing_name(msg: str) -> str:
    m = re.match(r"(.+?): No such file or directory", msg)
    if m:
        return m.group(1)
    m = re.search(r"search for (.+)$", msg)
    return m.group(1) if m else msg


def _is_quoted_include(where: Source) -> bool:
    text = where.text or ""
    m = _INCLUDE_TARGET.search(text)
    return m is not None and m.group("target") == '"'


_NEXT_DIRECTIVE = re.compile(r"#\s*include_next\b")
#: The macro a computed include expands (cpp points its error at the name's string there).
_NAME_MACRO = re.compile(r'#\s*define\s+\w+(?:\([^)]*\))?\s*(?P<target>["<])')


def _cpp_search(where: Source, main: str, dirs: Sequence[str]) -> list[str]:
    """The directories cpp searched for the include at ``where`` (a directive of a file it read):
    ``"x"`` next to the including file, then the include dirs; ``<x>`` the include dirs only;
    ``#include_next`` (outside the main file) the include dirs after the one the including file
    was found in (the first whose path starts its name, as cpp prints it), else all of them. For a
    computed include cpp names the ``#define`` whose string spells the file: its quote decides."""
    file = where.file or ""
    if file != main and _NEXT_DIRECTIVE.match((where.text or "").lstrip()):
        for i, d in enumerate(dirs):
            if d and file.startswith(d.rstrip("/") + "/"):
                return list(dirs[i + 1 :])
        return list(dirs)
    text = where.text or ""
    if _INCLUDE_TARGET.search(text) is not None:
        quoted = _is_quoted_include(where)
    else:  # a computed include: cpp points at the name's string in the macro (else "x", the usual form)
        macro = _NAME_MACRO.search(text)
        quoted = macro is None or macro.group("target") == '"'
    return ([os.path.dirname(file)] if quoted else []) + list(dirs)


# --------------------------------------------------------------------------------------
# pcpp fallback


def _run_pcpp(
    main: str, dirs: tuple[str, ...], defs: tuple[str, ...], policy: IncludePolicy, data: str | None = None
) -> Preprocessed:
    try:
        import pcpp  # noqa: F401  (probe only; the real import is in _make_pcpp)
    except ImportError as err:  # pragma: no cover - pcpp is a runtime dependency
        raise PreprocessError("no system cpp and the pcpp package is not installed") from err
    return _PcppRun(main, dirs, defs, policy, data).run()


class _Event:
    """A marker the pcpp back end slips into the token stream when a file starts or ends."""

    __slots__ = ("display", "include_line", "kind", "lineno", "type", "value")

    def __init__(self, kind: str, display: str, include_line: int = 0) -> None:
        self.kind = kind
        self.display = display
        self.include_line = include_line
        self.type = "MEMPLAN_EVENT"
        self.value = ""
        self.lineno = 0


class _PcppRun:
    """One pcpp preprocessing run that behaves like ``cpp -nostdinc -undef -x assembler-with-cpp``."""

    def __init__(
        self, main: str, dirs: tuple[str, ...], defs: tuple[str, ...], policy: IncludePolicy,
        data: str | None = None, *, vet: bool = False,
    ) -> None:
        self.main = main
        self.data = data  # the main text when it is not a file (standard input)
        #: a walk ahead of the system cpp: errors cpp goes on after are kept, not raised
        self.vet = vet
        self.errors: list[PreprocessError] = []
        self.dirs = dirs
        self.policy = policy
        self.deadline = time.monotonic() + limits.value(limits.CPP_TIMEOUT)
        self.max_expansion = limits.value(limits.PCPP_EXPANSION)
        self.max_nesting = limits.value(limits.PCPP_NESTING)
        self.line = 1  # the source line pcpp is working on, for positions of its own failures
        self.files: dict[str, None] = {}
        self.warnings: list[Diagnostic] = []
        self.pp = _build_preprocessor(self)
        for name, value in PREDEFINED_MACROS:
            self.pp.define(f"{name} {value}")
        for d in defs:
            name, _, value = d.partition("=")
            self.pp.define(f"{name} {value or '1'}")
        # (display name, abs path, index of the include dir it was found in) of each file
        # being read, innermost last; the index is None when it was not found through a dir
        self.stack: list[tuple[str, str, int | None]] = []
        self.entered: set[str] = set()

    def run(self) -> Preprocessed:
        text = self.data if self.data is not None else self.policy.read_text(
            self.main, "DTS file", Source.at(self.main, 1))
        self.files[self.main] = None
        self.stack.append((self.main, _norm(self.main), None))
        self.entered.add(_norm(self.main))
        tokens = self.pp.parsegen(text, self.main, _norm(self.main))
        try:
            out = _emit(tokens, self.main)
        except MemplanError:
            raise
        except RecursionError:
            raise PreprocessError(
                "macros nest deeper than the pcpp back end can follow (Python's recursion limit); "
                "the system cpp (--cpp system) has no such limit", self.where(self.line)) from None
        except Exception as exc:  # pcpp's own failures (IndexError on a bare "#if" ...)
            raise PreprocessError(
                f"the pcpp preprocessor cannot handle this directive ({type(exc).__name__}: "
                f"{shorten(str(exc))})", self.where(self.line)) from None
        return Preprocessed(
            text=out, files=tuple(self.files), tool="pcpp", main_file=self.main, include_dirs=self.dirs,
            diagnostics=tuple(self.warnings),
        )

    # -- hooks called by the preprocessor subclass ------------------------------------

    def where(self, line: int, column: int | None = None) -> Source:
        file = self.stack[-1][0] if self.stack else self.main
        return _directive_source(file, line, column, self.policy)

    def check_nesting(self, depth: int) -> None:
        """Stop a macro chain nested deeper than the pcpp back end follows (a fixed, stated bound)."""
        if depth > self.max_nesting:
            hint = ("with --include-root the pcpp back end checks every include before the system cpp "
                    "runs" if self.vet else "the system cpp (--cpp system) has no such limit")
            raise PreprocessError(limits.exceeded(
                f"macros nest {depth} levels deep, deeper than the pcpp back end follows; {hint}",
                limits.PCPP_NESTING), self.where(self.line))

    def check_bounds(self, produced: int) -> None:
        """Stop a run past its deadline or a macro expansion past its size (a macro bomb)."""
        if produced > self.max_expansion:
            raise PreprocessError(limits.exceeded(
                f"a macro expansion produced {produced} tokens: a macro expansion bomb?",
                limits.PCPP_EXPANSION), self.where(self.line))
        if time.monotonic() > self.deadline:
            raise PreprocessError(limits.exceeded(
                "the pcpp preprocessor ran too long: a macro expansion bomb?", limits.CPP_TIMEOUT),
                self.where(self.line))

    def _search(self, kind: str, quoted: bool) -> list[tuple[str, int | None]]:
        """Where cpp looks for an include: (directory, its index among the include dirs).

        ``"x"`` starts next to the including file, ``<x>`` in the include dirs. ``#include_next``
        (libcpp's rule) goes on after the dir the current file was found in, or through every
        include dir when that file was found next to its includer; in the main file it is a
        plain ``#include``."""
        every: list[tuple[str, int | None]] = [(d, i) for i, d in enumerate(self.dirs)]
        if kind == "include_next" and len(self.stack) > 1:
            found_in = self.stack[-1][2]
            return every if found_in is None else every[found_in + 1 :]
        if quoted:
            return [(os.path.dirname(self.stack[-1][0]), None), *every]
        return every

    def _target(self, pp: Any, tokens: list[Any], where: Source) -> tuple[str, bool]:
        """The file name of an include (macro-expanded when it is neither "x" nor <x>) and
        whether it was quoted."""
        if tokens and tokens[0].value != "<" and tokens[0].type != pp.t_STRING:
            tokens = pp.tokenstrip(pp.expand_macros(tokens))
        if not tokens:
            raise PreprocessError('#include expects "FILENAME" or <FILENAME>', where)
        if tokens[0].value == "<":
            closing = [i for i, t in enumerate(tokens) if t.value == ">"]
            if not closing:
                raise PreprocessError("missing terminating > character in #include", where)
            return "".join(t.value for t in tokens[1 : closing[0]]), False
        if tokens[0].type == pp.t_STRING:
            return tokens[0].value[1:-1], True
        raise PreprocessError('#include expects "FILENAME" or <FILENAME>', where)

    def _lookup(
        self, name: str, search: list[tuple[str, int | None]], where: Source
    ) -> tuple[str | None, int | None]:
        """The file cpp would open for ``name`` and the index of the include dir it is in."""
        found = self.policy.find(name, [d for d, _ in search], "include", where)
        if found is None or os.path.isabs(name):
            return found, None
        for d, index in search:
            if (os.path.join(d, name) if d else name) == found:
                return found, index
        return found, None

    def has_include(self, pp: Any, tokens: list[Any]) -> list[Any]:
        """``tokens`` of an ``#if`` with each ``__has_include(...)`` and ``__has_include_next(...)``
        replaced by 1 or 0, found the way the include itself would be (and confined alike)."""
        if not any(t.value in ("__has_include", "__has_include_next") for t in tokens):
            return tokens
        out: list[Any] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type != pp.t_ID or tok.value not in ("__has_include", "__has_include_next"):
                out.append(tok)
                i += 1
                continue
            where = self.where(int(getattr(tok, "lineno", 0) or self.line))
            j = i + 1
            while j < len(tokens) and tokens[j].type in pp.t_WS:
                j += 1
            if j >= len(tokens) or tokens[j].value != "(":
                raise PreprocessError(f"missing '(' after {tok.value}", where)
            depth, k = 0, j
            while k < len(tokens):
                depth += {"(": 1, ")": -1}.get(tokens[k].value, 0)
                if depth == 0:
                    break
                k += 1
            if k >= len(tokens):
                raise PreprocessError(f"missing ')' after {tok.value} operand", where)
            name, quoted = self._target(pp, pp.tokenstrip(tokens[j + 1 : k]), where)
            kind = "include_next" if tok.value == "__has_include_next" else "include"
            found, _index = self._lookup(name, self._search(kind, quoted), where)
            value = copy.copy(tok)
            value.type = pp.t_INTEGER
            value.value = pp.t_INTEGER_TYPE("1L" if found is not None else "0L")
            out.append(value)
            i = k + 1
        return out

    def include(self, pp: Any, tokens: list[Any], original_line: list[Any]) -> Iterator[Any]:
        line = _first_lineno(original_line)
        where = self.where(line)
        kind = next((str(t.memplan_kind) for t in original_line if hasattr(t, "memplan_kind")), "include")
        if kind == "import":
            self.warning(line, "#import is a deprecated GCC extension")
        elif kind == "include_next" and len(self.stack) == 1:
            self.warning(line, "#include_next in primary source file")
        name, quoted = self._target(pp, tokens, where)
        search = self._search(kind, quoted)
        found, index = self._lookup(name, search, where)
        if found is None:
            raise _missing_error(name, [d for d, _ in search], where)
        full = _norm(found)
        if len(self.stack) > MAX_INCLUDE_DEPTH:
            raise _cycle_error([d for d, _, _ in self.stack] + [found], where)
        guard = pp.include_once.get(full, False)
        if full in pp.include_once and (guard is None or guard in pp.macros):
            return
        if kind == "import":
            pp.include_once[full] = None  # once only, whichever directive names it next
            if full in self.entered:
                return
        self.files.setdefault(found, None)
        data = self.policy.read_text(found, "include", where)
        self.stack.append((found, full, index))
        self.entered.add(full)
        yield _Event("enter", found)
        yield from pp.parsegen(data, found, full)
        self.stack.pop()
        yield _Event("leave", self.stack[-1][0], line)

    def error(self, line: int, message: str) -> None:
        err = PreprocessError(f"preprocessor error: {message}", self.where(line if line > 0 else self.line))
        if not self.vet:
            raise err
        self.errors.append(err)  # cpp reports it and goes on: so does the walk ahead of cpp

    def warning(self, line: int, message: str) -> None:
        self.warnings.append(diag("cpp-warning", message, self.where(line)))


def _first_lineno(tokens: Sequence[Any]) -> int:
    for tok in tokens:
        if getattr(tok, "lineno", None):
            return int(tok.lineno)
    return 1


_PP_NUMBER_PARTS = frozenset(("CPP_ID", "CPP_INTEGER", "CPP_FLOAT", "CPP_DOT", "."))


def _merge_pp_numbers(line: list[Any]) -> list[Any]:
    """Glue pcpp's pieces of one C pp-number back together (``12c60000``, ``1ULL``, ``0x1p-3``).

    GNU cpp reads a digit followed by letters, digits, ``_``, ``.`` (and a sign after
    ``e``/``p``) as one token that is never macro-expanded; pcpp splits ``12c60000`` into
    ``12`` and the identifier ``c60000``, which a macro of that name would replace. Unit
    addresses in node names look exactly like that.
    """
    out: list[Any] = []
    i = 0
    while i < len(line):
        tok = line[i]
        if tok.type in ("CPP_INTEGER", "CPP_FLOAT") and not (out and out[-1].type == "CPP_ID"
                                                               and _adjacent(out[-1], tok)):
            j = i + 1
            value = str(tok.value)
            while j < len(line) and _adjacent(line[j - 1], line[j]):
                nxt = line[j]
                sign = nxt.value in ("+", "-") and value[-1:] in ("e", "E", "p", "P")
                if not (nxt.type in _PP_NUMBER_PARTS or sign):
                    break
                value += str(nxt.value)
                j += 1
            if j > i + 1:
                tok = copy.copy(tok)
                tok.value = value
                tok.type = "CPP_INTEGER"
            out.append(tok)
            i = j
            continue
        out.append(tok)
        i += 1
    return out


#: What GNU cpp takes as a directive after ``#``; any other ``#word`` line is plain text.
GNU_DIRECTIVES = frozenset(
    ("define", "undef", "include", "include_next", "import", "if", "ifdef", "ifndef", "elif", "elifdef",
     "elifndef", "else", "endif", "line", "error", "warning", "pragma", "ident", "sccs", "assert", "unassert")
)


def _mark_non_directive(line: list[Any]) -> list[Any]:
    """Make ``#address-cells = <N>;`` ordinary text, as GNU cpp does in assembler-with-cpp mode.

    GNU cpp macro-expands such a line like any other text. pcpp would treat it as an unknown
    directive and copy it unexpanded; an empty token placed before the ``#`` makes pcpp see
    a text line instead (the empty token prints as nothing).
    """
    idx = [i for i, t in enumerate(line) if t.type not in ("CPP_WS", "CPP_COMMENT1", "CPP_COMMENT2")]
    if len(idx) < 2 or line[idx[0]].value != "#":
        return line
    word = line[idx[1]]
    if word.type != "CPP_ID" or word.value in GNU_DIRECTIVES:
        return line
    blank = copy.copy(line[idx[0]])
    blank.type = "CPP_ID"
    blank.value = ""
    return [*line[: idx[0]], blank, *line[idx[0] :]]


def _drop_bare_pragma(line: list[Any]) -> list[Any]:
    """A ``#pragma`` with nothing after it, which GNU cpp ignores (pcpp would fail on it), kept
    only as its line break."""
    words = [t for t in line if t.type not in ("CPP_WS", "CPP_COMMENT1", "CPP_COMMENT2") and t.value.strip()]
    if len(words) == 2 and words[0].value == "#" and words[1].value == "pragma":
        return [t for t in line if "\n" in str(t.value)]
    return line


def _gcc_include_forms(line: list[Any]) -> list[Any]:
    """``#include_next`` and ``#import`` (GNU forms pcpp does not know) become ``#include``
    with the form kept on the directive token, so the include hook follows their rules."""
    words = [t for t in line if t.type not in ("CPP_WS", "CPP_COMMENT1", "CPP_COMMENT2")][:2]
    if len(words) < 2 or words[0].value != "#" or words[1].value not in ("include_next", "import"):
        return line
    word = copy.copy(words[1])
    word.memplan_kind = word.value
    word.value = "include"
    return [word if t is words[1] else t for t in line]


def _adjacent(a: Any, b: Any) -> bool:
    pos_a, pos_b = getattr(a, "lexpos", None), getattr(b, "lexpos", None)
    return pos_a is not None and pos_b is not None and pos_a + len(str(a.value)) == pos_b


def _c_integer_division() -> None:
    """Make pcpp's ``#if`` arithmetic divide as C (and GNU cpp) does.

    pcpp divides through floating point (inexact past 2**53: ``0x7fffffffffffffff / 3`` is off)
    and takes remainders with Python's sign rule (``-7 % 2`` is 1); C truncates the quotient
    toward zero and gives the remainder the dividend's sign. Done once, on pcpp's value class;
    dividing by zero still fails as before."""
    from pcpp import evaluator

    value_type: Any = evaluator.Value
    if getattr(value_type, "_memplan_c_division", False):
        return
    mask = int(value_type.UINT_MAX)

    def operands(a: Any, b: Any) -> tuple[Any, int, int, bool] | Any:
        if a.exception is not None:
            return a
        b = value_type(b)
        if b.exception is not None:
            return b
        unsigned = bool(a.unsigned or b.unsigned)
        x, y = (int(a) & mask, int(b) & mask) if unsigned else (int(a), int(b))
        return b, x, y, unsigned

    def quotient(x: int, y: int) -> int:
        q = abs(x) // abs(y)
        return q if (x < 0) == (y < 0) else -q

    def divide(a: Any, b: Any) -> Any:
        got = operands(a, b)
        if not isinstance(got, tuple):
            return got
        _b, x, y, unsigned = got
        return value_type(quotient(x, y), unsigned)

    def remainder(a: Any, b: Any) -> Any:
        got = operands(a, b)
        if not isinstance(got, tuple):
            return got
        _b, x, y, unsigned = got
        return value_type(x - y * quotient(x, y), unsigned)

    value_type.__truediv__ = value_type.__div__ = divide
    value_type.__mod__ = remainder
    value_type._memplan_c_division = True


def _build_preprocessor(run: _PcppRun) -> Any:
    """A pcpp ``Preprocessor`` whose hooks delegate to ``run``."""
    from pcpp import Preprocessor

    _c_integer_division()

    class _DtsPreprocessor(Preprocessor):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.line_directive = None
            self.expand_countermacro = False
            for name in ("__PCPP__", "__DATE__", "__TIME__", "__COUNTER__"):
                self.macros.pop(name, None)

        def include(self, tokens: list[Any], original_line: list[Any]) -> Iterator[Any]:
            return run.include(self, tokens, original_line)

        def group_lines(self, input: str, abssource: str) -> Iterator[list[Any]]:
            for line in super().group_lines(input, abssource):
                run.line = _first_lineno(line)
                run.check_bounds(0)
                yield _mark_non_directive(_merge_pp_numbers(_gcc_include_forms(_drop_bare_pragma(line))))

        def evalexpr(self, tokens: list[Any]) -> Any:
            return super().evalexpr(run.has_include(self, tokens))

        def on_unknown_macro_in_defined_expr(self, tok: Any) -> bool:
            # GNU cpp: "#ifdef __has_include" is true (the operator counts as defined)
            return str(tok.value) in ("__has_include", "__has_include_next")

        def expand_macros(self, tokens: list[Any], expanding_from: list[str] | None = None) -> list[Any]:
            run.check_bounds(len(tokens))
            chain = [] if expanding_from is None else expanding_from
            run.check_nesting(len(chain))
            out: list[Any] = super().expand_macros(tokens, chain)
            run.check_bounds(len(out))
            return out

        def on_error(self, file: str, line: int, msg: str) -> None:
            run.error(line, msg)

        def on_directive_unknown(
            self, directive: Any, toks: list[Any], ifpassthru: bool, precedingtoks: list[Any]
        ) -> bool | None:
            text = "".join(t.value for t in toks).strip()
            if directive.value == "error":
                run.error(directive.lineno, f"#error {text}".rstrip())
                return True
            if directive.value == "warning":
                run.warning(directive.lineno, f"#warning {text}".rstrip())
                return True
            # assembler-with-cpp: anything else (e.g. "#address-cells = <1>;") is text
            return None

    return _DtsPreprocessor()


def _emit(tokens: Iterator[Any], main: str) -> str:
    """Render pcpp's token stream as text with GNU linemarkers."""
    em = _Emitter(main)
    line_toks: list[Any] = []
    for tok in tokens:
        if isinstance(tok, _Event):
            if line_toks:
                em.line(line_toks)
                line_toks = []
            em.event(tok)
            continue
        line_toks.append(tok)
        if "\n" in tok.value and tok.type not in ("CPP_STRING", "CPP_CHAR"):
            em.line(line_toks)
            line_toks = []
    if line_toks:
        em.line(line_toks)
    return "\n".join(em.out) + "\n"


class _Emitter:
    """Output lines plus the (file, line) the next output line stands for."""

    def __init__(self, main: str) -> None:
        self.out: list[str] = [format_linemarker(1, main)]
        self.file = main
        self.next_line = 1

    def event(self, ev: _Event) -> None:
        """A file was entered (``# 1 "f" 1``) or left (``# n "includer" 2``)."""
        self.file = ev.display
        if ev.kind == "enter":
            self.next_line = 1
            self.out.append(format_linemarker(1, ev.display, (1,)))
        else:
            self.next_line = ev.include_line + 1
            self.out.append(format_linemarker(self.next_line, ev.display, (2,)))

    def line(self, toks: list[Any]) -> None:
        """One output line; blank lines or a linemarker first when the source skipped lines."""
        first = next((t for t in toks if t.type not in ("CPP_WS", "CPP_LINECONT") and t.value.strip()), None)
        if first is None:
            return
        text = _join_tokens(toks).rstrip("\n")
        target = int(first.lineno)
        gap = target - self.next_line
        if 0 < gap <= 8:
            self.out.extend([""] * gap)
        elif gap != 0:
            self.out.append(format_linemarker(target, self.file))
        self.out.append(text)
        self.next_line = target + 1 + text.count("\n")


#: Two-character tokens that two adjacent one-character tokens would spell.
_PASTES = frozenset(
    ("--", "++", "<<", ">>", "&&", "||", "==", "!=", "<=", ">=", "->", "##", "+=", "-=", "*=", "/=",
     "%=", "&=", "|=", "^=", "/*", "//", "..")
)


def _word_end(value: str) -> bool:
    return value[-1].isalnum() or value[-1] == "_"


def _word_start(value: str) -> bool:
    return value[0].isalnum() or value[0] == "_"


def _join_tokens(toks: Sequence[Any]) -> str:
    """Join one line's tokens, with a space where macro expansion left two tokens that would fuse.

    Like GNU cpp, ``#define NEG -1`` then ``(0-NEG)`` prints ``(0- -1)``, not ``(0--1)``:
    pcpp only puts such tokens side by side across a macro expansion boundary.
    """
    parts: list[str] = []
    prev = ""
    for tok in toks:
        if tok.type == "CPP_LINECONT" or tok.value == "":
            continue
        value = str(tok.value)
        if tok.type == "CPP_WS" or not value.strip():
            prev = ""
        else:
            if prev and ((_word_end(prev) and _word_start(value)) or (prev[-1] + value[0]) in _PASTES):
                parts.append(" ")
            prev = value
        parts.append(value)
    return "".join(parts)
