"""The resolver builds the model's own Region: a slot holds the frozen Region decided so far and
only what the Region does not have (no mutable twin of its fields)."""

from __future__ import annotations

import attrs

import memplan
from memplan.model import Region
from memplan.resolve.state import Slot

M = 1 << 20


def test_slot_holds_only_what_region_lacks() -> None:
    region_fields = {f.name for f in attrs.fields(Region)}
    slot_fields = {f.name for f in attrs.fields(Slot)}
    assert "region" in slot_fields
    assert (slot_fields - {"region"}).isdisjoint(region_fields)


def test_a_slot_starts_with_activation_and_nomap_undecided() -> None:
    region = Region(name="p", kind="reusable", origin="dts", status="ok", placement="static",
                    base=0x40000000, size=16 * M, no_map=True)
    # a hand-built Region guesses both from its kind and flags; the resolver decides them itself
    assert (region.activated, region.nomap) == (True, "marked")
    slot = Slot.start(region)
    assert (slot.region.activated, slot.region.nomap) == (None, None)
    assert attrs.evolve(slot.region, activated=True, nomap="marked") == region


def test_slots_compare_by_identity() -> None:
    region = Region(name="p", kind="reserved", origin="dts", status="ok", placement="static")
    assert Slot.start(region) != Slot.start(region)


def test_plan_regions_are_what_the_rules_decided() -> None:
    dts = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x40000000>; };
    reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
        fw@50000000 { reg = <0 0x50000000 0 0x100000>; no-map; };
        pool { compatible = "shared-dma-pool"; reusable; size = <0 0x1000000>; };
        plain { size = <0 0x100000>; };
    };
};
"""
    plan = memplan.resolve(dts=dts, arch="arm64", kernel_version="6.12",
                           config="CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n")
    fw, pool, plain = plan.region("fw@50000000"), plan.region("pool"), plan.region("plain")
    assert (fw.nomap, fw.activated) == ("marked", None)
    assert (pool.kind, pool.activated, pool.nomap, pool.placement) == ("reusable", True, None, "dynamic")
    assert (plain.kind, plain.activated, plain.nomap, plain.status) == ("reserved", None, None, "ok")
