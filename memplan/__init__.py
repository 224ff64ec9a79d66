"""memplan: predict the physical memory layout a Linux kernel will build.

The public surface is this module:

* :func:`resolve` — Device Tree (``dts=``/``dtb=``), command line, ``.config``, architecture,
  kernel version and ``memory=`` in, a :class:`Plan` out (reserved memory, CMA areas, which
  global CMA pool wins, diagnostics). Its docstring says how paths and inline text are told apart.
* :func:`read_observed` — what a booted kernel reported (``/proc/iomem``, dmesg, debugfs, or a
  snapshot directory), as an :class:`Observed`. Compare a prediction with a boot by
  ``resolve(...).compare(read_observed("snapshot/"))``, which returns a :class:`Comparison` whose
  ``ok`` says whether they agree and ``to_text()`` lists the differences.
* :func:`example` — the files of the example board shipped inside the package.
* :class:`Plan`, the model classes (:class:`MemoryBank`, :class:`Region`, :class:`Device`,
  :class:`CmaCandidate`, :class:`GlobalCma`, :class:`Diagnostic`), :class:`Source`,
  :class:`KernelVersion`, and :class:`MemplanError` — the base of every error raised for bad input.
* The value sets of the model's string fields, as ``typing.Literal`` aliases: :data:`Arch`,
  :data:`RegionKind`, :data:`RegionStatus`, :data:`Placement`, :data:`Origin`,
  :data:`Severity`, :data:`Precedence`, :data:`PrecedenceRequest`, :data:`CandidateStatus`,
  :data:`SourceKind`.

Names are imported on first use, so ``import memplan`` (and the command line) start fast.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from memplan.api import resolve
    from memplan.arch import Arch
    from memplan.errors import MemplanError
    from memplan.examples import example
    from memplan.model import (
        CandidateStatus,
        CmaCandidate,
        Device,
        Diagnostic,
        GlobalCma,
        MemoryBank,
        Origin,
        Placement,
        Precedence,
        PrecedenceRequest,
        Region,
        RegionKind,
        RegionStatus,
        Severity,
    )
    from memplan.observe.model import Observed
    from memplan.observe.snapshot import read_observed
    from memplan.observe.verdict import Comparison
    from memplan.plan import Plan
    from memplan.source import Source, SourceKind
    from memplan.version import KernelVersion

#: Where each public name lives (imported on first access, PEP 562).
_HOMES: dict[str, str] = {
    "resolve": "memplan.api",
    "Arch": "memplan.arch",
    "MemplanError": "memplan.errors",
    "example": "memplan.examples",
    "CandidateStatus": "memplan.model",
    "CmaCandidate": "memplan.model",
    "Device": "memplan.model",
    "Diagnostic": "memplan.model",
    "GlobalCma": "memplan.model",
    "MemoryBank": "memplan.model",
    "Origin": "memplan.model",
    "Placement": "memplan.model",
    "Precedence": "memplan.model",
    "PrecedenceRequest": "memplan.model",
    "Region": "memplan.model",
    "RegionKind": "memplan.model",
    "RegionStatus": "memplan.model",
    "Severity": "memplan.model",
    "Comparison": "memplan.observe.verdict",
    "Observed": "memplan.observe.model",
    "read_observed": "memplan.observe.snapshot",
    "Plan": "memplan.plan",
    "Source": "memplan.source",
    "SourceKind": "memplan.source",
    "KernelVersion": "memplan.version",
}

__all__ = [
    "Arch",
    "CandidateStatus",
    "CmaCandidate",
    "Comparison",
    "Device",
    "Diagnostic",
    "GlobalCma",
    "KernelVersion",
    "MemoryBank",
    "MemplanError",
    "Observed",
    "Origin",
    "Placement",
    "Plan",
    "Precedence",
    "PrecedenceRequest",
    "Region",
    "RegionKind",
    "RegionStatus",
    "Severity",
    "Source",
    "SourceKind",
    "__version__",
    "example",
    "read_observed",
    "resolve",
]


class _Package(types.ModuleType):
    """The ``memplan`` module: importing the subpackage ``memplan.resolve`` must not replace the
    function :func:`memplan.resolve` (the import system sets a parent attribute per subpackage)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "resolve" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def _render(module: str, func: str) -> Any:
    def view(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), func)(*args, **kwargs)

    return view


#: The functions behind the Plan's ``to_text()``, ``_repr_html_()``, ``to_svg()``, ``explain()``
#: and ``compare()``: :mod:`memplan.plan` reads this table (the package always runs before its
#: modules) and so imports neither ``memplan.render`` nor ``memplan.observe``, which sit after it
#: in the data flow. Each is imported on first use, like the names above.
_VIEWS: dict[str, Any] = {
    "text": _render("memplan.render.text", "render_text"),
    "html": _render("memplan.render.html", "render_html"),
    "svg": _render("memplan.render.svg", "render_svg"),
    "explain": _render("memplan.render.explain", "render_explain"),
    "compare": _render("memplan.observe.compare", "compare"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'memplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
