"""The RAM bank the lint assumes for a board that leaves /memory to its boot loader."""

from __future__ import annotations

import pytest

from memplan.dts import parse_dts
from memplan.dts.facts import extract
from memplan.lint.memory import DEFAULT_SIZE, assume_ram

GIB = 1 << 30
MIB = 1 << 20


def _facts(body: str, cells: int = 2):  # type: ignore[no-untyped-def]
    text = f"/dts-v1/;\n/ {{\n#address-cells = <{cells}>;\n#size-cells = <{cells}>;\n{body}\n}};\n"
    return extract(parse_dts(text=text))


def _rmem(children: str, cells: int = 2) -> str:
    return (f"reserved-memory {{ #address-cells = <{cells}>; #size-cells = <{cells}>; ranges;\n"
            f"{children}\n}};")


def test_base_from_the_memory_unit_address_and_a_default_size() -> None:
    facts = _facts('memory@80000000 { device_type = "memory"; reg = <0 0 0 0>; };')
    ram = assume_ram(facts, "arm64", lpae=False)
    assert (ram.base, ram.size) == (0x80000000, DEFAULT_SIZE) and "unit address" in ram.base_from


def test_base_from_a_size_zero_reg_when_the_node_has_no_unit_address() -> None:
    facts = _facts('memory { device_type = "memory"; reg = <0 0x40000000 0 0>; };')
    ram = assume_ram(facts, "arm64", lpae=False)
    assert (ram.base, ram.size) == (0x40000000, GIB) and "reg base" in ram.base_from


def test_without_memory_node_the_base_is_below_the_lowest_static_reservation() -> None:
    facts = _facts(_rmem("fw@5f800000 { reg = <0 0x5f800000 0 0x100000>; no-map; };"))
    ram = assume_ram(facts, "riscv", lpae=False)
    assert ram.base == 0x50000000 and "256 MiB boundary" in ram.base_from
    assert assume_ram(_facts(""), "arm64", lpae=False).base == 0


def test_a_reservation_below_the_memory_address_lowers_the_base() -> None:
    # socfpga style: memory@80000000 left empty, a service buffer at 0
    facts = _facts('memory@80000000 { device_type = "memory"; reg = <0 0x80000000 0 0>; };\n'
                   + _rmem("svc@0 { reg = <0 0 0 0x1000000>; no-map; };"))
    ram = assume_ram(facts, "arm64", lpae=False)
    assert (ram.base, ram.size) == (0, 3 * GIB) and "static reservation" in ram.base_from


def test_the_bank_grows_to_cover_static_reservations_and_alloc_ranges() -> None:
    facts = _facts('memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0>; };\n' + _rmem(
        "fw@a0000000 { reg = <0 0xa0000000 0 0x100000>; no-map; };\n"
        "low@10000000 { reg = <0 0x10000000 0 0x1000>; };\n"  # below the hint: the base goes down
        "pool { compatible = \"shared-dma-pool\"; reusable; size = <0 0x1000000>;"
        " alloc-ranges = <0 0x40000000 0 0x90000000>; };"))
    ram = assume_ram(facts, "arm64", lpae=False)
    # alloc-ranges end at 0xd0000000, beyond the static region at 0xa0000000
    assert (ram.base, ram.base + ram.size) == (0x10000000, 0xD0000000)


def test_memreserve_entries_are_covered() -> None:
    text = ('/dts-v1/;\n/memreserve/ 0x80000000 0x10000;\n/ {\n#address-cells = <2>;\n#size-cells = <2>;\n'
            'memory@0 { device_type = "memory"; reg = <0 0 0 0>; };\n};\n')
    ram = assume_ram(extract(parse_dts(text=text)), "arm64", lpae=False)
    assert (ram.base, ram.base + ram.size) == (0, 0x90000000)


def test_the_bank_holds_twice_the_dynamic_reservations() -> None:
    facts = _facts('memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0>; };\n' + _rmem(
        'a { compatible = "shared-dma-pool"; reusable; size = <0 0x30000000>; };\n'
        'b { compatible = "shared-dma-pool"; reusable; size = <0 0x8000000>; };'))
    ram = assume_ram(facts, "arm64", lpae=False)
    assert ram.size == 0x70000000  # 2 x 896 MiB, more than the 1 GiB default


@pytest.mark.parametrize(("lpae", "size"), [(False, 512 * MIB), (True, GIB)])
def test_32_bit_arm_without_lpae_stops_at_4_gib(lpae: bool, size: int) -> None:
    facts = _facts('memory@e0000000 { device_type = "memory"; reg = <0xe0000000 0>; };', cells=1)
    ram = assume_ram(facts, "arm", lpae=lpae)
    assert (ram.base, ram.size) == (0xE0000000, size)
