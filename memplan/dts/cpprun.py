"""Running the system C preprocessor with a time, memory and output bound.

A macro bomb can run for minutes, ``#include "/dev/zero"`` makes cc1 allocate without end,
and an include of a FIFO or ``/dev/stdin`` waits forever. The preprocessor therefore runs in
its own session with stdin closed (``/dev/stdin`` reads as empty; DTS read from memplan's own
standard input is given to cpp from a temporary file), an address-space limit
(inherited by cc1), a wall-clock deadline and a cap on what it may print; whichever bound is
hit, the whole process group is killed and a :class:`~memplan.errors.PreprocessError` names
the limit and the environment variable that raises it (:mod:`memplan.dts.limits`).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence

from memplan.dts import limits
from memplan.errors import PreprocessError
from memplan.source import Source

_CHUNK = 1 << 16


def _limit_memory(size: int) -> None:  # pragma: no cover - runs in the child
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    except (ImportError, ValueError, OSError):
        pass


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            proc.kill()
    proc.wait()


def run_cpp(cmd: Sequence[str], where: Source, data: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run ``cmd`` bounded; ``(exit status, stdout, stderr)``. ``data`` is what the program reads
    on standard input (from an unnamed temporary file, so nothing can block), else nothing.
    Raises :class:`PreprocessError` (at ``where``) when a bound is hit or the program cannot be
    started."""
    if data is None:
        return _run(cmd, where, subprocess.DEVNULL)
    import tempfile

    with tempfile.TemporaryFile() as feed:
        feed.write(data)
        feed.seek(0)
        return _run(cmd, where, feed.fileno())


def _run(cmd: Sequence[str], where: Source, stdin: int) -> tuple[int, bytes, bytes]:
    timeout = limits.value(limits.CPP_TIMEOUT)
    memory = limits.value(limits.CPP_MEMORY)
    cap = limits.value(limits.CPP_OUTPUT)
    try:
        proc = subprocess.Popen(
            list(cmd), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=lambda: _limit_memory(memory),
        )
    except OSError as exc:
        raise PreprocessError(f"cannot run {cmd[0]}: {exc}", where) from exc
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + timeout
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ, out)
            sel.register(proc.stderr, selectors.EVENT_READ, err)
            while sel.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PreprocessError(limits.exceeded(
                        "the C preprocessor ran too long: a macro expansion bomb, or an include of a FIFO "
                        "or device that never ends?", limits.CPP_TIMEOUT), where)
                for key, _events in sel.select(min(left, 1.0)):
                    chunk = os.read(key.fd, _CHUNK)
                    if not chunk:
                        sel.unregister(key.fileobj)
                        continue
                    buf: bytearray = key.data
                    buf += chunk
                    if len(buf) > cap:
                        raise PreprocessError(limits.exceeded(
                            "the C preprocessor printed too much: a macro expansion bomb or an endless "
                            "include?", limits.CPP_OUTPUT), where)
        try:
            status = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise PreprocessError(limits.exceeded("the C preprocessor ran too long", limits.CPP_TIMEOUT),
                                  where) from None
    finally:
        _kill(proc)
        proc.stdout.close()
        proc.stderr.close()
    text = bytes(err)
    oom = b"out of memory" in text or b"memory exhausted" in text
    if oom or status in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
        raise PreprocessError(limits.exceeded(
            "the C preprocessor ran out of memory: a macro expansion bomb, or an include of an "
            "endless file such as /dev/zero?", limits.CPP_MEMORY), where)
    return status, bytes(out), text
