"""effective_cmdline: bootloader + DT /chosen/bootargs + CONFIG_CMDLINE (kernel-semantics.md §6)."""

from __future__ import annotations

import attrs
import pytest

from memplan.cmdline import effective_cmdline, parse_cmdline
from memplan.errors import CmdlineError
from memplan.source import Source

DT = Source.at("board.dts", 12, 3, '\t\tbootargs = "console=ttyS0 cma=64M";')


@attrs.frozen
class FakeConfig:
    cmdline: str
    cmdline_mode: str

    def source_of(self, symbol: str) -> Source:
        lines = {"CMDLINE": 40, "CMDLINE_EXTEND": 41, "CMDLINE_FORCE": 42}
        if symbol not in lines:
            raise KeyError(symbol)
        return Source.config_line(".config", lines[symbol], f"CONFIG_{symbol}=...")


@pytest.mark.parametrize(
    ("arch", "bootloader", "bootargs", "cfg", "text", "origin"),
    [
        ("arm64", None, "console=ttyS0 cma=64M", None, "console=ttyS0 cma=64M", "DT /chosen/bootargs"),
        (
            "arm",
            None,
            "cma=64M",
            FakeConfig("cma=32M", "extend"),
            "cma=64M cma=32M",
            "DT /chosen/bootargs + CONFIG_CMDLINE (CMDLINE_EXTEND)",
        ),
        (
            "arm64",
            None,
            "cma=64M",
            FakeConfig("cma=32M", "force"),
            "cma=32M",
            "CONFIG_CMDLINE (CMDLINE_FORCE)",
        ),
        ("arm64", None, "cma=64M", FakeConfig("cma=32M", "bootloader"), "cma=64M", "DT /chosen/bootargs"),
        (
            "arm64",
            None,
            "",
            FakeConfig("cma=32M", "bootloader"),
            "cma=32M",
            "CONFIG_CMDLINE (CMDLINE_FROM_BOOTLOADER: no bootargs)",
        ),
        (
            "riscv",
            None,
            None,
            FakeConfig("cma=32M", "fallback"),
            "cma=32M",
            "CONFIG_CMDLINE (CMDLINE_FALLBACK: no bootargs)",
        ),
        ("arm64", "cma=16M", "cma=64M", None, "cma=16M", "bootloader"),  # EFI loader string replaces bootargs
        ("arm64", "", "cma=64M", None, "cma=64M", "DT /chosen/bootargs"),  # ... only when non-empty
        ("arm64", None, None, None, "", "empty"),
        ("x86", "cma=64M", None, None, "cma=64M", "bootloader"),
        (
            "x86",
            "cma=64M",
            None,
            FakeConfig("cma=32M", "prepend"),
            "cma=32M cma=64M",
            "CONFIG_CMDLINE (CMDLINE_BOOL) + bootloader",
        ),
        (
            "x86",
            "cma=64M",
            None,
            FakeConfig("cma=32M", "override"),
            "cma=32M",
            "CONFIG_CMDLINE (CMDLINE_OVERRIDE)",
        ),
        ("x86_64", "cma=64M", None, FakeConfig("", "prepend"), "cma=64M", "bootloader"),
    ],
)
def test_effective_table(
    arch: str, bootloader: str | None, bootargs: str | None, cfg: FakeConfig | None, text: str, origin: str
) -> None:
    eff = effective_cmdline(
        arch=arch, bootloader=bootloader, dt_bootargs=bootargs, dt_bootargs_source=DT, config=cfg
    )
    assert eff.text == text
    assert eff.origin == origin


def test_extend_wins_for_repeated_cma_and_tokens_know_their_part() -> None:
    cfg = FakeConfig("cma=32M", "extend")
    eff = effective_cmdline(
        arch="arm", dt_bootargs="console=ttyS0 cma=64M", dt_bootargs_source=DT, config=cfg
    )
    cl = parse_cmdline(eff)
    assert cl.cma is not None and cl.cma.size == 32 << 20
    assert cl.cma.source is not None and cl.cma.source.file == "CONFIG_CMDLINE"
    assert [t.origin for t in cl.tokens] == ["/chosen/bootargs", "/chosen/bootargs", "CONFIG_CMDLINE"]
    assert cl.arch == "arm"
    assert cl.origin == "DT /chosen/bootargs + CONFIG_CMDLINE (CMDLINE_EXTEND)"
    part = eff.part_at(cl.cma.source.span[0])  # type: ignore[index]
    assert part is not None and part.source == cfg.source_of("CMDLINE")
    assert eff.part_at(0) is not None and eff.part_at(0).source == DT  # type: ignore[union-attr]
    assert eff.origin_at(21) is None  # the joining blank


def test_x86_prepend_lets_the_bootloader_win() -> None:
    eff = effective_cmdline(arch="x86", bootloader="cma=64M", config=FakeConfig("cma=32M", "prepend"))
    cl = parse_cmdline(eff)
    assert cl.cma is not None and cl.cma.size == 64 << 20
    assert cl.cma.source is not None and cl.cma.source.file == "bootloader"


def test_x86_ignores_dt_bootargs_with_a_note() -> None:
    eff = effective_cmdline(arch="x86", bootloader="quiet", dt_bootargs="cma=1G", dt_bootargs_source=DT)
    assert eff.text == "quiet"
    assert [d.code for d in eff.diagnostics] == ["cmdline-dt-bootargs-ignored"]


def test_missing_chosen_before_6_1_drops_config_cmdline() -> None:
    cfg = FakeConfig("cma=32M", "bootloader")
    old = effective_cmdline(arch="arm64", config=cfg, kernel_version="5.15", has_chosen=False)
    assert old.text == "" and "v6.1" in old.origin
    assert [d.code for d in old.diagnostics] == ["cmdline-no-chosen"]
    assert old.diagnostics[0].source == cfg.source_of("CMDLINE")
    new = effective_cmdline(arch="arm64", config=cfg, kernel_version="6.1", has_chosen=False)
    assert new.text == "cma=32M"


def test_arm64_extend_gone_in_5_12() -> None:
    cfg = FakeConfig("cma=32M", "extend")
    eff = effective_cmdline(arch="arm64", dt_bootargs="cma=64M", config=cfg, kernel_version="6.1")
    assert eff.text == "cma=64M"
    assert [d.code for d in eff.diagnostics] == ["cmdline-extend-unavailable"]
    old = effective_cmdline(arch="arm64", dt_bootargs="cma=64M", config=cfg, kernel_version="5.11")
    assert old.text == "cma=64M cma=32M"


def test_force_notes_the_unused_bootargs() -> None:
    eff = effective_cmdline(
        arch="arm64", dt_bootargs="cma=64M", dt_bootargs_source=DT, config=FakeConfig("x", "force")
    )
    assert [d.code for d in eff.diagnostics] == ["cmdline-bootargs-overridden"]
    assert eff.diagnostics[0].source == DT


def test_truncation_to_command_line_size() -> None:
    long_args = " ".join(f"opt{i}=value" for i in range(200))  # ~2.2k characters
    eff = effective_cmdline(arch="arm", dt_bootargs=long_args + " cma=64M")
    assert len(eff.text) == 1023
    assert eff.truncated == len(long_args) + 8 - 1023
    (diag,) = eff.diagnostics
    assert diag.code == "cmdline-truncated" and "1023" in diag.message
    cl = parse_cmdline(eff)
    assert cl.cma is None  # cut off, as the kernel would
    assert "cmdline-truncated" in [d.code for d in cl.diagnostics]
    arm64 = effective_cmdline(arch="arm64", dt_bootargs=long_args)
    assert len(arm64.text) == 2047


def test_bad_mode_and_arch_are_errors_with_source() -> None:
    with pytest.raises(CmdlineError) as info:
        effective_cmdline(arch="x86", config=FakeConfig("a", "extend"))
    assert info.value.source is not None and "extend" in str(info.value)
    with pytest.raises(CmdlineError) as info2:
        effective_cmdline(arch="sparc64")
    assert info2.value.source is not None and "sparc64" in str(info2.value)


@pytest.mark.parametrize(("version", "available"), [("5.10", False), ("5.11", True), ("5.12", False)])
def test_arm64_extend_exists_only_in_5_11(version: str, available: bool) -> None:
    cfg = FakeConfig("cma=32M", "extend")
    eff = effective_cmdline(arch="arm64", dt_bootargs="cma=64M", config=cfg, kernel_version=version)
    assert eff.text == ("cma=64M cma=32M" if available else "cma=64M")
    assert [d.code for d in eff.diagnostics] == ([] if available else ["cmdline-extend-unavailable"])


@pytest.mark.parametrize(("arch", "mode"), [("arm64", "force"), ("riscv", "force"), ("x86", "override")])
def test_forcing_an_empty_builtin_string_empties_the_command_line(arch: str, mode: str) -> None:
    # arm64 before v5.10 allowed CMDLINE_FORCE with CMDLINE=""; the kernel then copies "" over
    eff = effective_cmdline(
        arch=arch, bootloader="cma=64M" if arch == "x86" else None, dt_bootargs="cma=64M",
        config=FakeConfig("", mode), kernel_version="5.4",
    )
    assert eff.text == ""
    assert "cmdline-forced-empty" in [d.code for d in eff.diagnostics]
    assert parse_cmdline(eff).cma is None
