"""The miniature kernel tree the lint tests run on (``fixtures/linux-mini``) and the status each
of its boards must get. A module of its own (not ``conftest``): several test folders have a
``conftest.py``, so ``from conftest import`` would depend on which one was imported first."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "linux-mini"

#: The tree's ``scripts/dtc/include-prefixes`` links, as the kernel has them. They are made here
#: (and ignored by git): a source release (sdist) cannot carry symbolic links, and setuptools,
#: following them, would leave out the files they point to.
INCLUDE_PREFIXES = {
    "arm": "../../../arch/arm/boot/dts",
    "arm64": "../../../arch/arm64/boot/dts",
    "dt-bindings": "../../../include/dt-bindings",
}


def _ensure_include_prefixes(root: Path) -> None:
    prefixes = root / "scripts" / "dtc" / "include-prefixes"
    prefixes.mkdir(parents=True, exist_ok=True)
    for name, target in INCLUDE_PREFIXES.items():
        link = prefixes / name
        if not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)


_ensure_include_prefixes(MINI)

BOARDS = {
    "arch/arm/boot/dts/vendor2/board32.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-bootloader.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-broken.dts": "build-failed",
    "arch/arm64/boot/dts/vendor/board-clean.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-cross.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-outside.dts": "warnings",
    "arch/arm64/boot/dts/vendor/board-overlap.dts": "errors",
}
