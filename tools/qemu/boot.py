"""Boot one scenario under QEMU (TCG, no KVM) and return the captured files."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tools.qemu import dtb as dtbmod
from tools.qemu.debian import Artifacts, cache_dir, fetch
from tools.qemu.initramfs import (
    GUEST_COMMAND_PATH,
    GUEST_SECTION,
    build_initramfs,
    script_digest,
    split_console,
)
from tools.qemu.kernels import KERNELS
from tools.qemu.scenarios import Scenario

#: Parameters the harness adds in front of every scenario command line.
HARNESS_ARGS = {
    "arm64": "console=ttyAMA0 nokaslr loglevel=1 panic=-1",
    "arm": "console=ttyAMA0 loglevel=1 panic=-1",
    "riscv": "console=ttyS0 nokaslr loglevel=1 panic=-1",
    "x86": "console=ttyS0 nokaslr loglevel=1 panic=-1",
}

#: QEMU system emulator per memplan arch.
QEMU_BINARIES = {
    "arm64": "qemu-system-aarch64",
    "arm": "qemu-system-arm",
    "riscv": "qemu-system-riscv64",
    "x86": "qemu-system-x86_64",
}

#: Machine and default CPU per arch (``None``: QEMU's default CPU).
MACHINES: dict[str, tuple[str, str | None]] = {
    "arm64": ("virt", "cortex-a57"),
    "arm": ("virt", "cortex-a15"),
    "riscv": ("virt", None),
    "x86": ("pc", None),
}

#: Arches booted with QEMU's own device tree (dumped, merged with the scenario fragment).
DT_ARCHES = ("arm64", "arm", "riscv")


__all__ = ["GUEST_SECTION", "BootResult", "full_cmdline", "qemu_available", "qemu_command", "run_boot"]


class BootError(RuntimeError):
    """The boot could not be run or produced no usable capture."""


@dataclass
class BootResult:
    """What one boot produced."""

    scenario: Scenario
    full_cmdline: str
    qemu_cmd: list[str]
    sections: dict[str, str]
    complete: bool
    console: str
    board_dts: str | None
    config_text: str
    returncode: int | None
    timed_out: bool
    extra: dict[str, str] = field(default_factory=dict)


def qemu_available(arch: str) -> bool:
    """True when the QEMU system emulator for ``arch`` is on PATH."""
    return shutil.which(_qemu_binary(arch)) is not None


def _qemu_binary(arch: str) -> str:
    return QEMU_BINARIES[arch]


def full_cmdline(sc: Scenario) -> str:
    """The exact command line the kernel receives (harness parameters, then the scenario's)."""
    kernel = KERNELS[sc.kernel]
    return f"{HARNESS_ARGS[kernel.arch]} {sc.cmdline}".strip()


def qemu_command(sc: Scenario, art: Artifacts, initrd: Path, dtb: Path | None) -> list[str]:
    """The QEMU command line for ``sc``."""
    kernel = KERNELS[sc.kernel]
    machine, cpu = MACHINES[kernel.arch]
    cmd = [_qemu_binary(kernel.arch), "-M", machine]
    if sc.cpu or cpu:
        cmd += ["-cpu", sc.cpu or cpu or ""]
    cmd += ["-m", sc.ram, "-smp", str(sc.smp), "-nographic", "-no-reboot",
            "-kernel", str(art.vmlinuz), "-initrd", str(initrd), "-append", full_cmdline(sc)]
    if dtb is not None:
        cmd += ["-dtb", str(dtb)]
    cmd += list(sc.qemu_args)
    return cmd


def run_boot(sc: Scenario, timeout: float = 600.0, guest_files: Mapping[str, bytes] | None = None,
             guest_command: str | None = None) -> BootResult:
    """Fetch the kernel, prepare initramfs and DTB, boot, capture and split the console.

    ``guest_files`` (path inside the initramfs -> content) are added to the initramfs;
    ``guest_command`` is a shell command run by ``/init`` after the standard capture, its output
    is the section ``GUEST_SECTION`` of :attr:`BootResult.sections` (print binary data in base64).
    """
    kernel = KERNELS[sc.kernel]
    art = fetch(kernel)
    work = Path(tempfile.mkdtemp(prefix=f"boot-{sc.name}-", dir=cache_dir()))
    try:
        extra = dict(guest_files or {})
        if guest_command is not None:
            extra[GUEST_COMMAND_PATH] = guest_command.encode()
        digest = script_digest(extra)
        initrd = cache_dir() / f"initramfs-{kernel.debian_arch}-{digest}.cpio.gz"
        if not initrd.exists():
            tmp = work / "initrd.tmp"
            build_initramfs(art.busybox, tmp, extra)
            tmp.replace(initrd)
        board_dts: str | None = None
        dtb: Path | None = None
        if kernel.arch in DT_ARCHES:
            base_cmd = qemu_command(sc, art, initrd, None)
            base = dtbmod.decompile(dtbmod.dump_machine_dtb(base_cmd, work / "machine.dtb"))
            board_dts = dtbmod.merge(base, sc.fragment, sc.memreserve)
            (work / "board.dts").write_text(board_dts)
            dtb = dtbmod.compile_dts(work / "board.dts", work / "board.dtb")
        cmd = qemu_command(sc, art, initrd, dtb)
        timed_out = False
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                                  check=False)
            out, rc = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout if isinstance(exc.stdout, bytes) else b""
            rc, timed_out = None, True
        console = out.decode("utf-8", "replace")
        sections, complete = split_console(console)
        return BootResult(sc, full_cmdline(sc), cmd, sections, complete, console, board_dts,
                          art.config.read_text(), rc, timed_out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
