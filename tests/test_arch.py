"""memplan.arch: one table of architecture names, used by the command-line and .config front ends."""

from __future__ import annotations

import pytest

from memplan.arch import is_modelled, normalise_arch
from memplan.cmdline import normalize_arch as cmdline_arch
from memplan.cmdline import parse_cmdline
from memplan.errors import CmdlineError, ConfigError
from memplan.kconfig import load_config
from memplan.kconfig import normalize_arch as kconfig_arch


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("aarch64", "arm64"),
        (" AArch64 ", "arm64"),
        ("armv7l", "arm"),
        ("armhf", "arm"),
        ("x86_64", "x86"),
        ("amd64", "x86"),
        ("i686", "x86"),
        ("riscv64", "riscv"),
        ("ppc64le", "powerpc"),
        ("mipsel", "mips"),
        ("loong64", "loongarch"),
        ("arm64", "arm64"),
        ("xtensa", "xtensa"),
        ("sparc64", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_arch(name: str | None, canonical: str | None) -> None:
    assert normalise_arch(name) == canonical


@pytest.mark.parametrize("name", ["aarch64", "armv7l", "x86_64", "i386", "riscv32", "mips64", "ppc"])
def test_both_front_ends_read_a_name_the_same_way(name: str) -> None:
    canonical = normalise_arch(name)
    assert cmdline_arch(name) == canonical
    assert parse_cmdline("quiet", arch=name).arch == canonical
    if is_modelled(name):
        assert kconfig_arch(name) == canonical
        assert load_config(text="", arch=name, kernel_version="6.1").arch == canonical
    else:  # known but not modelled: no own Kconfig model, read with the generic one
        assert kconfig_arch(name) is None
        generic = load_config(text="", arch=name, kernel_version="6.1")
        assert generic.arch == canonical
        assert "kconfig-arch-generic" in [d.code for d in generic.diagnostics]


def test_unknown_names_are_positioned_errors_in_the_front_ends() -> None:
    with pytest.raises(CmdlineError) as info:
        parse_cmdline("quiet", arch="vax")
    assert info.value.source is not None and "vax" in str(info.value)
    with pytest.raises(ConfigError) as cinfo:
        load_config(text="", arch="vax")
    assert cinfo.value.source is not None
