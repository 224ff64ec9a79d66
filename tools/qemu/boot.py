"""Boot one scenario under QEMU (TCG, no KVM) and return the captured files."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tools.qemu import dtb as dtbmod
from tools.qemu.debian import Artifacts, cache_dir, fetch
from tools.qemu.initramfs import build_initramfs, script_digest, split_console
from tools.qemu.kernels import KERNELS
from tools.qemu.scenarios import Scenario

#: Parameters the harness adds in front of every scenario command line.
HARNESS_ARGS = {
    "arm64": "console=ttyAMA0 nokaslr loglevel=1 panic=-1",
    "x86": "console=ttyS0 nokaslr loglevel=1 panic=-1",
}


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
    return "qemu-system-aarch64" if arch == "arm64" else "qemu-system-x86_64"


def full_cmdline(sc: Scenario) -> str:
    """The exact command line the kernel receives (harness parameters, then the scenario's)."""
    kernel = KERNELS[sc.kernel]
    return f"{HARNESS_ARGS[kernel.arch]} {sc.cmdline}".strip()


def qemu_command(sc: Scenario, art: Artifacts, initrd: Path, dtb: Path | None) -> list[str]:
    """The QEMU command line for ``sc``."""
    kernel = KERNELS[sc.kernel]
    if kernel.arch == "arm64":
        cmd = [_qemu_binary("arm64"), "-M", "virt", "-cpu", sc.cpu or "cortex-a57"]
    else:
        cmd = [_qemu_binary("x86"), "-M", "pc"]
    cmd += ["-m", sc.ram, "-smp", str(sc.smp), "-nographic", "-no-reboot",
            "-kernel", str(art.vmlinuz), "-initrd", str(initrd), "-append", full_cmdline(sc)]
    if dtb is not None:
        cmd += ["-dtb", str(dtb)]
    cmd += list(sc.qemu_args)
    return cmd


def run_boot(sc: Scenario, timeout: float = 600.0) -> BootResult:
    """Fetch the kernel, prepare initramfs and DTB, boot, capture and split the console."""
    kernel = KERNELS[sc.kernel]
    art = fetch(kernel)
    work = Path(tempfile.mkdtemp(prefix=f"boot-{sc.name}-", dir=cache_dir()))
    try:
        initrd = cache_dir() / f"initramfs-{kernel.debian_arch}-{script_digest()}.cpio.gz"
        if not initrd.exists():
            tmp = work / "initrd.tmp"
            build_initramfs(art.busybox, tmp)
            tmp.replace(initrd)
        board_dts: str | None = None
        dtb: Path | None = None
        if kernel.arch == "arm64":
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
