"""Differential test against dtc: random programs full of labels, references, merges, deletions
and /omit-if-no-ref/. Whenever dtc accepts, memplan must build the same bytes; whenever dtc
rejects, memplan must raise a MemplanError (and the other way round)."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memplan.dts import parse_text
from memplan.errors import MemplanError

NAMES = ["a", "b", "c", "d@1", "e"]


class _Gen:
    """Builds one random DTS program from a seeded Random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.count = 0
        self.node_labels: list[str] = []

    def label(self, on_node: bool = False) -> str:
        self.count += 1
        name = f"L{self.count}"
        if on_node:
            self.node_labels.append(name)
        return name

    def ref(self) -> str:
        if self.node_labels and self.rng.random() < 0.95:
            return self.rng.choice(self.node_labels)
        return "nope"

    def value(self) -> str:
        rng = self.rng
        k = rng.random()
        if k < 0.35:
            items = []
            for _ in range(rng.randint(0, 3)):
                kind = rng.randrange(5)
                items.append(["1", f"&{self.ref()}", "&{/a}", "(2 * 3)", f"{self.label()}: 5"][kind])
            return "<" + " ".join(items) + ">"
        if k < 0.55:
            return f"&{self.ref()}"
        if k < 0.7:
            return f'"s", <&{self.ref()}>'
        return rng.choice(['"str"', "[01 02]", "<7>", "/bits/ 16 <1 2>"])

    def prop(self, name: str) -> str:
        rng = self.rng
        k = rng.random()
        if k < 0.15:
            return f"/delete-property/ {name};"
        label = f"{self.label()}: " if rng.random() < 0.05 else ""
        if name == "phandle":
            return label + rng.choice(["phandle = <0x10>;", "phandle = <0x11>;", "phandle = <1>;"])
        if k < 0.3:
            return f"{label}{name};"
        return f"{label}{name} = {self.value()};"

    def node(self, depth: int) -> str:
        rng = self.rng
        pool = ["p", "q", "r", "s", "phandle"] if rng.random() < 0.2 else ["p", "q", "r", "s"]
        props = " ".join(self.prop(n) for n in rng.sample(pool, rng.randint(0, 3)))
        kids = []
        if depth < 3:
            for name in rng.sample(NAMES, rng.randint(0, 3)):
                if rng.random() < 0.15:
                    kids.append(f"/delete-node/ {name};")
                    continue
                prefix = f"{self.label(True)}: " if rng.random() < 0.6 else ""
                if rng.random() < 0.15:
                    prefix += "/omit-if-no-ref/ "
                kids.append(f"{prefix}{name} {self.node(depth + 1)}")
        return "{ " + props + " " + " ".join(kids) + " };"

    def program(self) -> str:
        rng = self.rng
        parts = ["/dts-v1/;"]
        if rng.random() < 0.2:
            parts.append(f"{self.label()}: /memreserve/ 0x1000 0x10;")
        parts.append("/ " + self.node(0))
        for _ in range(rng.randint(0, 4)):
            k = rng.random()
            if k < 0.3:
                parts.append("/ " + self.node(1))
            elif k < 0.55:
                parts.append(f"&{self.ref()} {self.node(1)}")
            elif k < 0.65:
                parts.append(f"{self.label(True)}: &{self.ref()} {self.node(1)}")
            elif k < 0.75:
                parts.append(f"&{{/{rng.choice(NAMES)}}} {self.node(1)}")
            elif k < 0.85:
                parts.append(f"/delete-node/ &{self.ref()};")
            else:
                parts.append(f"/omit-if-no-ref/ &{self.ref()};")
        return "\n".join(parts) + "\n"


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc is not installed")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_same_verdict_and_bytes_as_dtc(tmp_path: Path, rng: random.Random) -> None:
    text = _Gen(rng).program()
    src = tmp_path / "x.dts"
    out = tmp_path / "x.dtb"
    src.write_text(text)
    out.unlink(missing_ok=True)
    res = subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(out), str(src)],
                         capture_output=True, text=True, check=False, timeout=30)
    try:
        ours: bytes | None = parse_text(text, "x.dts").to_dtb()
        problem = ""
    except MemplanError as err:
        ours = None
        problem = str(err)
    if res.returncode == 0:
        assert ours is not None, f"dtc accepts, memplan rejects:\n{text}\n{problem}"
        assert ours == out.read_bytes(), f"different bytes for:\n{text}"
    else:
        assert ours is None, f"dtc rejects, memplan accepts:\n{text}\n{res.stderr}"
