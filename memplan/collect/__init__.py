"""Snapshots from targets without Python.

:func:`collect_script` is a POSIX shell script (busybox ``sh`` and applets suffice) that writes
one ``.tar.gz`` snapshot of what a booted kernel reports about its memory layout: ``/proc/iomem``,
``/proc/meminfo``, ``/proc/zoneinfo``, ``/proc/cmdline``, ``/proc/version``, the boot log, the
booted DTB, the cma debugfs and sysfs directories, ``uname -r``/``-m`` and the kernel ``.config``,
with a ``MANIFEST`` of what it skipped and why. ``memplan observe`` and ``memplan check`` read the
archive (:mod:`memplan.observe.archive`); :mod:`memplan.collect.inputs` turns what it carries into
prediction inputs, so ``memplan check SNAPSHOT.tar.gz`` needs nothing else.
"""

from __future__ import annotations

from importlib import resources

from memplan.collect.inputs import Filled, SnapshotInputs, fill_inputs, read_snapshot_inputs

#: The file name the script is conventionally saved under.
SCRIPT_NAME = "collect.sh"


def collect_script() -> str:
    """The text of the collect script (``sh collect.sh [OUT.tar.gz]`` on the target)."""
    return resources.files("memplan.collect").joinpath(SCRIPT_NAME).read_text(encoding="utf-8")


__all__ = ["SCRIPT_NAME", "Filled", "SnapshotInputs", "collect_script", "fill_inputs", "read_snapshot_inputs"]
