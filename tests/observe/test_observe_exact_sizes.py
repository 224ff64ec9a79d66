"""Sizes shown to people are exact: a size that is not a whole number of MiB is printed in bytes."""

from __future__ import annotations

import attrs
from observe_samples import MIB, POOL, V61, pool_plan

from memplan.observe import parse_dmesg, parse_meminfo, render_observed_text
from memplan.observe.combine import build_observed
from memplan.observe.compare import compare, render_comparison_text


def test_sizes_in_text_are_exact() -> None:
    meminfo = parse_meminfo("MemTotal: 4000000 kB\nCmaTotal: 1572864 kB\nCmaFree: 1572000 kB\n", "meminfo")
    text = render_observed_text(build_observed(meminfo=meminfo))
    assert "CmaTotal: 1.5 GiB" in text
    log = V61 + "Kernel command line: console=ttyAMA0\n" + POOL.format(addr="00000000ba000000")
    odd = attrs.evolve(pool_plan().regions[0], size=96 * MIB + 1, placement="dynamic")
    c = compare(attrs.evolve(pool_plan(), regions=(odd,)), build_observed(log=parse_dmesg(log, "dmesg")))
    out = render_comparison_text(c)
    assert "100663297 B" in out and "96.00 MiB" not in out
