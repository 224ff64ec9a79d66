"""The outcome of comparing a Plan with an observed boot: value classes and their text report.

:func:`memplan.observe.compare.compare` builds these; they are plain data (they import no
comparison logic), so :meth:`memplan.plan.Plan.compare` can name its result type.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

import attrs

from memplan.jsonform import json_field, json_record
from memplan.model import Region
from memplan.observe.model import ObservedGlobalCma, ObservedRegion
from memplan.schemas import SCHEMA_VERSION
from memplan.units import optional_size
from memplan.version import KernelVersion

EntryStatus = Literal["matched", "moved", "resized", "missing", "unexpected", "unverified"]
GlobalStatus = Literal["matched", "differs", "unknown"]
MatchedBy = Literal["name", "address", "iomem", "e820", "none"]

MISMATCH_STATUSES: tuple[str, ...] = ("moved", "resized", "missing", "unexpected")
#: Why a comparison without any confirmed row and without a global CMA verdict fails.
INCONCLUSIVE_MESSAGE = "nothing observed could confirm or refute the plan"


def format_address(n: int | None) -> str:
    """An address in hex, ``?`` when unknown."""
    return "?" if n is None else f"0x{n:x}"


@attrs.frozen
class RegionComparison:
    """One row of a comparison: a predicted region, an observed one, or both."""

    name: str
    status: EntryStatus
    predicted: Region | None = attrs.field(
        metadata=json_field(only=("base", "size", "kind", "status", "placement", "source"))
    )
    observed: ObservedRegion | None = attrs.field(
        metadata=json_field(only=("base", "size", "size_granule", "kind", "status", "evidence"))
    )
    matched_by: MatchedBy = "none"
    reason: str | None = None
    tolerated: bool = False

    #: The JSON record: the verdict first, then what was predicted and what was observed.
    __json_keys__ = (
        "name",
        "status",
        "matched_by",
        ("mismatch", "is_mismatch"),
        "tolerated",
        "reason",
        "predicted",
        "observed",
    )

    @property
    def is_mismatch(self) -> bool:
        """True when this row makes the comparison fail (tolerated rows excluded)."""
        return self.status in MISMATCH_STATUSES and not self.tolerated

    @property
    def predicted_base(self) -> int | None:
        """Base memplan predicted (``None`` when not predicted or not placed)."""
        return None if self.predicted is None else self.predicted.base

    @property
    def predicted_size(self) -> int | None:
        """Size memplan predicted."""
        return None if self.predicted is None else self.predicted.size

    @property
    def observed_base(self) -> int | None:
        """Base the kernel reported."""
        return None if self.observed is None else self.observed.base

    @property
    def observed_size(self) -> int | None:
        """Size the kernel reported (possibly truncated to ``observed.size_granule``)."""
        return None if self.observed is None else self.observed.size

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class GlobalComparison:
    """Which global CMA area was predicted and which one the kernel built."""

    status: GlobalStatus
    predicted_origin: str | None
    predicted_size: int | None
    predicted_base: int | None
    predicted_region: str | None
    observed: ObservedGlobalCma
    reasons: tuple[str, ...] = ()
    tolerated: bool = False

    #: The JSON record: the verdict, the predicted area (one object), the observed one, why.
    __json_keys__ = ("status", ("mismatch", "is_mismatch"), "tolerated", "predicted", "observed", "reasons")

    @property
    def predicted(self) -> dict[str, str | int | None]:
        """The predicted global area as one record: ``origin``, ``size``, ``base``, ``region``."""
        return {
            "origin": self.predicted_origin,
            "size": self.predicted_size,
            "base": self.predicted_base,
            "region": self.predicted_region,
        }

    @property
    def is_mismatch(self) -> bool:
        """True when the verdict differs (and the difference is not tolerated)."""
        return self.status == "differs" and not self.tolerated

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class Comparison:
    """The outcome of :meth:`Plan.compare`: rows, the global-pool verdict and context notes."""

    entries: tuple[RegionComparison, ...]
    global_cma: GlobalComparison
    predicted_version: KernelVersion | None
    observed_version: KernelVersion | None
    notes: tuple[str, ...] = ()
    tolerate_modelled: bool = False

    #: The JSON record: the verdict first, then its parts.
    __json_keys__ = (
        "schema_version",
        "ok",
        "inconclusive",
        "tolerate_modelled",
        "predicted_version",
        "observed_version",
        "global_cma",
        "entries",
        "notes",
    )
    #: The version of the JSON format (:mod:`memplan.schemas`).
    schema_version = SCHEMA_VERSION

    @property
    def mismatches(self) -> tuple[RegionComparison, ...]:
        """Rows that make the comparison fail."""
        return tuple(e for e in self.entries if e.is_mismatch)

    @property
    def inconclusive(self) -> bool:
        """True when nothing observed confirmed anything: no row matched and the global CMA
        verdict is unknown (e.g. an empty snapshot, or an iomem with every row unverified)."""
        return self.global_cma.status == "unknown" and not any(e.status == "matched" for e in self.entries)

    @property
    def ok(self) -> bool:
        """True when no row and not the global verdict is a mismatch, and something observed
        confirmed the plan (see :attr:`inconclusive`)."""
        return not self.mismatches and not self.global_cma.is_mismatch and not self.inconclusive

    def entry(self, name: str) -> RegionComparison:
        """The row for ``name``; raises ``KeyError``."""
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``__json_keys__``; :func:`memplan.jsonform.json_record`)."""
        return json_record(self)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_text(self) -> str:
        """A human-readable report."""
        return render_comparison_text(self)


def _row(e: RegionComparison) -> str:
    p, o = e.predicted, e.observed
    pred = f"{format_address(p.base)} {optional_size(p.size)}" if p is not None and p.status == "ok" else "-"
    if p is not None and p.status != "ok":
        pred = p.status
    obs = "-"
    if o is not None:
        obs = f"{format_address(o.base)} {optional_size(o.size)}" if o.status == "ok" else o.status
    flag = " (tolerated)" if e.tolerated else ""
    line = f"  {e.status + flag:<22} {e.name:<28} predicted {pred:<24} observed {obs}"
    return line + (f"\n  {'':<22} -> {e.reason}" if e.reason else "")


def _lines_global(g: GlobalComparison) -> Iterable[str]:
    o = g.observed
    pred = "none" if g.predicted_origin is None else f"{g.predicted_origin} {optional_size(g.predicted_size)}"
    if g.predicted_origin is not None:
        pred += f" at {format_address(g.predicted_base)}"
    if not o.known:
        obs = "unknown"
    elif o.origin is None:
        obs = "none"
    else:
        obs = f"{o.origin} {optional_size(o.size)} at {format_address(o.base)}"
    status = g.status.upper() + (" (tolerated)" if g.tolerated else "")
    yield f"Global CMA area: {status}"
    yield f"  predicted: {pred}"
    yield f"  observed:  {obs}" + (f"  [{o.reason}]" if o.reason else "")
    for reason in g.reasons:
        yield f"  -> {reason}"


def render_comparison_text(c: Comparison) -> str:
    """The text report printed by ``memplan check``."""
    out = [
        f"Predicted for kernel {c.predicted_version or '?'}; observed kernel {c.observed_version or '?'}",
        *_lines_global(c.global_cma),
        "Regions:",
    ]
    out.extend(_row(e) for e in c.entries)
    if c.notes:
        out.append("Notes:")
        out.extend(f"  {n}" for n in c.notes)
    n = len(c.mismatches) + (1 if c.global_cma.is_mismatch else 0)
    if n:
        out.append(f"Result: MISMATCH ({n} difference{'s' if n != 1 else ''})")
    elif c.inconclusive:
        out.append(f"Result: INCONCLUSIVE ({INCONCLUSIVE_MESSAGE})")
    else:
        out.append("Result: agreement")
    return "\n".join(out) + "\n"
