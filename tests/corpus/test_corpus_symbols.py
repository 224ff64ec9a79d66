"""``dtc -@`` on the corpus: memplan's ``__symbols__`` (and the phandles it gives labelled nodes)
equal dtc's on every board, and dtc's blob read back has the source's labels (``-m corpus_full``;
the default run covers a small sample)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.corpus.test_corpus_dtc import BY_PATH, CORPUS, MANIFEST, PCPP_BOARDS, _decode, _tools_missing
from tests.dts.test_dtb_labels import label_view

needs_corpus = pytest.mark.skipif(CORPUS is None,
                                  reason="corpus not found (../shared/corpus or $MEMPLAN_CORPUS)")


def check_symbols(board_path: str, tmp_path: Path) -> None:
    from memplan.dts import parse_dts, read_dtb

    missing = _tools_missing()
    if missing:
        pytest.skip(missing)
    assert CORPUS is not None
    ref = tmp_path / "ref.dtb"
    env = {**os.environ, "DTC_EXTRA_FLAGS": "-@"}
    res = subprocess.run(["bash", str(CORPUS / "reference.sh"), board_path, str(ref)], capture_output=True,
                         text=True, env=env, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    root = CORPUS / "linux-v5.7"
    path = root / board_path
    arch = BY_PATH[board_path]["arch"]
    dirs = [str(path.parent), str(root / "include"), str(root / "src" / arch), str(root / "src")]
    mine = tmp_path / "memplan.dtb"
    tree = parse_dts(str(path), include_dirs=dirs, symbols=True)
    mine.write_bytes(tree.to_dtb())
    assert _decode(mine) == _decode(ref)
    # and read back, dtc's blob carries the source's labels (from its __symbols__)
    assert label_view(read_dtb(ref)) == label_view(tree)


@needs_corpus
@pytest.mark.corpus_sample
@pytest.mark.parametrize("board_path", [*PCPP_BOARDS, "src/arm/sun7i-a20-wexler-tab7200.dts"])
def test_symbols_sample(board_path: str, tmp_path: Path) -> None:
    check_symbols(board_path, tmp_path)


@needs_corpus
@pytest.mark.corpus_full
@pytest.mark.parametrize("board_path", [b["path"] for b in MANIFEST])
def test_symbols_full(board_path: str, tmp_path: Path) -> None:
    check_symbols(board_path, tmp_path)
