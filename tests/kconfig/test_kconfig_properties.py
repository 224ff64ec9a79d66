"""Properties: full configs written by the Kconfig tools read back cleanly; no input crashes."""

from __future__ import annotations

import glob
import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memplan.errors import ConfigError
from memplan.kconfig import load_config, parse_dotconfig
from memplan.kconfig.engine import ModelKey, load_model, model_lock, seeded_symbols
from memplan.kconfig.evaluate import evaluate
from memplan.kconfig.load import cmdline_model_file, version_code
from memplan.version import KernelVersion

LINES = [
    "CONFIG_CMA=y",
    "CONFIG_DMA_CMA=y",
    "# CONFIG_DMA_CMA is not set",
    "CONFIG_NUMA=y",
    "CONFIG_SMP=y",
    "CONFIG_CMA_SIZE_SEL_PERCENTAGE=y",
    "CONFIG_CMA_SIZE_SEL_MAX=y",
    "CONFIG_CMA_SIZE_MBYTES=64",
    "CONFIG_CMA_SIZE_PERCENTAGE=5",
    "CONFIG_CMA_ALIGNMENT=9",
    "CONFIG_CMA_AREAS=12",
    "CONFIG_ARM64_64K_PAGES=y",
    "CONFIG_ARM64_16K_PAGES=y",
    "CONFIG_TRANSPARENT_HUGEPAGE=y",
    "CONFIG_HUGETLBFS=y",
    "CONFIG_ARM_LPAE=y",
    'CONFIG_CMDLINE="console=ttyS0 cma=32M"',
    "CONFIG_CMDLINE_FORCE=y",
    "CONFIG_CMDLINE_BOOL=y",
    "CONFIG_DMA_PERNUMA_CMA=y",
    "CONFIG_DMA_NUMA_CMA=y",
]
ARCHES = ["arm64", "arm", "x86", "riscv"]
VERSIONS = ["4.19", "5.10", "5.11", "6.1", "6.6", "6.12", "6.18"]


def full_config(arch: str, version: str, defconfig: str, tmp: Path) -> Path:
    """What `make olddefconfig` would write: kconfiglib writes the evaluated model."""
    v = KernelVersion.parse(version)
    kconf, _ = load_model(ModelKey(arch, version_code(v), cmdline_model_file(arch, v)))
    dot = parse_dotconfig(defconfig, "defconfig")
    out = tmp / f"config-{arch}-{version}"
    with model_lock():
        evaluate(kconf, dot.assignments, dot.last(), version, "defconfig")
        kconf.write_config(str(out), header=f"#\n# Linux/{arch} {version}.0 Kernel Configuration\n#\n")
    # memplan's internal version symbol is not part of a kernel's .config, and the kernel's tools
    # do not write an invisible int that has no default (kconfiglib needs a seed value for it)
    skip = ["CONFIG_MEMPLAN_", *(f"CONFIG_{name}=" for name in seeded_symbols(kconf))]
    body = [line for line in out.read_text().splitlines() if not line.startswith(tuple(skip))]
    out.write_text("\n".join(body) + "\n")
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    arch=st.sampled_from(ARCHES),
    version=st.sampled_from(VERSIONS),
    lines=st.lists(st.sampled_from(LINES), max_size=8),
)
def test_full_config_round_trip(tmp_path: Path, arch: str, version: str, lines: list[str]) -> None:
    defconfig = "\n".join(lines) + "\n"
    minimal = load_config(text=defconfig, arch=arch, kernel_version=version)
    full = load_config(full_config(arch, version, defconfig, tmp_path))
    assert full.diagnostics == ()
    assert (full.arch, full.kernel_version) == (arch, KernelVersion.parse(version))
    assert full.to_dict() | {"diagnostics": []} == minimal.to_dict() | {"diagnostics": []}


FRAGMENTS = st.sampled_from(
    [
        "CONFIG_",
        "CMA",
        "_SIZE_MBYTES",
        "=",
        "y",
        "n",
        "m",
        "\n",
        "#",
        " ",
        '"',
        "\\",
        "0x",
        "12",
        "-",
        "is not set",
        "Linux/arm64 6.1 Kernel Configuration",
        "é",
        "\t",
        "\r",
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join), st.sampled_from(ARCHES))
def test_no_input_crashes(text: str, arch: str) -> None:
    try:
        c = load_config(text=text, arch=arch, kernel_version="6.1")
    except ConfigError as err:  # pragma: no cover - only NUL bytes are unusable text
        assert err.source is not None
        return
    for d in c.diagnostics:
        assert d.code.startswith("kconfig-")
        assert d.source is not None


ROOT = Path(__file__).resolve().parents[2]
REAL = sorted(
    glob.glob(str(ROOT / ".qemu-cache/x/*/boot/config-*"))
    + glob.glob(str(ROOT / "tests/kernel/fixtures/*/config.gz"))
    + glob.glob(str(ROOT / "tests/kernel/fixtures/configs/*.config.gz"))
)


def test_recorded_kernel_configs_are_found() -> None:
    # The recorded boots ship one .config per kernel build; the test below must not skip in CI.
    assert any("fixtures/configs/" in p for p in REAL)


@pytest.mark.skipif(not REAL, reason="no real kernel configs (Debian packages, boot fixtures) found")
@pytest.mark.parametrize("path", REAL, ids=lambda p: Path(p).parent.name + "/" + Path(p).name)
def test_real_kernel_configs_read_cleanly(path: str) -> None:
    """Configs of real kernels (Debian 5.10-6.12, test-boot kernels up to 7.2) resolve exactly."""
    c = load_config(path)
    assert c.diagnostics == ()
    raw = Path(path).read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, _, value = line.partition("=")
            values[key[7:]] = value.strip('"')
    # every modelled symbol the file sets resolves to the file's value
    for symbol in (
        "CMA",
        "DMA_CMA",
        "CMA_AREAS",
        "CMA_SIZE_MBYTES",
        "NUMA",
        "DMA_PERNUMA_CMA",
        "HUGETLB_PAGE",
    ):
        assert c.value(symbol) == values.get(symbol, c.value(symbol) if c.value(symbol) != "y" else "n")
    # the architecture is the one the file's own top-level symbol names
    arch_symbol = {"arm64": "ARM64", "arm": "ARM", "riscv": "RISCV", "x86": "X86"}[c.arch]
    assert values.get(arch_symbol) == "y"
    others = {"ARM64", "ARM", "RISCV", "X86"} - {arch_symbol}
    assert not any(values.get(o) == "y" for o in others)


# Lines whose fate is less obvious: out of range, badly written numbers, duplicates of the above.
TRICKY = [
    "CONFIG_CMA_ALIGNMENT=1",
    "CONFIG_CMA_ALIGNMENT=13",
    "CONFIG_CMA_ALIGNMENT=016",
    "CONFIG_CMA_SIZE_MBYTES=-5",
    "CONFIG_CMA_AREAS=0x10",
    "CONFIG_PAGE_BLOCK_MAX_ORDER=12",
    'CONFIG_CMDLINE=""',
    "CONFIG_CMDLINE_EXTEND=y",
    "CONFIG_CMDLINE_OVERRIDE=y",
    "# CONFIG_MIGRATION is not set",
    "# CONFIG_CMA_SIZE_SEL_MBYTES is not set",
    "CONFIG_CMA_SIZE_SEL_MIN=y",
    "CONFIG_HIGHMEM=y",
]


def written_value(line: str) -> tuple[str, str]:
    """Symbol and value as the line states them (quotes removed, 'is not set' = n)."""
    if line.startswith("# CONFIG_"):
        return line[len("# CONFIG_") : -len(" is not set")], "n"
    name, _, value = line[len("CONFIG_") :].partition("=")
    return name, value[1:-1] if value.startswith('"') else value


@settings(max_examples=60, deadline=None)
@given(
    arch=st.sampled_from(ARCHES),
    version=st.sampled_from(VERSIONS),
    lines=st.lists(st.sampled_from(LINES + TRICKY), max_size=10),
)
def test_every_line_is_used_or_explained(arch: str, version: str, lines: list[str]) -> None:
    c = load_config(text="\n".join(lines) + "\n", name="d", arch=arch, kernel_version=version)
    explained = {d.source.line for d in c.diagnostics if d.source is not None and d.source.kind == "config"}
    last: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(lines, 1):
        name, value = written_value(line)
        last[name] = (number, value)
    for name, (number, value) in last.items():
        assert c.value(name) == value or number in explained, (name, value, c.value(name))
