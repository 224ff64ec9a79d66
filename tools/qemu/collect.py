"""Run memplan's collect script inside a QEMU guest and bring its snapshot archive back.

Usage: ``python -m tools.qemu.collect [--out DIR] [--timeout S] [NAME ...]`` (no names: one
scenario per architecture, :data:`SNAPSHOT_SCENARIOS`). Writes ``<DIR>/<NAME>.tar.gz`` (default
``tests/collect/fixtures``) and prints what ``memplan check`` says of it.

The initramfs gets ``/memplan/collect.sh`` (the text ``memplan collect`` prints) and the kernel's
``.config`` at ``/boot/config-<release>``, where Debian installs it (Debian kernels have no
``/proc/config.gz``). The guest command runs the script as root with busybox ``sh`` and prints the
archive in base64 between :data:`ARCHIVE_BEGIN` and :data:`ARCHIVE_END` on the console.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from dataclasses import dataclass
from pathlib import Path

from memplan.collect import collect_script
from tools.qemu.boot import GUEST_SECTION, BootResult, run_boot
from tools.qemu.debian import repo_root
from tools.qemu.kernels import KERNELS
from tools.qemu.scenarios import BY_NAME, Scenario

#: One recorded scenario per architecture the harness boots (the DT arches get a DT pool and cma=).
SNAPSHOT_SCENARIOS: tuple[str, ...] = (
    "arm64-7.2-dt-default-cma",
    "x86-7.2-cma",
    "armmp-6.12-dt-default-cma",
    "riscv64-6.12-dt-default",
)

ARCHIVE_BEGIN = "@@COLLECT-ARCHIVE-BEGIN"
ARCHIVE_END = "@@COLLECT-ARCHIVE-END"
STATUS = "@@COLLECT-STATUS "

#: Runs in the guest (as root, from /init): the script, its exit status and messages, the archive.
GUEST_COMMAND = f"""sh /memplan/collect.sh /tmp/snapshot.tar.gz 2>/tmp/collect.err
echo "{STATUS}$?"
cat /tmp/collect.err
echo "{ARCHIVE_BEGIN}"
base64 /tmp/snapshot.tar.gz
echo "{ARCHIVE_END}"
"""


class CollectError(RuntimeError):
    """The guest did not bring a snapshot back."""


@dataclass
class GuestSnapshot:
    """What the guest run produced: the archive, the script's exit status and its messages."""

    boot: BootResult
    archive: bytes
    status: int
    messages: str


def guest_files(sc: Scenario) -> dict[str, bytes]:
    """The files added to the initramfs for ``sc``: the script and the distribution's .config."""
    art_config = _config_text(sc)
    release = KERNELS[sc.kernel].release
    return {"memplan/collect.sh": collect_script().encode(), f"boot/config-{release}": art_config.encode()}


def _config_text(sc: Scenario) -> str:
    from tools.qemu.debian import fetch

    return fetch(KERNELS[sc.kernel]).config.read_text()


def parse_guest_output(section: str) -> tuple[bytes, int, str]:
    """The archive, the exit status and the messages in the guest command's console section."""
    lines = section.splitlines()
    status_lines = [ln for ln in lines if ln.startswith(STATUS)]
    if not status_lines:
        raise CollectError("the guest printed no collect status")
    status = int(status_lines[0][len(STATUS):].strip())
    try:
        start, end = lines.index(ARCHIVE_BEGIN), lines.index(ARCHIVE_END)
    except ValueError:
        raise CollectError("the guest printed no archive markers") from None
    messages = "\n".join(ln for ln in lines[: start] if not ln.startswith(STATUS))
    try:
        archive = base64.b64decode("".join("".join(lines[start + 1 : end]).split()), validate=True)
    except binascii.Error as err:
        raise CollectError(f"the archive's base64 is damaged: {err}") from None
    return archive, status, messages


def collect_in_guest(sc: Scenario, timeout: float = 900.0) -> GuestSnapshot:
    """Boot ``sc`` with the collect script in the initramfs and return the snapshot it wrote."""
    res = run_boot(sc, timeout=timeout, guest_files=guest_files(sc), guest_command=GUEST_COMMAND)
    section = res.sections.get(GUEST_SECTION)
    if section is None:
        raise CollectError(f"no {GUEST_SECTION} section on the console:\n{res.console[-3000:]}")
    archive, status, messages = parse_guest_output(section)
    return GuestSnapshot(res, archive, status, messages)


def fixtures_dir() -> Path:
    """``tests/collect/fixtures``: the archives the default test run replays."""
    return repo_root() / "tests" / "collect" / "fixtures"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(prog="python -m tools.qemu.collect", description=__doc__)
    ap.add_argument("names", nargs="*")
    ap.add_argument("--out", type=Path, default=None, help="where to write NAME.tar.gz")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args(argv)
    out = args.out or fixtures_dir()
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in args.names or SNAPSHOT_SCENARIOS:
        try:
            got = collect_in_guest(BY_NAME[name], timeout=args.timeout)
        except Exception as exc:  # report and go on with the others
            print(f"FAIL {name}: {exc}", flush=True)
            failed += 1
            continue
        path = out / f"{name}.tar.gz"
        path.write_bytes(got.archive)
        verdict = "OK  " if got.status == 0 else "FAIL"
        print(f"{verdict} {name}: {path} ({len(got.archive)} bytes)", flush=True)
        print(got.messages, flush=True)
        failed += got.status != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
