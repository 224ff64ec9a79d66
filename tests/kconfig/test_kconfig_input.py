"""Header detection, explicit arguments, file input and unusable input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memplan.errors import ConfigError, MemplanError
from memplan.kconfig import NEWEST_MODELLED, load_config
from memplan.version import KernelVersion

SRCTREE_VAR = "srctree"  # kconfiglib's (lower-case) variable
HEADER_ARM64 = (
    "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/arm64 6.1.0 Kernel Configuration\n#\n"
)
HEADER_DEB = (
    "#\n# Automatically generated file; DO NOT EDIT.\n"
    "# Linux/x86 6.12.57+deb13-amd64 Kernel Configuration\n#\n"
)


@pytest.mark.parametrize(
    ("text", "arch", "version"),
    [
        (HEADER_ARM64 + "CONFIG_CMA=y\n", "arm64", KernelVersion(6, 1, 0)),
        (HEADER_DEB + "CONFIG_X86_64=y\n", "x86", KernelVersion(6, 12, 57)),
        ("# Linux/x86_64 4.19.0 Kernel Configuration\n", "x86", KernelVersion(4, 19, 0)),
        ("# Linux/arm 5.10.120 Kernel Configuration\n", "arm", KernelVersion(5, 10, 120)),
        ("# Linux/riscv 6.6.0-rc3 Kernel Configuration\n", "riscv", KernelVersion(6, 6, 0)),
    ],
)
def test_header_detection(text: str, arch: str, version: KernelVersion) -> None:
    c = load_config(text=text)
    assert (c.arch, c.kernel_version) == (arch, version)
    assert c.diagnostics == ()


def test_header_version_suffix_is_kept_for_display() -> None:
    c = load_config(text=HEADER_DEB)
    assert str(c.kernel_version) == "6.12.57+deb13-amd64"


@pytest.mark.parametrize(
    ("symbol", "arch"),
    [("ARM64", "arm64"), ("X86_64", "x86"), ("X86", "x86"), ("RISCV", "riscv"), ("ARM", "arm")],
)
def test_arch_from_symbols_without_header(symbol: str, arch: str) -> None:
    c = load_config(text=f"CONFIG_{symbol}=y\nCONFIG_CMA=y\n", kernel_version="6.6")
    assert c.arch == arch
    assert c.diagnostics == ()


def test_explicit_arguments_win_and_disagreement_is_reported() -> None:
    c = load_config(text=HEADER_ARM64 + "CONFIG_ARM64=y\n", arch="arm", kernel_version="6.6")
    assert (c.arch, c.kernel_version) == ("arm", KernelVersion(6, 6))
    codes = [(d.code, d.source.line if d.source else None) for d in c.diagnostics]
    assert ("kconfig-arch-mismatch", 3) in codes  # the header
    assert ("kconfig-arch-mismatch", 5) in codes  # CONFIG_ARM64=y
    assert ("kconfig-version-mismatch", 3) in codes


def test_explicit_arguments_agreeing_with_the_header_are_silent() -> None:
    c = load_config(text=HEADER_ARM64, arch="aarch64", kernel_version=(6, 1))
    assert c.arch == "arm64" and c.diagnostics == ()


def test_unknown_version_assumes_the_newest_model() -> None:
    c = load_config(text="CONFIG_CMA=y\n", arch="arm64")
    assert c.kernel_version is None
    (d,) = c.diagnostics
    assert d.code == "kconfig-version-assumed" and d.severity == "info"
    assert f"{NEWEST_MODELLED.major}.{NEWEST_MODELLED.minor}" in d.message
    assert c.cma_areas == 8  # newest rules


def test_older_than_model_is_noted() -> None:
    c = load_config(text="# Linux/arm64 4.14.0 Kernel Configuration\n")
    assert [d.code for d in c.diagnostics] == ["kconfig-version-unmodelled"]


def test_bad_header_version_is_reported() -> None:
    c = load_config(text="# Linux/arm64 banana Kernel Configuration\n", kernel_version="6.1")
    assert [(d.code, d.source.line if d.source else None) for d in c.diagnostics] == [
        ("kconfig-header-version", 1)
    ]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"text": "CONFIG_CMA=y\n"}, "cannot tell the architecture"),
        ({"text": "# Linux/sparc 6.1.0 Kernel Configuration\n"}, "sparc"),
        ({"text": "", "arch": "sparc"}, "unknown architecture"),
        ({"text": "", "arch": "arm64", "kernel_version": "six"}, "not a kernel version"),
        ({}, "exactly one"),
    ],
)
def test_unusable_arguments(kwargs: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(**kwargs)  # type: ignore[arg-type]
    assert needle in str(info.value)
    assert info.value.source is not None


def test_header_naming_an_unmodelled_arch_uses_the_generic_model() -> None:
    c = load_config(text="# Linux/powerpc 6.1.0 Kernel Configuration\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n")
    assert (c.arch, c.cma, c.dma_cma) == ("powerpc", True, True)
    assert [d.code for d in c.diagnostics] == ["kconfig-arch-generic"]


def test_path_input_and_names(tmp_path: Path) -> None:
    p = tmp_path / "my_defconfig"
    p.write_text("CONFIG_CMA=y\nCONFIG_DMA_CMA=y\n")
    for arg in (p, str(p)):
        c = load_config(arg, arch="arm64", kernel_version="6.1")
        assert c.name == str(p) and c.cma_size_mbytes == 16
        assert str(c.source_of("DMA_CMA")) == f"{p}:2"
    c = load_config(p, name="defconfig", arch="arm64", kernel_version="6.1")
    assert str(c.source_of("CMA")) == "defconfig:1"


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "missing", arch="arm64")
    assert info.value.source is not None and info.value.source.file == str(tmp_path / "missing")
    with pytest.raises(ConfigError, match="directory"):
        load_config(tmp_path, arch="arm64")


def test_binary_and_non_utf8_inputs_name_the_line(tmp_path: Path) -> None:
    blob = tmp_path / "vmlinux"
    blob.write_bytes(b"CONFIG_CMA=y\n\x7fELF\x00\x01\x02")
    with pytest.raises(ConfigError) as info:
        load_config(blob, arch="arm64")
    assert info.value.source is not None and info.value.source.line == 2
    latin = tmp_path / "latin1"
    latin.write_bytes(b'CONFIG_CMA=y\nCONFIG_CMDLINE="caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        load_config(latin, arch="arm64")
    assert info.value.source is not None and info.value.source.line == 2
    with pytest.raises(ConfigError):
        load_config(text="CONFIG_CMA=y\x00\n", arch="arm64")


def test_errors_are_memplan_errors_with_positions() -> None:
    with pytest.raises(MemplanError) as info:
        load_config(text="CONFIG_A=y\nCONFIG_B=\x00\n", name="cfg", arch="x86")
    assert str(info.value).startswith("cfg:2: ")


def test_crlf_and_trailing_whitespace_are_accepted() -> None:
    c = load_config(text="CONFIG_CMA=y  \r\nCONFIG_DMA_CMA=y\r\n", arch="arm64", kernel_version="6.1")
    assert c.dma_cma and c.diagnostics == ()


def test_environment_is_not_leaked_and_stderr_stays_quiet(capfd: pytest.CaptureFixture[str]) -> None:
    from memplan.kconfig import clear_cache

    before = dict(os.environ)
    os.environ[SRCTREE_VAR] = "/nonexistent"
    os.environ["KCONFIG_WARN_UNDEF"] = "y"
    try:
        clear_cache()
        c = load_config(text="CONFIG_CMA=y\nCONFIG_FOO=y\n", arch="riscv", kernel_version="6.1")
        assert c.cma
        assert os.environ[SRCTREE_VAR] == "/nonexistent"
        assert "SRCARCH" not in before or os.environ["SRCARCH"] == before["SRCARCH"]
        assert "MEMPLAN_KVER" not in os.environ
    finally:
        os.environ.clear()
        os.environ.update(before)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_model_is_parsed_once_per_variant() -> None:
    from memplan.kconfig.engine import ModelKey, load_model

    key = ModelKey("arm64", 601, "cmdline-arm64-choice.Kconfig")
    assert load_model(key)[0] is load_model(key)[0]
    other = ModelKey("arm64", 510, "cmdline-arm64-single.Kconfig")
    assert load_model(other)[0] is not load_model(key)[0]


def test_explicit_series_matching_the_header_keeps_the_precise_version() -> None:
    c = load_config(text=HEADER_DEB, kernel_version="6.12")
    assert c.kernel_version == KernelVersion(6, 12, 57) and c.diagnostics == ()
    c = load_config(text=HEADER_DEB, kernel_version="6.12.3")
    assert c.kernel_version == KernelVersion(6, 12, 3)
    assert [d.code for d in c.diagnostics] == ["kconfig-version-mismatch"]


def test_result_is_hashable_picklable_and_json_ready() -> None:
    import json
    import pickle

    c = load_config(text="CONFIG_CMA=y\nCONFIG_DMA_CMA=y\n", name="d", arch="arm64", kernel_version="6.1")
    assert pickle.loads(pickle.dumps(c)) == c
    assert hash(c) == hash(pickle.loads(pickle.dumps(c)))
    data = json.loads(json.dumps(c.to_dict()))
    assert data["cma_size_mbytes"] == 16 and data["kernel_version"] == "6.1.0"


def test_gzip_config_like_proc_config_gz(tmp_path: Path) -> None:
    import gzip

    p = tmp_path / "config.gz"
    p.write_bytes(
        gzip.compress(b"# Linux/arm64 6.6.0 Kernel Configuration\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n")
    )
    c = load_config(p)
    assert (c.arch, c.cma_size_mbytes) == ("arm64", 16)
    assert str(c.source_of("DMA_CMA")) == f"{p}:3"
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ConfigError, match="gzip"):
        load_config(bad)
