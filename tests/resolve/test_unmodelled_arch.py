"""An architecture memplan knows by name but does not model (mips, powerpc, ...): given with
``--arch``/``arch=`` or inferred, with or without a ``.config``, the answer is a plan whose first
diagnostic is the ``arch-unmodelled`` warning, never a usage error (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import memplan
from memplan.cli import main
from memplan.kconfig import load_config

UNMODELLED = ("mips", "powerpc", "xtensa", "arc", "loongarch")
BOARD = """/dts-v1/;
/ {
    #address-cells = <1>; #size-cells = <1>;
    memory@0 { device_type = "memory"; reg = <0x0 0x40000000>; };
    reserved-memory {
        #address-cells = <1>; #size-cells = <1>; ranges;
        fw@8000000 { reg = <0x8000000 0x100000>; no-map; };
    };
};
"""
MIPS_BOARD = BOARD.replace(
    "memory@0", 'cpus { #address-cells = <1>; #size-cells = <0>; cpu@0 { device_type = "cpu"; '
    'compatible = "mips,mips1004Kc"; reg = <0>; }; };\n    memory@0'
)
#: A .config without a header or an architecture symbol: only --arch (or the DT) names the arch.
CONFIG = "CONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=32\n"
M = 1 << 20


def header(arch: str) -> str:
    return f"#\n# Linux/{arch} 6.1.0 Kernel Configuration\n#\n" + CONFIG


def write(tmp_path: Path, dts: str, config: str) -> tuple[Path, Path]:
    (tmp_path / "board.dts").write_text(dts)
    (tmp_path / "kernel.config").write_text(config)
    return tmp_path / "board.dts", tmp_path / "kernel.config"


def resolve_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    status = main(argv)
    out, err = capsys.readouterr()
    assert status != 2, err
    assert "Traceback" not in err
    return status, json.loads(out)


def first_code(data: dict[str, object]) -> tuple[str, str]:
    diags = data["diagnostics"]
    assert isinstance(diags, list) and diags
    return diags[0]["code"], diags[0]["severity"]


@pytest.mark.parametrize("arch", UNMODELLED)
@pytest.mark.parametrize("with_header", [False, True])
def test_cli_explicit_arch_with_config_gives_a_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arch: str, with_header: bool
) -> None:
    dts, cfg = write(tmp_path, BOARD, header(arch) if with_header else CONFIG)
    status, data = resolve_json(["resolve", "--dts", str(dts), "--config", str(cfg), "--arch", arch,
                                 "--kernel-version", "6.1", "--format", "json"], capsys)
    assert status == 0
    assert first_code(data) == ("arch-unmodelled", "warning")
    codes = [d["code"] for d in data["diagnostics"]]  # type: ignore[attr-defined]
    assert "kconfig-arch-generic" in codes
    g = data["global_cma"]
    assert isinstance(g, dict)
    # the .config's 32 MiB, read with the generic model, top-down from the end of RAM
    assert (g["origin"], g["size"], g["status"]) == ("kconfig", 32 * M, "ok")


@pytest.mark.parametrize("arch", ["mips", "powerpc"])
def test_cli_explicit_arch_without_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arch: str
) -> None:
    dts, _ = write(tmp_path, BOARD, "")
    status, data = resolve_json(["resolve", "--dts", str(dts), "--arch", arch, "--format", "json"], capsys)
    assert status == 0
    assert first_code(data) == ("arch-unmodelled", "warning")


def test_cli_explicit_and_inferred_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dts, cfg = write(tmp_path, MIPS_BOARD, CONFIG)
    base = ["resolve", "--dts", str(dts), "--config", str(cfg), "--kernel-version", "6.1", "--format", "json"]
    _, inferred = resolve_json(base, capsys)
    _, explicit = resolve_json([*base, "--arch", "mips"], capsys)
    assert first_code(inferred) == first_code(explicit) == ("arch-unmodelled", "warning")
    assert inferred["global_cma"] == explicit["global_cma"]
    assert inferred["regions"] == explicit["regions"]
    assert "arch-guessed" in [d["code"] for d in inferred["diagnostics"]]  # type: ignore[attr-defined]


def test_cli_check_says_it_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dts, cfg = write(tmp_path, BOARD, CONFIG)
    log = tmp_path / "dmesg.txt"
    log.write_text("[    0.000000] Linux version 6.1.0 (b@h) #1 SMP\n"
                   "[    0.000000] cma: Reserved 32 MiB at 0x3e000000\n")
    argv = ["check", "--dts", str(dts), "--config", str(cfg), "--arch", "mips", "--kernel-version", "6.1",
            "--observed", str(log)]
    status = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert status in (0, 1), err
    notes = json.loads(out)["notes"]
    assert notes and "[arch-unmodelled]" in notes[0] and "mips" in notes[0]
    status = main(argv)
    out, _ = capsys.readouterr()
    assert status in (0, 1)
    assert "[arch-unmodelled] architecture mips is not modelled" in out


def test_cli_unknown_arch_is_still_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dts, cfg = write(tmp_path, BOARD, CONFIG)
    status = main(["resolve", "--dts", str(dts), "--config", str(cfg), "--arch", "sparc"])
    _, err = capsys.readouterr()
    assert status == 2
    assert "unknown architecture 'sparc'" in err


@pytest.mark.parametrize("arch", ["powerpc", "ppc64le", "mipsel"])
def test_api_arch_with_config(arch: str) -> None:
    plan = memplan.resolve(dts=BOARD, arch=arch, config=CONFIG, kernel_version="6.1")
    assert (plan.diagnostics[0].code, plan.diagnostics[0].severity) == ("arch-unmodelled", "warning")
    g = plan.global_cma
    assert (g.origin, g.size, g.base) == ("kconfig", 32 * M, 0x3E000000)


def test_api_inferred_arch_with_header_config() -> None:
    plan = memplan.resolve(dts=BOARD, config=header("mips"))
    assert plan.diagnostics[0].code == "arch-unmodelled"
    assert plan.arch == "mips"
    assert plan.global_cma.size == 32 * M


def test_generic_kconfig_model_applies_kconfig_rules() -> None:
    # values as written; DMA_CMA still needs CMA, the size its Kconfig default (16) when not given
    kc = load_config(text="CONFIG_CMA=y\nCONFIG_DMA_CMA=y\n", arch="mips", kernel_version="6.1")
    assert (kc.arch, kc.cma, kc.dma_cma, kc.cma_size_mbytes) == ("mips", True, True, 16)
    off = load_config(text="# CONFIG_CMA is not set\nCONFIG_DMA_CMA=y\n", arch="powerpc",
                      kernel_version="6.1")
    assert (off.cma, off.dma_cma) == (False, False)
    assert "kconfig-arch-generic" in [d.code for d in kc.diagnostics]
    forced = load_config(text="CONFIG_CMA=y\nCONFIG_ARCH_FORCE_MAX_ORDER=12\n", arch="mips",
                         kernel_version="6.12")
    assert forced.max_order == 12
    assert load_config(text="CONFIG_CMA=y\n", arch="mips", kernel_version="6.12").max_order == 10
