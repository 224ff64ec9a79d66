"""Lint a whole kernel source tree: every board ``.dts`` of the chosen architectures, built with the
kernel's own include path and resolved with the architecture's default configuration.

>>> from memplan.lint import lint_tree                                  # doctest: +SKIP
>>> report = lint_tree("linux-6.12", arches=["arm64"])                  # doctest: +SKIP
>>> report.summary.by_status["build-failed"]                            # doctest: +SKIP
0

:mod:`memplan.lint.kbuild` says what is taken from the kernel's build files,
:mod:`memplan.lint.memory` which RAM a board without a /memory size is laid out on.
"""

from __future__ import annotations

from memplan.lint.kbuild import KernelTree
from memplan.lint.model import ArchConfig, BoardResult, BoardStatus, LintError, LintReport, Summary
from memplan.lint.run import default_jobs, lint_tree

__all__ = [
    "ArchConfig",
    "BoardResult",
    "BoardStatus",
    "KernelTree",
    "LintError",
    "LintReport",
    "Summary",
    "default_jobs",
    "lint_tree",
]
