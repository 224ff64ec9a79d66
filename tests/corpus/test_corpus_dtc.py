"""The dtc oracle: memplan compiles real Linux v5.7 boards to the same tree as cpp + dtc.

For each board of the shared corpus manifest:

1. confirm the oracle: ``reference.sh`` (GNU cpp + dtc, as kbuild runs them) must rebuild
   the DTB whose sha256 the manifest records; otherwise (another dtc release) skip;
2. compile the board with memplan (its preprocessing, ``/include/`` handling, parser and
   DTB writer) using the include dirs ``reference.sh`` uses;
3. decode both blobs with ``dtc -I dtb -O dts`` and require equal text (node paths and
   order, property order and bytes, phandles, ``/memreserve/`` entries).

The default run covers a deterministic sample spread over arches, vendor groups and
features (the largest boards included); ``-m corpus_full`` or ``MEMPLAN_FULL_CORPUS=1``
runs all boards (``MEMPLAN_CORPUS_CPP=pcpp`` runs them through the pcpp fallback). A second
test always builds a handful of boards with pcpp instead of the system cpp.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_SIZE = 40
PCPP_BOARDS = (
    "src/arm64/amlogic/meson-gxbb-odroidc2.dts",  # dt-bindings headers, many macros
    "src/arm/keystone-k2hk-evm.dts",  # dtc /include/ reached from a #include'd file
    "src/arm/imx6ul-ccimx6ulsbcpro.dts",  # "..." header next to the sources
    "src/arm64/broadcom/bcm2837-rpi-3-b.dts",  # cross-arch <arm/...> include
    "src/powerpc/fsl/t1040rdb.dts",  # /include/ only, no cpp directives
)
EDGE_BOARDS = (
    "src/arm64/sprd/sp9860g-1h10.dts",  # empty /reserved-memory
    "src/arm64/qcom/ipq6018-cp01-c1.dts",  # reserved children named memory@...
    "src/powerpc/fsl/kmcoge4.dts",  # pci warnings
)
DTS_KEYWORDS = (
    "/delete-node/", "/delete-property/", "/include/", "/memreserve/", "/bits/", "&{", "/omit-if-no-ref/",
)


def corpus_dir() -> Path | None:
    """The corpus folder: ``$MEMPLAN_CORPUS`` or ``<repo>/../shared/corpus``."""
    env = os.environ.get("MEMPLAN_CORPUS")
    path = Path(env) if env else REPO.parent / "shared" / "corpus"
    return path if (path / "manifest.json").is_file() else None


CORPUS = corpus_dir()
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text()) if CORPUS else []
BY_PATH = {b["path"]: b for b in MANIFEST}


def _order(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


def _keywords(board: dict[str, Any]) -> set[str]:
    assert CORPUS is not None
    found: set[str] = set()
    for rel in board["files"]:
        text = (CORPUS / "linux-v5.7" / rel).read_text(errors="replace")
        found.update(k for k in DTS_KEYWORDS if k in text)
    return found


def sample_boards(size: int = SAMPLE_SIZE) -> list[str]:
    """A deterministic sample: the 5 largest boards, one per feature and DTS keyword, then one per group."""
    boards = sorted(MANIFEST, key=lambda b: _order(b["path"]))
    chosen: list[str] = []

    def take(board: dict[str, Any]) -> None:
        if board["path"] not in chosen and len(chosen) < size:
            chosen.append(board["path"])

    for board in sorted(MANIFEST, key=lambda b: (-b["preprocessed_lines"], b["path"]))[:5]:
        take(board)
    features = sorted({f for b in MANIFEST for f in b["features"]})
    for feature in features:
        take(next(b for b in boards if feature in b["features"]))
    keywords = {b["path"]: _keywords(b) for b in boards}
    for keyword in DTS_KEYWORDS:
        hit = next((b for b in boards if keyword in keywords[b["path"]]), None)
        if hit is not None:
            take(hit)
    for path in PCPP_BOARDS + EDGE_BOARDS:
        if path in BY_PATH:
            take(BY_PATH[path])
    groups = sorted({b["group"] for b in MANIFEST}, key=_order)
    while len(chosen) < size and len(chosen) < len(MANIFEST):
        before = len(chosen)
        for group in groups:
            hit = next((b for b in boards if b["group"] == group and b["path"] not in chosen), None)
            if hit is not None:
                take(hit)
        if len(chosen) == before:
            break
    return chosen


def _tools_missing() -> str | None:
    for tool in ("cpp", "dtc", "bash"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install cpp device-tree-compiler)"
    return None


def _decode(blob_path: Path) -> str:
    cmd = ["dtc", "-q", "-I", "dtb", "-O", "dts", str(blob_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert res.returncode == 0, f"dtc cannot decode {blob_path}: {res.stderr}"
    return res.stdout


@functools.cache
def reference_dts(board_path: str, scratch: str) -> str:
    """Decoded reference DTB of a board, after confirming its hash (skips when it differs)."""
    assert CORPUS is not None
    board = BY_PATH[board_path]
    out = Path(scratch) / (board_path.replace("/", "_") + ".ref.dtb")
    res = subprocess.run(
        ["bash", str(CORPUS / "reference.sh"), board_path, str(out)], capture_output=True, text=True
    )
    if res.returncode != 0:
        pytest.fail(f"reference.sh failed for {board_path}: {res.stderr[-2000:]}")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    if digest != board["dtb_sha256"]:
        version = subprocess.run(["dtc", "--version"], capture_output=True, text=True).stdout.strip()
        pytest.skip(
            f"oracle not confirmed for {board_path}: {version} builds sha256 {digest[:12]}, the manifest "
            f"(dtc 1.6.1) says {board['dtb_sha256'][:12]}"
        )
    return _decode(out)


def memplan_dtb(board_path: str, cpp: str) -> bytes:
    """Compile a corpus board with memplan, include dirs as reference.sh passes them."""
    from memplan.dts import parse_dts

    assert CORPUS is not None
    root = CORPUS / "linux-v5.7"
    board = BY_PATH[board_path]
    path = root / board_path
    dirs = [str(path.parent), str(root / "include"), str(root / "src" / board["arch"]), str(root / "src")]
    parse: Any = parse_dts
    tree = parse(str(path), include_dirs=dirs, cpp=cpp)
    blob = tree.to_dtb()
    assert isinstance(blob, bytes)
    return blob


def check_board(board_path: str, tmp_path: Path, cpp: str | None = None) -> None:
    cpp = cpp or os.environ.get("MEMPLAN_CORPUS_CPP", "auto")
    missing = _tools_missing()
    if missing:
        pytest.skip(missing)
    scratch = tmp_path.parent / "memplan-corpus-ref"
    scratch.mkdir(exist_ok=True)
    expected = reference_dts(board_path, str(scratch))
    blob = memplan_dtb(board_path, cpp)
    mine = tmp_path / "memplan.dtb"
    mine.write_bytes(blob)
    actual = _decode(mine)
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), "reference (cpp+dtc)", "memplan", lineterm="", n=2
        )
        shown = "\n".join(list(diff)[:80])
        pytest.fail(f"{board_path}: memplan's DTB decodes differently from the reference:\n{shown}")


needs_corpus = pytest.mark.skipif(
    CORPUS is None, reason="corpus not found (../shared/corpus or $MEMPLAN_CORPUS)"
)


@needs_corpus
@pytest.mark.corpus_sample
@pytest.mark.parametrize("board_path", sample_boards() if CORPUS else [])
def test_dtc_oracle_sample(board_path: str, tmp_path: Path) -> None:
    check_board(board_path, tmp_path)


@needs_corpus
@pytest.mark.corpus_full
@pytest.mark.parametrize("board_path", [b["path"] for b in MANIFEST])
def test_dtc_oracle_full(board_path: str, tmp_path: Path) -> None:
    check_board(board_path, tmp_path)


@needs_corpus
@pytest.mark.parametrize("board_path", [p for p in PCPP_BOARDS if p in BY_PATH])
def test_pcpp_fallback_matches_reference(board_path: str, tmp_path: Path) -> None:
    check_board(board_path, tmp_path, cpp="pcpp")


@needs_corpus
def test_sample_is_spread() -> None:
    sample = sample_boards()
    assert len(sample) == min(SAMPLE_SIZE, len(MANIFEST))
    assert len(set(sample)) == len(sample)
    largest = sorted(MANIFEST, key=lambda b: -b["preprocessed_lines"])[:5]
    assert {b["path"] for b in largest} <= set(sample)
    arches = {BY_PATH[p]["arch"] for p in sample}
    assert arches == {b["arch"] for b in MANIFEST}
    for feature in {f for b in MANIFEST for f in b["features"]}:
        assert any(feature in BY_PATH[p]["features"] for p in sample), feature
    assert sample == sample_boards()
