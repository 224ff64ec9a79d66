"""Boot-log parsing: every known message, per kernel version, with and without prefixes."""

from __future__ import annotations

import pytest

from memplan.observe import parse_dmesg
from memplan.observe.dmesg import EVENT_KINDS, message_of

MIB = 1 << 20


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[    0.000000] cma: Reserved 64 MiB at 0x1", "cma: Reserved 64 MiB at 0x1"),
        ("<6>[    0.000000] Machine model: x", "Machine model: x"),
        ("<6>Machine model: x", "Machine model: x"),
        ("6,12,0,-;Machine model: x", "Machine model: x"),
        ("6,12,0,-,caller=T0;Machine model: x", "Machine model: x"),
        ("[    0.000000][    T0] Machine model: x", "Machine model: x"),
        ("Nov 24 10:00:00 host kernel: [    0.000000] Machine model: x", "Machine model: x"),
        ("Dec  3 00:07:49 (none) kern.info kernel: [    0.000000] Machine model: x", "Machine model: x"),
        ("Machine model: x", "Machine model: x"),
    ],
)
def test_prefixes_are_removed(line: str, message: str) -> None:
    assert message_of(line) == message


def kinds(text: str) -> list[str]:
    log = parse_dmesg(text, "dmesg")
    assert log.diagnostics == (), [str(d) for d in log.diagnostics]
    return [e.kind for e in log.events]


def test_5_10_dt_default_wins() -> None:
    log = parse_dmesg(
        "[    0.000000] Linux version 5.10.0-32-arm64 (debian-kernel@lists.debian.org) (gcc) #1 SMP\n"
        "[    0.000000] Reserved memory: created CMA memory pool at 0x000000001ec00000, size 256 MiB\n"
        "[    0.000000] OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool\n"
    )
    assert [e.kind for e in log.events] == ["linux-version", "cma-created", "rmem-initialized"]
    pool = log.events[1]
    assert (pool.kind, pool.base, pool.size, pool.size_granule) == ("cma-created", 0x1EC00000, 256 * MIB, MIB)
    init = log.events[2]
    assert (init.name, init.text, init.prefix) == ("linux,cma", "shared-dma-pool", "OF: reserved mem: ")
    v = log.kernel_version
    assert v is not None and (v.major, v.minor) == (5, 10)


def test_5_10_bypass_sequence() -> None:
    log = parse_dmesg(
        "Reserved memory: bypass linux,cma node, using cmdline CMA params instead\n"
        "OF: reserved mem: node linux,cma compatible matching fail\n"
        "cma: Reserved 320 MiB at 0x000000001ac00000\n"
    )
    bypass, fail, res = log.events
    assert (bypass.kind, bypass.name) == ("cma-bypass", "linux,cma")
    assert (fail.kind, fail.name) == ("rmem-match-fail", "linux,cma")
    assert (res.kind, res.size, res.base, res.node) == ("cma-reserved", 320 * MIB, 0x1AC00000, None)


def test_6_6_on_node_suffix_and_summary_line() -> None:
    log = parse_dmesg(
        "OF: reserved mem: 0x000000001ec00000..0x000000002ebfffff (262144 KiB) map reusable linux,cma\n"
        "cma: Reserved 320 MiB at 0x000000001ac00000 on node -1\n"
        "cma: Failed to reserve 64 MiB on node 0\n"
    )
    summary, res, failed = log.events
    assert summary.kind == "rmem-summary"
    assert (summary.name, summary.base, summary.size, summary.end) == (
        "linux,cma",
        0x1EC00000,
        256 * MIB,
        0x2EC00000,
    )
    assert summary.text == "map reusable"
    assert res.node == -1
    assert (failed.kind, failed.size, failed.node) == ("cma-failed", 64 * MIB, 0)


def test_6_3_summary_kb_form() -> None:
    [e] = parse_dmesg(
        "OF: reserved mem: 0x0000000060000000..0x0000000063ffffff ( 65536 KB ) nomap non-reusable fw\n"
    ).events
    assert (e.name, e.size, e.text) == ("fw", 64 * MIB, "nomap non-reusable")


def test_6_19_and_7_skip_lines() -> None:
    log = parse_dmesg(
        'OF: reserved mem: Skipping dt linux,cma-default for "cma=" kernel param.\n'
        'Skipping dt linux,cma-default node in favor for "cma=" kernel param.\n'
    )
    assert [(e.kind, e.prefix) for e in log.events] == [
        ("cma-skip", "OF: reserved mem: "),
        ("cma-skip", ""),
    ]


def test_overlap_pair() -> None:
    log = parse_dmesg(
        "[    0.000000] OF: reserved mem: OVERLAP DETECTED!\n"
        "[    0.000000] region-a@70000000 (0x0000000070000000--0x0000000071000000) overlaps with "
        "region-b@70800000 (0x0000000070800000--0x0000000071800000)\n"
    )
    det, ov = log.events
    assert (det.kind, det.name, det.base) == ("rmem-overlap", None, None)  # the header line
    assert ov.kind == "rmem-overlap"
    assert (ov.name, ov.base, ov.end) == ("region-a@70000000", 0x70000000, 0x71000000)
    assert (ov.other_name, ov.other_base, ov.other_end) == ("region-b@70800000", 0x70800000, 0x71800000)


def test_allocation_and_reservation_failures_all_prefixes() -> None:
    log = parse_dmesg(
        "OF: reserved mem: failed to allocate memory for node 'big'\n"
        "OF: reserved mem: failed to allocate memory for node 'big2': size 512 MiB\n"
        "OF: fdt: Reserved memory: failed to reserve memory for node 'fw@0': "
        "base 0x0000000040000000, size 16 MiB\n"
        "OF: reserved mem: Reserved memory: failed to reserve memory for node 'fw@1': "
        "base 0x0000000041000000, size 0 MiB\n"
    )
    a1, a2, r1, r2 = log.events
    assert (a1.kind, a1.name, a1.size) == ("rmem-alloc-failed", "big", None)
    assert (a2.name, a2.size) == ("big2", 512 * MIB)
    assert (r1.kind, r1.name, r1.base, r1.size, r1.prefix) == (
        "rmem-reserve-failed",
        "fw@0",
        0x40000000,
        16 * MIB,
        "OF: fdt: ",
    )
    assert (r2.name, r2.prefix) == ("fw@1", "OF: reserved mem: ")


def test_node_format_and_property_errors() -> None:
    log = parse_dmesg(
        "OF: fdt: Reserved memory: unsupported node format, ignoring\n"
        "OF: reserved mem: Reserved memory: unsupported node format, ignoring\n"
        "OF: reserved mem: Reserved memory: No reserved-memory node in the DT\n"
        "OF: fdt: Reserved memory: invalid reg property in 'bad', skipping node.\n"
        "OF: reserved mem: invalid size property in 'dyn' node.\n"
        "OF: reserved mem: invalid alignment property in 'dyn2' node.\n"
        "OF: reserved mem: invalid alloc-ranges property in 'dyn3', skipping node.\n"
        "OF: reserved mem: fdt_scan_reserved_mem_reg_nodes() ignores 2 regions in node 'multi'\n"
    )
    got = [(e.kind, e.name, e.text) for e in log.events]
    assert got == [
        ("rmem-unsupported", None, None),
        ("rmem-unsupported", None, None),
        ("rmem-no-node", None, None),
        ("rmem-bad-reg", "bad", None),
        ("rmem-bad-size", "dyn", None),
        ("rmem-bad-alignment", "dyn2", None),
        ("rmem-bad-alloc-ranges", "dyn3", None),
        ("rmem-extra-reg", "multi", None),
    ]
    assert log.events[-1].numbers == (2,)


def test_pool_kinds_and_kib_form() -> None:
    log = parse_dmesg(
        "Reserved memory: created DMA memory pool at 0x0000000068000000, size 16 MiB\n"
        "Reserved memory: created restricted DMA pool at 0x0000000069000000, size 4 MiB\n"
        "Reserved memory: created CMA memory pool at 0x000000006a000000, size 8192 KiB\n"
        "Reserved memory: incorrect alignment of CMA region\n"
        "Reserved memory: unable to setup CMA region\n"
        "Reserved memory: regions without no-map are not yet supported\n"
    )
    pools = log.events[:3]
    assert [(p.kind, p.base, p.size, p.size_granule) for p in pools] == [
        ("dma-created", 0x68000000, 16 * MIB, MIB),
        ("restricted-created", 0x69000000, 4 * MIB, MIB),
        ("cma-created", 0x6A000000, 8 * MIB, 1024),
    ]
    assert [e.kind for e in log.events[3:]] == ["cma-misaligned", "cma-unable", "dma-needs-nomap"]


def test_cma_multi_range_and_errors() -> None:
    log = parse_dmesg(
        "cma: Reserved 2048 MiB in 2 ranges\n"
        "cma: Region at 0x0000000040100000 must be aligned to 0x0000000000400000 bytes\n"
        "cma: Size (0x0000000010000000) of region at 0x0000000100000000 exceeds limit (0x0000000100000000)\n"
        "cma: Not enough slots for CMA reserved regions!\n"
    )
    ranges, misaligned, limit, slots = log.events
    assert (ranges.kind, ranges.base, ranges.size, ranges.numbers) == ("cma-reserved", None, 2048 * MIB, (2,))
    misaligned_fields = (misaligned.kind, misaligned.base, misaligned.other_base)
    assert misaligned_fields == ("cma-aligned-base", 0x40100000, 0x400000)
    assert (limit.kind, limit.size, limit.base, limit.other_base) == (
        "cma-exceeds-limit", 0x10000000, 0x100000000, 0x100000000
    )
    assert slots.kind == "cma-no-slots"


def test_x86_e820_tables() -> None:
    log = parse_dmesg(
        "[    0.000000] BIOS-provided physical RAM map:\n"
        "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
        "[    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved\n"
        "[    0.000000] e820: user-defined physical RAM map:\n"
        "[    0.000000] user: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
        "[    0.000000] user: [mem 0x0000000018690000-0x000000001869ffff] persistent (type 12)\n"
    )
    assert [e.kind for e in log.events] == [
        "e820-bios-header",
        "e820-bios",
        "e820-bios",
        "memmap-header",
        "memmap-map",
        "memmap-map",
    ]
    last = log.events[-1]
    assert (last.base, last.end, last.text) == (0x18690000, 0x186A0000, "persistent (type 12)")


def test_memory_lines_crashkernel_swiotlb_hugetlb() -> None:
    log = parse_dmesg(
        "Memory: 98324K/2097152K available (13248K kernel code, 2806K rwdata, 9504K rodata, 6464K init, "
        "627K bss, 74028K reserved, 131072K cma-reserved)\n"
        "Memory limited to 1024MB\n"
        "crashkernel reserved: 0x00000000b0000000 - 0x00000000b8000000 (128 MB)\n"
        "crashkernel low memory reserved: 0x30000000 - 0x38000000 (128 MB)\n"
        "Reserving 256MB of memory at 2800MB for crashkernel (System RAM: 4095MB)\n"
        "Reserving 256MB of low memory at 3072MB for crashkernel (low RAM limit: 4096MB)\n"
        "crashkernel reservation failed - memory is in use.\n"
        "software IO TLB: mapped [mem 0x00000000fbfff000-0x00000000fffff000] (64MB)\n"
        "hugetlb_cma: reserve 2048 MiB, up to 2048 MiB per node\n"
        "hugetlb_cma: reserved 2048 MiB on node 0\n"
        "Kernel command line: console=ttyAMA0 cma=128M\n"
        "Machine model: linux,dummy-virt\n"
    )
    ev = {e.kind: e for e in log.events}
    mem = ev["memory-summary"]
    assert mem.numbers == (98324, 2097152, 74028) and mem.size == 128 * MIB
    assert ev["mem-limit"].size == 1024 * MIB
    ck = log.of_kind("crashkernel")
    assert [(c.base, c.size) for c in ck] == [(0xB0000000, 128 * MIB), (2800 * MIB, 256 * MIB)]
    assert [(c.base, c.size) for c in log.of_kind("crashkernel-low")] == [
        (0x30000000, 128 * MIB),
        (3072 * MIB, 256 * MIB),
    ]
    assert ev["crashkernel-failed"].text == "memory is in use."
    sw = ev["swiotlb"]
    assert (sw.base, sw.size) == (0xFBFFF000, 64 * MIB)
    assert ev["hugetlb-cma-reserved"].node == 0
    assert log.cmdline == "console=ttyAMA0 cma=128M"
    assert ev["machine-model"].text == "linux,dummy-virt"


def test_unknown_lines_are_skipped_silently() -> None:
    log = parse_dmesg("random driver message\nOF: fdt: Machine model: foo\nZone ranges:\n\n")
    assert log.diagnostics == ()
    assert log.lines == 4


@pytest.mark.parametrize(
    "line",
    [
        "cma: Reserved lots of memory",
        "OF: reserved mem: initialized node linux,cma compatible shared-dma-pool",
        "Reserved memory: created CMA memory pool at nowhere",
        "Reserved memory: bypass linux,cma node",
        "OF: reserved mem: 0x0000000060000000..0x0000000063ffffff broken",
        'Skipping dt linux,cma-default because "cma=" kernel param.',
        "user: [mem 0x0000000000000000] usable",
        "Memory: 1K/2K free",
        "software IO TLB: mapped [mem 0x1-0x2]",
        "Linux version unknown",
        "OF: reserved mem: failed to allocate memory for node big",
        "crashkernel reserved: somewhere",
    ],
)
def test_malformed_known_line_is_reported(line: str) -> None:
    log = parse_dmesg("[    0.000000] Booting Linux\n[    0.000000] " + line + "\n", "boot.log")
    assert log.events == ()
    [d] = log.diagnostics
    assert d.code == "observe-malformed-line"
    assert d.source is not None and (d.source.kind, d.source.file, d.source.line) == (
        "observed",
        "boot.log",
        2,
    )
    assert d.source.text is not None and line in d.source.text


def test_event_kinds_catalogue_is_complete() -> None:
    # every produced kind is declared (checked over the texts used in this module's fixtures)
    log = parse_dmesg(
        "Reserved memory: created CMA memory pool at 0x1, size 1 MiB\ncma: Reserved 1 MiB at 0x1\n"
    )
    assert all(e.kind in EVENT_KINDS for e in log.events)


@pytest.mark.parametrize(
    ("line", "release", "version"),
    [
        (
            "Linux version 5.10.0-32-arm64 (debian-kernel@lists.debian.org) "
            "(gcc-10 (Debian 10.2.1-6) 10.2.1) #1 SMP Debian 5.10.223-1 (2024-08-10)",
            "5.10.0-32-arm64",
            (5, 10, 223),
        ),
        (
            "Linux version 5.15.0-91-generic (buildd@lcy02) (gcc (Ubuntu 11.4.0) 11.4.0) #101-Ubuntu SMP Tue "
            "(Ubuntu 5.15.0-91.101-generic 5.15.131)",
            "5.15.0-91-generic",
            (5, 15, 131),
        ),
        ("Linux version 6.6.30 (me@host) (gcc 13) #1 SMP PREEMPT", "6.6.30", (6, 6, 30)),
    ],
)
def test_kernel_version_prefers_upstream_version(
    line: str, release: str, version: tuple[int, int, int]
) -> None:
    log = parse_dmesg("[    0.000000] " + line + "\n")
    assert log.kernel_release == release
    v = log.kernel_version
    assert v is not None and (v.major, v.minor, v.patch) == version


def test_small_sizes_in_kib() -> None:
    log = parse_dmesg("cma: Reserved 512 KiB at 0x0000000060000000\ncma: Failed to reserve 256 KiB\n")
    res, failed = log.events
    assert (res.size, res.size_granule, res.base) == (512 * 1024, 1024, 0x60000000)
    assert (failed.size, failed.size_granule) == (256 * 1024, 1024)
