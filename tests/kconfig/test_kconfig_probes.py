"""memplan.kconfig.probes answers every $(shell,...) form as kconfiglib's /bin/sh run does."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import kconfiglib
import pytest

from memplan.kconfig import probes


class _Kconf:
    _encoding = "utf-8"
    filename = "Kconfig"
    linenr = 7

    def __init__(self) -> None:
        self.warnings: list[tuple[Any, ...]] = []

    def _warn(self, *args: Any) -> None:
        self.warnings.append(args)


def _wrap(inner: str, then: str = "y", other: str = "n") -> str:
    return f'{{ {inner}; }} >/dev/null 2>&1 && echo "{then}" || echo "{other}"'


def _tmp_compile(tool: str, flag: str) -> str:
    return _wrap(f'trap "rm -rf .tmp_$$" EXIT; mkdir .tmp_$$; {tool} {flag} -o .tmp_$$/tmp.o')


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with small programs: ``okay`` succeeds, ``nope`` fails, ``talk``
    writes to stdout and stderr, ``mkout`` writes the file after ``-o``, ``noshebang`` is a
    script without an interpreter line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "okay": "#!/bin/sh\nexit 0\n",
        "nope": "#!/bin/sh\nexit 3\n",
        "talk": '#!/bin/sh\necho "out $1"\necho second\necho "err $2" >&2\n',
        "mkout": ('#!/bin/sh\nwhile [ $# -gt 1 ]; do [ "$1" = -o ] && : > "$2" && exit 0; shift; done\n'
                  "exit 1\n"),
        "noshebang": "echo from-sh\n",
    }
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "present").write_text("")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    probes.forget()
    return tmp_path


COMMANDS = [
    _wrap('test "GCC" = GCC'), _wrap('test "GCC" = Clang'), _wrap('test -z "GCC 120200"'),
    _wrap('test -z ""'), _wrap("test -e present"), _wrap("test -e absent"), _wrap('test "a" != b'),
    "set -- GCC 120200 && echo $1", "set -- GCC 120200 && echo $2", "set -- GCC && echo $3",
    "set -- -n && echo $1",
    _wrap("okay --flag"), _wrap("nope --flag"), _wrap("not-a-program-anywhere -v"),
    _wrap("okay", "-m64", ""), _wrap("nope", "-m64", ""), _wrap("okay", "-n", "x"),
    _tmp_compile("mkout", "-Werror -c"), _tmp_compile("nope", "-c"),
    _wrap('env "CC=gcc" okay'), _wrap("noshebang"), _wrap("okay | nope"),
    "talk a b", "talk", "okay", "not-a-program-anywhere", "noshebang", "echo $HOME",
    "printf '%s\\n' a b", _wrap("true", "y", "n"), _wrap("command -v okay"), "abc\"def\" x",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_same_answer_and_warning_as_kconfiglib(tools: Path, command: str) -> None:
    ours, theirs = _Kconf(), _Kconf()
    expected = kconfiglib._shell_fn(theirs, "shell", command)
    assert probes.shell(ours, "shell", command) == expected
    assert ours.warnings == theirs.warnings
    again = _Kconf()
    assert probes.shell(again, "shell", command) == expected  # answered from memory
    assert again.warnings == theirs.warnings  # with the same warning each time
    assert sorted(p.name for p in tools.iterdir() if p.name.startswith(".tmp_")) == []


def test_memory_keyed_by_environment(tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_TOOL", "okay")
    command = _wrap('test "GCC" = GCC')
    assert probes.shell(_Kconf(), "shell", "talk") == "out  second"
    (tools / "bin" / "talk").write_text("#!/bin/sh\necho changed\n")
    assert probes.shell(_Kconf(), "shell", "talk") == "out  second"  # same environment: remembered
    monkeypatch.setenv("PROBE_TOOL", "nope")
    assert probes.shell(_Kconf(), "shell", "talk") == "changed"  # another environment: run again
    assert probes.shell(_Kconf(), "shell", command) == "y"


def test_compile_probe_directory_removed_and_used(tools: Path) -> None:
    (tools / "bin" / "seeout").write_text('#!/bin/sh\n[ -d "${2%/*}" ] && [ "$1" = -o ]\n')
    (tools / "bin" / "seeout").chmod(0o755)
    command = _wrap('trap "rm -rf .tmp_$$" EXIT; mkdir .tmp_$$; seeout -o .tmp_$$/tmp.o')
    assert probes.shell(_Kconf(), "shell", command) == kconfiglib._shell_fn(_Kconf(), "shell", command) == "y"
    assert not [p for p in tools.iterdir() if p.name.startswith(".tmp_")]


def _ask_in_child(directory: str, command: str, queue: Any) -> None:
    probes.forget()
    probes.share_in(directory)
    kconf = _Kconf()
    queue.put((probes.shell(kconf, "shell", command), kconf.warnings))


def test_processes_sharing_a_directory_run_a_command_once(tools: Path) -> None:
    import multiprocessing

    (tools / "bin" / "counted").write_text('#!/bin/sh\necho run >> "$1"\necho answer\necho note >&2\n')
    (tools / "bin" / "counted").chmod(0o755)
    shared = tools / "shared"
    shared.mkdir()
    command = f"counted {tools / 'runs'}"
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    for _ in range(3):
        child = context.Process(target=_ask_in_child, args=(str(shared), command, queue))
        child.start()
        child.join()
        assert child.exitcode == 0
    answers = [queue.get(timeout=10) for _ in range(3)]
    assert (tools / "runs").read_text() == "run\n"  # run by the first process only
    assert all(text == "answer" for text, _ in answers)
    assert all(len(warnings) == 1 and "wrote to stderr: note" in warnings[0][0] for _, warnings in answers)
    probes.share_in(None)


def test_an_answer_serves_every_architecture_unless_the_command_runs_a_file_of_the_tree(
        tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ARCH and SRCARCH are set for kconfiglib only: the same host tool run under another
    architecture is answered from memory, a script of the tree (which may read them) runs again."""
    tree = tools / "tree"
    tree.mkdir()
    script = tree / "arch-script"
    script.write_text('#!/bin/sh\necho "script $ARCH"\n')
    script.chmod(0o755)
    monkeypatch.setenv("srctree", str(tree))
    monkeypatch.setenv("ARCH", "arm")
    monkeypatch.setenv("SRCARCH", "arm")
    assert probes.shell(_Kconf(), "shell", "talk x") == "out x second"
    assert probes.shell(_Kconf(), "shell", str(script)) == "script arm"
    (tools / "bin" / "talk").write_text("#!/bin/sh\necho changed\n")
    monkeypatch.setenv("ARCH", "arm64")
    monkeypatch.setenv("SRCARCH", "arm64")
    assert probes.shell(_Kconf(), "shell", "talk x") == "out x second"  # a host tool: remembered
    assert probes.shell(_Kconf(), "shell", str(script)) == "script arm64"  # the tree's: run again
    monkeypatch.setenv("PROBE_TOOL", "other")
    assert probes.shell(_Kconf(), "shell", "talk x") == "changed"  # any other variable: run again


def test_a_tree_script_that_cannot_read_the_architecture_serves_every_architecture(
        tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A /bin/sh script of the tree that names neither ARCH nor any way to another file of the
    tree (like scripts/cc-can-link.sh) answers alike for every architecture: answered from
    memory. One that runs a neighbour through ``$0``, or has another interpreter, runs again."""
    tree = tools / "tree"
    tree.mkdir()
    scripts = {
        "plain": "#!/bin/sh -eu\ncat /dev/null\necho plain-$(cat count)\n",
        "neighbour": '#!/bin/sh\n"$(dirname $0)"/plain\n',
        "other-shell": "#!/usr/bin/python3\nprint('other-' + open('count').read())\n",
        "in-scripts": "#!/bin/sh\necho scripts/x-$(cat count)\n",
    }
    for name, text in scripts.items():
        (tree / name).write_text(text)
        (tree / name).chmod(0o755)
    monkeypatch.setenv("srctree", str(tree))
    counts = iter(range(100))

    def ask(name: str, arch: str, *args: str) -> str:
        (tools / "count").write_text(str(next(counts)))
        monkeypatch.setenv("ARCH", arch)
        monkeypatch.setenv("SRCARCH", arch)
        command = " ".join([str(tree / name), *args])
        return probes.shell(_Kconf(), "shell", _wrap(command, "y", "n") if args else command)

    assert ask("plain", "arm") == "plain-0"
    assert ask("plain", "arm64") == "plain-0"  # remembered across architectures
    assert ask("plain", "arm", "-x") == "y"  # in the if-success wrapper, with arguments
    assert ask("neighbour", "arm") == "plain-3"
    assert ask("neighbour", "arm64") == "plain-4"  # reaches another file: run again
    assert ask("other-shell", "arm") == "other-5"
    assert ask("other-shell", "arm64") == "other-6"
    assert ask("in-scripts", "arm") == "scripts/x-7"
    assert ask("in-scripts", "arm64") == "scripts/x-8"
    # the tree named twice, once as an argument in a form not read here: run again
    double = f"{tree / 'plain'} {tree}"
    monkeypatch.setenv("ARCH", "arm")
    first = probes.shell(_Kconf(), "shell", double)
    (tools / "count").write_text("99")
    monkeypatch.setenv("ARCH", "riscv")
    assert probes.shell(_Kconf(), "shell", double) != first
