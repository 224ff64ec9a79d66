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
from memplan.jsonform import json_field, json_record
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
    memory: tuple[tuple[int, int], ...] = attrs.field(default=(), metadata=json_field(pairs=("base", "size")))
    memory_assumed: bool = False
    has_reserved_memory: bool = False
    regions: int = 0
    global_cma: dict[str, Any] | None = attrs.field(default=None, eq=False, hash=False)
    #: The defconfig the board was resolved with (relative to the tree) and why
    #: (:mod:`memplan.lint.defconfigs`); ``None`` with a given ``--config``.
    defconfig: str | None = None
    defconfig_reason: str | None = None

    #: The JSON record's keys, in this order (see memplan.jsonform).
    __json_keys__ = (
        "path", "arch", "status", "diagnostics", "has_reserved_memory", "memory", "memory_assumed", "regions",
        "global_cma", "defconfig", "defconfig_reason",
    )

    @property
    def status(self) -> BoardStatus:
        return status_of(self.diagnostics)

    def findings(self, severities: Sequence[Severity] = ("error", "warning")) -> tuple[Diagnostic, ...]:
        """The diagnostics of the given severities, in the order they were reported."""
        return tuple(d for d in self.diagnostics if d.severity in severities)

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


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
        return json_record(self)


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

    #: The JSON record's keys: the board count per status, then the counts per code.
    __json_keys__ = ("boards", "clean", "warnings", "errors", "build_failed", "by_code")

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

    @property
    def clean(self) -> int:
        return self.by_status["clean"]

    @property
    def warnings(self) -> int:
        return self.by_status["warnings"]

    @property
    def errors(self) -> int:
        return self.by_status["errors"]

    @property
    def build_failed(self) -> int:
        return self.by_status["build-failed"]

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


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

    #: The JSON record's keys, in this order (see memplan.jsonform).
    __json_keys__ = ("schema_version", "srctree", "kernel_version", "configs", "boards", "summary")

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

    @property
    def schema_version(self) -> str:
        """The version of the JSON format (memplan.schemas)."""
        from memplan.schemas import SCHEMA_VERSION

        return SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)
