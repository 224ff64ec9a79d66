"""Kernel-in-the-loop harness: boot real Debian kernels under QEMU (TCG) and record what they did.

Modules, one job each:

* :mod:`tools.qemu.kernels` -- the catalogue of Debian kernel builds the scenarios use.
* :mod:`tools.qemu.debian` -- private APT root, ``apt-get download`` and ``dpkg -x`` into ``.qemu-cache/``.
* :mod:`tools.qemu.initramfs` -- a tiny busybox initramfs (newc cpio written in Python).
* :mod:`tools.qemu.dtb` -- dump the machine's own DTB, merge a fragment, recompile.
* :mod:`tools.qemu.boot` -- run QEMU with a timeout and split the serial output by markers.
* :mod:`tools.qemu.scenarios` -- the scenario definitions.
* :mod:`tools.qemu.record` -- boot scenarios and write fixtures (``python -m tools.qemu``).
"""
