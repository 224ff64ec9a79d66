"""The resolver's mutable region builder freezes into the model's Region."""

from __future__ import annotations


def test_work_region_mirrors_region() -> None:
    """The resolver's mutable builder carries every Region field under the same name and type."""
    import attrs

    from memplan.model import Region
    from memplan.resolve.state import WorkRegion

    mine = {f.name: f.type for f in attrs.fields(WorkRegion)}
    assert {f.name: f.type for f in attrs.fields(Region)}.items() <= mine.items()
    w = WorkRegion(name="x", kind="reserved", origin="dts", base=0x1000, size=0x2000, reason="r")
    assert w.freeze() == Region(name="x", kind="reserved", origin="dts", status="ok", placement="static",
                                base=0x1000, size=0x2000, reason="r")
