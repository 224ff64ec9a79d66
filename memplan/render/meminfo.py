"""The ``/proc/meminfo`` lines a resolved layout determines (fs/proc/meminfo.c).

Only ``CmaTotal`` is known before boot (``Plan.cma_total``); ``MemTotal``, ``CmaFree`` and the
rest depend on what the running system does, so they are not printed. A kernel without
``CONFIG_CMA`` has no ``CmaTotal`` line: the text is then empty.
"""

from __future__ import annotations

from memplan.plan import Plan
from memplan.units import KiB


def meminfo_line(name: str, value: int) -> str:
    """One ``show_val_kb()`` line: ``name:`` padded to 16 columns, the KiB value right-aligned in
    8, then `` kB``."""
    return f"{name + ':':<16}{value // KiB:>8} kB"


def render_meminfo(plan: Plan) -> str:
    """The ``/proc/meminfo`` lines of ``plan`` (see the module docstring), one per line."""
    if plan.cma_total is None:
        return ""
    return meminfo_line("CmaTotal", plan.cma_total) + "\n"


__all__ = ["meminfo_line", "render_meminfo"]
