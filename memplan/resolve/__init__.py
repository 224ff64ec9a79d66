"""The resolver: from typed facts (Device Tree, command line, .config) to the layout a kernel builds.

Every version comparison is a named predicate in :mod:`memplan.kernel.rules`; the call order of
the boot steps per architecture and version is :mod:`memplan.kernel.boot_order`. Here:

* :mod:`~memplan.resolve.build` — the resolver's inputs from the front ends' results (Kconfig
  default size, which ``mem=``/``crashkernel=`` count, the RAM base guess, QEMU's pc E820 map).
* :mod:`~memplan.resolve.steps` — one module per boot step; :mod:`~memplan.resolve.run` their
  shared state; :mod:`~memplan.resolve.platform` the architecture facts they share;
  :mod:`~memplan.resolve.fitted` the constants fitted to recorded boots.

* :mod:`~memplan.resolve.precedence` — the eras (A < 5.6, B ≤ 6.12.12, C ≤ 6.18.x, D ≥ 6.19), who
  provides the global CMA area, the Kconfig size selection, the ``cma=`` limit rule.
* :mod:`~memplan.resolve.alignment` — the CMA minimum alignment by version and page size.
* :mod:`~memplan.resolve.memblock` — a memblock model (top-down / bottom-up search, nomap).
* :mod:`~memplan.resolve.order` — lib/sort.c heapsort emulation and the saved-array order (≤ 6.12.12).
* :mod:`~memplan.resolve.reserved` — ``/memreserve/`` and ``/reserved-memory`` by era, init handlers.
* :mod:`~memplan.resolve.cma` — ``cma_declare_contiguous_nid()`` placement.
* :mod:`~memplan.resolve.crashkernel`, :mod:`~memplan.resolve.memory`, :mod:`~memplan.resolve.e820`
  — ``crashkernel=``, ``mem=``, x86 ``memmap=``.
* :mod:`~memplan.resolve.engine` — runs the steps and freezes the :class:`~memplan.plan.Plan`;
  :mod:`~memplan.resolve.devices`,
  :mod:`~memplan.resolve.checks`, :mod:`~memplan.resolve.candidates` — bindings, checks, explain().
* :mod:`memplan.diagnostics` (outside this package) — every diagnostic code with its title, meaning
  and fix.

The public entry point is :func:`memplan.resolve` (:mod:`memplan.api`).
"""

from __future__ import annotations

from memplan.resolve.engine import resolve_inputs

__all__ = ["resolve_inputs"]
