"""``memplan lint``: check every board of a kernel source tree.

Exit status: 0 nothing at or above the ``--fail-on`` level, 1 some board reached it, 2 the lint
could not run (not a kernel tree, an unknown board or architecture, an unusable configuration).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from memplan.cli.exits import exit_help
from memplan.cli.options import FAIL_ON_CHOICES, add_dtc_version, add_format, add_gate_options, new_subparser

if TYPE_CHECKING:
    from memplan.lint.model import LintReport

FORMATS = ("text", "json", "sarif", "github")

LINT_EXITS = exit_help(
    "  0  no board at the --fail-on level (default: no error and no build failure)",
    "  1  a board at the --fail-on level (the report is still printed)",
)

#: ``--fail-on`` levels, and the board statuses that reach each.
FAIL_ON: dict[str, tuple[str, ...]] = {
    "never": (),
    "build-failed": ("build-failed",),
    "error": ("build-failed", "errors"),
    "warning": ("build-failed", "errors", "warnings"),
}


def _arches(value: str) -> list[str]:
    return [a for a in (part.strip() for part in value.split(",")) if a]


def _jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"at least 1 process, got {n}")
    return n


class _BoardsAnywhereParser(argparse.ArgumentParser):
    """Takes ``BOARD`` arguments after options too (``memplan lint SRC --arch arm64 BOARD``).

    argparse fills the ``nargs="*"`` positional from the arguments right after ``SRCTREE`` and
    leaves later ones unrecognised; those that are not options are boards.
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Any = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        ns, extras = super().parse_known_args(args, namespace)
        rest = [a for a in extras if a.startswith("-") and a != "-"]
        ns.boards = [*ns.boards, *(a for a in extras if not (a.startswith("-") and a != "-"))]
        return ns, rest


def register(subparsers: Any) -> None:
    """Add the ``lint`` sub-command."""
    p = new_subparser(
        subparsers,
        "lint",
        help="check every board .dts of a kernel source tree",
        description="Build every board .dts of a Linux source tree the way the kernel build does "
        "(its include path, cpp flags) and resolve its memory layout with the architecture's "
        "defconfig read through the tree's own Kconfig, in parallel. Prints each board's findings "
        "and a summary. Boards whose /memory leaves the size to the boot loader are laid out on an "
        "assumed RAM bank (see the lint-memory-assumed note).\n\n"
        "Formats: text (findings and summary tables), json (every board; see docs/lint.md), sarif "
        "(SARIF 2.1.0, one result per distinct finding) and github (workflow annotations).",
        epilog=LINT_EXITS,
    )
    p.__class__ = _BoardsAnywhereParser  # argparse makes every sub-parser a plain ArgumentParser
    p.add_argument("srctree", metavar="SRCTREE", help="the kernel source tree")
    p.add_argument("boards", nargs="*", metavar="BOARD",
                   help="only these boards (a path, or a file name such as imx8mp-evk.dts)")
    p.add_argument("--arch", dest="arches", action="extend", type=_arches, default=[], metavar="A",
                   help="architectures to lint (repeatable or comma-separated; default: every one "
                   "memplan models with boards in the tree: arm, arm64, riscv)")
    p.add_argument("--config", metavar="F",
                   help="a .config or defconfig to use for every board (one architecture); default: "
                   "for each board the defconfig the tree implies, arch/<arch>/configs/$(KBUILD_DEFCONFIG) "
                   "when it builds the board")
    p.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                   help="worker processes (default: one per core)")
    add_format(p, FORMATS)
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    add_gate_options(p, what="a board", levels=("build-failed", *FAIL_ON_CHOICES),
                     default_means="an error or a build failure; build-failed: only a build failure",
                     never_means="no finding and no build failure changes the exit status")
    add_dtc_version(p, default="the tree's own scripts/dtc, which its build uses")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (it only shows on a terminal)")
    p.set_defaults(func=run)


class ProgressBar:
    """A one-line progress bar redrawn in place on a terminal."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.start = time.monotonic()
        self.last = -1.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done != total and now - self.last < 0.1:
            return
        self.last = now
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} boards  {now - self.start:5.0f} s")
        if done == total:
            self.stream.write("\r" + " " * (self.width + 40) + "\r")
        self.stream.flush()


def exit_status(report: LintReport, fail_on: str) -> int:
    """1 when a board's status reaches ``fail_on``, else 0."""
    failing = FAIL_ON[fail_on]
    return 1 if any(b.status in failing for b in report.boards) else 0


def _render(report: LintReport, fmt: str) -> str:
    if fmt == "json":
        from memplan.lint.render import render_json

        return render_json(report)
    if fmt == "sarif":
        from memplan.lint.sarif import render_sarif

        return render_sarif(report)
    if fmt == "github":
        from memplan.lint.sarif import render_github

        return render_github(report)
    from memplan.lint.render import render_text

    return render_text(report)


def run(args: argparse.Namespace) -> int:
    """Lint and print; returns the exit status."""
    from memplan.lint import lint_tree

    ignore = frozenset(args.ignore)
    show = not args.no_progress and sys.stderr.isatty()
    bar = ProgressBar(sys.stderr) if show else None
    report = lint_tree(args.srctree, arches=args.arches, boards=args.boards, config=args.config,
                       jobs=args.jobs, progress=bar, dtc_version=args.dtc_version).without(ignore)
    text = _render(report, args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return exit_status(report, args.fail_on)
