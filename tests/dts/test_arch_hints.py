"""The architecture read from a Device Tree: every hint (path under arch/, CPU compatible,
enable-method, root compatible), and the error that names ``--arch`` when nothing tells."""

from __future__ import annotations

from pathlib import Path

import pytest

import memplan
from memplan.cli import main
from memplan.dts import parse_text
from memplan.dts.archhint import infer_arch
from memplan.errors import ResolveError


def _board(cpu: str = "", root: str = "test,board", cells: int = 2) -> str:
    mem = "reg = <0x0 0x40000000 0x0 0x40000000>;" if cells == 2 else "reg = <0x40000000 0x40000000>;"
    return f"""/dts-v1/;
/ {{
    #address-cells = <{cells}>; #size-cells = <{cells}>;
    compatible = "{root}";
    cpus {{ #address-cells = <1>; #size-cells = <0>; cpu@0 {{ device_type = "cpu"; reg = <0>; {cpu} }}; }};
    memory@40000000 {{ device_type = "memory"; {mem} }};
}};
"""


@pytest.mark.parametrize(
    ("cpu", "root", "arch", "reason"),
    [
        ('compatible = "qcom,oryon";', "test,board", "arm64", "CPU compatible 'qcom,oryon'"),
        ('compatible = "arm,cortex-a710";', "test,board", "arm64", "CPU compatible"),
        ('compatible = "arm,cortex-a7";', "test,board", "arm", "CPU compatible"),
        ('compatible = "apple,firestorm";', "test,board", "arm64", "CPU compatible"),
        ('compatible = "qcom,krait";', "test,board", "arm", "CPU compatible"),
        ('riscv,isa = "rv64imac";', "test,board", "riscv", "RISC-V ISA"),
        ('enable-method = "spin-table";', "test,board", "arm64", "enable-method 'spin-table'"),
        ('enable-method = "allwinner,sun6i-a31";', "test,board", "arm", "enable-method"),
        ('enable-method = "psci";', "qcom,x1e80100-crd\\0qcom,x1e80100", "arm64", "root compatible"),
        ("", "rockchip,rk3588", "arm64", "root compatible 'rockchip,rk3588'"),
        ("", "fsl,imx6q", "arm", "root compatible"),
        ("", "starfive,jh7110", "riscv", "root compatible"),
    ],
)
def test_hint_from_the_tree(cpu: str, root: str, arch: str, reason: str) -> None:
    tree = parse_text(_board(cpu, root), "board.dts")
    hint = infer_arch(tree)
    assert hint is not None and hint.arch == arch and reason in hint.reason
    assert hint.source is not None and hint.source.file == "board.dts"
    plan = memplan.resolve(dts=tree, kernel_version="6.1")
    assert plan.arch == arch
    notes = [d for d in plan.diagnostics if d.code == "arch-guessed"]
    assert len(notes) == 1 and reason in notes[0].message


def test_path_under_arch_wins_over_the_cpu(tmp_path: Path) -> None:
    # a 32-bit build of a board with 64-bit cores (Raspberry Pi 3 in arch/arm)
    board = tmp_path / "arch" / "arm" / "boot" / "dts" / "pi.dts"
    board.parent.mkdir(parents=True)
    board.write_text(_board('compatible = "arm,cortex-a53";', cells=1))
    plan = memplan.resolve(dts=board, kernel_version="6.1")
    assert plan.arch == "arm"
    note = next(d for d in plan.diagnostics if d.code == "arch-guessed")
    assert "path under arch/" in note.message
    blob = tmp_path / "arch" / "arm64" / "boot" / "dts" / "x.dtb"
    blob.parent.mkdir(parents=True)
    blob.write_bytes(parse_text(_board(), "x.dts").to_dtb())
    assert memplan.resolve(dtb=blob, kernel_version="6.1").arch == "arm64"


def test_no_hint_names_the_arch_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _board('compatible = "acme,mystery"; enable-method = "psci";', "acme,board")
    with pytest.raises(ResolveError, match="--arch"):
        memplan.resolve(dts=text)
    board = tmp_path / "b.dts"
    board.write_text(text)
    assert main(["resolve", "--dts", str(board)]) == 2
    err = capsys.readouterr().err
    assert "cannot tell the architecture" in err and "--arch" in err
    assert main(["resolve", "--dts", str(board), "--arch", "arm64", "--kernel-version", "6.1"]) == 0
