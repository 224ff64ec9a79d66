"""The bounded preprocessor run: the address-space limit reaches the program itself (set by a
shell that then becomes the program, so the Python process is never forked whole)."""

from __future__ import annotations

import shutil

import pytest

from memplan.dts.cpprun import run_cpp
from memplan.errors import PreprocessError
from memplan.source import Source

WHERE = Source.at("board.dts", 1)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_memory_limit_applies_to_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMPLAN_CPP_MEMORY", str(300 << 20))
    status, out, _err = run_cpp(["sh", "-c", "ulimit -v; ulimit -H -v"], WHERE)
    assert status == 0
    assert out.split() == [str(300 << 10).encode()] * 2
    # the arguments reach the program unchanged (no second round of shell expansion)
    status, out, _err = run_cpp(["sh", "-c", 'printf "%s|" "$@"', "sh", "a b", "$HOME", "*", ""], WHERE)
    assert out == b"a b|$HOME|*||"


def test_a_missing_program_is_a_clear_error() -> None:
    with pytest.raises(PreprocessError, match="cannot run"):
        run_cpp(["/nonexistent/memplan-cpp"], WHERE)
