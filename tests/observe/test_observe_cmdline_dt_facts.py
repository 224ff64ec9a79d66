"""The observer reads the command line through the command-line parser (per-NUMA parameters) and
the Device Tree through the resolver's fact extractor."""

from __future__ import annotations

from memplan.dts import parse_dts
from memplan.observe.cmalines import numa_params
from memplan.observe.combine import dt_bootargs, dt_default_cma_nodes
from memplan.units import MiB as MIB


def test_numa_params_follow_kernel_parsing() -> None:
    # quotes hide a parameter, "-" equals "_", a leading 0 is octal, numa_cma accumulates
    assert numa_params('x="cma_pernuma=64M y" cma-pernuma=0100K numa_cma=0:16M numa-cma=1:0x2000000') == (
        0o100 * 1024,
        ((0, 16 * MIB), (1, 32 * MIB)),
    )
    assert numa_params("console=ttyS0 -- cma_pernuma=64M") == (None, ())
    assert numa_params("cma_pernuma=99999999999999999999999G") == (None, ())
    assert numa_params(None) == (None, ())


def test_dt_default_and_bootargs_from_facts() -> None:
    tree = parse_dts(
        text="""/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
  chosen { bootargs = "console=ttyAMA0 cma=64M"; };
  reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
    off { compatible = "shared-dma-pool"; reusable; size = <0 0x400000>;
          linux,cma-default; status = "disabled"; };
    linux,cma { compatible = "shared-dma-pool"; reusable; size = <0 0x6000000>; linux,cma-default; };
  };
};""",
        filename="t.dts",
    )
    assert dt_default_cma_nodes(tree) == ("linux,cma",)
    assert dt_bootargs(tree) == "console=ttyAMA0 cma=64M"
