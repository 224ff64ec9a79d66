"""Unit tests of the QEMU harness pieces that need no QEMU: cpio, console splitting, DT merge,
log extraction."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.qemu import dtb as dtbmod
from tools.qemu.initramfs import INIT_SCRIPT, build_initramfs, split_console
from tools.qemu.scenarios import BY_NAME, SCENARIOS, reserved_memory
from tools.qemu.truth import cma_default_nodes, extract, fragment_regions


def _parse_newc(blob: bytes) -> dict[str, tuple[int, bytes, tuple[int, int]]]:
    out: dict[str, tuple[int, bytes, tuple[int, int]]] = {}
    pos = 0
    while True:
        assert blob[pos:pos + 6] == b"070701"
        f = [int(blob[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, fsize, rmaj, rmin, nsize = f[1], f[6], f[9], f[10], f[11]
        name = blob[pos + 110: pos + 110 + nsize - 1].decode()
        pos += 110 + nsize
        pos += (4 - pos % 4) % 4
        data = blob[pos: pos + fsize]
        pos += fsize
        pos += (4 - pos % 4) % 4
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, data, (rmaj, rmin))


def test_initramfs_is_valid_newc(tmp_path: Path) -> None:
    bb = tmp_path / "busybox"
    bb.write_bytes(b"\x7fELF-fake-busybox" * 3)
    out = build_initramfs(bb, tmp_path / "i.cpio.gz")
    entries = _parse_newc(gzip.decompress(out.read_bytes()))
    assert entries["bin/busybox"][1] == bb.read_bytes()
    assert entries["init"][1].decode() == INIT_SCRIPT
    assert entries["init"][0] & 0o111
    mode, _, rdev = entries["dev/console"]
    assert mode & 0o170000 == 0o020000 and rdev == (5, 1)
    assert entries["bin/sh"][1] == b"busybox"


@pytest.mark.skipif(shutil.which("cpio") is None, reason="cpio not installed")
def test_initramfs_lists_with_cpio(tmp_path: Path) -> None:
    bb = tmp_path / "busybox"
    bb.write_bytes(b"x" * 5)
    raw = gzip.decompress(build_initramfs(bb, tmp_path / "i.gz").read_bytes())
    listing = subprocess.run(["cpio", "-t"], input=raw, capture_output=True, check=True).stdout.decode()
    assert {"init", "bin/busybox", "dev/console"} <= set(listing.split())


def test_split_console_sections_and_noise() -> None:
    text = (
        "[    0.1] booting\r\n@@MEMPLAN-BEGIN iomem\r\n40000000-bfffffff : System RAM\r\n"
        "@@MEMPLAN-END iomem\r\nnoise\n@@MEMPLAN-BEGIN cma/reserved/count\n16384\n"
        "@@MEMPLAN-END cma/reserved/count\n@@MEMPLAN-BEGIN empty\n@@MEMPLAN-END empty\n@@MEMPLAN-DONE\n"
    )
    sections, done = split_console(text)
    assert done
    assert sections == {
        "iomem": "40000000-bfffffff : System RAM\n",
        "cma/reserved/count": "16384\n",
        "empty": "",
    }


def test_split_console_marker_after_firmware_noise() -> None:
    sections, done = split_console("Booting... o\x1bc\x1b[2J@@MEMPLAN-BEGIN cmdline\r\nmem=1G\r\n"
                                   "@@MEMPLAN-END cmdline\r\n@@MEMPLAN-DONE\r\n")
    assert sections == {"cmdline": "mem=1G\n"} and done


def test_split_console_truncated_capture() -> None:
    sections, done = split_console("@@MEMPLAN-BEGIN dmesg\nline\n")
    assert not done and sections == {}


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc not installed")
def test_fragment_merges_into_machine_tree(tmp_path: Path) -> None:
    base = '/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\tchosen { };\n};\n'
    frag = reserved_memory(
        'p: pool { compatible = "shared-dma-pool"; reusable; size = <0x0 0x1000000>; };',
        extra_root="\tdev { memory-region = <&p>; };\n",
    )
    (tmp_path / "b.dts").write_text(dtbmod.merge(base, frag))
    blob = dtbmod.compile_dts(tmp_path / "b.dts", tmp_path / "b.dtb")
    text = dtbmod.decompile(blob)
    assert "reserved-memory {" in text and "pool {" in text and "memory-region = <0x" in text


def test_scenario_catalogue() -> None:
    assert len(SCENARIOS) >= 20
    assert len(BY_NAME) == len(SCENARIOS)
    kernels = {s.kernel for s in SCENARIOS}
    assert {"arm64-6.1", "arm64-6.12", "amd64-6.1"} <= kernels


def test_fragment_node_scan() -> None:
    dts = "/ { };\n/* ---- memplan scenario fragment ---- */\n" + reserved_memory(
        'l: linux,cma@60000000 {\n\treg = <0x0 0x60000000 0x0 0x4000000>;\n\tlinux,cma-default;\n};',
        'pool-a {\n\tsize = <0x0 0x100000>;\n};',
    )
    assert cma_default_nodes(dts) == ["linux,cma@60000000"]
    assert fragment_regions(dts) == {"linux,cma@60000000": {"reg": (0x60000000, 0x4000000)},
                                     "pool-a": {"reg": None}}


# Log lines in the formats of kernel-semantics.md §2.5/§10 (addresses made up).
_LOG_61_BYPASS = """\
[    0.000000] Reserved memory: bypass linux,cma node, using cmdline CMA params instead
[    0.000000] OF: reserved mem: node linux,cma compatible matching fail
[    0.000000] Reserved memory: created CMA memory pool at 0x00000000bf000000, size 16 MiB
[    0.000000] OF: reserved mem: initialized node pool-a, compatible id shared-dma-pool
[    0.000000] cma: Reserved 320 MiB at 0x000000001ac00000
"""


def test_extract_cmdline_wins() -> None:
    dts = "/* ---- memplan scenario fragment ---- */\n" + reserved_memory(
        'linux,cma {\n\tsize = <0x0 0x6000000>;\n\tlinux,cma-default;\n};')
    got = extract(_LOG_61_BYPASS, "CmaTotal:  344064 kB\n", "console=ttyAMA0 cma=320M", dts)
    assert got["global_cma"] == {"origin": "cmdline", "size": 320 << 20, "base": 0x1AC00000,
                                 "region": "reserved", "status": "ok"}
    assert got["regions"]["linux,cma"]["status"] == "bypassed"
    assert got["regions"]["pool-a"] == {"status": "ok", "base": 0xBF000000, "size": 16 << 20,
                                        "kind": "reusable"}
    assert got["cma_total"] == 344064 * 1024


def test_extract_kconfig_when_no_cma_param() -> None:
    got = extract("[ 0.0] cma: Reserved 64 MiB at 0x00000000b9a00000 on node -1\n", "", "quiet", None)
    assert got["global_cma"]["origin"] == "kconfig"
    assert got["global_cma"]["base"] == 0xB9A00000


def test_extract_skip_line_and_summary() -> None:
    dts = "/* ---- memplan scenario fragment ---- */\n" + reserved_memory(
        'linux,cma {\n\tsize = <0x0 0x6000000>;\n\tlinux,cma-default;\n};',
        'fw@69000000 {\n\tno-map;\n\treg = <0x0 0x69000000 0x0 0x400000>;\n};')
    log = (
        'Skipping dt linux,cma-default node in favor for "cma=" kernel param.\n'
        "OF: reserved mem: 0x0000000069000000..0x00000000693fffff (4096 KiB) nomap non-reusable fw@69000000\n"
        "cma: Reserved 128 MiB at 0x00000000b7a00000\n"
    )
    got = extract(log, "", "cma=128M", dts)
    assert got["regions"]["linux,cma"]["status"] == "bypassed"
    assert got["regions"]["fw@69000000"] == {"status": "ok", "base": 0x69000000, "size": 0x400000,
                                             "no_map": True, "reusable": False}
    assert got["global_cma"]["origin"] == "cmdline"


def test_extract_dt_default_overlap_and_crash() -> None:
    dts = "/* ---- memplan scenario fragment ---- */\n" + reserved_memory(
        'linux,cma {\n\tsize = <0x0 0x6000000>;\n\tlinux,cma-default;\n};')
    log = (
        "Reserved memory: created CMA memory pool at 0x00000000ba000000, size 96 MiB\n"
        "OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool\n"
        "OF: reserved mem: OVERLAP DETECTED!\n"
        "a@1 (0x0000000070000000--0x0000000071000000) overlaps with b@2 "
        "(0x0000000070800000--0x0000000071800000)\n"
        "crashkernel reserved: 0x00000000a9a00000 - 0x00000000b9a00000 (256 MB)\n"
        "cma: Failed to reserve 256 MiB\n"
    )
    got = extract(log, "", "", dts)
    assert got["global_cma"] == {"origin": "dts", "size": 96 << 20, "base": 0xBA000000, "region": "linux,cma",
                                 "status": "ok"}
    assert got["overlaps"] == [{"a": "a@1", "b": "b@2"}]
    assert got["crashkernel"] == {"base": 0xA9A00000, "size": 256 << 20}
    assert got["global_cma_failures"] == ["cma: Failed to reserve 256 MiB"]


def test_extract_x86_user_map() -> None:
    log = (
        "BIOS-e820: [mem 0x0000000000100000-0x000000007ffdffff] usable\n"
        "user-defined physical RAM map:\n"
        "user: [mem 0x0000000000100000-0x000000000fffffff] usable\n"
        "user: [mem 0x0000000010000000-0x0000000013ffffff] reserved\n"
        "Reserving 256MB of memory at 1776MB for crashkernel (System RAM: 2047MB)\n"
    )
    got = extract(log, "", "memmap=64M$0x10000000", None)
    assert got["e820"]["user"][1] == {"start": 0x10000000, "end": 0x14000000, "type": "reserved"}
    assert got["e820"]["BIOS-e820"][0]["end"] == 0x7FFE0000
    assert got["crashkernel"] == {"base": 1776 << 20, "size": 256 << 20}


def test_initramfs_carries_guest_files_and_command(tmp_path: Path) -> None:
    """Extra files land in the archive (parent directories created) and /init runs the guest
    command after the standard capture, between its own markers."""
    from tools.qemu.initramfs import GUEST_COMMAND_PATH, GUEST_SECTION, script_digest

    bb = tmp_path / "busybox"
    bb.write_bytes(b"bb")
    extra = {"usr/share/collect.sh": b"echo hi\n", GUEST_COMMAND_PATH: b"sh /usr/share/collect.sh\n"}
    entries = _parse_newc(gzip.decompress(build_initramfs(bb, tmp_path / "i.gz", extra).read_bytes()))
    assert entries["usr/share/collect.sh"][1] == b"echo hi\n"
    assert entries["usr"][0] & 0o170000 == 0o040000 and entries["usr/share"][0] & 0o170000 == 0o040000
    assert entries[GUEST_COMMAND_PATH][1] == b"sh /usr/share/collect.sh\n"
    assert f"@@MEMPLAN-BEGIN {GUEST_SECTION}" in INIT_SCRIPT and f"/{GUEST_COMMAND_PATH}" in INIT_SCRIPT
    assert script_digest(extra) != script_digest() != script_digest({"a": b"1"})
    with pytest.raises(ValueError):
        build_initramfs(bb, tmp_path / "j.gz", {"../escape": b""})


@pytest.mark.parametrize(("kernel", "binary", "machine", "console"), [
    ("armmp-6.12", "qemu-system-arm", ["-M", "virt", "-cpu", "cortex-a15"], "console=ttyAMA0 "),
    ("armmp-lpae-6.12", "qemu-system-arm", ["-M", "virt", "-cpu", "cortex-a15"], "console=ttyAMA0 "),
    ("riscv64-6.12", "qemu-system-riscv64", ["-M", "virt", "-m"], "console=ttyS0 "),
    ("arm64-6.1", "qemu-system-aarch64", ["-M", "virt", "-cpu", "cortex-a57"], "console=ttyAMA0 "),
])
def test_qemu_command_per_arch(kernel: str, binary: str, machine: list[str], console: str) -> None:
    from tools.qemu.boot import full_cmdline, qemu_command
    from tools.qemu.debian import Artifacts
    from tools.qemu.scenarios import Scenario

    sc = Scenario("t", kernel, "", "", cmdline="cma=64M", ram="1G")
    art = Artifacts(Path("/k/vmlinuz"), Path("/k/config"), Path("/k/busybox"))
    cmd = qemu_command(sc, art, Path("/i.gz"), Path("/b.dtb"))
    assert cmd[0] == binary and cmd[1:1 + len(machine)] == machine
    assert cmd[cmd.index("-append") + 1] == full_cmdline(sc)
    assert full_cmdline(sc).startswith(console) and full_cmdline(sc).endswith(" cma=64M")
    assert cmd[cmd.index("-dtb") + 1] == "/b.dtb" and cmd[cmd.index("-m") + 1] == "1G"


def test_new_arch_scenarios() -> None:
    """Every arm32 scenario is booted on both armmp builds; riscv scenarios use RAM at 0x80000000."""
    arm = {s.name.split("-6.12-", 1)[1] for s in SCENARIOS if s.kernel == "armmp-6.12"}
    lpae = {s.name.split("-6.12-", 1)[1] for s in SCENARIOS if s.kernel == "armmp-lpae-6.12"}
    assert arm == lpae and {"kconfig-1g", "kconfig-4g", "straddle", "cma-too-big", "cma-too-big-high",
                            "static-default", "static-default-high", "misaligned-4m",
                            "lowmem-misaligned-hang"} <= arm
    for s in SCENARIOS:
        if s.kernel.startswith("riscv64-"):
            for _, info in fragment_regions("/* ---- memplan scenario fragment ---- */\n"
                                            + (s.fragment or "")).items():
                assert info["reg"] is None or info["reg"][0] >= 0x80000000, s.name


_LOG_ARM32_STATIC_DEFAULT = """\
[    0.000000] cma: Reserved 16 MiB at 0xbf000000 on node -1
[    0.000000] Reserved memory: created CMA memory pool at 0x60000000, size 64 MiB
[    0.000000] OF: reserved mem: initialized node linux,cma@60000000, compatible id shared-dma-pool
[    0.000000] OF: reserved mem: 0x60000000..0x63ffffff (65536 KiB) map reusable linux,cma@60000000
"""


def test_extract_arm32_static_default_gives_two_areas() -> None:
    """A static default node initialised after ``cma: Reserved`` (arm32 6.12) is the global area;
    the Kconfig area is a second, ordinary CMA area. With ``cma=`` it would be bypassed instead."""
    dts = "/* ---- memplan scenario fragment ---- */\n" + reserved_memory(
        'l: linux,cma@60000000 {\n\treg = <0x0 0x60000000 0x0 0x4000000>;\n\tlinux,cma-default;\n};')
    got = extract(_LOG_ARM32_STATIC_DEFAULT, "CmaTotal: 81920 kB\n", "console=ttyAMA0", dts)
    assert got["global_cma"] == {"origin": "dts", "size": 64 << 20, "base": 0x60000000,
                                 "region": "linux,cma@60000000", "status": "ok"}
    assert got["extra_cma"] == [{"kind": "kconfig", "size": 16 << 20, "base": 0xBF000000, "active": True}]


def test_extract_pool_not_activated_is_failed() -> None:
    log = (
        "[ 0.0] Reserved memory: created CMA memory pool at 0x6c000000, size 128 MiB\n"
        "[ 0.0] OF: reserved mem: initialized node cma-s@6c000000, compatible id shared-dma-pool\n"
        "[ 0.1] cma: CMA area cma-s@6c000000 could not be activated\n"
    )
    got = extract(log, "", "console=ttyAMA0", None)
    assert got["regions"]["cma-s@6c000000"]["status"] == "failed"
    assert got["regions"]["cma-s@6c000000"]["base"] == 0x6C000000


def test_extract_hung_boot_reads_console(tmp_path: Path) -> None:
    import json

    from tools.qemu.truth import extract_fixture

    (tmp_path / "scenario.json").write_text(json.dumps({"cmdline": "console=ttyAMA0 loglevel=8"}))
    (tmp_path / "console.txt").write_text(
        "QEMU noise\n[    0.000000] cma: Reserved 16 MiB at 0xbf000000 on node -1\n"
        "[    0.000000] Zone ranges:\n")
    got = extract_fixture(tmp_path)
    assert got["hang"] == {"last_message": "Zone ranges:"}
    assert got["global_cma"]["base"] == 0xBF000000


@pytest.mark.parametrize(("log", "meminfo", "cmdline", "want"), [
    ("", "CmaTotal: 0 kB\n", "console=ttyAMA0 cma=0", ("cmdline", 0, "disabled")),
    ("[ 0.0] cma: Failed to reserve 800 MiB on node -1\n", "CmaTotal: 0 kB\n", "cma=800M",
     ("cmdline", 0, "failed")),
    ("[ 0.0] cma: Failed to reserve 800 MiB on node -1\n", "CmaTotal: 0 kB\n", "quiet",
     ("kconfig", 0, "failed")),
    ("", "CmaTotal: 0 kB\n", "quiet", ("kconfig", 0, "disabled")),
    ("", "MemTotal: 1000 kB\n", "cma=128M", ("kconfig", 0, "unsupported")),
])
def test_extract_no_area_names_the_deciding_candidate(
        log: str, meminfo: str, cmdline: str, want: tuple[str, int, str]) -> None:
    """No global area: origin is the candidate that decided, size 0, and a status."""
    g = extract(log, meminfo, cmdline, None)["global_cma"]
    assert (g["origin"], g["size"], g["status"]) == want
    assert g["base"] is None and g["region"] is None
