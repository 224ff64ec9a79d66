"""The facade's argument handling: path vs text, memory=, argument validation, one .config read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import memplan
import memplan.api
from memplan import resolve
from memplan.dts import parse_dts
from memplan.errors import MemplanError, ResolveError

EMPTY_DTS = "/dts-v1/; / { };"
#: A board without a /memory base: one static reserved region at 0x48000000.
RMEM_ONLY = """/dts-v1/;
/ {
    #address-cells = <1>; #size-cells = <1>;
    reserved-memory {
        #address-cells = <1>; #size-cells = <1>; ranges;
        fw@48000000 { reg = <0x48000000 0x100000>; no-map; };
    };
};
"""
CMA72 = "CONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_SEL_MBYTES=y\nCONFIG_CMA_SIZE_MBYTES=72\n"


def _codes(plan: memplan.Plan) -> set[str]:
    return {d.code for d in plan.diagnostics}


def _arg_error(excinfo: pytest.ExceptionInfo[ResolveError], arg: str) -> None:
    err = excinfo.value
    assert err.source is not None
    assert err.source.kind == "builtin" and err.source.text == f"{arg} argument"


# -- 1. path or text ------------------------------------------------------------------------


def test_config_path_with_equals_sign_is_read_as_a_file(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg=arm64.config"
    cfg.write_text(CMA72)
    plan = resolve(dts=EMPTY_DTS, config=str(cfg), arch="arm64", memory="1G", kernel_version="6.1")
    assert plan.global_cma.origin == "kconfig" and plan.global_cma.size == 72 << 20


def test_missing_file_that_looks_like_a_path_is_an_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope=arm64.config")
    with pytest.raises(ResolveError, match="no such file") as excinfo:
        resolve(dts=EMPTY_DTS, config=missing, arch="arm64", memory="1G")
    assert "config=" in excinfo.value.message
    with pytest.raises(ResolveError, match="no such file"):
        resolve(dts="board.dts", arch="arm64", memory="1G")


def test_single_line_text_is_still_text() -> None:
    plan = resolve(dts=EMPTY_DTS, config="CONFIG_CMA_SIZE_MBYTES=72", arch="arm64", memory="1G",
                   kernel_version="6.1")
    # Read as text: DMA_CMA is off in it (so no global area) and findings point at "<config>".
    assert (plan.global_cma.size, plan.global_cma.status) == (0, "unsupported")
    assert any(d.source is not None and d.source.file == "<config>" for d in plan.diagnostics)


def test_pathlike_directory_is_reported_as_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match="is a directory"):
        resolve(dts=tmp_path, arch="arm64", memory="1G")
    with pytest.raises(ResolveError, match="is a directory"):
        resolve(dts=EMPTY_DTS, config=str(tmp_path), arch="arm64", memory="1G")


def test_dts_path_holding_a_blob_is_read_as_dtb(tmp_path: Path) -> None:
    blob = parse_dts(text=RMEM_ONLY, filename="x.dts").to_dtb()
    board = tmp_path / "board.dts"
    board.write_bytes(blob)
    plan = resolve(dts=str(board), arch="arm64", memory=[(0x40000000, 0x10000000)])
    assert any(r.base == 0x48000000 for r in plan.regions)


# -- 2. memory= base ---------------------------------------------------------------------------


def test_memory_size_keeps_a_dt_bank_at_base_zero() -> None:
    dts = RMEM_ONLY.replace("reserved-memory {", 'memory { device_type = "memory"; reg = <0 0x60000000>; };\n'
                            "    reserved-memory {")
    plan = resolve(dts=dts, arch="arm64", memory="1G", kernel_version="6.1")
    assert [b.base for b in plan.memory] == [0]
    assert "memory-base-guessed" not in _codes(plan)


def test_guessed_base_is_reported() -> None:
    plan = resolve(dts=RMEM_ONLY, arch="arm64", memory="512M", kernel_version="6.1")
    assert [b.base for b in plan.memory] == [0x40000000]
    notes = [d for d in plan.diagnostics if d.code == "memory-base-guessed"]
    assert len(notes) == 1 and "0x40000000" in notes[0].message


def test_zero_size_placeholder_bank_gives_no_base() -> None:
    dts = RMEM_ONLY.replace("reserved-memory {", 'memory { device_type = "memory"; reg = <0 0>; };\n'
                            "    reserved-memory {")
    plan = resolve(dts=dts, arch="arm64", memory="512M", kernel_version="6.1")
    assert [b.base for b in plan.memory] == [0x40000000]
    assert "memory-base-guessed" in _codes(plan)


def test_guess_code_is_registered() -> None:
    from memplan.diagnostics import CODES

    code = CODES["memory-base-guessed"]
    assert code.meaning and code.fix


# -- 3. x86 memory too small -------------------------------------------------------------------


def test_x86_memory_too_small_is_a_resolve_error() -> None:
    with pytest.raises(ResolveError, match="too little") as excinfo:
        resolve(arch="x86", memory="1K")
    _arg_error(excinfo, "memory")


# -- 4. argument validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"precedence": "bogus"}, "precedence"),
        ({"memory": -5}, "memory"),
        ({"memory": 0}, "memory"),
        ({"memory": True}, "memory"),
        ({"memory": [(0, -1)]}, "memory"),
        ({"memory": [(-4096, 4096)]}, "memory"),
        ({"memory": [(0, 1, 2)]}, "memory"),
        ({"memory": []}, "memory"),
        ({"memory": "lots"}, "memory"),
        ({"kernel_version": (-1, 2)}, "kernel_version"),
        ({"kernel_version": (6, -1)}, "kernel_version"),
        ({"kernel_version": (999, 0)}, "kernel_version"),
        ({"kernel_version": "1000.2"}, "kernel_version"),
        ({"kernel_version": ("6", "1")}, "kernel_version"),
        ({"kernel_version": "latest"}, "kernel_version"),
        ({"cmdline": 42}, "cmdline"),
        ({"cmdline": b"cma=\xff"}, "cmdline"),
        ({"include_dirs": [42]}, "include_dirs"),
        ({"arch": 64}, "arch"),
    ],
)
def test_bad_arguments_raise_resolve_error(kwargs: dict[str, Any], arg: str) -> None:
    base: dict[str, Any] = {"dts": EMPTY_DTS, "arch": "arm64", "memory": "1G"}
    with pytest.raises(ResolveError) as excinfo:
        resolve(**{**base, **kwargs})
    _arg_error(excinfo, arg)
    assert isinstance(excinfo.value, MemplanError)


def test_bytes_dts_is_utf8_text_or_a_blob() -> None:
    plan = resolve(dts=RMEM_ONLY.encode(), arch="arm64", memory=[(0x40000000, 0x10000000)])
    assert any(r.base == 0x48000000 for r in plan.regions)
    blob = parse_dts(text=RMEM_ONLY, filename="x.dts").to_dtb()
    plan = resolve(dts=blob, arch="arm64", memory=[(0x40000000, 0x10000000)])
    assert any(r.base == 0x48000000 for r in plan.regions)
    with pytest.raises(ResolveError, match="offset 3") as excinfo:
        resolve(dts=b"/dt\xff", arch="arm64", memory="1G")
    _arg_error(excinfo, "dts")


def test_bytes_cmdline_is_decoded() -> None:
    plan = resolve(dts=EMPTY_DTS, arch="arm64", memory="1G", cmdline=b"cma=32M", kernel_version="6.1")
    assert plan.global_cma.origin == "cmdline" and plan.global_cma.size == 32 << 20


def test_single_include_dir_is_one_directory(tmp_path: Path) -> None:
    (tmp_path / "extra.dtsi").write_text("/ { model = \"from-include\"; };\n")
    dts = '/dts-v1/;\n/ { };\n/include/ "extra.dtsi"\n'
    for dirs in (str(tmp_path), tmp_path):
        plan = resolve(dts=dts, arch="arm64", memory="1G", include_dirs=dirs)
        assert plan.ok


# -- 5. the .config is read once ---------------------------------------------------------------


def test_config_loaded_once_under_the_assumed_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import memplan.kconfig  # the facade imports it when a .config is given, and calls it from there

    calls: list[object] = []
    real = memplan.kconfig.load_config

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("kernel_version"))
        return real(*args, **kwargs)

    monkeypatch.setattr(memplan.kconfig, "load_config", counting)
    cfg = tmp_path / "defconfig"
    cfg.write_text(CMA72)
    plan = resolve(dts=EMPTY_DTS, config=os.fspath(cfg), arch="arm64", memory="1G")
    assert len(calls) == 1
    assert str(calls[0]).startswith("6.1.")
    assert "version-unknown" in _codes(plan)
    assert "kconfig-version-assumed" not in _codes(plan)


# -- 8. facade ---------------------------------------------------------------------------------


def test_facade_exports() -> None:
    assert memplan.api.__all__ == ["resolve"]
    assert "read_observed" in memplan.__all__
    from memplan.observe import read_observed

    assert memplan.read_observed is read_observed
