"""Kconfig's ``$(shell,...)``, run more cheaply with the same answers.

A kernel tree's Kconfig probes the toolchain about a hundred times while it is parsed
(``scripts/Kconfig.include``: ``$(success,...)``, ``$(cc-option,...)``, ``$(ld-option,...)``, the
tool version scripts). kconfiglib runs each through ``/bin/sh``. :func:`shell` replaces its
``shell`` function (installed through kconfiglib's ``KCONFIG_FUNCTIONS`` hook) and gives the same
text for every command, but:

* a command already run in this process with the same environment and working directory (the
  variables that only name the architecture aside, see :data:`_ARCH_ONLY`) is answered from
  memory (the toolchain does not change while memplan runs; :func:`forget` clears), and,
  between processes that :func:`share_in` the same directory (the workers of one lint run
  reading defconfigs), from that directory: a command is run by whichever process reaches it
  first, the others wait for its answer;
* the ``$(if-success,...)`` wrapper around ``test`` and the ``set -- WORDS && echo $N`` of
  ``Kconfig.include`` are answered without a process, when every word is plain (no quoting,
  expansion or glob the shell would act on);
* a plain command (a list of such words, with or without the ``if-success`` wrapper, and the
  ``cc-option`` form with its temporary directory) is executed directly, without a shell.

Anything else, and anything that cannot be executed directly (a program that is not found, or a
script without an interpreter line, where the shell's own message or fallback matters), goes
through ``/bin/sh`` exactly as kconfiglib does it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import kconfiglib

#: A word the shell leaves alone: no quoting, expansion, glob, redirection or separator.
_WORD = r"[A-Za-z0-9_.,:=+/@%-]+"
#: A double-quoted word whose contents the shell leaves alone.
_QUOTED = r'"[A-Za-z0-9_.,:=+/@% -]*"'
_WORDS_RE = re.compile(rf"^ *(?:(?:{_WORD}|{_QUOTED})(?: +|$))*$")
_TOKEN_RE = re.compile(rf"{_WORD}|{_QUOTED}")
#: ``$(if-success,CMD,THEN,ELSE)`` from ``scripts/Kconfig.include``, expanded.
_IF_SUCCESS_RE = re.compile(
    r'^\{ (?P<inner>.*); \} >/dev/null 2>&1 && echo "(?P<then>[A-Za-z0-9_.,:=+/@% -]*)" '
    r'\|\| echo "(?P<else>[A-Za-z0-9_.,:=+/@% -]*)"$', re.DOTALL)
#: The body of ``$(cc-option,...)``: a compile into a temporary directory of the working directory.
_TMP_DIR_RE = re.compile(r'^trap "rm -rf \.tmp_\$\$" EXIT; mkdir \.tmp_\$\$; (?P<cmd>.*)$', re.DOTALL)
_SET_ECHO_RE = re.compile(rf"^set --(?P<words>(?: {_WORD})*) *&& echo \$(?P<n>[1-9])$")
#: Words ``echo`` (dash's or bash's) would take as options rather than print.
_ECHO_OPTION_RE = re.compile(r"^-[neE]+$")
#: Shell builtins and reserved words: a command naming one is left to the shell.
_SHELL_WORDS = frozenset({
    ".", ":", "[", "alias", "bg", "break", "case", "cd", "command", "continue", "do", "done", "echo",
    "elif", "else", "esac", "eval", "exec", "exit", "export", "fc", "fg", "fi", "for", "getopts", "hash",
    "if", "jobs", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift", "test", "then",
    "times", "trap", "type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
})

_Answer = tuple[str, str]  # (the text kconfiglib makes of stdout, stderr)
_MEMO: dict[tuple[str, str, tuple[tuple[str, str], ...]], _Answer] = {}


_SHARED: list[str | None] = [None]


def forget() -> None:
    """Forget every remembered answer (for a toolchain changed while the process runs)."""
    _MEMO.clear()
    _ARCH_FREE.clear()


def share_in(directory: str | None) -> None:
    """Share answers with the other processes given the same ``directory`` (which must exist
    while they run, and be private to them); ``None``: stop sharing."""
    _SHARED[0] = directory


def _shared(key: tuple[object, ...], compute: Callable[[], _Answer]) -> _Answer:
    """``compute()``, or the answer another process sharing the directory found for ``key``."""
    directory = _SHARED[0]
    if directory is None:
        return compute()
    import hashlib  # only a lint sharing answers needs it (OpenSSL's load is felt at start-up)

    name = os.path.join(directory, hashlib.sha256(repr(key).encode()).hexdigest())
    with open(name + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        try:
            with open(name + ".json", encoding="utf-8") as fh:
                text, stderr = json.load(fh)
            return str(text), str(stderr)
        except (OSError, ValueError):
            pass
        answer = compute()
        with open(name + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(list(answer), fh)
        os.replace(name + ".tmp", name + ".json")
        return answer


def _words(text: str) -> list[str] | None:
    """The words of ``text`` when the shell would take them literally, else ``None``."""
    if not _WORDS_RE.match(text):
        return None
    return [t[1:-1] if t.startswith('"') else t for t in _TOKEN_RE.findall(text)]


def _echoable(text: str) -> bool:
    return not _ECHO_OPTION_RE.match(text)


def _test(args: Sequence[str]) -> bool | None:
    """``test ARGS`` for the forms Kconfig uses, or ``None`` to leave it to the shell."""
    if len(args) == 3 and args[1] in ("=", "!="):
        return (args[0] == args[2]) == (args[1] == "=")
    if len(args) == 2 and args[0] in ("-z", "-n"):
        return (args[1] == "") == (args[0] == "-z")
    if len(args) == 2 and args[0] == "-e":
        return os.path.exists(args[1])
    return None


def _runnable(argv: Sequence[str]) -> bool:
    """Whether ``argv`` can be executed without a shell: a program, not a builtin or an assignment."""
    return bool(argv) and argv[0] not in _SHELL_WORDS and "=" not in argv[0]


def _succeeds(argv: Sequence[str]) -> bool | None:
    """Exit status 0 of ``argv`` run with output discarded; ``None`` when it cannot be exec'd
    in a way the shell's answer would equal (the shell then decides)."""
    try:
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False).returncode == 0
    except (FileNotFoundError, PermissionError):
        return False  # the shell's 127/126: a failure, its message discarded
    except OSError:
        return None  # e.g. a script without an interpreter line, which the shell would run itself


def _compile_in_tmp(cmd: str) -> bool | None:
    """``trap "rm -rf .tmp_$$" EXIT; mkdir .tmp_$$; CMD``: CMD run with a fresh directory of the
    working directory for ``.tmp_$$``, removed afterwards."""
    argv = _words(cmd.replace(".tmp_$$", ".tmp_"))
    if argv is None or not _runnable(argv) or not any(".tmp_" in w for w in argv):
        return None
    try:
        tmp = tempfile.mkdtemp(prefix=".tmp_", dir=".")
    except OSError:
        return None  # the shell decides what a failed mkdir means
    try:
        name = os.path.basename(tmp)
        return _succeeds([w.replace(".tmp_", name, 1) if ".tmp_" in w else w for w in argv])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _if_success(inner: str) -> bool | None:
    """Whether ``{ INNER; }`` exits with 0, or ``None`` to leave it to the shell."""
    tmp = _TMP_DIR_RE.match(inner)
    if tmp is not None:
        return _compile_in_tmp(tmp.group("cmd"))
    argv = _words(inner)
    if argv is None:
        return None
    if argv and argv[0] == "test":
        return _test(argv[1:])
    if not _runnable(argv):
        return None
    return _succeeds(argv)


def _without_shell(command: str, kconf: Any) -> _Answer | None:
    """The answer to ``command`` found without a shell, or ``None``."""
    m = _IF_SUCCESS_RE.match(command)
    if m is not None:
        then, other = m.group("then"), m.group("else")
        if not (_echoable(then) and _echoable(other)):
            return None
        ok = _if_success(m.group("inner"))
        return None if ok is None else ((then if ok else other), "")
    m = _SET_ECHO_RE.match(command)
    if m is not None:
        words = m.group("words").split()
        n = int(m.group("n"))
        word = words[n - 1] if n <= len(words) else ""
        return (word, "") if _echoable(word) else None
    argv = _words(command)
    if argv is None or not _runnable(argv):
        return None
    try:
        done = subprocess.run(argv, capture_output=True, check=False)
    except OSError:
        return None  # not found, not executable, no interpreter line: the shell's own message
    return _output(kconf, done.stdout, done.stderr)


def _output(kconf: Any, out: bytes, err: bytes) -> _Answer:
    """What kconfiglib makes of a command's output: the lines of stdout joined by spaces, and
    stderr (which it warns about)."""
    try:
        stdout = out.decode(kconf._encoding)
        stderr = err.decode(kconf._encoding)
    except UnicodeDecodeError as e:
        kconfiglib._decoding_error(e, kconf.filename, kconf.linenr)
    return "\n".join(stdout.splitlines()).rstrip("\n").replace("\n", " "), stderr


def _with_shell(command: str, kconf: Any) -> _Answer:
    done = subprocess.run(command, shell=True, capture_output=True, check=False)
    return _output(kconf, done.stdout, done.stderr)


#: Variables set only for kconfiglib (the Kconfig files read them as ``$(ARCH)``, ``$(SRCARCH)``).
#: The host tools the probes run (compiler, assembler, linker, ``printf``, ``test``) do not read
#: them, so a probe that runs nothing of the kernel tree answers alike for every architecture:
#: most of each architecture's hundred probes are the same compiles, run once per lint this way.
#: A command naming a file of the tree (a script of it, which may read them) keeps them in its key,
#: unless each such file is a shell script that can neither read them nor run another file of the
#: tree (``scripts/cc-can-link.sh``, ``scripts/tools-support-relr.sh``: :func:`_arch_free_script`).
_ARCH_ONLY = ("ARCH", "SRCARCH")


#: A shell script's interpreter line: ``/bin/sh`` or ``/bin/bash``, which read no ARCH themselves.
_SHELL_SCRIPT_RE = re.compile(rb"^#![ \t]*/bin/(?:ba)?sh(?:[ \t][^\n]*)?\n")
#: What in a script's text may bring :data:`_ARCH_ONLY` in: the names themselves, or a way to
#: reach another file of the tree (its own location, the tree's variables, a path into scripts/)
#: or make, whose rules may read them.
_REACHES_ARCH = (b"ARCH", b"$0", b"${0", b"BASH_SOURCE", b"srctree", b"objtree", b"scripts/", b"make")
#: The largest script read to decide; a bigger one keeps the architecture in its key.
_SCRIPT_LIMIT = 1 << 16
_ARCH_FREE: dict[str, bool] = {}


def _arch_free_script(path: str) -> bool:
    """Whether ``path`` is a small ``/bin/sh`` (or bash) script that cannot read ARCH or SRCARCH:
    neither names them nor reaches another file of the tree. Anything else (unreadable, another
    interpreter, a program) might, and keeps the architecture in the key."""
    known = _ARCH_FREE.get(path)
    if known is None:
        try:
            with open(path, "rb") as fh:
                text = fh.read(_SCRIPT_LIMIT + 1)
        except OSError:
            text = b""
        known = (0 < len(text) <= _SCRIPT_LIMIT and _SHELL_SCRIPT_RE.match(text) is not None
                 and not any(marker in text for marker in _REACHES_ARCH))
        _ARCH_FREE[path] = known
    return known


def _names_arch(command: str, tree: str) -> bool:
    """Whether ``command`` may read :data:`_ARCH_ONLY`: it names a file of the tree other than
    a script that cannot (:func:`_arch_free_script`)."""
    if tree not in command:
        return False
    named = re.findall(re.escape(tree) + r"/[A-Za-z0-9_.+/-]+", command)
    if len(named) != command.count(tree):
        return True  # the tree named in a form not understood here
    return not all(_arch_free_script(path) for path in named)


def _key(command: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """What an answer is remembered by: the command, the working directory and the environment
    (without :data:`_ARCH_ONLY` for a command that runs nothing of the tree that could read them:
    see :func:`_names_arch`)."""
    env = os.environ
    tree = env.get("srctree")
    skip = _ARCH_ONLY if tree and not _names_arch(command, tree) else ()
    return command, os.getcwd(), tuple(sorted(item for item in env.items() if item[0] not in skip))


def shell(kconf: Any, _name: str, command: str) -> str:
    """kconfiglib's ``$(shell,COMMAND)``: the same text (and warning), found as cheaply as possible."""
    key = _key(command)
    answer = _MEMO.get(key)
    if answer is None:
        answer = _shared(key, lambda: _without_shell(command, kconf) or _with_shell(command, kconf))
        _MEMO[key] = answer
    text, stderr = answer
    if stderr:
        kconf._warn("'{}' wrote to stderr: {}".format(command, "\n".join(stderr.splitlines())),
                    kconf.filename, kconf.linenr)
    return text


#: kconfiglib's hook for preprocessor functions (``KCONFIG_FUNCTIONS``): name -> (function,
#: minimum and maximum number of arguments).
functions: dict[str, tuple[Callable[..., str], int, int]] = {"shell": (shell, 1, 1)}
