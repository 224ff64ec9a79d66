"""The miniature kernel tree the lint tests run on (``fixtures/linux-mini``) and the status each
of its boards must get. A module of its own (not ``conftest``): several test folders have a
``conftest.py``, so ``from conftest import`` would depend on which one was imported first."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: The tree's ``scripts/dtc/include-prefixes`` links, as the kernel has them. They are made in a
#: copy of the fixture tree (:data:`MINI`), never in the source tree: a source release (sdist)
#: cannot carry symbolic links, and setuptools, following links left in a checkout, would put
#: copies in the sdist or leave out the files they point to.
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


def _prepared_tree() -> Path:
    """A copy of ``fixtures/linux-mini`` with its include-prefixes links (removed at exit)."""
    folder = Path(tempfile.mkdtemp(prefix="memplan-lint-mini-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    root = folder / "linux-mini"
    shutil.copytree(FIXTURES / "linux-mini", root, symlinks=True,
                    ignore=shutil.ignore_patterns("include-prefixes"))
    _ensure_include_prefixes(root)
    return root


MINI = _prepared_tree()

BOARDS = {
    "arch/arm/boot/dts/vendor2/board32.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-bootloader.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-broken.dts": "build-failed",
    "arch/arm64/boot/dts/vendor/board-clean.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-cross.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-outside.dts": "warnings",
    "arch/arm64/boot/dts/vendor/board-overlap.dts": "errors",
}
