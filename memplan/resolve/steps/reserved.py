"""The Device Tree reservations: the early ``/memreserve/`` and ``/reserved-memory`` scan and, in
eras C/D, the late initialisation of static regions (:mod:`memplan.resolve.reserved`)."""

from __future__ import annotations

from memplan.resolve.reserved import init_late_statics, scan_reserved
from memplan.resolve.run import Boot


def scan(run: Boot) -> None:
    """Step ``scan-reserved``: ``early_init_fdt_scan_reserved_mem()``."""
    if run.inp.dt is not None:
        scan_reserved(run.st, run.ctx, run.inp.dt)


def late_statics(run: Boot) -> None:
    """Step ``late-statics``: era C/D ``fdt_scan_reserved_mem_reg_nodes()`` at
    ``unflatten_device_tree()``."""
    init_late_statics(run.st, run.ctx)
