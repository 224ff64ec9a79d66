"""``memplan dts`` on real boards: the summary's counts agree with the corpus manifest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_corpus_dtc import BY_PATH, CORPUS, needs_corpus, sample_boards  # tests/corpus is on sys.path

from memplan.cli import main

BANK = re.compile(r"^  /\S+: 0x[0-9a-f]+(-0x[0-9a-f]+)? \(")


def section(lines: list[str], head: str) -> list[str]:
    """The indented lines under the summary line starting with ``head``."""
    start = next(i for i, line in enumerate(lines) if line.startswith(head))
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        out.append(line)
    return out


@needs_corpus
@pytest.mark.parametrize("board_path", sample_boards()[:20] if CORPUS else [])
def test_summary_counts_match_manifest(
    board_path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert CORPUS is not None
    board = BY_PATH[board_path]
    root = CORPUS / "linux-v5.7"
    monkeypatch.chdir(root)
    bdir = str(Path(board_path).parent)
    argv = ["dts", board_path, "-I", bdir, "-I", "include", "-I", f"src/{board['arch']}", "-I", "src"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    banks = section(lines, "memory banks") if board["memory_banks"] else []
    banks = [line for line in banks if BANK.match(line)]
    assert len(banks) == board["memory_banks"]
    rmem = section(lines, "reserved-memory (") if board["reserved_memory_nodes"] else []
    assert len(rmem) == board["reserved_memory_nodes"]
    if board["memreserve_entries"]:
        assert f"memreserve ({board['memreserve_entries']}):" in lines
    else:
        assert "memreserve: none" in lines
    has_bootargs = not any(line == "chosen/bootargs: none" for line in lines)
    assert has_bootargs == ("chosen-bootargs" in board["features"])
    files = section(lines, "files read")
    cpp_files = [f for f in board["files"] if f.endswith((".dts", ".dtsi", ".h"))]
    assert {f.strip() for f in files} <= {str(Path(f)) for f in cpp_files}
    assert files[0].strip() == board_path
