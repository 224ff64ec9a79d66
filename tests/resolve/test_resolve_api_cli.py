"""The facade (path vs text, arch inference, errors), the CLI (formats, exit codes) and the renderers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import memplan
from memplan.cli import main
from memplan.errors import MemplanError, ResolveError
from memplan.render.dmesg import render_dmesg
from memplan.render.iomem import render_iomem
from tests.resolve.conftest import board

M = 1 << 20
ROOT = Path(__file__).resolve().parents[2]
EVK = ROOT / "memplan" / "examples" / "evk"
CFG = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"


def test_path_and_text_give_the_same_plan(tmp_path: Path) -> None:
    text = board("fw@50000000 { reg = <0 0x50000000 0 0x100000>; no-map; };")
    f = tmp_path / "b.dts"
    f.write_text(text)
    cfg = tmp_path / "config"
    cfg.write_text(CFG)
    a = memplan.resolve(dts=text, config=CFG, kernel_version="6.1")
    b = memplan.resolve(dts=str(f), config=str(cfg), kernel_version="6.1")
    c = memplan.resolve(dts=f, config=cfg, kernel_version="6.1")
    assert [(r.name, r.base, r.size) for r in a.regions] == [(r.name, r.base, r.size) for r in b.regions]
    assert [(r.name, r.base) for r in b.regions] == [(r.name, r.base) for r in c.regions]


def test_missing_file_is_an_error_with_source() -> None:
    with pytest.raises(ResolveError) as err:
        memplan.resolve(dts="no/such/board.dts", arch="arm64")
    assert err.value.source is not None and "no/such/board.dts" in str(err.value)


def test_arch_inferred_from_cpu_compatible() -> None:
    plan = memplan.resolve(dts=board(""), kernel_version="6.1")
    assert plan.arch == "arm64"
    assert any(d.code == "arch-guessed" for d in plan.diagnostics)
    arm = memplan.resolve(
        dts=board("", cells=1, memory="reg = <0x40000000 0x40000000>;", cpu="arm,cortex-a9")
    )
    assert arm.arch == "arm"


def test_unknown_arch_is_an_error() -> None:
    with pytest.raises(ResolveError):
        memplan.resolve(dts=board("", cpu="acme,thing"))


def test_x86_without_memory_is_an_error() -> None:
    with pytest.raises(MemplanError):
        memplan.resolve(cmdline="cma=64M", arch="x86")


def test_dtb_bytes(tmp_path: Path) -> None:
    from memplan.dts import parse_dts

    tree = parse_dts(text=board("fw@50000000 { reg = <0 0x50000000 0 0x100000>; };"), filename="b.dts")
    plan = memplan.resolve(dtb=tree.to_dtb(), arch="arm64", kernel_version="6.1", config=CFG)
    assert plan.region("fw@50000000").base == 0x50000000


def test_json_shape_is_stable() -> None:
    plan = memplan.resolve(dts=board("", bootargs="cma=64M"), config=CFG, kernel_version="6.1")
    d = json.loads(plan.to_json())
    assert {
        "global_cma",
        "regions",
        "memory",
        "devices",
        "diagnostics",
        "arch",
        "kernel_version",
        "precedence",
        "cmdline",
    } <= set(d)
    g = d["global_cma"]
    assert {"origin", "size", "base", "region", "candidates"} <= set(g)
    assert g["origin"] == "cmdline" and isinstance(g["size"], int)
    for c in g["candidates"]:
        assert {"origin", "size", "status", "reason"} <= set(c)
    for r in d["regions"]:
        assert {"name", "path", "base", "size", "kind", "origin", "status", "placement", "source"} <= set(r)
    assert d["memory"] == [
        {"base": 0x40000000, "size": 0x80000000, "source": d["memory"][0]["source"], "node": None}
    ]


def test_explain_names_every_candidate() -> None:
    plan = memplan.resolve(dts=str(EVK / "board.dts"), config=str(EVK / "defconfig"), kernel_version="6.1")
    text = plan.explain()
    assert "Which CMA pool wins" in text
    assert "The winner is cma= on the command line" in text
    assert "node 'linux,cma'" in text and "OVERRIDDEN" in text and "Kconfig" in text
    old = memplan.resolve(dts=str(EVK / "board.dts"), config=str(EVK / "defconfig"), kernel_version="5.4")
    assert "The winner is Device Tree" in old.explain()


def test_dmesg_formats_by_version() -> None:
    text = board(
        'linux,cma { compatible = "shared-dma-pool"; reusable; size = <0 0x4000000>; linux,cma-default; };',
        bootargs="cma=128M",
    )
    v61 = render_dmesg(memplan.resolve(dts=text, config=CFG, kernel_version="6.1"))
    assert "Reserved memory: bypass linux,cma node, using cmdline CMA params instead" in v61
    assert "OF: reserved mem: node linux,cma compatible matching fail" in v61
    assert "cma: Reserved 128 MiB at 0x00000000" in v61 and "on node" not in v61
    v66 = render_dmesg(memplan.resolve(dts=text, config=CFG, kernel_version="6.6"))
    assert " on node -1" in v66
    v619 = render_dmesg(memplan.resolve(dts=text, config=CFG, kernel_version="6.19"))
    assert 'OF: reserved mem: Skipping dt linux,cma-default for "cma=" kernel param.' in v619
    assert "bypass" not in v619
    nocma = board('vpu { compatible = "shared-dma-pool"; reusable; size = <0 0x400000>; };')
    v63 = render_dmesg(memplan.resolve(dts=nocma, config=CFG, kernel_version="6.3"))
    assert "(4096 KiB) map reusable vpu" in v63
    v62 = render_dmesg(memplan.resolve(dts=nocma, config=CFG, kernel_version="6.2"))
    assert "KiB" not in v62 and "initialized node vpu, compatible id shared-dma-pool" in v62


def test_dmesg_matches_recorded_boot_lines() -> None:
    fx = ROOT / "tests" / "kernel" / "fixtures" / "arm64-6.1-pools"
    if not fx.is_dir():
        pytest.skip("kernel fixtures not present")
    plan = memplan.resolve(
        dts=str(fx / "board.dts"),
        config=CFG + "CONFIG_CMA_SIZE_MBYTES=64\n",
        kernel_version="6.1",
        arch="arm64",
        cmdline=(fx / "cmdline.txt").read_text().strip(),
    )
    ours = [ln for ln in render_dmesg(plan).splitlines() if "memory" in ln.lower() or ln.startswith("cma:")]
    recorded = [ln.split("] ", 1)[1] for ln in (fx / "dmesg.txt").read_text().splitlines() if "] " in ln]
    for line in ours:
        assert line in recorded, line


def test_iomem_arm64() -> None:
    plan = memplan.resolve(
        dts=board("fw@50000000 { reg = <0 0x50000000 0 0x100000>; no-map; };"),
        config=CFG,
        kernel_version="6.1",
    )
    lines = render_iomem(plan).splitlines()
    assert lines[0] == "40000000-4fffffff : System RAM"
    assert lines[1] == "50000000-500fffff : reserved"
    assert lines[2] == "50100000-bfffffff : System RAM"
    assert any(ln.startswith("  ") and ln.endswith(": reserved") for ln in lines[3:])


def test_cli_formats_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "ok.dts"
    f.write_text(board("fw@50000000 { reg = <0 0x50000000 0 0x100000>; };"))
    assert main(["resolve", "--dts", str(f), "--arch", "arm64", "--kernel-version", "6.1"]) == 0
    assert "Global CMA" in capsys.readouterr().out
    assert main(["resolve", "--dts", str(f), "--arch", "arm64", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["arch"] == "arm64"
    bad = tmp_path / "bad.dts"
    bad.write_text(
        board(
            "a@50000000 { reg = <0 0x50000000 0 0x200000>; };\n"
            "b@50100000 { reg = <0 0x50100000 0 0x200000>; };"
        )
    )
    assert main(["resolve", "--dts", str(bad), "--arch", "arm64", "--format", "dmesg"]) == 1
    assert "OVERLAP DETECTED!" in capsys.readouterr().out
    assert main(["resolve", "--dts", str(tmp_path / "missing.dts")]) == 2
    assert (
        main(
            [
                "resolve",
                "--cmdline",
                "memmap=64M$0x10000000",
                "--arch",
                "x86",
                "--memory",
                "2G",
                "--format",
                "iomem",
            ]
        )
        == 0
    )
    assert "10000000-13ffffff : Reserved" in capsys.readouterr().out


def test_cli_example_board(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "resolve",
            "--dts",
            str(EVK / "board.dts"),
            "--config",
            str(EVK / "defconfig"),
            "--format",
            "explain",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "linux,cma" in out and "vpu-pool" in out


@pytest.mark.parametrize("scenario", ["arm64-7.2-static-default-cma", "arm64-7.2-pools", "arm64-6.12-pools",
                                      "arm64-6.1-dt-default-cma", "arm64-5.10-pools"])
def test_dmesg_lines_are_in_the_recorded_boot(scenario: str) -> None:
    """Every reserved-memory / CMA line memplan prints is in the real boot log, in the same order."""
    fx = ROOT / "tests" / "kernel" / "fixtures" / scenario
    if not fx.is_dir():
        pytest.skip("kernel fixtures not present")
    import gzip

    from tools.qemu.fixtures import config_path

    sc = json.loads((fx / "scenario.json").read_text())
    config = gzip.decompress(config_path(fx, sc).read_bytes()).decode()
    plan = memplan.resolve(dts=str(fx / "board.dts"), config=config, kernel_version=sc["kernel_version"],
                           arch="arm64", cmdline=(fx / "cmdline.txt").read_text().strip())
    ours = [ln for ln in render_dmesg(plan).splitlines() if not ln.startswith("Kernel command line")]
    recorded = [ln.split("] ", 1)[1] for ln in (fx / "dmesg.txt").read_text().splitlines() if "] " in ln]
    relevant = [ln for ln in recorded if ln in ours]
    assert ours and relevant == ours
