"""Exit statuses of the ``memplan`` command, and the ``--help`` text that documents them.

This module imports nothing heavy: every subcommand's parser reads it.
"""

from __future__ import annotations

EXIT_OK = 0
#: A diagnostic at the ``--fail-on`` level (``resolve``, ``dts``, ``lint``, ``check``); ``check``: the
#: boot differs from the plan.
EXIT_FINDINGS = 1
#: Unusable input: a missing file, a bad option value, text that cannot be parsed.
EXIT_USAGE = 2
#: ``check``: nothing observed could confirm or refute the plan (e.g. an empty snapshot folder).
EXIT_INCONCLUSIVE = 3

USAGE_LINE = "  2  unusable input (a missing file, a bad option value, input that cannot be parsed)"


def exit_help(*lines: str) -> str:
    """The ``exit status:`` paragraph of a ``--help`` text: ``lines`` then the usage line."""
    return "exit status:\n" + "\n".join((*lines, USAGE_LINE))


RESOLVE_EXITS = exit_help(
    "  0  no diagnostic at the --fail-on level (default: no error)",
    "  1  a diagnostic at the --fail-on level (the layout is still printed)",
)
CHECK_EXITS = exit_help(
    "  0  the booted kernel agrees with the prediction",
    "  1  a mismatch: a region moved, resized, missing or unexpected, or another global CMA area;",
    "     or, with --fail-on error|warning, a diagnostic of the prediction or observation at that level",
    "  3  inconclusive: nothing observed could confirm or refute the prediction (e.g. an empty snapshot)",
)
PLAIN_EXITS = exit_help("  0  success")
