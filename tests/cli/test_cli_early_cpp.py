"""The command starts the C preprocessor before it imports the parser, and the loader takes
that process instead of starting another (memplan.cli.early, memplan.dts.cpprun.prestart)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memplan.cli import main
from memplan.dts import cpprun
from memplan.dts.load import load_device_tree
from memplan.examples import example

pytestmark = pytest.mark.skipif(shutil.which("cpp") is None, reason="needs the system cpp")

EVK = example("evk")
ROOT = Path(__file__).resolve().parents[2]
#: A recorded boot the prediction matches.
FIXTURE = ROOT / "tests" / "kernel" / "fixtures" / "arm64-5.10-dt-default-cma"
Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every preprocessor process started, by command ("early" added when prestart started it)."""
    started: list[tuple[str, ...]] = []
    real_start, real_prestart, real_confined = cpprun._start, cpprun.prestart, cpprun._start_confined
    early = [False]

    def counting(cmd: Any, *args: Any) -> Any:
        started.append((*cmd, "early") if early[0] else tuple(cmd))
        return real_start(cmd, *args)

    def counting_confined(cmd: Any, *args: Any) -> Any:  # a run confined to --include-root
        started.append((*cmd, "confined"))
        return real_confined(cmd, *args)

    def prestart(cmd: Any) -> None:
        early[0] = True
        try:
            real_prestart(cmd)
        finally:
            early[0] = False

    monkeypatch.setattr(cpprun, "_start", counting)
    monkeypatch.setattr(cpprun, "_start_confined", counting_confined)
    monkeypatch.setattr(cpprun, "prestart", prestart)
    return started


def _board(tmp_path: Path) -> Path:
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "base.h").write_text("#define BASE 0x40000000\n")
    board = tmp_path / "b.dts"
    board.write_text(
        '/dts-v1/;\n#include "base.h"\n/ { #address-cells = <1>; #size-cells = <1>;\n'
        ' memory@40000000 { device_type = "memory"; reg = <BASE 0x10000000>; };\n};\n'
    )
    return board


def test_dts_takes_the_started_preprocessor(tmp_path: Path, starts: list[tuple[str, ...]],
                                            capsys: Capsys) -> None:
    board = _board(tmp_path)
    inc = str(tmp_path / "inc")
    assert main(["dts", str(board), "-I", inc]) == 0
    out = capsys.readouterr().out
    # one process, started early and taken by the loader
    assert len(starts) == 1 and starts[0][-2:] == (str(board), "early") and inc in starts[0]
    assert not cpprun._PRESTARTED
    assert "  /memory@40000000: 0x40000000-0x4fffffff (256 MiB)" in out
    # the blob the command writes (one more started cpp, taken) is the tree of a load that
    # starts its own preprocessor
    blob = tmp_path / "b.dtb"
    assert main(["dts", str(board), "-I", inc, "-o", str(blob)]) == 0
    assert len(starts) == 2 and starts[1] == starts[0]
    assert load_device_tree(str(board), [inc]).tree.to_dtb() == blob.read_bytes()
    assert len(starts) == 3 and starts[2] == starts[0][:-1]  # the same command, not started early


def test_resolve_takes_the_started_preprocessor(starts: list[tuple[str, ...]], capsys: Capsys) -> None:
    argv = ["resolve", "--dts", str(EVK.dts), "--config", str(EVK.config), "--kernel-version", "6.1",
            "--format", "json"]
    assert main([*argv, "-I", str(EVK.dts.parent)]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert len(starts) == 1 and starts[0][-1] == "early" and not cpprun._PRESTARTED
    assert plan["global_cma"]["origin"] == "cmdline"


@pytest.mark.skipif(not FIXTURE.is_dir(), reason="recorded boot fixtures not present")
def test_check_takes_the_started_preprocessor(starts: list[tuple[str, ...]], capsys: Capsys) -> None:
    argv = ["check", str(FIXTURE), "--dts", str(FIXTURE / "board.dts"), "--cmdline-file",
            str(FIXTURE / "cmdline.txt"), "--arch", "arm64", "--format", "json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert len(starts) == 1 and starts[0][-1] == "early" and not cpprun._PRESTARTED


def test_nothing_is_started_when_the_loader_would_not_run_cpp(
    tmp_path: Path, starts: list[tuple[str, ...]], capsys: Capsys
) -> None:
    board = _board(tmp_path)
    blob = tmp_path / "b.dtb"
    assert main(["dts", str(board), "-I", str(tmp_path / "inc"), "-o", str(blob)]) == 0
    starts.clear()
    assert main(["dts", str(blob)]) == 0  # a blob: no preprocessor at all
    assert main(["dts", "--cpp", "pcpp", str(board), "-I", str(tmp_path / "inc")]) == 0
    assert starts == []
    # include roots vet the includes first: the preprocessor starts only after that, once, and
    # only confined to the roots (where that is impossible pcpp preprocesses, nothing starts)
    assert main(["dts", str(board), "-I", str(tmp_path / "inc"), "--include-root", str(tmp_path),
                 "--cpp", "system"]) == 0
    assert len(starts) <= 1 and all(s[-1] == "confined" for s in starts)


def test_an_unused_preprocessor_is_stopped(tmp_path: Path, starts: list[tuple[str, ...]],
                                           capsys: Capsys) -> None:
    board = _board(tmp_path)
    # the include the board needs is missing: the started cpp fails, the run reports it, and
    # nothing is left running
    status = main(["dts", str(board)])
    assert status == 2 and "base.h" in capsys.readouterr().err
    assert len(starts) == 1 and starts[0][-1] == "early" and not cpprun._PRESTARTED
    cmd = cpprun.cpp_command("cpp", str(board), [str(tmp_path / "inc")])
    cpprun.prestart(["sleep", "30"])
    cpprun.prestart(cmd)
    procs = [proc for proc, _ in cpprun._PRESTARTED.values()]
    assert len(procs) == 2
    cpprun.discard_prestarted()
    assert not cpprun._PRESTARTED and all(p.poll() is not None for p in procs)


def test_the_preprocessor_starts_before_the_parser_is_imported(tmp_path: Path) -> None:
    board = _board(tmp_path)
    code = (
        "import sys\n"
        "from memplan.dts import cpprun\n"
        "real = cpprun.prestart\n"
        "def spy(cmd):\n"
        "    print(sorted(m for m in ('attrs', 'memplan.dts.parser', 'memplan.model') if m in sys.modules))\n"
        "    real(cmd)\n"
        "cpprun.prestart = spy\n"
        "from memplan.cli import main\n"
        f"sys.exit(main(['dts', {str(board)!r}, '-I', {str(tmp_path / 'inc')!r}]))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "[]"
