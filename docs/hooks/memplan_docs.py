"""MkDocs hook: pages and pictures generated from the code, so the docs cannot drift from it.

* ``<!-- memplan:diagnostic-catalogue -->`` becomes the catalogue of every diagnostic code:
  the resolver's registry (``memplan.resolve.codes.CODES``), any ``CODES`` registry a front end
  exports (``memplan.<area>.codes``), and the front ends' literal codes found in the source,
  described in ``docs/diagnostics/frontend-codes.yml``.
* ``<!-- memplan:api-reference -->`` becomes one mkdocstrings block per public module.
* ``<!-- memplan:palette -->`` becomes the table of region kinds, map letters and colours.
* ``<!-- memplan:example TEXT|JSON VERSION -->`` becomes the example board resolved for a kernel
  version, in the CLI text format or as JSON.
* ``<!-- memplan:example-picture VERSION -->`` shows the generated picture
  ``images/evk-map-<version>.svg`` of the example board.

The functions are importable so tests can check the catalogue without building the site.
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "memplan"
FRONTEND_DESCRIPTIONS = ROOT / "docs" / "diagnostics" / "frontend-codes.yml"
EXAMPLE_VERSIONS = ("5.4", "6.1")

_CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")
_SEVERITIES = ("error", "warning", "info")
_AREAS = {
    "dts": "Device Tree front end",
    "cmdline": "command-line front end",
    "kconfig": "kernel configuration front end",
    "observe": "running-kernel readers",
    "resolve": "resolver",
    "cli": "command line interface",
    "lint": "kernel-tree lint",
}


# -- the diagnostic catalogue ----------------------------------------------------------------
@attrs.frozen
class CodeDoc:
    """One documented code: where it is emitted, severity, title, meaning, fix."""

    code: str
    area: str
    severity: str
    title: str
    meaning: str
    fix: str


@attrs.frozen
class EmittedCode:
    """A literal code found in a front end's source, with its severity when written literally."""

    code: str
    severity: str | None
    file: str
    line: int
    message: str | None


def registry_codes() -> list[CodeDoc]:
    """Codes from every ``memplan.<area>.codes.CODES`` registry (the resolver's first)."""
    out: list[CodeDoc] = []
    for area in _AREAS:
        try:
            module = importlib.import_module(f"memplan.{area}.codes")
        except ModuleNotFoundError:
            continue
        registry: dict[str, Any] = getattr(module, "CODES", {})
        for code, entry in registry.items():
            out.append(CodeDoc(code, area, entry.severity, entry.title, entry.meaning, entry.fix))
    return out


def emitted_codes() -> list[EmittedCode]:
    """Literal codes in the package's source (see :func:`_scan`); cached per process."""
    return list(_scan())


@functools.lru_cache(maxsize=1)
def _scan() -> tuple[EmittedCode, ...]:
    """Literal codes in calls such as ``Diagnostic("warning", "some-code", ...)`` or ``sink.add(...)``.

    A call counts when a string argument that looks like a code follows an argument that is a
    severity (a literal ``"error"``/``"warning"``/``"info"`` or a name containing "severity").
    Codes handed to a helper that emits them (``note_trailing(token, i, sink, "cmdline-x")``,
    or ``f"{code}-trailing"`` built from a parameter) are found too: see :func:`_code_helpers`.
    """
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel != "memplan/resolve/codes.py":
            modules.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)))
    helpers = _code_helpers([tree for _, tree in modules])
    found: list[EmittedCode] = []
    for rel, tree in modules:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            hit = _code_in_call(node)
            if hit is not None:
                code, severity, message = hit
                found.append(EmittedCode(code, severity, rel, node.lineno, message))
                continue
            index, suffixes = helpers.get(_callee(node), (-1, ()))
            if 0 <= index < len(node.args):
                arg = node.args[index]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _CODE_RE.match(arg.value):
                    for suffix, severity in suffixes:
                        found.append(EmittedCode(arg.value + suffix, severity, rel, node.lineno, None))
    return tuple(found)


_Suffixes = tuple[tuple[str, "str | None"], ...]


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _code_helpers(trees: list[ast.Module]) -> dict[str | None, tuple[int, _Suffixes]]:
    """Functions that emit a code they are given: name -> (argument index at a call, the
    suffixes they append with the severity used). A parameter ``p`` makes its function a helper
    when ``p`` (or ``f"{p}-suffix"``) is the code argument of a diagnostic call or of another
    helper; repeated until nothing changes, so helpers of helpers are found."""
    functions = [n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    helpers: dict[str | None, tuple[int, _Suffixes]] = {}
    changed = True
    while changed:
        changed = False
        for fn in functions:
            params = [a.arg for a in fn.args.args]
            if params[:1] in (["self"], ["cls"]):
                params = params[1:]
            found: list[tuple[str, str | None]] = []
            index = -1
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                for position, arg in enumerate(call.args):
                    param, suffix = _param_code(arg, params)
                    if param is None:
                        continue
                    inner = _inner_suffixes(call, position, helpers)
                    if inner is not None:
                        index = params.index(param)
                        found += [(suffix + more, severity) for more, severity in inner]
            entry = (index, tuple(dict.fromkeys(found)))
            if found and helpers.get(fn.name) != entry:
                helpers[fn.name] = entry
                changed = True
    return helpers


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


def _inner_suffixes(
    call: ast.Call, position: int, helpers: dict[str | None, tuple[int, _Suffixes]]
) -> _Suffixes | None:
    """What ``call`` does with its argument at ``position`` when that is a code: emits it as
    is (a diagnostic call, with its severity) or hands it to a helper; ``None`` otherwise."""
    if position >= 1:
        prev = call.args[position - 1]
        if isinstance(prev, ast.Constant) and prev.value in _SEVERITIES:
            return (("", str(prev.value)),)
        if "severity" in ast.unparse(prev).lower():
            return (("", None),)
    index, suffixes = helpers.get(_callee(call), (-1, ()))
    return suffixes if index == position else None


def _code_in_call(call: ast.Call) -> tuple[str, str | None, str | None] | None:
    args = call.args
    for i in range(1, len(args)):
        arg = args[i]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _CODE_RE.match(arg.value)):
            continue
        prev = args[i - 1]
        severity: str | None
        if isinstance(prev, ast.Constant) and prev.value in _SEVERITIES:
            severity = str(prev.value)
        elif "severity" in ast.unparse(prev).lower():
            severity = None
        else:
            continue
        message = _template(args[i + 1]) if i + 1 < len(args) else None
        return arg.value, severity, message
    return None


def _template(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("…")
        return "".join(parts)
    return None


def frontend_descriptions() -> dict[str, dict[str, str]]:
    """The hand-written meaning/fix of the front ends' codes (``frontend-codes.yml``)."""
    import yaml

    data = yaml.safe_load(FRONTEND_DESCRIPTIONS.read_text(encoding="utf-8")) or {}
    return {str(k): dict(v) for k, v in data.items()}


def catalogue() -> list[CodeDoc]:
    """Every code memplan can emit, documented: registries first, then the front ends' codes."""
    docs = registry_codes()
    known = {d.code for d in docs}
    described = frontend_descriptions()
    by_code: dict[str, list[EmittedCode]] = {}
    for e in emitted_codes():
        by_code.setdefault(e.code, []).append(e)
    for code, uses in sorted(by_code.items(), key=lambda kv: (kv[1][0].file, kv[0])):
        if code in known:
            continue
        area = uses[0].file.split("/")[1]
        severities = sorted({u.severity for u in uses if u.severity}) or ["(varies)"]
        text = described.get(code, {})
        docs.append(
            CodeDoc(
                code,
                area if area in _AREAS else "other",
                " / ".join(severities),
                text.get("title", code),
                text.get("meaning", ""),
                text.get("fix", ""),
            )
        )
        known.add(code)
    return docs


def undocumented() -> list[str]:
    """Codes in the catalogue without a meaning or a fix (the docs test insists on none)."""
    return [d.code for d in catalogue() if not d.meaning.strip() or not d.fix.strip()]


def stale_descriptions() -> list[str]:
    """Entries of ``frontend-codes.yml`` for codes the source no longer emits."""
    emitted = {e.code for e in emitted_codes()} | {d.code for d in registry_codes()}
    return sorted(set(frontend_descriptions()) - emitted)


def catalogue_markdown() -> str:
    """The catalogue as Markdown: a summary table, then one section per code."""
    docs = catalogue()
    lines = ["| Code | Severity | Emitted by | Title |", "|---|---|---|---|"]
    for d in docs:
        lines.append(f"| [`{d.code}`](#{d.code}) | {d.severity} | {_AREAS.get(d.area, d.area)} | {_cell(d.title)} |")
    lines.append("")
    current = None
    for d in docs:
        if d.area != current:
            current = d.area
            lines += [f"## {_AREAS.get(d.area, d.area).capitalize()}", ""]
        lines += [
            f"### `{d.code}` {{ #{d.code} }}",
            "",
            f"**{_md(d.title)}** — severity *{d.severity}*.",
            "",
            f"**What it means.** {_md(d.meaning) or '(not described yet)'}",
            "",
            f"**How to fix it.** {_md(d.fix) or '(not described yet)'}",
            "",
        ]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Plain text made safe for Markdown: brackets, stars, underscores and angle brackets escaped."""
    out = text.replace("\\", "\\\\")
    for ch in "[]*_`":
        out = out.replace(ch, "\\" + ch)
    return out.replace("<", "&lt;")


def _cell(text: str) -> str:
    return _md(text).replace("|", "\\|")


# -- API reference -----------------------------------------------------------------------------
def public_modules() -> list[str]:
    """Public modules of the package (no ``_private`` parts, no ``__main__``), in a stable order."""
    names = ["memplan"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="memplan."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or parts[1] == "cli":
            continue
        names.append(info.name)
    return sorted(set(names), key=lambda n: (n.count("."), n))


def api_markdown() -> str:
    """One ``::: module`` block per public module, with a heading each."""
    out: list[str] = []
    for name in public_modules():
        out += [f"## `{name}`", "", f"::: {name}", "    options:", "      show_root_heading: false", ""]
    return "\n".join(out)


# -- the palette --------------------------------------------------------------------------------
def palette_markdown() -> str:
    """The kinds of region: letter in the terminal map, colour in the picture, meaning."""
    from memplan.render._palette import FREE_CHAR, OVERLAP_CHAR, legend_order

    lines = ["| Map letter | Colour | Shows |", "|---|---|---|"]
    for style in legend_order():
        swatch = f'<span style="display:inline-block;width:2em;background:{style.fill}">&nbsp;</span>'
        lines.append(f"| `{style.letter}` | {swatch} `{style.fill}` | {_cell(style.label)} |")
    lines.append(f"| `{OVERLAP_CHAR}` | red cross-hatching | bytes claimed by two regions |")
    lines.append(f"| `{FREE_CHAR}` | light grey | free RAM |")
    return "\n".join(lines)


# -- the example board ------------------------------------------------------------------------
def example_plan(version: str) -> Any:
    """The bundled example board resolved for kernel ``version``."""
    import memplan

    evk = ROOT / "memplan" / "examples" / "evk"
    return memplan.resolve(  # type: ignore[attr-defined]
        dts=str(evk / "board.dts"),
        config=str(evk / "defconfig"),
        include_dirs=[str(evk)],
        kernel_version=version,
    )


def resolver_available() -> bool:
    """True once ``memplan.resolve`` exists (the examples need it)."""
    import memplan

    return callable(getattr(memplan, "resolve", None))


_PENDING = '!!! note "Example output"\n    Generated here once the resolver is available.\n'


def example_markdown(kind: str, version: str) -> str:
    """The example board for ``version`` as a fenced block: ``text`` (CLI view) or ``json``."""
    if not resolver_available():
        return _PENDING
    plan = example_plan(version)
    if kind == "json":
        body = plan.to_json()
    else:
        from memplan.render.text import render_text

        body = render_text(plan).rstrip("\n")
    body = body.replace(str(ROOT) + "/", "")
    return f"```{'json' if kind == 'json' else 'text'}\n{body}\n```"


def example_picture_markdown(version: str) -> str:
    """An image link to the generated picture of the example board for ``version``."""
    if not resolver_available():
        return _PENDING
    return f"![The example board's memory map for Linux {version}](images/evk-map-{version}.svg)"


# -- MkDocs events ----------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"<!-- memplan:([a-z-]+)((?: [A-Za-z0-9.]+)*) -->")


def _nav_paths(nav: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(nav, str):
        found.add(nav)
    elif isinstance(nav, dict):
        for value in nav.values():
            found |= _nav_paths(value)
    elif isinstance(nav, list):
        for item in nav:
            found |= _nav_paths(item)
    return found


def missing_from_nav(docs_dir: Path, nav: Any) -> list[tuple[str, str]]:
    """Markdown pages written by others (e.g. ``kernel-in-the-loop.md``, new design notes) that
    the nav does not list yet, as ``(title, path)``, so the site never hides a page."""
    listed = _nav_paths(nav)
    out: list[tuple[str, str]] = []
    for path in sorted(docs_dir.rglob("*.md")):
        rel = path.relative_to(docs_dir).as_posix()
        if rel in listed or rel.split("/")[0] in ("hooks", "diagnostics", "_build"):
            continue
        title = rel
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
                break
        out.append((title, rel))
    return out


def on_config(config: Any) -> Any:
    """Append pages missing from the nav under "More"."""
    nav = config.get("nav")
    if nav:
        extra = missing_from_nav(Path(config["docs_dir"]), nav)
        if extra:
            nav.append({"More": [{title: rel} for title, rel in extra]})
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Expand the ``<!-- memplan:... -->`` placeholders."""

    def expand(match: re.Match[str]) -> str:
        what, args = match.group(1), match.group(2).split()
        if what == "diagnostic-catalogue":
            return catalogue_markdown()
        if what == "api-reference":
            return api_markdown()
        if what == "palette":
            return palette_markdown()
        if what == "example":
            return example_markdown(args[0].lower(), args[1])
        if what == "example-picture":
            return example_picture_markdown(args[0])
        raise ValueError(f"unknown memplan placeholder {what!r} in {page.file.src_uri}")

    return _PLACEHOLDER.sub(expand, markdown)


def on_files(files: Any, config: Any) -> Any:
    """Add the published JSON Schemas and the generated pictures of the example board to the site."""
    from mkdocs.structure.files import File

    for path in sorted((ROOT / "memplan" / "schemas").glob("*.schema.json")):
        files.append(File.generated(config, f"schemas/{path.name}", content=path.read_text(encoding="utf-8")))
    if not resolver_available():
        return files
    for version in EXAMPLE_VERSIONS:
        svg = example_plan(version).to_svg()
        files.append(File.generated(config, f"images/evk-map-{version}.svg", content=svg))
    return files


def iter_placeholders(text: str) -> Iterator[str]:
    """The placeholder names used in ``text`` (for tests)."""
    for m in _PLACEHOLDER.finditer(text):
        yield m.group(1)
