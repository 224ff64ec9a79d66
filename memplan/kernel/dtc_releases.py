"""Which dtc each Linux release builds its DTBs with: the kernel's own copy in ``scripts/dtc``.

The kernel does not use the dtc installed on the build host: it carries dtc's sources in
``scripts/dtc`` and updates them now and then ("scripts/dtc: Update to upstream version ...",
which also rewrites ``scripts/dtc/version_gen.h``). Each row of :data:`KERNEL_DTC` is the first
release that carries an update and the dtc it brought (``git describe`` of upstream dtc); a
release carries the dtc of the newest row at or before it, until the next row.

Source of every row: the "Devicetree updates for vX.Y" (and "Devicetree fixes for X.Y") pull
requests Rob Herring sent to Linus Torvalds for that release, whose summary names the dtc
update (e.g. "Update dtc to upstream v1.6.1-66-gabbd523bae6e" in the v6.3 pull of 2023-02); the
6.12 row was also checked against a Linux 6.12 tree (``version_gen.h``: ``DTC 1.7.0-gbcd02b52``).
Updates before 5.6 (dtc 1.4.x and 1.5.0) are not listed: they all behave as the 5.6 row where
memplan follows dtc versions. Add a row when a release pull names a new update.

The rule that reads this table is :func:`memplan.kernel.rules.kernel_dtc`.
"""

from __future__ import annotations

__all__ = ["KERNEL_DTC"]

#: ``((major, minor), upstream dtc version)``: from that release on, until the next row.
KERNEL_DTC: tuple[tuple[tuple[int, int], str], ...] = (
    ((5, 6), "v1.5.1-22-gc40aeb60b47a"),
    ((5, 7), "v1.6.0-2-g87a656ae5ff9"),
    ((5, 8), "v1.6.0-11-g9d7888cbf19c"),  # in a 5.8-rc fixes pull
    ((5, 10), "v1.6.0-31-gcbca977ea121"),
    ((5, 12), "v1.6.0-51-g183df9e9c2b9"),
    ((5, 16), "v1.6.1-19-g0a3a9d3449c8"),
    ((6, 2), "v1.6.1-63-g55778a03df61"),
    ((6, 3), "v1.6.1-66-gabbd523bae6e"),  # brings 2cd89f8: out-of-range cells truncate with a warning
    ((6, 11), "v1.7.0-93-g1df7b047fe43"),
    ((6, 12), "v1.7.0-95-gbcd02b523429"),
    ((6, 18), "v1.7.2-35-g52f07dcca47c"),
    ((7, 0), "v1.7.2-62-ga26ef6400bd8"),
    ((7, 1), "v1.7.2-69-g53373d135579"),
)
