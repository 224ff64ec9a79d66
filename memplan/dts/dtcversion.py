"""Which dtc memplan imitates, where dtc versions disagree.

memplan must never be stricter than the kernel build and never laxer than dtc, and dtc
versions differ on one point that matters for valid trees: an array element that does not
fit its cell size (``< 0x100000000 >``, ``/bits/ 8 <256>``, ``< (-0xffffffff - 2) >``).

- dtc up to 1.6.1 (Debian 12's ``device-tree-compiler``) rejects it: "Value out of range for
  N-bit array element".
- dtc from 1.7.0 (dtc commit 2cd89f8, "Warning rather than error on possible truncation of
  cell values", 2022) only warns ("Value 0x... truncated to 0x...") and keeps the low N bits.
  The Linux kernel builds its DTBs with its own copy of dtc (``scripts/dtc``; Linux 6.12
  carries 1.7.0), so a kernel tree newer than that import builds such a tree.

:class:`DtcVersion` names the dtc to follow. The default is 1.6.1, the stricter reading: a
truncated cell is almost always a mistake, and a tree it accepts builds with every dtc.
``--dtc-version 1.7`` (or the version read from a kernel tree's own
``scripts/dtc/version_gen.h``, which ``memplan lint`` does) follows the newer rule.

:func:`choose_dtc` decides which dtc to follow: an explicit version wins; else, when the kernel
version is given, the dtc that release carries in ``scripts/dtc`` (the table
:mod:`memplan.kernel.dtc_releases`, read by :func:`memplan.kernel.rules.kernel_dtc`), with a
``dtc-from-kernel`` note naming the rule; else the default.
"""

from __future__ import annotations

import os
import re

import attrs

from memplan.argnames import argument_value
from memplan.diagnostics import diag
from memplan.errors import DtsError, UsageError
from memplan.kernel import rules
from memplan.kernel.dtc_releases import KERNEL_DTC
from memplan.model import Diagnostic
from memplan.source import Source
from memplan.version import KernelVersion

__all__ = ["DEFAULT_DTC", "DtcVersion", "choose_dtc", "parse_dtc_version", "tree_dtc_version",
           "with_dtc_reason"]

#: dtc commits after 1.6.1 that already warn instead of failing (2cd89f8 up to the 1.7.0 tag); a
#: kernel tree that imported one of them says ``DTC 1.6.1-g<hash>`` in its version_gen.h.
_WARNING_COMMITS_AFTER_161 = ("2cd89f8", "a41509b", "abbd523", "2022bb1", "3f29d6d", "9b62ec8", "039a994")

_VERSION = re.compile(
    r"\s*(?:DTC\s+)?v?(?P<major>\d{1,3})\.(?P<minor>\d{1,3})(?:\.(?P<patch>\d{1,3}))?"
    r"(?:-(?:\d+-)?g(?P<commit>[0-9a-fA-F]{4,40}))?(?:-dirty)?\s*"
)


@attrs.frozen
class DtcVersion:
    """A dtc version: ``major.minor.patch`` and, for a snapshot between releases, its commit."""

    major: int
    minor: int
    patch: int = 0
    commit: str | None = None

    @property
    def truncates_cells(self) -> bool:
        """True when this dtc keeps the low bits of an out-of-range array element, with a
        warning (1.7.0 and later, and the 1.6.1 snapshots that carry the change)."""
        if (self.major, self.minor) >= (1, 7):
            return True
        if (self.major, self.minor, self.patch) == (1, 6, 1) and self.commit is not None:
            commit = self.commit.lower()
            return any(commit.startswith(c) or c.startswith(commit) for c in _WARNING_COMMITS_AFTER_161)
        return False

    @property
    def release(self) -> tuple[int, int, int]:
        """``(major, minor, patch)``."""
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        return f"{text}-g{self.commit}" if self.commit else text


#: What memplan follows unless told otherwise: dtc 1.6.1, which rejects truncated cells.
DEFAULT_DTC = DtcVersion(1, 6, 1)


def parse_dtc_version(text: str, source: Source | None = None) -> DtcVersion:
    """``1.7``, ``1.6.1``, ``v1.6.1-66-gabbd523`` or ``DTC 1.7.0-gbcd02b52`` (``dtc --version``
    and version_gen.h spellings) as a :class:`DtcVersion`; :class:`UsageError` otherwise."""
    m = _VERSION.fullmatch(text)
    if m is None:
        raise UsageError(
            f"{text!r} is not a dtc version (expected e.g. 1.6.1 or 1.7.0)",
            source or Source.builtin("dtc version"),
        )
    return DtcVersion(int(m["major"]), int(m["minor"]), int(m["patch"] or 0), m["commit"])


def tree_dtc_version(srctree: str | os.PathLike[str]) -> DtcVersion | None:
    """The dtc a kernel tree builds its DTBs with (``scripts/dtc/version_gen.h``), or ``None``
    when the tree has none or the file does not say."""
    path = os.path.join(os.fspath(srctree), "scripts", "dtc", "version_gen.h")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    m = re.search(r'#define\s+DTC_VERSION\s+"([^"\n]*)"', head)
    if m is None:
        return None
    try:
        return parse_dtc_version(m.group(1))
    except UsageError:
        return None


def choose_dtc(explicit: DtcVersion | None,
               kernel_version: KernelVersion | None) -> tuple[DtcVersion, Diagnostic | None]:
    """The dtc to follow and, when the kernel version chose it, the ``dtc-from-kernel`` note.

    ``explicit`` (``--dtc-version``) wins; a known ``kernel_version`` gives the dtc of its
    ``scripts/dtc``; otherwise :data:`DEFAULT_DTC`."""
    if explicit is not None or kernel_version is None:
        return (explicit or DEFAULT_DTC), None
    where = Source.builtin(f"kernel version {kernel_version}")  # given, or read from a snapshot
    other = f"{argument_value('dtc_version', 'VERSION')} chooses another dtc"
    carried = rules.kernel_dtc(kernel_version)
    if carried is None:
        return DEFAULT_DTC, diag(
            "dtc-from-kernel",
            f"following dtc {DEFAULT_DTC}: Linux {kernel_version} predates memplan's table of the kernel's "
            f"own dtc (5.6 on); its scripts/dtc (1.5 or older) refuses an out-of-range array element as "
            f"{DEFAULT_DTC} does ({other})", where)
    since, text = carried
    dtc = parse_dtc_version(text)
    cells = ("keeps the low bits of an out-of-range array element, with a warning" if dtc.truncates_cells
             else "refuses an out-of-range array element")
    newest = ", the newest row of memplan's table" if text == KERNEL_DTC[-1][1] else ""
    return dtc, diag(
        "dtc-from-kernel",
        f"following dtc {dtc}, the copy in scripts/dtc of Linux {kernel_version} (carried since "
        f"{since.major}.{since.minor}{newest}): it {cells} ({other})", where)


def with_dtc_reason(err: DtsError, note: Diagnostic | None) -> DtsError:
    """``err`` with the reason the dtc was chosen (``note`` of :func:`choose_dtc`) added when the
    error is one where dtc versions differ (an out-of-range array element); else ``err``."""
    if note is None or "array element" not in err.message:
        return err
    return type(err)(f"{err.message}; {note.message}", err.source)
