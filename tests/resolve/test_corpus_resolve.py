"""Every corpus board (Linux v5.7 DTS, /work/shared/corpus) resolves without an exception.

The default run takes an evenly spread sample; ``-m corpus_full`` or ``MEMPLAN_FULL_CORPUS=1``
runs all 337 boards. Boards whose ``/memory`` is left for the boot loader to fill (size 0) are
resolved a second time with ``memory="1G"``; the error diagnostics that remain are real
findings of the DTS itself (see ``KNOWN_FINDINGS``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import memplan

CORPUS = Path(os.environ.get("MEMPLAN_CORPUS", "/work/shared/corpus"))
ROOT = CORPUS / "linux-v5.7"

#: Boards with error diagnostics after RAM is supplied, and why they are real.
KNOWN_FINDINGS: dict[str, set[str]] = {
    # reg of gpu@8f200000 duplicates slpi@90b00000 in msm8996.dtsi (an upstream copy/paste slip)
    "src/arm64/qcom/msm8996-mtp.dts": {"rmem-overlap"},
    "src/arm64/qcom/apq8096-db820c.dts": {"rmem-overlap"},
    "src/arm64/qcom/apq8096-ifc6640.dts": {"rmem-overlap"},
    # 512 MiB boards: the 256 MiB linux,cma pool of meson-gx.dtsi finds no aligned hole
    "src/arm64/amlogic/meson-gxl-s805x-p241.dts": {"rmem-alloc-failed"},
    "src/arm64/amlogic/meson-gxl-s805x-libretech-ac.dts": {"rmem-alloc-failed"},
}


def _boards() -> list[dict[str, Any]]:
    manifest = CORPUS / "manifest.json"
    if not manifest.is_file():
        return []
    entries: list[dict[str, Any]] = json.loads(manifest.read_text())
    return entries


BOARDS = _boards()
SAMPLE = BOARDS[:: max(1, len(BOARDS) // 16)] if BOARDS else []
KNOWN = [b for b in BOARDS if b["path"] in KNOWN_FINDINGS]


def resolve_board(entry: dict[str, Any], memory: str | None = None) -> memplan.Plan:
    """Resolve one corpus board with the include directories kbuild (and reference.sh) uses."""
    board = ROOT / entry["path"]
    arch = entry["arch"]
    inc = [board.parent, ROOT / "include", ROOT / "src" / arch, ROOT / "src"]
    return memplan.resolve(dts=str(board), include_dirs=inc, arch=arch, kernel_version="5.7", memory=memory)


def _check(entry: dict[str, Any]) -> None:
    plan = resolve_board(entry)
    codes = {d.code for d in plan.errors}
    if "memory-none" in codes:
        assert not plan.memory
        plan = resolve_board(entry, memory="1G")
        codes = {d.code for d in plan.errors}
    assert codes == KNOWN_FINDINGS.get(entry["path"], set()), [str(d) for d in plan.errors]
    assert len([r for r in plan.regions if r.origin == "dts"]) == entry["reserved_memory_nodes"]


@pytest.mark.skipif(not BOARDS, reason="corpus not available")
@pytest.mark.parametrize("entry", SAMPLE + [k for k in KNOWN if k not in SAMPLE], ids=lambda e: e["path"])
def test_corpus_sample_resolves(entry: dict[str, Any]) -> None:
    _check(entry)


@pytest.mark.corpus_full
@pytest.mark.skipif(not BOARDS, reason="corpus not available")
@pytest.mark.parametrize("entry", BOARDS, ids=lambda e: e["path"])
def test_corpus_full_resolves(entry: dict[str, Any]) -> None:
    _check(entry)
