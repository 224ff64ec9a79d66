"""The bounded preprocessor run: the address-space limit reaches the program itself (set by a
shell that then becomes the program, so the Python process is never forked whole)."""

from __future__ import annotations

import os
import resource
import shutil
import threading

import pytest

from memplan.dts import cpprun
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


def _limits_seen(out: bytes) -> list[int]:
    return [int(word) for word in out.split()]


@pytest.mark.skipif(shutil.which("sh") is None or not os.path.exists("/proc/self/statm"),
                    reason="needs a POSIX shell and Linux's /proc")
def test_a_worker_bounds_the_program_with_its_own_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """With use_own_limit (a lint's single-threaded board worker) the program inherits this
    process's soft limit, lowered only while it starts: no shell runs, and the limit is back after."""
    size = cpprun._own_size()
    assert size is not None and size > 0
    limit = (size + (512 << 20)) // 1024 * 1024
    monkeypatch.setenv("MEMPLAN_CPP_MEMORY", str(limit))
    before = resource.getrlimit(resource.RLIMIT_AS)

    def no_shell(cmd: object, memory: int) -> object:
        raise AssertionError("the shell was used")

    saved = cpprun.use_own_limit(True)
    try:
        with monkeypatch.context() as m:
            m.setattr(cpprun, "_spawn_args", no_shell)
            status, out, _err = run_cpp(["sh", "-c", "ulimit -S -v"], WHERE)
        assert status == 0 and _limits_seen(out) == [limit // 1024]
        assert resource.getrlimit(resource.RLIMIT_AS) == before
        # too close to this process's own size: the shell sets the limit (soft and hard), as when off
        monkeypatch.setenv("MEMPLAN_CPP_MEMORY", str(max(size - (16 << 20), 1 << 20) // 1024 * 1024))
        status, out, _err = run_cpp(["sh", "-c", "ulimit -S -v; ulimit -H -v"], WHERE)
        low = max(size - (16 << 20), 1 << 20) // 1024
        assert status == 0 and _limits_seen(out) == [low, low]
        # another thread running: the shell again (the lowered limit would be that thread's too)
        monkeypatch.setenv("MEMPLAN_CPP_MEMORY", str(limit))
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        try:
            status, out, _err = run_cpp(["sh", "-c", "ulimit -S -v; ulimit -H -v"], WHERE)
        finally:
            stop.set()
            other.join()
        assert status == 0 and _limits_seen(out) == [limit // 1024] * 2
        assert resource.getrlimit(resource.RLIMIT_AS) == before
    finally:
        cpprun.use_own_limit(saved)
    assert cpprun.use_own_limit(saved) is saved


def test_without_the_switch_the_shell_bounds_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cpprun.use_own_limit(False) is False  # off unless a lint worker turns it on
    shells: list[object] = []
    real = cpprun._spawn_args

    def spy(cmd: list[str], memory: int) -> object:
        shells.append(cmd)
        return real(cmd, memory)

    monkeypatch.setattr(cpprun, "_spawn_args", spy)
    status, _out, _err = run_cpp(["sh", "-c", "true"], WHERE)
    assert status == 0 and len(shells) == 1
