"""MkDocs hook: pages and pictures generated from the code, so the docs cannot drift from it.

* ``<!-- memplan:diagnostic-catalogue -->`` becomes the catalogue of every diagnostic code, from
  the one registry :data:`memplan.diagnostics.CODES` (front ends, resolver and observer).
* ``<!-- memplan:api-reference -->`` becomes one mkdocstrings block per public module.
* ``<!-- memplan:palette -->`` becomes the table of region kinds, map letters and colours.
* ``<!-- memplan:example TEXT|JSON VERSION -->`` becomes the example board resolved for a kernel
  version, in the CLI text format or as JSON.
* ``<!-- memplan:example-picture VERSION -->`` shows the generated picture
  ``images/evk-map-<version>.svg`` of the example board.

The functions are importable so tests can check the catalogue without building the site.
"""

from __future__ import annotations

import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from memplan.diagnostics import CODES, FRONT_ENDS, Code

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "memplan"
EXAMPLE_VERSIONS = ("5.4", "6.1")


# -- the diagnostic catalogue ----------------------------------------------------------------
def catalogue() -> list[Code]:
    """Every code memplan can emit (:data:`memplan.diagnostics.CODES`), grouped by front end."""
    return list(CODES.values())


def catalogue_markdown() -> str:
    """The catalogue as Markdown: a summary table, then one section per front end and code."""
    docs = catalogue()
    lines = ["| Code | Severity | Emitted by | Title |", "|---|---|---|---|"]
    for d in docs:
        who = FRONT_ENDS[d.front_end]
        lines.append(f"| [`{d.code}`](#{d.code}) | {_severities(d)} | {who} | {_cell(d.title)} |")
    lines.append("")
    current = None
    for d in docs:
        if d.front_end != current:
            current = d.front_end
            lines += [f"## {FRONT_ENDS[d.front_end].capitalize()}", ""]
        lines += [
            f"### `{d.code}` {{ #{d.code} }}",
            "",
            f"**{_md(d.title)}** — severity *{_severities(d)}*.",
            "",
            f"**What it means.** {_md(d.meaning)}",
            "",
            f"**How to fix it.** {_md(d.fix)}",
            "",
        ]
    return "\n".join(lines)


def _severities(code: Code) -> str:
    """``warning``, or ``warning (sometimes info)`` for a code emitted with several severities."""
    if not code.other_severities:
        return str(code.severity)
    return f"{code.severity} (sometimes {' or '.join(code.other_severities)})"


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
