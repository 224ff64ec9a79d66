"""Running the system C preprocessor with a time, memory and output bound.

A macro bomb can run for minutes, ``#include "/dev/zero"`` makes cc1 allocate without end,
and an include of a FIFO or ``/dev/stdin`` waits forever. The preprocessor therefore runs in
its own session with stdin closed (``/dev/stdin`` reads as empty; DTS read from memplan's own
standard input is given to cpp from a temporary file), an address-space limit
(inherited by cc1), a wall-clock deadline and a cap on what it may print; whichever bound is
hit, the whole process group is killed and a :class:`~memplan.errors.PreprocessError` names
the limit and the environment variable that raises it (:mod:`memplan.dts.limits`).

Start-up: :func:`prestart` starts a command before the caller imports the parser, and
:func:`run_cpp` takes that process (same command, same bounds, the deadline counted from its
start) instead of starting another; the preprocessor then runs while Python imports. This
module imports only the standard library and :mod:`memplan.dts.limits` until an error is raised.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from memplan.dts import limits

if TYPE_CHECKING:
    from memplan.dts.sandbox import View
    from memplan.source import Source

__all__ = ["compiler_proper", "cpp_command", "discard_prestarted", "find_system_cpp", "prestart", "run_cpp",
           "use_compiler_proper", "use_own_limit"]

_CHUNK = 1 << 16
#: Pipe size asked for the preprocessor's output (Linux), so that a started preprocessor can
#: write a whole board's output before anyone reads it.
_PIPE_SIZE = 1 << 20
#: Processes :func:`prestart` started, by command, with their start time.
_PRESTARTED: dict[tuple[str, ...], tuple[subprocess.Popen[bytes], float]] = {}
#: Whether a command is started as the compiler proper its driver would start
#: (:func:`compiler_proper`).
_PROPER = [False]
#: Whether this process may lower its own address-space limit while it starts the preprocessor
#: (:func:`use_own_limit`).
_OWN_LIMIT = [False]


@contextlib.contextmanager
def compiler_proper() -> Iterator[None]:
    """Within this block (and in processes forked in it), :func:`run_cpp` starts the compiler
    proper the ``cpp`` driver would start for a command (``cc1 -E ...``), asking the driver once
    per command shape (:mod:`memplan.dts.cppdirect`): for a run over many boards, where the
    driver's own start costs about a fifth of each board's preprocessing. Same output."""
    saved = use_compiler_proper(True)
    try:
        yield
    finally:
        use_compiler_proper(saved)


def use_compiler_proper(on: bool) -> bool:
    """Switch :func:`compiler_proper`'s behaviour on or off for this process (a worker's life);
    the previous setting is returned."""
    saved = _PROPER[0]
    _PROPER[0] = on
    return saved


def use_own_limit(on: bool) -> bool:
    """Let :func:`run_cpp` bound the preprocessor by lowering this process's own soft
    address-space limit while it starts it (the child inherits the limit; this process's is put
    back at once), instead of starting it through a shell that sets the limit and then becomes
    the preprocessor: one program start less a board. Only for a process with a single thread
    (the limit is the whole process's for that moment) well below the limit itself, such as a
    lint's board worker; :func:`run_cpp` checks both each time and uses the shell otherwise.
    The previous setting is returned."""
    saved = _OWN_LIMIT[0]
    _OWN_LIMIT[0] = on
    return saved


def find_system_cpp() -> str | None:
    """The system C preprocessor (``$MEMPLAN_CPP`` or ``cpp`` on ``PATH``), if any."""
    override = os.environ.get("MEMPLAN_CPP")
    if override:
        return shutil.which(override) or override
    return shutil.which("cpp")


def cpp_command(exe: str, main: str, dirs: Sequence[str], defs: Sequence[str] = ()) -> list[str]:
    """The preprocessor command kbuild runs over a DTS file (``-nostdinc``, the include
    directories, ``-undef -D__DTS__ -x assembler-with-cpp``, the defines, the file)."""
    cmd: list[str] = [exe, "-nostdinc"]
    for d in dirs:
        cmd += ["-I", d]
    cmd += ["-undef", "-D__DTS__", "-x", "assembler-with-cpp"]
    cmd += [f"-D{d}" for d in defs]
    cmd.append(main)
    return cmd


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


#: The shell that applies the address-space limit before it becomes the preprocessor.
_SHELL = "/bin/sh"
_BOUNDED = 'ulimit -v {kib} 2>/dev/null; exec "$0" "$@"'


def _spawn_args(cmd: Sequence[str], memory: int) -> tuple[list[str], Callable[[], None] | None]:
    """The command to start and the function to run in the child before it.

    The limit is set by a small shell that then replaces itself with the preprocessor
    (``ulimit -v``, inherited by cc1), so this process can be cloned with ``vfork``: a
    ``preexec_fn`` forces a full ``fork`` of the Python process, which costs milliseconds per
    board in a lint worker of a hundred megabytes. Without that shell, or when the program
    cannot be found (the error then comes from starting it), the limit is set in the child.
    """
    exe = shutil.which(cmd[0]) if cmd else None
    if exe is not None and os.path.isfile(_SHELL) and os.access(_SHELL, os.X_OK):
        return [_SHELL, "-c", _BOUNDED.format(kib=max(memory // 1024, 1)), exe, *cmd[1:]], None
    return list(cmd), lambda: _limit_memory(memory)


#: Room this process keeps below the preprocessor's limit to lower its own to it for a moment:
#: what starting a process may allocate here (:func:`_lowered_limit`).
_OWN_ROOM = 64 << 20


def _own_size() -> int | None:
    """This process's address-space size in bytes (Linux), else ``None``."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split(None, 1)[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def _lowered_limit(memory: int) -> Iterator[bool]:
    """Within this block, this process's soft address-space limit is ``memory`` (at most its
    hard limit), so that a process started in it inherits that limit; put back on leaving.
    Yields ``False`` (and changes nothing) when that is not safe: :func:`use_own_limit` is off,
    another thread runs, this process is within :data:`_OWN_ROOM` of ``memory``, or the limit
    cannot be read or set."""
    import threading

    size = _own_size() if _OWN_LIMIT[0] and threading.active_count() == 1 else None
    if size is None or size + _OWN_ROOM > memory:
        yield False
        return
    try:
        import resource

        saved = resource.getrlimit(resource.RLIMIT_AS)
        hard = saved[1]
        soft = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, ValueError, OSError):
        yield False
        return
    try:
        yield True
    finally:
        resource.setrlimit(resource.RLIMIT_AS, saved)


def _start(cmd: Sequence[str], stdin: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in its own session, reading ``stdin`` (closed by default), under the memory
    bound; as the compiler proper the driver would start, in a :func:`compiler_proper` block."""
    if _PROPER[0]:
        from memplan.dts.cppdirect import proper_command

        cmd = proper_command(cmd) or cmd
    memory = limits.value(limits.CPP_MEMORY)
    with _lowered_limit(memory) as lowered:
        args, preexec = (list(cmd), None) if lowered else _spawn_args(cmd, memory)
        proc = subprocess.Popen(
            args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=preexec,
        )
    if proc.stdout is not None:
        _widen(proc.stdout.fileno())
    return proc


def _widen(fd: int) -> None:
    """Ask for a :data:`_PIPE_SIZE` pipe (Linux); elsewhere, or above the system's maximum, the
    pipe stays as it is (the output is the same, the preprocessor only waits for a reader)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, _PIPE_SIZE)


def prestart(cmd: Sequence[str]) -> None:
    """Start ``cmd`` now, bounded as :func:`run_cpp` bounds it, for a later ``run_cpp(cmd)``.

    Nothing is reported here: if the program cannot be started, :func:`run_cpp` starts it again
    and says why. A process nobody takes is stopped by :func:`discard_prestarted`."""
    key = tuple(cmd)
    if key in _PRESTARTED:
        return
    # whatever fails here fails again in run_cpp, which reports it
    with contextlib.suppress(Exception):
        _PRESTARTED[key] = (_start(key), time.monotonic())


def discard_prestarted() -> None:
    """Stop every process :func:`prestart` started that :func:`run_cpp` did not take."""
    while _PRESTARTED:
        _key, (proc, _started) = _PRESTARTED.popitem()
        _close(proc)


def _close(proc: subprocess.Popen[bytes]) -> None:
    _kill(proc)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def run_cpp(
    cmd: Sequence[str], where: Source, data: bytes | None = None, view: View | None = None
) -> tuple[int, bytes, bytes]:
    """Run ``cmd`` bounded (or take the process :func:`prestart` started for it);
    ``(exit status, stdout, stderr)``. ``data`` is what the program reads on standard input
    (from an unnamed temporary file, so nothing can block), else nothing. With ``view`` the
    program runs confined to it (:mod:`memplan.dts.sandbox`; never a prestarted process), or
    :class:`~memplan.dts.sandbox.Unavailable` is raised when it cannot be. Raises
    :class:`PreprocessError` (at ``where``) when a bound is hit or the program cannot be started."""
    if data is None:
        return _run(cmd, where, subprocess.DEVNULL, view)
    import tempfile

    with tempfile.TemporaryFile() as feed:
        feed.write(data)
        feed.seek(0)
        return _run(cmd, where, feed.fileno(), view)


def _start_confined(cmd: Sequence[str], stdin: int, view: View, base: str) -> subprocess.Popen[bytes]:
    """Start ``cmd`` inside ``view`` (built on a tmpfs mounted at the empty directory ``base``)."""
    from memplan.dts import sandbox

    report_r, report_w = os.pipe()
    try:
        setup = view.preexec(base, limits.value(limits.CPP_MEMORY), report_w)
        try:
            proc = subprocess.Popen(
                list(cmd), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, preexec_fn=setup, env={**os.environ, "LC_ALL": "C"},
            )
        except subprocess.SubprocessError:
            os.close(report_w)
            report_w = -1
            with os.fdopen(report_r, "rb") as fh:
                report_r = -1
                raise sandbox.note_failure(fh.read(4096).decode("utf-8", "replace")) from None
    finally:
        for fd in (report_r, report_w):
            if fd >= 0:
                os.close(fd)
    if proc.stdout is not None:
        _widen(proc.stdout.fileno())
    return proc


def _run(cmd: Sequence[str], where: Source, stdin: int, view: View | None = None) -> tuple[int, bytes, bytes]:
    if view is None:
        return _collect(cmd, where, stdin, None)
    import tempfile

    base = tempfile.mkdtemp(prefix="memplan-cpp-view-")
    try:
        return _collect(cmd, where, stdin, (view, base))
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(base)


def _collect(
    cmd: Sequence[str], where: Source, stdin: int, confined: tuple[View, str] | None
) -> tuple[int, bytes, bytes]:
    from memplan.errors import PreprocessError

    timeout = limits.value(limits.CPP_TIMEOUT)
    cap = limits.value(limits.CPP_OUTPUT)
    # a started process reads nothing: it stands for a run without input only (and never confined)
    prestarted = (_PRESTARTED.pop(tuple(cmd), None)
                  if stdin == subprocess.DEVNULL and confined is None else None)
    if prestarted is not None:
        proc, started = prestarted
    else:
        try:
            proc = _start(cmd, stdin) if confined is None else _start_confined(cmd, stdin, *confined)
        except OSError as exc:
            raise PreprocessError(f"cannot run {cmd[0]}: {exc}", where) from exc
        started = time.monotonic()
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    deadline = started + timeout
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
        _close(proc)
    text = bytes(err)
    oom = b"out of memory" in text or b"memory exhausted" in text
    if oom or status in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
        raise PreprocessError(limits.exceeded(
            "the C preprocessor ran out of memory: a macro expansion bomb, or an include of an "
            "endless file such as /dev/zero?", limits.CPP_MEMORY), where)
    return status, bytes(out), text
