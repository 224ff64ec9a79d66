"""Device binding: every node with ``memory-region`` and the regions it gets (kernel-semantics §3.11).

``of_reserved_mem_device_init_by_idx()`` follows the idx-th phandle; a missing target is an
error, a disabled target is success without effect, a target that was never registered (or was
released) gives ``-EINVAL``.
"""

from __future__ import annotations

from memplan.dts.facts import DtFacts
from memplan.model import Device
from memplan.resolve.state import State


def bind_devices(st: State, dt: DtFacts) -> tuple[Device, ...]:
    """Map each ``memory-region`` user to region names, with diagnostics for bad references."""
    by_path = {s.region.path: s for s in st.regions if s.region.path is not None}
    out: list[Device] = []
    for dev in dt.devices:
        names: list[str] = []
        for idx, ph in enumerate(dev.phandles):
            target = dt.phandle_paths.get(ph)
            if target is None:
                st.note(
                    "device-dangling-region",
                    f"{dev.path}: memory-region entry {idx} (phandle {ph:#x}) points at no node",
                    dev.source,
                    dev.path,
                )
                continue
            slot = by_path.get(target)
            name = target.rsplit("/", 1)[-1]
            names.append(name)
            if slot is None:
                if not target.startswith("/reserved-memory/"):
                    st.note(
                        "device-region-not-reserved",
                        f"{dev.path}: memory-region entry {idx} points at "
                        f"{target}, which is not a /reserved-memory child",
                        dev.source,
                        dev.path,
                    )
                continue
            region = slot.region
            if region.status == "disabled":
                st.note(
                    "device-region-disabled",
                    f"{dev.path}: memory-region '{region.name}' is disabled; the kernel attaches nothing",
                    dev.source,
                    dev.path,
                )
            elif region.status != "ok" or not slot.registered:
                st.note(
                    "device-region-unavailable",
                    f"{dev.path}: memory-region '{region.name}' is not usable "
                    f"({region.status}{': ' + region.reason if region.reason else ''})",
                    dev.source,
                    dev.path,
                )
        if dev.names and len(dev.names) != len(dev.phandles):
            st.note(
                "device-names-mismatch",
                f"{dev.path}: {len(dev.phandles)} memory-region entries but "
                f"{len(dev.names)} memory-region-names",
                dev.source,
                dev.path,
            )
        labels: tuple[str | None, ...] = tuple(
            dev.names[i] if i < len(dev.names) else None for i in range(len(names))
        )
        out.append(Device(dev.path, tuple(names), labels if dev.names else (), dev.source))
    return tuple(out)
