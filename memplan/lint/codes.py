"""The diagnostic codes the kernel-tree lint adds to what the resolver reports.

Each code is stable (CI scripts match on it); the documentation's diagnostic catalogue is
generated from :data:`CODES`, like the resolver's registry in :mod:`memplan.resolve.codes`.
"""

from __future__ import annotations

from memplan.model import Diagnostic, Severity
from memplan.resolve.codes import Code
from memplan.source import Source

_ENTRIES: tuple[Code, ...] = (
    Code(
        "build-failed",
        "error",
        "The board's Device Tree does not build",
        "The board .dts could not be preprocessed or parsed (a missing include, a syntax error, an "
        "unknown label ...). Nothing about its memory layout can be said.",
        "Fix the Device Tree so that `make dtbs` builds it; the message names the file and line.",
    ),
    Code(
        "lint-memory-assumed",
        "info",
        "RAM assumed for a board whose boot loader fills in /memory",
        "The board's /memory gives no size (or there is no /memory node): the boot loader writes it at "
        "boot. The lint lays the board out on an assumed RAM bank (at least 1 GiB from the /memory "
        "base, grown to cover every static reservation above that base and twice the dynamically "
        "sized ones) so that its reservations can still be checked; findings that depend on the real "
        "RAM size cannot be judged.",
        "Nothing, if the boot loader fills in /memory; lint the board with its real RAM through "
        "`memplan resolve --memory SIZE` to check those findings.",
    ),
    Code(
        "lint-config-bundled-model",
        "info",
        "The tree has no Kconfig files: memplan's own Kconfig model was used",
        "The source tree has no top-level Kconfig (a stripped or partial tree), so the configuration "
        "was read against memplan's bundled model of the symbols it needs, for the tree's release, "
        "instead of the tree's own Kconfig files.",
        "Nothing, for a tree that keeps only arch/ and the Device Tree files; lint a complete tree to "
        "have its own Kconfig rules applied.",
    ),
    Code(
        "lint-resolve-failed",
        "error",
        "The board builds but its layout cannot be resolved",
        "The Device Tree builds, but memplan cannot lay it out (for example a value the resolver "
        "cannot read); the message says why.",
        "Fix the input the message names, or report the board to memplan if the kernel accepts it.",
    ),
    Code(
        "lint-internal-error",
        "error",
        "memplan failed on this board",
        "An unexpected exception inside memplan (a memplan bug, not a fault of the board); the other "
        "boards are still linted.",
        "Report the board and the message to memplan.",
    ),
)

#: Every code the lint itself emits, by code.
CODES: dict[str, Code] = {c.code: c for c in _ENTRIES}


def lint_diag(code: str, message: str, source: Source | None = None, subject: str | None = None,
              severity: Severity | None = None) -> Diagnostic:
    """A :class:`Diagnostic` for a registered lint ``code`` (KeyError for an unregistered one)."""
    entry = CODES[code]
    return Diagnostic(severity or entry.severity, code, message, source, subject)
