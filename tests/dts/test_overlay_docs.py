"""docs/overlays.md: every command of the Raspberry Pi scenario runs and prints what the page shows."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from memplan.cli import main

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "overlays.md"
FILES = ROOT / "docs" / "examples" / "rpi-cma"

_BLOCK = re.compile(r"```sh\n(memplan [^\n]*)\n```\s*```text\n(.*?)```", re.S)
EXAMPLES = _BLOCK.findall(PAGE.read_text())


def test_the_page_has_the_scenario() -> None:
    commands = [command for command, _shown in EXAMPLES]
    assert len(commands) == 6
    assert any("cma-size=" in c and "cma=128M" in c for c in commands)


@pytest.mark.skipif(shutil.which("cpp") is None, reason="the C preprocessor is needed")
@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[str(i) for i in range(len(EXAMPLES))])
def test_command_prints_what_the_page_shows(command: str, shown: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    for src in FILES.iterdir():
        shutil.copy(src, tmp_path / src.name)
    monkeypatch.chdir(tmp_path)
    assert main(shlex.split(command)[1:]) == 0
    out = capsys.readouterr().out
    for line in shown.splitlines():
        assert line.rstrip() in out, f"{line!r} not in the output of {command!r}:\n{out}"
