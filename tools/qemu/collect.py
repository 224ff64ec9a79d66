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

#: A recorded scenario for each architecture the harness boots (the DT arches get a DT pool and cma=).
SNAPSHOT_SCENARIOS: tuple[str, ...] = (
    "arm64-7.2-dt-default-cma",
    "x86-7.2-cma",
    "armmp-6.12-dt-default-cma",
    "riscv64-6.12-dt-default",
    "riscv64-7.2-dt-default-cma",  # Debian's riscv64 6.12 has no CONFIG_CMA; 7.2 has
)

ARCHIVE_BEGIN = "@@COLLECT-ARCHIVE-BEGIN "
ARCHIVE_END = "@@COLLECT-ARCHIVE-END "
STATUS = "@@COLLECT-STATUS "

#: The two runs in each guest: as root, and as ``nobody`` (the kernel restricts dmesg, hides
#: /proc/iomem addresses and keeps /sys/firmware/fdt and debugfs for root; the boot log then
#: comes from /var/log/messages, written by busybox syslogd and klogd as on a small target).
RUNS = ("root", "user")

#: Runs in the guest (as root, from /init): for each run the script, its exit status and
#: messages, and the archive in base64.
GUEST_COMMAND = f"""chmod 1777 /tmp && mkdir -p /var/log /tmp/root /tmp/user && chmod 777 /tmp/user
syslogd -O /var/log/messages && klogd && sleep 3
sh /memplan/collect.sh /tmp/root/snapshot.tar.gz 2>/tmp/root/err
echo "{STATUS}root $?"
su nobody -s /bin/sh -c 'sh /memplan/collect.sh /tmp/user/snapshot.tar.gz 2>/tmp/user/err'
echo "{STATUS}user $?"
for run in root user; do
  cat /tmp/$run/err
  echo "{ARCHIVE_BEGIN}$run"
  base64 /tmp/$run/snapshot.tar.gz
  echo "{ARCHIVE_END}$run"
done
"""

#: Users of the guest (``su nobody`` needs them).
PASSWD = b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"
GROUP = b"root:x:0:\nnogroup:x:65534:\n"


class CollectError(RuntimeError):
    """The guest did not bring a snapshot back."""


@dataclass
class GuestRun:
    """One run of the script in the guest: the archive, its exit status and its messages."""

    archive: bytes
    status: int
    messages: str


@dataclass
class GuestSnapshot:
    """What the guest produced: one :class:`GuestRun` per name of :data:`RUNS`."""

    boot: BootResult
    runs: dict[str, GuestRun]


def guest_files(sc: Scenario) -> dict[str, bytes]:
    """The files added to the initramfs for ``sc``: the script and the distribution's .config."""
    art_config = _config_text(sc)
    release = KERNELS[sc.kernel].release
    return {
        "memplan/collect.sh": collect_script().encode(),
        f"boot/config-{release}": art_config.encode(),
        "etc/passwd": PASSWD,
        "etc/group": GROUP,
    }


def _config_text(sc: Scenario) -> str:
    from tools.qemu.debian import fetch

    return fetch(KERNELS[sc.kernel]).config.read_text()


def parse_guest_output(section: str) -> dict[str, GuestRun]:
    """The runs in the guest command's console section, by name."""
    lines = section.splitlines()
    statuses: dict[str, int] = {}
    for ln in lines:
        if ln.startswith(STATUS):
            name, _, code = ln[len(STATUS):].partition(" ")
            statuses[name] = int(code)
    runs: dict[str, GuestRun] = {}
    prev = 0
    for name in RUNS:
        if name not in statuses:
            raise CollectError(f"the guest printed no status for the {name} run")
        try:
            start, end = lines.index(ARCHIVE_BEGIN + name), lines.index(ARCHIVE_END + name)
        except ValueError:
            raise CollectError(f"the guest printed no archive markers for the {name} run") from None
        messages = "\n".join(ln for ln in lines[prev:start] if not ln.startswith(STATUS))
        if statuses[name] != 0:
            runs[name] = GuestRun(b"", statuses[name], messages)
            prev = end + 1
            continue
        try:
            archive = base64.b64decode("".join("".join(lines[start + 1 : end]).split()), validate=True)
        except binascii.Error as err:
            raise CollectError(f"the {name} archive's base64 is damaged: {err}") from None
        runs[name] = GuestRun(archive, statuses[name], messages)
        prev = end + 1
    return runs


def collect_in_guest(sc: Scenario, timeout: float = 900.0) -> GuestSnapshot:
    """Boot ``sc`` with the collect script in the initramfs and return the snapshots it wrote."""
    res = run_boot(sc, timeout=timeout, guest_files=guest_files(sc), guest_command=GUEST_COMMAND)
    section = res.sections.get(GUEST_SECTION)
    if section is None:
        raise CollectError(f"no {GUEST_SECTION} section on the console:\n{res.console[-3000:]}")
    return GuestSnapshot(res, parse_guest_output(section))


def archive_name(scenario: str, run: str) -> str:
    """``<scenario>.tar.gz`` for the root run, ``<scenario>.<run>.tar.gz`` for the others."""
    return f"{scenario}.tar.gz" if run == "root" else f"{scenario}.{run}.tar.gz"


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
        for run, got_run in got.runs.items():
            path = out / archive_name(name, run)
            if got_run.status == 0:
                path.write_bytes(got_run.archive)
            verdict = "OK  " if got_run.status == 0 else "FAIL"
            print(f"{verdict} {name} ({run}): {path} ({len(got_run.archive)} bytes)", flush=True)
            print(got_run.messages, flush=True)
            failed += got_run.status != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
