"""Hostile and huge kernel configs: range-checked numbers, bounded input, deterministic text.

A real .config has about 12,000 lines and numbers of at most a few digits; the inputs here are
at least 10x that.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from memplan.errors import ConfigError, MemplanError
from memplan.kconfig import load_config
from memplan.kconfig.limits import MAX_CONFIG_ENV
from memplan.version import KernelVersion

HUGE = "9" * 50_000


def cfg(text: str, arch: str = "arm", version: str = "5.10") -> object:
    return load_config(text=text, name="defconfig", arch=arch, kernel_version=version)


@pytest.mark.parametrize(
    "value", ["100000", "0x7fffffffffffffff", "64", "0", "-12", HUGE], ids=lambda v: str(v)[:20]
)
@pytest.mark.parametrize("arch", ["arm", "x86", "riscv"])
def test_page_shift_outside_the_kernel_choices_is_recomputed_with_a_warning(value: str, arch: str) -> None:
    c = load_config(text=f"CONFIG_CMA=y\nCONFIG_PAGE_SHIFT={value}\n", name="defconfig", arch=arch,
                    kernel_version="6.8")
    assert c.page_size == 4096
    (d,) = [d for d in c.diagnostics if d.code == "kconfig-out-of-range"]
    assert d.source is not None and (d.source.file, d.source.line) == ("defconfig", 2)
    assert len(d.message) < 400


def test_valid_page_shift_is_used() -> None:
    c = load_config(text="CONFIG_PAGE_SHIFT=16\n", name="defconfig", arch="arm", kernel_version="6.8")
    assert c.page_size == 65536


@pytest.mark.parametrize(
    ("line", "symbol"),
    [
        ("CONFIG_FORCE_MAX_ZONEORDER=-5", "FORCE_MAX_ZONEORDER"),
        ("CONFIG_FORCE_MAX_ZONEORDER=100000", "FORCE_MAX_ZONEORDER"),
        ("CONFIG_FORCE_MAX_ZONEORDER=0", "FORCE_MAX_ZONEORDER"),
        ("CONFIG_CMA_AREAS=-5", "CMA_AREAS"),
        # no C integer constant holds it (smaller ones build: tests/resolve/test_kconfig_size_wraps.py)
        ("CONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=18446744073709551616", "CMA_SIZE_MBYTES"),
        ("CONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=-18446744073709551616", "CMA_SIZE_MBYTES"),
        ("CONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_SEL_PERCENTAGE=y\nCONFIG_CMA_SIZE_PERCENTAGE=9223372036854775808",
         "CMA_SIZE_PERCENTAGE"),
    ],
    ids=lambda v: v[:40],
)
def test_unbuildable_numbers_are_a_config_error_at_the_line(line: str, symbol: str) -> None:
    text = f"CONFIG_CMA=y\n{line}\n"
    with pytest.raises(ConfigError) as info:
        cfg(text)
    err = info.value
    assert err.source is not None and err.source.file == "defconfig"
    assert err.source.line == text.count("\n")
    assert f"CONFIG_{symbol}" in err.message and len(str(err)) < 600


def test_huge_number_kconfig_cannot_read_is_ignored_with_short_messages() -> None:
    c = cfg(f"CONFIG_CMA=y\nCONFIG_FORCE_MAX_ZONEORDER={HUGE}\n")
    assert c.max_order == 10  # type: ignore[attr-defined]
    diags = c.diagnostics  # type: ignore[attr-defined]
    assert diags and all(len(d.message) < 600 for d in diags)


def test_order_limit_must_leave_an_addressable_block() -> None:
    with pytest.raises(ConfigError, match="largest page order of 59"):
        cfg("CONFIG_CMA=y\nCONFIG_FORCE_MAX_ZONEORDER=60\n")
    assert cfg("CONFIG_CMA=y\nCONFIG_FORCE_MAX_ZONEORDER=12\n").max_order == 11  # type: ignore[attr-defined]


def test_plan_of_a_hostile_config_is_json_ready() -> None:
    import memplan

    dts = (
        "/dts-v1/;\n/ { #address-cells = <1>; #size-cells = <1>;\n"
        ' memory@0 { device_type = "memory"; reg = <0 0x40000000>; }; };\n'
    )
    plan = memplan.resolve(dts=dts, config="CONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_PAGE_SHIFT=100000\n",
                           arch="arm", kernel_version="6.8")
    assert plan.to_json().startswith("{")


def test_huge_header_version_is_a_warning_and_kernel_version_argument_an_error() -> None:
    c = load_config(text=f"# Linux/arm64 {HUGE}.1 Kernel Configuration\nCONFIG_CMA=y\n", name="defconfig")
    (d,) = [d for d in c.diagnostics if d.code == "kconfig-header-version"]
    assert d.source is not None and d.source.line == 1 and len(d.message) < 400
    with pytest.raises(ConfigError) as info:
        load_config(text="CONFIG_CMA=y\n", arch="arm64", kernel_version=f"{HUGE}.1")
    assert "digits" in info.value.message and len(str(info.value)) < 600
    with pytest.raises(MemplanError):
        KernelVersion.parse("6." + HUGE)


def test_diagnostics_do_not_depend_on_what_was_loaded_before() -> None:
    text = "CONFIG_DMA_NUMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=32\nCONFIG_CMA_DEBUGFS=y\n"
    first = [d.message for d in load_config(text=text, arch="arm64", kernel_version="6.6").diagnostics]
    for arch in ("arm", "x86", "riscv", "arm64"):  # churn the model objects and their addresses
        load_config(text="CONFIG_CMA=y\nCONFIG_NUMA=y\n", arch=arch, kernel_version="6.1")
    again = [d.message for d in load_config(text=text, arch="arm64", kernel_version="6.6").diagnostics]
    assert first == again
    assert any("here DMA_CMA=n (not in the file); NUMA=n (not in the file)" in m for m in first)


def test_gzip_bomb_is_refused_while_streaming(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_CONFIG_ENV, str(1 << 20))
    bomb = tmp_path / "config.gz"
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"# " + b"A" * 1022 + b"\n"
    body = b"".join(comp.compress(block) for _ in range(10 * 1024)) + comp.flush()  # 10 MiB of text
    bomb.write_bytes(body)
    assert len(body) < 100_000
    with pytest.raises(ConfigError) as info:
        load_config(bomb, arch="arm64")
    assert MAX_CONFIG_ENV in info.value.message and str(1 << 20) in info.value.message
    monkeypatch.setenv(MAX_CONFIG_ENV, str(16 << 20))
    assert load_config(bomb, arch="arm64").arch == "arm64"


def test_gzip_truncated_and_multi_member(tmp_path: Path) -> None:
    whole = gzip.compress(b"CONFIG_CMA=y\n") + gzip.compress(b"CONFIG_DMA_CMA=y\n")
    (tmp_path / "two.gz").write_bytes(whole)
    assert load_config(tmp_path / "two.gz", arch="arm64").dma_cma
    (tmp_path / "cut.gz").write_bytes(whole[:15])
    with pytest.raises(ConfigError, match="gzip"):
        load_config(tmp_path / "cut.gz", arch="arm64")


def test_text_over_the_limit_names_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_CONFIG_ENV, "1000")
    with pytest.raises(ConfigError, match=MAX_CONFIG_ENV):
        load_config(text="#" * 2000, arch="arm64")


def test_150k_line_config_loads_with_every_symbol_kept() -> None:
    lines = ["CONFIG_CMA=y", "CONFIG_DMA_CMA=y"] + [f"CONFIG_SYMBOL_NUMBER_{i}=y" for i in range(150_000)]
    lines.append("CONFIG_CMA_SIZE_MBYTES=64")
    c = load_config(text="\n".join(lines) + "\n", arch="arm64", kernel_version="6.1")
    assert c.cma_size_mbytes == 64 and c.value("SYMBOL_NUMBER_149999") == "y"
    assert c.diagnostics == ()


def test_resolve_reads_a_gzip_bomb_config_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import memplan

    monkeypatch.setenv(MAX_CONFIG_ENV, str(1 << 20))
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = tmp_path / "config.gz"
    bomb.write_bytes(b"".join(comp.compress(b"#" * 65536) for _ in range(160)) + comp.flush())  # 10 MiB
    dts = "/dts-v1/;\n/ { #address-cells = <1>; #size-cells = <1>; };\n"
    with pytest.raises(ConfigError) as info:
        memplan.resolve(dts=dts, config=bomb, arch="arm64", memory="1G")
    assert "config=" in info.value.message and MAX_CONFIG_ENV in info.value.message


def test_config_reading_is_lean() -> None:
    """A .config is kept as its text plus columns: a couple of hundred bytes a line at most
    (it was about 650), measured as the peak of the parse, the text itself excluded."""
    import tracemalloc

    from memplan.kconfig import parse_dotconfig

    n = 150_000
    text = "\n".join(["CONFIG_CMA=y"] + [f"CONFIG_SYMBOL_NUMBER_{i}=y" for i in range(n)]) + "\n"
    tracemalloc.start()
    try:
        dot = parse_dotconfig(text, "big")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / n < 200, f"{peak / n:.0f} bytes per line"
    assert len(dot.assignments) == n + 1 and dot.last()["SYMBOL_NUMBER_77"].line == 79
    assert dot.assignments[-1].source.text == f"CONFIG_SYMBOL_NUMBER_{n - 1}=y"


def test_a_million_real_lines_fit_under_the_default_limit() -> None:
    """The default limit admits a million lines as long as those of real configs (their
    average, taken from the recorded Debian configs), with room to spare."""
    from memplan.kconfig.limits import DEFAULT_MAX_CONFIG_BYTES

    configs = sorted((Path(__file__).resolve().parents[1] / "kernel/fixtures/configs").glob("*.config.gz"))
    assert configs
    lines = [line for gz in configs for line in gzip.decompress(gz.read_bytes()).splitlines()]
    average = sum(len(line) + 1 for line in lines) / len(lines)
    assert 1_000_000 * average * 1.5 < DEFAULT_MAX_CONFIG_BYTES


def test_kernel_config_of_a_big_file_keeps_every_value_and_line_and_pickles() -> None:
    import pickle

    lines = ["CONFIG_CMA=y", "CONFIG_DMA_CMA=y", 'CONFIG_NAME="a \\"b\\""', "# CONFIG_OFF is not set"]
    lines += [f"CONFIG_SYMBOL_{i}={i}" for i in range(20_000)]
    c = load_config(text="\n".join(lines) + "\n", name="big", arch="arm64", kernel_version="6.1")
    assert c.value("NAME") == 'a "b"' and c.value("OFF") == "n" and c.value("SYMBOL_19999") == "19999"
    assert c.value("CMA") == "y" and c.value("NOT_THERE") == ""
    src = c.source_of("SYMBOL_5")
    assert (src.file, src.line, src.text) == ("big", 10, "CONFIG_SYMBOL_5=5")
    assert "SYMBOL_123" in c.values and len(c.values) == len(list(c.values))
    again = pickle.loads(pickle.dumps(c))
    assert again.value("SYMBOL_19999") == "19999" and dict(again.values) == dict(c.values)
