"""A handful of real kernel boards, parsed from cpp output: memplan's DTB equals the reference byte for byte.

The full 337-board oracle lives in tests/corpus/; this sample covers the parser's hardest
paths quickly: the largest board, dtc's ``/include/`` (from a file and from cpp output),
``/memreserve/`` from a ``.dtsi``, ``/delete-node/`` and ``/delete-property/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from memplan.dts import parse_text

CORPUS = Path(os.environ.get("MEMPLAN_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
LINUX = CORPUS / "linux-v5.7"

BOARDS = [
    "src/arm64/amlogic/meson-g12b-ugoos-am6.dts",  # largest board
    "src/powerpc/fsl/t4240qds.dts",  # /include/ chains
    "src/arm/keystone-k2e-evm.dts",  # /include/ inside cpp output
    "src/arm64/broadcom/bcm2837-rpi-3-b.dts",  # /memreserve/ in a .dtsi, cross-arch #include
    "src/arm64/qcom/sdm845-cheza-r2.dts",  # /delete-node/, /delete-property/
    "src/arm/rk3288-veyron-minnie.dts",
]


def _manifest() -> dict[str, dict[str, object]]:
    return {e["path"]: e for e in json.loads((CORPUS / "manifest.json").read_text())}


@pytest.mark.parametrize("board", BOARDS)
def test_board_matches_reference_dtb(board: str) -> None:
    if not (CORPUS / "reference.sh").is_file() or shutil.which("cpp") is None:
        pytest.skip("corpus or cpp not available")
    entry = _manifest()[board]
    pre = subprocess.run([str(CORPUS / "reference.sh"), "--pp", board], capture_output=True, text=True,
                         check=True).stdout
    arch = board.split("/")[1]
    board_dir = LINUX / Path(board).parent
    dirs = [board_dir, LINUX / "src" / arch, LINUX / "src", LINUX / "include"]
    tree = parse_text(pre, str(LINUX / board), include_dirs=dirs, base_dir=board_dir)
    blob = tree.to_dtb()
    assert len(blob) == entry["dtb_bytes"]
    assert hashlib.sha256(blob).hexdigest() == entry["dtb_sha256"]
    # positions point at the original sources, not at the preprocessed text
    reserved = tree.find("/reserved-memory")
    assert reserved is not None
    src = reserved.source
    assert src.file is not None and not src.file.startswith("<") and (LINUX / src.file).is_file()
    assert src.line is not None
    assert "reserved-memory" in (LINUX / src.file).read_text().splitlines()[src.line - 1]
