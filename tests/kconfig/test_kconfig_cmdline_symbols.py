"""Built-in command line symbols per architecture and release (kernel-semantics §5.3, §6)."""

from __future__ import annotations

import pytest

from memplan.kconfig import load_config

S = 'CONFIG_CMDLINE="console=ttyS0 cma=64M"\n'


@pytest.mark.parametrize(
    ("arch", "version", "text", "cmdline", "mode", "diag"),
    [
        # arm64 ≤ 5.10: a lone CMDLINE_FORCE bool; from 5.10 it needs a non-empty CMDLINE
        ("arm64", "5.4", "CONFIG_CMDLINE_FORCE=y\n", "", "force", None),
        ("arm64", "5.10", S + "CONFIG_CMDLINE_FORCE=y\n", "console=ttyS0 cma=64M", "force", None),
        ("arm64", "5.10", "CONFIG_CMDLINE_FORCE=y\n", "", "bootloader", ("kconfig-unmet-dependency", 1)),
        (
            "arm64",
            "5.10",
            S + "CONFIG_CMDLINE_EXTEND=y\n",
            "console=ttyS0 cma=64M",
            "bootloader",
            ("kconfig-not-in-version", 2),
        ),
        # 5.11: a three-way choice
        ("arm64", "5.11", S, "console=ttyS0 cma=64M", "bootloader", None),
        ("arm64", "5.11", S + "CONFIG_CMDLINE_EXTEND=y\n", "console=ttyS0 cma=64M", "extend", None),
        # 5.12+: EXTEND is gone
        (
            "arm64",
            "5.12",
            S + "CONFIG_CMDLINE_EXTEND=y\n",
            "console=ttyS0 cma=64M",
            "bootloader",
            ("kconfig-not-in-version", 2),
        ),
        ("arm64", "6.1", S + "CONFIG_CMDLINE_FORCE=y\n", "console=ttyS0 cma=64M", "force", None),
        (
            "arm64",
            "6.12",
            S + "CONFIG_CMDLINE_FROM_BOOTLOADER=y\n",
            "console=ttyS0 cma=64M",
            "bootloader",
            None,
        ),
        ("arm", "6.1", S + "CONFIG_CMDLINE_EXTEND=y\n", "console=ttyS0 cma=64M", "extend", None),
        ("arm", "4.19", S + "CONFIG_CMDLINE_FORCE=y\n", "console=ttyS0 cma=64M", "force", None),
        # the choice is only offered with a non-empty string
        ("arm", "6.1", "CONFIG_CMDLINE_FORCE=y\n", "", "bootloader", ("kconfig-unmet-dependency", 1)),
        ("riscv", "6.1", S, "console=ttyS0 cma=64M", "fallback", None),
        ("riscv", "6.1", S + "CONFIG_CMDLINE_EXTEND=y\n", "console=ttyS0 cma=64M", "extend", None),
        ("riscv", "6.1", S + "CONFIG_CMDLINE_FORCE=y\n", "console=ttyS0 cma=64M", "force", None),
        # x86: CMDLINE_BOOL gates the string; OVERRIDE needs a non-empty string
        ("x86", "6.1", "", "", "none", None),
        ("x86", "6.1", S, "", "none", ("kconfig-value-ignored", 1)),
        ("x86", "6.1", "CONFIG_CMDLINE_BOOL=y\n" + S, "console=ttyS0 cma=64M", "prepend", None),
        (
            "x86",
            "6.1",
            "CONFIG_CMDLINE_BOOL=y\n" + S + "CONFIG_CMDLINE_OVERRIDE=y\n",
            "console=ttyS0 cma=64M",
            "override",
            None,
        ),
        (
            "x86",
            "6.1",
            "CONFIG_CMDLINE_BOOL=y\nCONFIG_CMDLINE_OVERRIDE=y\n",
            "",
            "prepend",
            ("kconfig-unmet-dependency", 2),
        ),
        ("x86", "6.1", S + "CONFIG_CMDLINE_FORCE=y\n", "", "none", ("kconfig-value-ignored", 1)),
    ],
)
def test_cmdline_mode(
    arch: str, version: str, text: str, cmdline: str, mode: str, diag: tuple[str, int] | None
) -> None:
    c = load_config(text=text, name="defconfig", arch=arch, kernel_version=version)
    assert (c.cmdline, c.cmdline_mode) == (cmdline, mode)
    found = [(d.code, d.source.line if d.source else None) for d in c.diagnostics]
    if diag is None:
        assert found == []
    else:
        assert diag in found


def test_x86_force_symbol_is_reported_as_foreign() -> None:
    c = load_config(text=S + "CONFIG_CMDLINE_FORCE=y\n", arch="x86", kernel_version="6.1")
    assert ("kconfig-not-in-version", 2) in [
        (d.code, d.source.line if d.source else None) for d in c.diagnostics
    ]


def test_cmdline_escapes_and_provenance() -> None:
    text = 'CONFIG_CMDLINE="root=/dev/vda quiet=\\"x\\" cma=32M"\nCONFIG_CMDLINE_FORCE=y\n'
    c = load_config(text=text, name="board_defconfig", arch="arm64", kernel_version="6.6")
    assert c.cmdline == 'root=/dev/vda quiet="x" cma=32M'
    src = c.source_of("CONFIG_CMDLINE")
    assert (src.kind, src.file, src.line) == ("config", "board_defconfig", 1)
    assert str(c.source_of("CMDLINE_FORCE")) == "board_defconfig:2"


@pytest.mark.parametrize(
    ("text", "extend", "diag"),
    [
        ("CONFIG_ARM_APPENDED_DTB=y\nCONFIG_ARM_ATAG_DTB_COMPAT=y\n", "n", None),
        (
            "CONFIG_ARM_APPENDED_DTB=y\nCONFIG_ARM_ATAG_DTB_COMPAT=y\nCONFIG_ARM_ATAG_DTB_COMPAT_CMDLINE_EXTEND=y\n",
            "y",
            None,
        ),
        ("CONFIG_ARM_ATAG_DTB_COMPAT=y\n", "n", ("kconfig-unmet-dependency", 1)),
    ],
)
def test_arm_atag_merge_options(text: str, extend: str, diag: tuple[str, int] | None) -> None:
    c = load_config(text=text, arch="arm", kernel_version="6.1")
    assert c.value("ARM_ATAG_DTB_COMPAT_CMDLINE_EXTEND") == extend
    found = [(d.code, d.source.line if d.source else None) for d in c.diagnostics]
    assert found == ([diag] if diag else [])
    if c.value("ARM_ATAG_DTB_COMPAT") == "y" and extend == "n":
        assert c.value("ARM_ATAG_DTB_COMPAT_CMDLINE_FROM_BOOTLOADER") == "y"
