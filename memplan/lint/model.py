"""The lint's results: one :class:`BoardResult` per board ``.dts``, gathered in a :class:`LintReport`.

Values only (frozen attrs classes); :mod:`memplan.lint.render` and :mod:`memplan.lint.sarif`
format them. Paths are relative to the kernel tree, so a report does not depend on where the
tree was unpacked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from memplan.errors import MemplanError
from memplan.model import Diagnostic, Severity

BoardStatus = Literal["clean", "warnings", "errors", "build-failed"]

#: Statuses from best to worst.
STATUSES: tuple[BoardStatus, ...] = ("clean", "warnings", "errors", "build-failed")


class LintError(MemplanError):
    """The lint cannot run at all: not a kernel tree, an unknown board or architecture, an
    unreadable configuration."""


def status_of(diagnostics: Sequence[Diagnostic]) -> BoardStatus:
    """``build-failed`` when the board did not build, else the worst severity found
    (``info`` findings leave a board ``clean``)."""
    codes = {d.code for d in diagnostics}
    if "build-failed" in codes:
        return "build-failed"
    severities = {d.severity for d in diagnostics}
    if "error" in severities:
        return "errors"
    if "warning" in severities:
        return "warnings"
    return "clean"


@attrs.frozen
class BoardResult:
    """What the lint found for one board ``.dts``.

    ``path`` is relative to the kernel tree; ``diagnostics`` are the board's own findings (the
    configuration's are in :class:`ArchConfig`); ``memory`` the RAM banks ``(base, size)`` the
    layout used, ``memory_assumed`` whether the lint supplied them (the board leaves /memory to
    the boot loader); ``has_reserved_memory`` whether the tree has a ``/reserved-memory`` node;
    ``global_cma`` the winning global CMA pool (``Plan.global_cma.to_dict()``), ``None`` when
    the board did not resolve.
    """

    path: str
    arch: str
    diagnostics: tuple[Diagnostic, ...]
    memory: tuple[tuple[int, int], ...] = ()
    memory_assumed: bool = False
    has_reserved_memory: bool = False
    regions: int = 0
    global_cma: dict[str, Any] | None = attrs.field(default=None, eq=False, hash=False)

    @property
    def status(self) -> BoardStatus:
        return status_of(self.diagnostics)

    def findings(self, severities: Sequence[Severity] = ("error", "warning")) -> tuple[Diagnostic, ...]:
        """The diagnostics of the given severities, in the order they were reported."""
        return tuple(d for d in self.diagnostics if d.severity in severities)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "arch": self.arch,
            "status": self.status,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "has_reserved_memory": self.has_reserved_memory,
            "memory": [{"base": b, "size": s} for b, s in self.memory],
            "memory_assumed": self.memory_assumed,
            "regions": self.regions,
            "global_cma": self.global_cma,
        }


@attrs.frozen
class ArchConfig:
    """The kernel configuration the boards of one architecture were resolved with.

    ``config`` names the file (relative to the tree when inside it); ``diagnostics`` are the
    configuration's own findings, reported once here instead of on every board.
    """

    arch: str
    config: str
    kernel_version: str | None
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "config": self.config,
            "kernel_version": self.kernel_version,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@attrs.frozen
class CodeCount:
    """How often a diagnostic code was reported: ``findings`` in all, on ``boards`` boards."""

    code: str
    severity: Severity
    findings: int
    boards: int


@attrs.frozen
class Summary:
    """Counts over every board linted."""

    boards: int
    by_status: dict[BoardStatus, int] = attrs.field(eq=False, hash=False)
    by_code: tuple[CodeCount, ...]

    @classmethod
    def of(cls, boards: Sequence[BoardResult]) -> Summary:
        by_status: dict[BoardStatus, int] = dict.fromkeys(STATUSES, 0)
        findings: Counter[tuple[str, Severity]] = Counter()
        on_boards: Counter[tuple[str, Severity]] = Counter()
        for board in boards:
            by_status[board.status] += 1
            seen = board.findings()
            findings.update((d.code, d.severity) for d in seen)
            on_boards.update({(d.code, d.severity) for d in seen})
        rank = {"error": 0, "warning": 1, "info": 2}
        order = sorted(findings, key=lambda k: (rank[k[1]], -on_boards[k], k[0]))
        counts = tuple(CodeCount(c, sev, findings[(c, sev)], on_boards[(c, sev)]) for c, sev in order)
        return cls(len(boards), by_status, counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "boards": self.boards,
            "clean": self.by_status["clean"],
            "warnings": self.by_status["warnings"],
            "errors": self.by_status["errors"],
            "build_failed": self.by_status["build-failed"],
            "by_code": [
                {"code": c.code, "severity": c.severity, "findings": c.findings, "boards": c.boards}
                for c in self.by_code
            ],
        }


@attrs.frozen
class Finding:
    """A diagnostic and the boards it was reported on (none for a configuration's own)."""

    diagnostic: Diagnostic
    boards: tuple[str, ...]


@attrs.frozen
class LintReport:
    """The lint of a kernel tree: its version, the configuration per architecture, every board
    (sorted by architecture, then path) and the summary."""

    srctree: str
    kernel_version: str | None
    configs: tuple[ArchConfig, ...]
    boards: tuple[BoardResult, ...]

    @property
    def summary(self) -> Summary:
        return Summary.of(self.boards)

    def without(self, codes: frozenset[str]) -> LintReport:
        """The report with the diagnostics of ``codes`` left out (board statuses follow)."""
        if not codes:
            return self
        boards = tuple(
            attrs.evolve(b, diagnostics=tuple(d for d in b.diagnostics if d.code not in codes))
            for b in self.boards
        )
        configs = tuple(
            attrs.evolve(c, diagnostics=tuple(d for d in c.diagnostics if d.code not in codes))
            for c in self.configs
        )
        return attrs.evolve(self, boards=boards, configs=configs)

    def distinct_findings(self, severities: Sequence[Severity] = ("error", "warning")) -> list[Finding]:
        """Every distinct finding (the configurations' first, then the boards' in order), with the
        boards it was reported on: a finding in a ``.dtsi`` shared by many boards is one entry."""
        seen: dict[Diagnostic, list[str]] = {}
        for cfg in self.configs:
            for d in cfg.diagnostics:
                if d.severity in severities:
                    seen.setdefault(d, [])
        for board in self.boards:
            for d in board.findings(severities):
                boards = seen.setdefault(d, [])
                if not boards or boards[-1] != board.path:
                    boards.append(board.path)
        return [Finding(d, tuple(b)) for d, b in seen.items()]

    def to_dict(self) -> dict[str, Any]:
        from memplan.schemas import SCHEMA_VERSION

        return {
            "schema_version": SCHEMA_VERSION,
            "srctree": self.srctree,
            "kernel_version": self.kernel_version,
            "configs": [c.to_dict() for c in self.configs],
            "boards": [b.to_dict() for b in self.boards],
            "summary": self.summary.to_dict(),
        }
