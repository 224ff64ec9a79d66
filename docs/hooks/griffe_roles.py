"""A griffe extension for the API reference: Sphinx roles in docstrings become cross-references.

memplan's docstrings use reStructuredText roles (``:func:`resolve```, ``:class:`~memplan.plan.Plan```).
mkdocstrings renders Markdown, where these would show as raw text. After the package is loaded,
every role is resolved in the scope of the object whose docstring holds it (as Python would
resolve the name there: members, imports, the enclosing class and module) and replaced by an
optional autorefs cross-reference: a link when the target is on the site, plain code otherwise.
A leading ``~`` shows only the last part of the name, as in Sphinx.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|data|mod|exc|obj|const|type):`(?P<target>[^`]+)`")


def _resolve(obj: griffe.Object, name: str) -> str | None:
    """The full path of ``name`` as seen from ``obj``, or ``None``."""
    scope: griffe.Object | None = obj
    head, _, rest = name.partition(".")
    while scope is not None:
        try:
            path = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError, ValueError):
            path = None
        if path:
            return f"{path}.{rest}" if rest else path
        if scope.is_module:
            break
        scope = scope.parent
    return name if name.startswith("memplan.") else None


def _canonical(obj: griffe.Object, path: str) -> str:
    """The canonical path of ``path`` (through aliases) when the package knows it."""
    try:
        target = obj.modules_collection[path]
    except (KeyError, ValueError):
        return path
    try:
        return str(target.canonical_path)
    except griffe.AliasResolutionError:
        return path


def _replace(obj: griffe.Object, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        raw = match.group("target").strip()
        short = raw.startswith("~")
        name = raw.lstrip("~").removesuffix("()")
        shown = name.rsplit(".", 1)[-1] if short else name
        if match.group(0).startswith((":func:", ":meth:", ":py:func:", ":py:meth:")):
            shown += "()"
        path = _resolve(obj, name)
        code = f"<code>{html.escape(shown)}</code>"
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(_canonical(obj, path))}" optional>{code}</autoref>'

    return _ROLE.sub(link, text)


def _walk(obj: griffe.Object, seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if obj.docstring is not None and ":" in obj.docstring.value:
        obj.docstring.value = _replace(obj, obj.docstring.value)
    for member in obj.members.values():
        if isinstance(member, griffe.Alias):
            continue
        _walk(member, seen)


class SphinxRoles(griffe.Extension):
    """Turn ``:role:`target``` into optional cross-references once the package is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _walk(pkg, set())
