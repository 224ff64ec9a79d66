"""cpp's compiler proper started directly (memplan.dts.cppdirect, cpprun.compiler_proper): the
same output, errors and warnings as through the driver, the driver kept whenever its ``-###``
answer is not understood, and the memory bound still on the program that runs."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from memplan.dts import cppdirect, cpprun
from memplan.dts.cpprun import cpp_command, run_cpp
from memplan.dts.preprocess import preprocess
from memplan.errors import MemplanError
from memplan.source import Source

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("MEMPLAN_CORPUS") or REPO.parent / "shared" / "corpus")
GCC_CPP = shutil.which("cpp")
WHERE = Source.at("board.dts", 1)
needs_cpp = pytest.mark.skipif(GCC_CPP is None, reason="needs the system cpp")


@pytest.fixture(autouse=True)
def _fresh_templates() -> None:
    cppdirect._TEMPLATES.clear()


def _corpus_boards() -> list[tuple[Path, Path]]:
    src = CORPUS / "linux-v5.7" / "src"
    if not src.is_dir():
        return []
    boards = sorted(src.glob("arm64/*/*.dts"))[::40] + sorted(src.glob("arm/*.dts"))[::150]
    return [(b, CORPUS / "linux-v5.7" / "include") for b in boards]


@needs_cpp
def test_gcc_driver_gives_its_compiler_proper(tmp_path: Path) -> None:
    main = tmp_path / "a.dts"
    main.write_text("/dts-v1/;\n/ { };\n")
    cmd = cpp_command("cpp", str(main), [str(tmp_path / "inc1"), str(tmp_path / "inc2")], ["X=1"])
    proper = cppdirect.proper_command(cmd)
    if proper is None:
        pytest.skip("this cpp is not a driver whose -### memplan reads")
    assert os.path.isabs(proper[0]) and os.path.basename(proper[0]) != "cpp"
    assert proper.count(str(main)) == 1
    # the include directories keep their order, each once
    dirs = [proper[i + 1] for i, a in enumerate(proper) if a == "-I"]
    assert dirs == [str(tmp_path / "inc1"), str(tmp_path / "inc2")]
    # one question per command shape: another file and other directories reuse the answer
    other = cpp_command("cpp", str(tmp_path / "b.dts"), [str(tmp_path / "x"), str(tmp_path / "y")], ["X=1"])
    assert cppdirect.proper_command(other) is not None
    assert len(cppdirect._TEMPLATES) == 1
    # another extension, or another define, is another shape
    cppdirect.proper_command(cpp_command("cpp", str(tmp_path / "c.dtsi"), [str(tmp_path)], ["X=1"]))
    assert len(cppdirect._TEMPLATES) == 2


@needs_cpp
@pytest.mark.parametrize(("board", "include"), _corpus_boards(), ids=lambda p: p.name)
def test_corpus_boards_preprocess_identically(board: Path, include: Path) -> None:
    cmd = cpp_command("cpp", str(board), [str(board.parent), str(include)])
    driver = run_cpp(cmd, WHERE)
    with cpprun.compiler_proper():
        proper = run_cpp(cmd, WHERE)
    assert proper == driver
    assert driver[0] == 0 and len(driver[1]) > 1000


@needs_cpp
@pytest.mark.parametrize("body", [
    '#include "missing.h"\n',
    "#error stop here\n",
    "#warning look here\n/ { };\n",
    "#define A(x) x\nA(\n",
    "#if 1\n",
])
def test_errors_and_warnings_are_the_drivers(tmp_path: Path, body: str) -> None:
    main = tmp_path / "bad.dts"
    main.write_text("/dts-v1/;\n" + body)
    cmd = cpp_command("cpp", str(main), [str(tmp_path)])
    driver = run_cpp(cmd, WHERE)
    with cpprun.compiler_proper():
        proper = run_cpp(cmd, WHERE)
    assert proper == driver
    assert driver[2]  # each says something on stderr
    # and the front end reports them the same way
    outcomes = []
    for proper_on in (False, True):
        with cpprun.compiler_proper() if proper_on else contextlib.nullcontext():
            try:
                outcomes.append(("ok", preprocess(str(main), [str(tmp_path)], cpp="system").text))
            except MemplanError as exc:
                outcomes.append(("error", str(exc)))
    assert outcomes[0] == outcomes[1]


def _driver(tmp_path: Path, answer: str, status: int = 0) -> str:
    """A fake driver whose ``-###`` prints ``answer`` (placeholders as cppdirect makes them) and
    that otherwise prints DRIVER."""
    exe = tmp_path / "fakecpp"
    exe.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-###" ]; then\n'
        f"  cat >&2 <<'EOF'\n{answer}\nEOF\n  exit {status}\n"
        "fi\n"
        "echo DRIVER\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


MAIN = "/nonexistent-memplan-probe/memplan-probe-main.dts"
DIR0 = "/nonexistent-memplan-probe/memplan-probe-dir0"


@pytest.mark.parametrize(("answer", "status"), [
    ("", 0),  # no command at all
    (f" /bin/echo {MAIN}\n /bin/echo again", 0),  # two commands
    (f" /bin/echo {MAIN} -I {DIR0}", 1),  # the driver failed
    (" /bin/echo -I " + DIR0, 0),  # the main file missing
    (f" /bin/echo {MAIN} {MAIN} -I {DIR0}", 0),  # the main file twice
    (f" /bin/echo {MAIN} -include{DIR0}/x.h", 0),  # a placeholder inside another argument
    (f" /bin/echo {MAIN}", 0),  # the include directory dropped
    (f" echo {MAIN} -I {DIR0}", 0),  # not an absolute program
    (f' /bin/echo "{MAIN} -I {DIR0}', 0),  # not shell words
])
def test_answers_not_understood_keep_the_driver(tmp_path: Path, answer: str, status: int) -> None:
    exe = _driver(tmp_path, "Using built-in specs.\n" + answer, status)
    cmd = cpp_command(exe, str(tmp_path / "a.dts"), [str(tmp_path)])
    assert cppdirect.proper_command(cmd) is None
    with cpprun.compiler_proper():
        assert run_cpp(cmd, WHERE)[1] == b"DRIVER\n"


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_the_proper_command_runs_bounded_with_the_real_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = (f" /bin/sh -c 'ulimit -v; printf \"%s|\" \"$@\"' sh -I {DIR0} {MAIN} "
              "-dumpbase memplan-probe-main.dts -I /fixed")
    exe = _driver(tmp_path, answer)
    main = tmp_path / "dir with space" / "my board.dts"
    cmd = cpp_command(exe, str(main), [str(tmp_path / "inc")])
    monkeypatch.setenv("MEMPLAN_CPP_MEMORY", str(300 << 20))
    with cpprun.compiler_proper():
        status, out, _err = run_cpp(cmd, WHERE)
    assert status == 0
    limit, args = out.split(b"\n", 1)
    assert limit == str(300 << 10).encode()
    assert args.decode().split("|") == ["-I", str(tmp_path / "inc"), str(main), "-dumpbase", "my board.dts",
                                        "-I", "/fixed", ""]
    # outside the block, the driver runs
    assert run_cpp(cmd, WHERE)[1] == b"DRIVER\n"


def test_commands_without_a_file_keep_the_driver() -> None:
    assert cppdirect.proper_command(["cpp", "-nostdinc", "-"]) is None
    assert cppdirect.proper_command(["cpp"]) is None
    assert cppdirect.proper_command(["cpp", "-x", "c", "-I"]) is None
