"""Reading recorded fixtures back (used by the replay tests and the docs table)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.qemu.debian import repo_root

_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def fixtures_root() -> Path:
    """``tests/kernel/fixtures``."""
    return repo_root() / "tests" / "kernel" / "fixtures"


def shared_config_ref(kernel: str) -> str:
    """``scenario.json``'s ``config``: the kernel build's .config, relative to the fixture.

    Every fixture of one kernel build booted the same kernel, so the .config is stored once per
    build under ``<fixtures root>/configs/<kernel>.config.gz``.
    """
    return f"../configs/{kernel}.config.gz"


def config_path(directory: Path, scenario: dict[str, Any]) -> Path:
    """The gzip .config of the fixture in ``directory`` (its own ``config.gz`` when the
    scenario names no shared one)."""
    ref = scenario.get("config")
    return (directory / str(ref)).resolve() if ref else directory / "config.gz"


def ram_bytes(text: str) -> int:
    """QEMU ``-m`` text (``2G``, ``6144M``) in bytes."""
    t = text.strip().upper()
    if t and t[-1] in _UNITS:
        return int(t[:-1]) * _UNITS[t[-1]]
    return int(t) * (1 << 20)


@dataclass(frozen=True)
class Fixture:
    """One recorded boot."""

    name: str
    directory: Path
    scenario: dict[str, Any]
    expected: dict[str, Any]

    @property
    def arch(self) -> str:
        """memplan arch name (``arm64`` / ``x86``)."""
        return str(self.scenario["arch"])

    @property
    def kernel_version(self) -> str:
        """Upstream kernel version of the booted Debian kernel (e.g. ``6.1.176``)."""
        return str(self.scenario["kernel_version"])

    @property
    def cmdline(self) -> str:
        """The full command line the kernel received."""
        return str(self.scenario["cmdline"])

    @property
    def ram(self) -> int:
        """RAM given to QEMU, in bytes."""
        return ram_bytes(str(self.scenario["ram"]))

    @property
    def board_dts(self) -> Path | None:
        """The merged DTS that was compiled and booted (arm64 only)."""
        p = self.directory / "board.dts"
        return p if p.exists() else None

    @property
    def config_file(self) -> Path:
        """The gzip .config of the booted kernel (shared by the fixtures of one kernel build)."""
        return config_path(self.directory, self.scenario)

    @property
    def config_text(self) -> str:
        """The Debian kernel's .config."""
        return gzip.decompress(self.config_file.read_bytes()).decode()

    def file(self, name: str) -> Path:
        """A file of the fixture."""
        return self.directory / name

    def observed_paths(self) -> list[Path]:
        """The observed-state files, in the form ``memplan.observe.read_observed`` accepts."""
        out = [self.directory / n for n in ("iomem.txt", "meminfo.txt", "dmesg.txt", "fdt")]
        out += [self.directory / n for n in ("cma", "mm-cma")]
        return [p for p in out if p.exists()]


def load_fixture(directory: Path) -> Fixture:
    """Read ``scenario.json`` and ``expected.json`` of a fixture directory."""
    return Fixture(
        name=directory.name,
        directory=directory,
        scenario=json.loads((directory / "scenario.json").read_text()),
        expected=json.loads((directory / "expected.json").read_text()),
    )


def all_fixtures(root: Path | None = None) -> list[Fixture]:
    """Every recorded fixture, sorted by name."""
    base = root or fixtures_root()
    return [load_fixture(d) for d in sorted(base.iterdir()) if (d / "scenario.json").exists()]
