"""A secure-world boot (TF-A + OP-TEE under QEMU, tests/kernel/firmware/): what memplan says
about the firmware's Device Tree edits, checked against what the firmware really added."""

from __future__ import annotations

from pathlib import Path

import memplan
from memplan.dts import parse_dts, read_dtb
from memplan.observe import read_observed
from memplan.plan import Plan
from tools.qemu.fixtures import fixtures_root

HERE = Path(__file__).resolve().parent / "firmware" / "arm64-6.12-tfa-optee"
CONFIG = fixtures_root() / "configs" / "arm64-6.12.config.gz"
OBSERVED = [HERE / n for n in ("dmesg.txt", "iomem.txt", "meminfo.txt", "fdt")]


def resolve(**kw: object) -> Plan:
    return memplan.resolve(config=CONFIG, arch="arm64", kernel_version="6.12.117",
                           cmdline=(HERE / "cmdline.txt").read_text().strip(), **kw)  # type: ignore[arg-type]


def test_the_firmware_added_what_the_note_names() -> None:
    given = parse_dts(HERE / "board.dts")
    booted = read_dtb(HERE / "fdt")
    for path in ("/reserved-memory/optee_core@e100000", "/reserved-memory/optee_shm@42000000",
                 "/firmware/optee", "/psci"):
        assert given.find(path) is None and booted.find(path) is not None, path
    note = next(d for d in resolve(dts=HERE / "board.dts").diagnostics if d.code == "firmware-dt-edits")
    for word in ("optee_core", "optee_shm", "0xe100000", "0x42000000", "/psci", "/sys/firmware/fdt"):
        assert word in note.message, word


def test_the_build_dts_misses_the_firmware_regions() -> None:
    plan = resolve(dts=HERE / "board.dts")
    comparison = plan.compare(read_observed(OBSERVED))
    unexpected = {e.name for e in comparison.entries if e.status == "unexpected"}
    assert unexpected == {"optee_core@e100000", "optee_shm@42000000"}
    assert plan.global_cma.base == 0xB9A00000  # the global area itself is unaffected


def test_the_booted_tree_agrees() -> None:
    plan = resolve(dtb=HERE / "fdt")
    assert "firmware-dt-edits" not in [d.code for d in plan.diagnostics]
    comparison = plan.compare(read_observed(OBSERVED))
    assert not comparison.mismatches and not comparison.global_cma.is_mismatch
    regions = {r.name: (r.base, r.size, r.kind) for r in plan.regions}
    assert regions["optee_shm@42000000"] == (0x42000000, 2 << 20, "no-map")
    assert regions["optee_core@e100000"] == (0x0E100000, 15 << 20, "no-map")
    assert plan.global_cma.base == 0xB9A00000
