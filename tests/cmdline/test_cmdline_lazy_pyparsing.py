"""pyparsing is loaded only when a command-line value is parsed (memplan.cmdline.grammar)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
import memplan
after_import = "pyparsing" in sys.modules
plan = memplan.resolve(dts=sys.argv[1], arch="arm64", kernel_version="6.1", cmdline={cmdline})
print(json.dumps([after_import, "pyparsing" in sys.modules, plan.global_cma.size]))
"""

BOARD = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x80000000>; };
    reserved-memory {
        #address-cells = <2>; #size-cells = <2>; ranges;
        linux,cma { compatible = "shared-dma-pool"; reusable; size = <0 0x4000000>; linux,cma-default; };
    };
};
"""


def _probe(tmp_path: Path, cmdline: str | None) -> list[object]:
    board = tmp_path / "board.dts"
    board.write_text(BOARD)
    code = _PROBE.format(cmdline=repr(cmdline))
    out = subprocess.run(
        [sys.executable, "-c", code, str(board)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    result: list[object] = json.loads(out.stdout)
    return result


def test_resolving_without_a_command_line_does_not_import_pyparsing(tmp_path: Path) -> None:
    assert _probe(tmp_path, None) == [False, False, 64 << 20]


def test_a_command_line_value_imports_it(tmp_path: Path) -> None:
    # the control: the same probe sees pyparsing once a value is parsed (so the check above can fail)
    assert _probe(tmp_path, "cma=32M@0x50000000") == [False, True, 32 << 20]
