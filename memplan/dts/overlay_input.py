"""Overlays as inputs: ``FILE[:param=value,...]`` specs, loaded and applied in order.

A spec names a ``.dtbo`` (recognised by its magic) or overlay source (``.dts``/``.dtso`` with
``/plugin/``, run through the C preprocessor and compiled as ``dtc -@`` does), optionally
followed by Raspberry Pi parameters (:mod:`memplan.dts.overrides`). :func:`apply_overlay_specs`
applies them to a base tree in order, as ``fdtoverlay`` does; every failure is an
:class:`~memplan.errors.OverlayError` naming the overlay file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import attrs

from memplan.diagnostics import diag
from memplan.dts.checks import ADDRESS_CODES, address_warnings
from memplan.dts.dtcversion import DEFAULT_DTC, DtcVersion
from memplan.dts.load import load_device_tree
from memplan.dts.overlay import apply_overlay, subnode
from memplan.dts.overrides import apply_parameters
from memplan.dts.tree import Tree
from memplan.errors import OverlayError
from memplan.model import Diagnostic
from memplan.source import Source

__all__ = ["OverlaySpec", "apply_overlay_specs", "load_overlay", "parse_overlay_spec"]


@attrs.frozen
class OverlaySpec:
    """One overlay to apply: its file and its parameters (``(name, value or None)``, in order)."""

    path: str
    params: tuple[tuple[str, str | None], ...] = ()

    def __str__(self) -> str:
        if not self.params:
            return self.path
        shown = ",".join(name if value is None else f"{name}={value}" for name, value in self.params)
        return f"{self.path}:{shown}"


def parse_overlay_spec(text: str | os.PathLike[str] | OverlaySpec) -> OverlaySpec:
    """``FILE`` or ``FILE:param=value,flag,...``. An existing file named with a ``:`` is taken whole."""
    if isinstance(text, OverlaySpec):
        return text
    if not isinstance(text, str):
        return OverlaySpec(os.fspath(text))
    if os.path.exists(text) or ":" not in text:
        return OverlaySpec(text)
    path, _colon, rest = text.rpartition(":")
    while ":" in path and not os.path.exists(path):
        path, _colon, more = path.rpartition(":")
        rest = f"{more}:{rest}"
    params: list[tuple[str, str | None]] = []
    for item in rest.split(","):
        name, eq, value = item.partition("=")
        if not name.strip():
            raise OverlayError(f"overlay {path}: empty parameter name in {text!r} "
                               "(expected FILE:param=value,...)", Source.builtin("overlay argument"))
        params.append((name.strip(), value if eq else None))
    return OverlaySpec(path, tuple(params))


def load_overlay(spec: OverlaySpec, include_dirs: Sequence[str | os.PathLike[str]] = (),
                 cpp: str = "auto", include_roots: Sequence[str | os.PathLike[str]] | None = None,
                 dtc: DtcVersion = DEFAULT_DTC) -> tuple[Tree, list[Diagnostic]]:
    """The compiled overlay of ``spec`` (parameters applied) and the warnings met on the way
    (``include_roots`` confines its reads as in :func:`~memplan.dts.load_device_tree`)."""
    loaded = load_device_tree(spec.path, include_dirs, cpp, symbols=True, overlay=True,
                              include_roots=include_roots, dtc=dtc)
    tree = loaded.tree
    notes = [*loaded.diagnostics, *tree.warnings]
    if loaded.kind == "dts" and not tree.plugin:
        raise OverlayError(f"overlay {spec.path}: not an overlay source (no /plugin/ after /dts-v1/;)",
                           tree.root.source)
    if not any(subnode(f, "__overlay__") or subnode(f, "__dormant__") for f in tree.root.children.values()):
        notes.append(diag("overlay-empty", f"overlay {spec.path} has no fragment with an "
                                "__overlay__ node: applying it changes nothing", tree.root.source))
    if spec.params:
        apply_parameters(tree, spec.path, list(spec.params), Source.builtin(f"--overlay {spec}"))
    return tree, notes


def apply_overlay_specs(base: Tree, specs: Sequence[str | os.PathLike[str] | OverlaySpec],
                        include_dirs: Sequence[str | os.PathLike[str]] = (), cpp: str = "auto",
                        include_roots: Sequence[str | os.PathLike[str]] | None = None,
                        dtc: DtcVersion = DEFAULT_DTC) -> None:
    """Load each overlay and apply it to ``base`` in order; their warnings go to ``base.warnings``,
    and dtc's address checks are run again on the merged tree. ``include_roots`` confines the
    overlays' reads as in :func:`~memplan.dts.load_device_tree`."""
    if not specs:
        return
    # dtc's address checks are about the merged tree: an overlay's fragments have no cell counts
    kept = [w for w in base.warnings if w.code not in ADDRESS_CODES]
    for raw in specs:
        spec = parse_overlay_spec(raw)
        overlay, notes = load_overlay(spec, include_dirs, cpp, include_roots, dtc)
        kept.extend(n for n in notes if n.code not in ADDRESS_CODES)
        kept.extend(apply_overlay(base, overlay, spec.path))
        base.files.extend(f for f in (spec.path, *overlay.files) if f not in base.files)
    base.warnings = [*kept, *address_warnings(base)]
