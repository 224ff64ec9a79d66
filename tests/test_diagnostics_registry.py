"""The one diagnostics registry (memplan.diagnostics) matches the source, in both directions.

The source is read with :mod:`ast`: a code is *emitted* where it is the code argument of a
diagnostic call: the registry's ``diag(code, ...)``, the resolver's ``state.note(code, ...)``, a
front end's helper whose code follows a severity (``sink.add("warning", "cmdline-x", ...)``), or a
helper that hands one of its parameters (or ``f"{param}-suffix"``) to any of these. Every emitted
code must be registered with the severity it is emitted with, every registered code must be
emitted somewhere, and no module but the registry builds a ``Diagnostic`` itself. The checks are
plain functions so the tests at the bottom can show that each of them fails on bad input.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs
import pytest

from memplan.diagnostics import CODES, FRONT_ENDS, Code, UnknownCodeError, diag

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "memplan/diagnostics.py"
_CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")
_SEVERITIES = ("error", "warning", "info")
#: Calls whose first argument is the code (the registry's diag, the resolver's state.note).
_CODE_FIRST = ("diag", "note", "registered")


@attrs.frozen
class Use:
    """A code emitted at ``file:line`` with a literal severity (``None``: default or computed)."""

    code: str
    severity: str | None
    file: str
    line: int


_Suffixes = tuple[tuple[str, "str | None"], ...]


def _is_code(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_CODE_RE.match(node.value))


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _severity_of(node: ast.expr | None) -> tuple[bool, tuple[str | None, ...]]:
    """``(is a severity, the literal values it can take)`` for an argument: a literal, a
    ``"warning" if c else "info"`` choice, or an expression naming a severity (value unknown)."""
    if node is None:
        return False, (None,)
    if isinstance(node, ast.Constant) and node.value in _SEVERITIES:
        return True, (str(node.value),)
    if isinstance(node, ast.IfExp):
        body, orelse = _severity_of(node.body), _severity_of(node.orelse)
        if body[0] and orelse[0]:
            return True, body[1] + orelse[1]
    return "severity" in ast.unparse(node).lower(), (None,)


def _code_positions(call: ast.Call) -> list[tuple[int, str | None]]:
    """The argument positions of ``call`` that take a code, with the literal severities there."""
    out: list[tuple[int, str | None]] = []
    args = call.args
    if _callee(call) in _CODE_FIRST and args:
        keyword = next((k.value for k in call.keywords if k.arg == "severity"), None)
        positional = args[4] if len(args) > 4 else None
        out += [(0, sev) for sev in _severity_of(keyword or positional)[1]]
    for i in range(1, len(args)):
        is_severity, literals = _severity_of(args[i - 1])
        if is_severity:
            out += [(i, sev) for sev in literals]
            break
    return out


def _param_code(arg: ast.expr, params: list[str]) -> tuple[str | None, str]:
    """``(p, "")`` for a bare parameter ``p``, ``(p, "-suffix")`` for ``f"{p}-suffix"``."""
    if isinstance(arg, ast.Name) and arg.id in params:
        return arg.id, ""
    if isinstance(arg, ast.JoinedStr) and len(arg.values) == 2:
        head, tail = arg.values
        if (
            isinstance(head, ast.FormattedValue)
            and isinstance(head.value, ast.Name)
            and head.value.id in params
            and isinstance(tail, ast.Constant)
            and str(tail.value).startswith("-")
        ):
            return head.value.id, str(tail.value)
    return None, ""


_Helpers = dict[str, dict[int, _Suffixes]]


def _suffixes_at(call: ast.Call, position: int, helpers: _Helpers) -> _Suffixes:
    """What ``call`` does with a code at ``position``: emits it (with a severity) or hands it to a
    helper (which may append suffixes); empty when the position takes no code."""
    found: list[tuple[str, str | None]] = [("", sev) for pos, sev in _code_positions(call) if pos == position]
    found += helpers.get(_callee(call) or "", {}).get(position, ())
    return tuple(found)


def code_helpers(trees: Iterable[ast.Module]) -> _Helpers:
    """Functions that emit a code they are given: name -> {parameter index at a call site: the
    suffixes they append, with the severity used}. The table only grows, until nothing changes
    (functions of the same name share one entry)."""
    functions = [n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    helpers: _Helpers = {}
    changed = True
    while changed:
        changed = False
        for fn in functions:
            params = [a.arg for a in fn.args.args]
            if params[:1] in (["self"], ["cls"]):
                params = params[1:]
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                for position, arg in enumerate(call.args):
                    param, suffix = _param_code(arg, params)
                    if param is None:
                        continue
                    inner = _suffixes_at(call, position, helpers)
                    known = helpers.setdefault(fn.name, {}).get(params.index(param), ())
                    grown = tuple(dict.fromkeys(known + tuple((suffix + s, sev) for s, sev in inner)))
                    if grown != known:
                        helpers[fn.name][params.index(param)] = grown
                        changed = True
    return helpers


def _code_values(arg: ast.expr, assigned: Mapping[str, list[ast.expr]]) -> list[str]:
    """The codes an argument can be: a literal, either branch of ``a if c else b``, or what a
    local variable of the function is assigned."""
    if _is_code(arg):
        assert isinstance(arg, ast.Constant)
        return [arg.value]
    if isinstance(arg, ast.IfExp):
        return _code_values(arg.body, assigned) + _code_values(arg.orelse, assigned)
    if isinstance(arg, ast.Name):
        return [v for value in assigned.get(arg.id, []) for v in _code_values(value, {})]
    return []


def _assignments(scope: ast.AST) -> dict[str, list[ast.expr]]:
    out: dict[str, list[ast.expr]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
    return out


def scan(sources: Mapping[str, str]) -> list[Use]:
    """Every code emitted in ``sources`` (path -> Python text)."""
    trees = {path: ast.parse(text, filename=path) for path, text in sources.items()}
    helpers = code_helpers(trees.values())
    uses: set[Use] = set()
    for path, tree in trees.items():
        scopes: list[ast.AST] = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
        for scope in scopes:
            assigned = _assignments(scope) if isinstance(scope, ast.FunctionDef) else {}
            for call in (n for n in ast.walk(scope) if isinstance(n, ast.Call)):
                for position, arg in enumerate(call.args):
                    for code in _code_values(arg, assigned):
                        for suffix, sev in _suffixes_at(call, position, helpers):
                            uses.add(Use(code + suffix, sev, path, call.lineno))
    return sorted(uses, key=lambda u: (u.file, u.line, u.code, u.severity or ""))


def diagnostic_constructions(sources: Mapping[str, str]) -> list[str]:
    """``file:line`` of every ``Diagnostic(...)`` built outside the registry."""
    out = []
    for path, text in sources.items():
        for node in ast.walk(ast.parse(text, filename=path)):
            if isinstance(node, ast.Call) and _callee(node) == "Diagnostic" and path != REGISTRY:
                out.append(f"{path}:{node.lineno}")
    return out


def _area(path: str) -> str:
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else "resolve"  # memplan/api.py builds the resolver's inputs


def problems(codes: Mapping[str, Code], uses: Iterable[Use]) -> list[str]:
    """Everything wrong between a registry and the codes a source emits."""
    out: list[str] = []
    uses = list(uses)
    for use in uses:
        entry = codes.get(use.code)
        if entry is None:
            out.append(f"{use.file}:{use.line}: {use.code!r} is emitted but not registered")
            continue
        if use.severity is not None and use.severity not in entry.severities:
            out.append(f"{use.file}:{use.line}: {use.code!r} is emitted as {use.severity}, "
                       f"registered as {'/'.join(entry.severities)}")
        if _area(use.file) != entry.front_end:
            out.append(f"{use.file}:{use.line}: {use.code!r} is registered for {entry.front_end}")
    emitted = {u.code for u in uses}
    for code, entry in codes.items():
        if code not in emitted:
            out.append(f"{code!r} is registered but never emitted")
        if code != entry.code or not _CODE_RE.match(code):
            out.append(f"{code!r}: malformed code")
        for name in ("title", "meaning", "fix"):
            if not getattr(entry, name).strip():
                out.append(f"{code!r} has no {name}")
        if entry.front_end not in FRONT_ENDS or entry.severity in entry.other_severities:
            out.append(f"{code!r}: bad front end or severities")
    return out


def _package_sources() -> dict[str, str]:
    return {
        p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "memplan").rglob("*.py"))
    }


# -- the real registry against the real source ---------------------------------------------------
def test_registry_and_source_agree() -> None:
    uses = scan(_package_sources())
    found = problems(CODES, uses)
    assert found == [], "add or fix the entries in memplan/diagnostics.py:\n" + "\n".join(found)


def test_only_the_registry_builds_diagnostics() -> None:
    found = diagnostic_constructions(_package_sources())
    assert found == [], "build these with memplan.diagnostics.diag(code, ...):\n" + "\n".join(found)


def test_registry_has_each_code_once() -> None:
    from memplan.diagnostics import _ENTRIES

    assert len(_ENTRIES) == len(CODES)


def test_diag_uses_the_registered_severity_and_refuses_unknown_codes() -> None:
    assert diag("rmem-overlap", "x").severity == "error"
    assert diag("rmem-overlap", "x", severity="warning").severity == "warning"
    d = diag("cmdline-cma-trailing", "m", None, "cma")
    expected = ("cmdline-cma-trailing", "m", "cma", CODES[d.code].severity)
    assert (d.code, d.message, d.subject, d.severity) == expected
    with pytest.raises(UnknownCodeError, match="no-such-code"):
        diag("no-such-code", "x")


def test_catalogue_lists_the_registry_grouped_by_front_end() -> None:
    order = list(FRONT_ENDS)
    ranks = [order.index(c.front_end) for c in CODES.values()]
    assert ranks == sorted(ranks)


# -- the checks can fail ---------------------------------------------------------------------------
_SAMPLE = {
    "memplan/cmdline/x.py": (
        "def note_trailing(token, sink, code):\n"
        "    sink.add('info', code, 'trailing', token)\n"
        "def size_param(token, sink, code):\n"
        "    note_trailing(token, sink, f'{code}-trailing')\n"
        "def parse(token, sink):\n"
        "    sink.add('warning', 'cmdline-new-thing', 'm', token)\n"
        "    sink.add('warning' if token else 'info', 'cmdline-cma-no-size', 'm', token)\n"
        "    size_param(token, sink, 'cmdline-cma')\n"
        "    print('not-a-diagnostic', f('x', 'also-not'))\n"
    ),
    "memplan/resolve/y.py": (
        "def step(st):\n"
        "    st.note('rmem-overlap', 'm')\n"
        "    out = diag('cma-failed', 'm', None, None, 'info')\n"
        "    return Diagnostic('error', 'rmem-overlap', 'm')\n"
        "def place(st, p):\n"
        "    code = 'cma-too-many-areas' if p else 'rmem-bad-size'\n"
        "    st.note(code, 'm')\n"
    ),
}


def test_scan_finds_codes_directly_and_through_helpers() -> None:
    got = {(u.code, u.severity, u.file, u.line) for u in scan(_SAMPLE)}
    assert got == {
        ("cmdline-new-thing", "warning", "memplan/cmdline/x.py", 6),
        ("cmdline-cma-no-size", "warning", "memplan/cmdline/x.py", 7),
        ("cmdline-cma-no-size", "info", "memplan/cmdline/x.py", 7),
        ("cmdline-cma-trailing", "info", "memplan/cmdline/x.py", 8),
        ("rmem-overlap", None, "memplan/resolve/y.py", 2),
        ("cma-failed", "info", "memplan/resolve/y.py", 3),
        ("rmem-overlap", "error", "memplan/resolve/y.py", 4),
        ("cma-too-many-areas", None, "memplan/resolve/y.py", 7),
        ("rmem-bad-size", None, "memplan/resolve/y.py", 7),
    }


def test_checks_report_unregistered_unused_misfiled_and_undocumented_codes() -> None:
    registry = {
        "rmem-overlap": Code("rmem-overlap", "error", "resolve", "t", "m", "f"),
        "cma-failed": Code("cma-failed", "error", "resolve", "t", "m", "f"),
        "cmdline-cma-trailing": Code("cmdline-cma-trailing", "info", "dts", "t", "m", "f"),
        "cmdline-cma-no-size": Code("cmdline-cma-no-size", "warning", "cmdline", "t", "m", "f"),
        "never-used": Code("never-used", "info", "resolve", "t", "", "f"),
        "cma-too-many-areas": Code("cma-too-many-areas", "error", "resolve", "t", "m", "f"),
        "rmem-bad-size": Code("rmem-bad-size", "error", "resolve", "t", "m", "f"),
    }
    found = problems(registry, scan(_SAMPLE))
    assert found == [
        "memplan/cmdline/x.py:6: 'cmdline-new-thing' is emitted but not registered",
        "memplan/cmdline/x.py:7: 'cmdline-cma-no-size' is emitted as info, registered as warning",
        "memplan/cmdline/x.py:8: 'cmdline-cma-trailing' is registered for dts",
        "memplan/resolve/y.py:3: 'cma-failed' is emitted as info, registered as error",
        "'never-used' is registered but never emitted",
        "'never-used' has no meaning",
    ]
    assert diagnostic_constructions(_SAMPLE) == ["memplan/resolve/y.py:4"]
