"""Every value kconfiglib would drop silently, and every bad line, gets a positioned diagnostic."""

from __future__ import annotations

import pytest

from memplan.kconfig import KernelConfig, load_config

BASE = "CONFIG_CMA=y\nCONFIG_DMA_CMA=y\n"


def cfg(text: str, arch: str = "arm64", version: str = "6.1") -> KernelConfig:
    return load_config(text=text, name="defconfig", arch=arch, kernel_version=version)


def found(c: KernelConfig) -> list[tuple[str, int | None]]:
    return [(d.code, d.source.line if d.source else None) for d in c.diagnostics]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CONFIG_FOO\n", [("kconfig-malformed-line", 1)]),
        ("\n\nthis is not a config\n", [("kconfig-malformed-line", 3)]),
        ("CONFIG_FOO = y\n", [("kconfig-malformed-line", 1)]),
        ("  CONFIG_CMA=y\n", [("kconfig-malformed-line", 1)]),
        ("CONFIG_UNKNOWN_THING=abc\n", [("kconfig-malformed-line", 1)]),
        (BASE + "CONFIG_CMA_SIZE_MBYTES=abc\n", [("kconfig-malformed-line", 3)]),
        (BASE + 'CONFIG_CMA_SIZE_MBYTES="16"\n', [("kconfig-invalid-value", 3)]),
        (BASE + "CONFIG_CMA_AREAS=0x10\n", [("kconfig-invalid-value", 3)]),
        ("CONFIG_CMA=16\n", [("kconfig-invalid-value", 1)]),
        ("CONFIG_CMA=m\n", [("kconfig-invalid-value", 1)]),
        ("CONFIG_CMDLINE=unquoted\n", [("kconfig-malformed-line", 1)]),
        ('CONFIG_CMDLINE="open\n', [("kconfig-malformed-line", 1)]),
        ("CONFIG_CMA=y\nCONFIG_CMA=n\n", [("kconfig-duplicate", 2)]),
        ("CONFIG_MEMPLAN_KVER=510\n", [("kconfig-reserved-symbol", 1)]),
    ],
)
def test_bad_lines(text: str, expected: list[tuple[str, int]]) -> None:
    assert found(cfg(text)) == expected


def test_each_malformed_line_in_a_file_is_reported_once_with_its_text() -> None:
    text = "# comment\nCONFIG_A\nCONFIG_CMA=y\n!!\nCONFIG_B=1\n"
    c = cfg(text)
    assert found(c) == [("kconfig-malformed-line", 2), ("kconfig-malformed-line", 4)]
    assert c.diagnostics[0].source is not None and c.diagnostics[0].source.text == "CONFIG_A"
    assert c.cma  # the good lines still count
    assert c.value("B") == "1"


def test_duplicate_names_both_lines_and_last_wins() -> None:
    c = cfg(BASE + "CONFIG_CMA_SIZE_MBYTES=32\nCONFIG_CMA_SIZE_MBYTES=64\n")
    (d,) = c.diagnostics
    assert d.code == "kconfig-duplicate" and "line 3" in d.message and "line 4" in d.message
    assert c.cma_size_mbytes == 64
    assert str(c.source_of("CMA_SIZE_MBYTES")) == "defconfig:4"


def test_mbytes_ignored_under_percentage_selection() -> None:
    c = cfg(BASE + "CONFIG_CMA_SIZE_MBYTES=32\nCONFIG_CMA_SIZE_SEL_PERCENTAGE=y\n")
    (d,) = c.diagnostics
    assert (d.code, d.source.line if d.source else None) == ("kconfig-value-ignored", 3)
    assert "CMA_SIZE_SEL_PERCENTAGE=y (line 4)" in d.message
    assert c.cma_size_mbytes is None and c.cma_size_percentage == 10
    assert "line 3 of defconfig not used" in str(c.source_of("CMA_SIZE_MBYTES"))


def test_dma_cma_without_cma_is_dropped() -> None:
    c = cfg("CONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=64\n")
    assert not c.dma_cma and c.cma_size_mbytes is None
    assert found(c) == [("kconfig-unmet-dependency", 1), ("kconfig-value-ignored", 2)]
    assert "CMA=n" in c.diagnostics[0].message


def test_choice_member_overridden_by_a_later_one() -> None:
    c = cfg(BASE + "CONFIG_CMA_SIZE_SEL_PERCENTAGE=y\nCONFIG_CMA_SIZE_SEL_MIN=y\n")
    assert c.cma_size_sel == "min"
    assert found(c) == [("kconfig-choice-override", 3)]
    assert "CONFIG_CMA_SIZE_SEL_MIN (line 4)" in c.diagnostics[0].message
    assert str(c.source_of("CMA_SIZE_SEL_MIN")) == "defconfig:4"


def test_unsetting_the_only_choice_member_keeps_the_default() -> None:
    c = cfg(BASE + "# CONFIG_CMA_SIZE_SEL_MBYTES is not set\n")
    assert c.cma_size_sel == "mbytes"
    assert found(c) == [("kconfig-choice-override", 3)]


def test_unset_symbol_forced_on_by_select() -> None:
    c = cfg("CONFIG_CMA=y\n# CONFIG_MIGRATION is not set\n")
    assert c.value("MIGRATION") == "y"
    assert found(c) == [("kconfig-value-overridden", 2)]
    assert "CONFIG_CMA" in c.diagnostics[0].message


def test_derived_memplan_symbol_cannot_be_set() -> None:
    c = cfg("# CONFIG_HAVE_DMA_CONTIGUOUS is not set\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n")
    assert c.dma_cma  # arm64 always has it
    assert found(c) == [("kconfig-value-overridden", 1)]


def test_unknown_symbols_are_kept_raw_without_noise() -> None:
    c = cfg(
        'CONFIG_SOME_DRIVER=m\nCONFIG_SOME_STRING="a b"\nCONFIG_SOME_HEX=0x1f\n# CONFIG_OTHER is not set\n'
    )
    assert c.diagnostics == ()
    assert (c.value("SOME_DRIVER"), c.value("CONFIG_SOME_STRING"), c.value("SOME_HEX")) == (
        "m",
        "a b",
        "0x1f",
    )
    assert c.value("OTHER") == "n" and c.value("NEVER_MENTIONED") == ""
    assert str(c.source_of("SOME_HEX")) == "defconfig:3"


def test_unmodelled_derived_symbols_from_a_full_config_are_trusted() -> None:
    # In a real .config something we do not model (memory hot-remove) selects MEMORY_ISOLATION.
    c = cfg("CONFIG_MEMORY_ISOLATION=y\n", arch="x86")
    assert c.diagnostics == ()
    assert c.value("MEMORY_ISOLATION") == "y"


def test_diagnostics_render_with_file_and_line() -> None:
    c = cfg("CONFIG_DMA_CMA=y\n")
    text = str(c.diagnostics[0])
    assert text.startswith("defconfig:1: warning: [kconfig-unmet-dependency] CONFIG_DMA_CMA=y dropped")


def test_trailing_junk_on_a_bool_is_read_like_the_kernel_tools_do() -> None:
    c = cfg("CONFIG_CMA=y # wanted\nCONFIG_DMA_CMA=yes\nCONFIG_CMA_SIZE_MBYTES=32 # MiB\n")
    assert (c.cma, c.dma_cma, c.cma_size_mbytes) == (True, True, 16)
    assert found(c) == [
        ("kconfig-malformed-line", 1),
        ("kconfig-malformed-line", 2),
        ("kconfig-malformed-line", 3),
    ]
    assert str(c.source_of("CMA")) == "defconfig:1"
    assert "line 3 of defconfig is invalid" in str(c.source_of("CMA_SIZE_MBYTES"))


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("CONFIG_CMA_SIZE_MBYTE=64", "CONFIG_CMA_SIZE_MBYTES"),  # a letter short
        ("CONFIG_CMA_AREA=4", "CONFIG_CMA_AREAS"),
        ("CONFIG_cma_size_mbytes=64", "CONFIG_CMA_SIZE_MBYTES"),  # names are case-sensitive
        ("CONFIG_Dma_Cma=y", "CONFIG_DMA_CMA"),
    ],
)
def test_misspelt_memplan_symbols_are_reported_with_the_intended_name(line: str, meant: str) -> None:
    c = cfg(BASE + line + "\n")
    assert c.cma_size_mbytes == 16 and c.cma_areas == 7  # the misspelt line changes nothing
    (d,) = c.diagnostics
    assert (d.code, d.source.line if d.source else None) == ("kconfig-unknown-symbol", 3)
    assert f"did you mean {meant}?" in d.message


@pytest.mark.parametrize("line", ["CONFIG_BCMA_DEBUG=y", "CONFIG_X86_X32=y", "CONFIG_CMDLINE_PARTITION=y"])
def test_real_symbols_that_resemble_memplan_ones_are_not_reported(line: str) -> None:
    assert cfg(BASE + line + "\n").diagnostics == ()
