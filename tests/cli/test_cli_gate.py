"""``--fail-on`` and ``--ignore`` on every subcommand that gates on diagnostics."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from memplan.cli import build_parser, main
from memplan.cli.options import diagnostic_code
from memplan.diagnostics import CODES
from memplan.examples import example

EVK = example("evk")
FIXTURES = Path(__file__).resolve().parents[1] / "kernel" / "fixtures"
#: A recorded boot the prediction matches, whose plan has one warning (cma-dt-bypassed).
MATCHED_WITH_WARNING = FIXTURES / "arm64-5.10-dt-default-cma"
GATED = ("dts", "resolve", "check", "lint")

Capsys = pytest.CaptureFixture[str]


def run(argv: list[str], capsys: Capsys) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _actions(command: str) -> dict[str, argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices[command]._actions}


def _board_with_a_bad_reg(tmp_path: Path) -> Path:
    """A board dtc compiles with a warning (dtc-reg-format) and whose summary cannot read
    the /memory bank (dts-summary)."""
    board = tmp_path / "b.dts"
    board.write_text(
        "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"
        '\tmemory@0 { device_type = "memory"; reg = <0 0x1000 0x2000>; };\n};\n'
    )
    return board


@pytest.mark.parametrize("command", GATED)
def test_every_gating_subcommand_has_the_same_gate_options(command: str) -> None:
    actions = _actions(command)
    fail_on, ignore = actions["fail_on"], actions["ignore"]
    assert fail_on.option_strings == ["--fail-on"] and ignore.option_strings == ["--ignore"]
    assert fail_on.choices is not None and {"error", "warning", "never"} <= set(fail_on.choices)
    assert ignore.type is diagnostic_code  # the one definition
    assert isinstance(ignore, argparse._AppendAction)


@pytest.mark.parametrize("command", GATED)
def test_ignoring_an_unregistered_code_is_a_usage_error(command: str, tmp_path: Path, capsys: Capsys) -> None:
    argv = {
        "dts": ["dts", str(EVK.dts)],
        "resolve": ["resolve", "--example", "evk"],
        "check": ["check", str(tmp_path), "--example", "evk"],
        "lint": ["lint", str(tmp_path)],
    }[command]
    status, out, err = run([*argv, "--ignore", "memory-nnoe"], capsys)
    assert status == 2 and out == ""
    assert "--ignore: 'memory-nnoe' is not a registered diagnostic code; did you mean 'memory-none'?" in err


def test_the_suggestion_is_the_nearest_registered_code() -> None:
    assert "memory-none" in CODES and "cma-dt-bypassed" in CODES
    with pytest.raises(argparse.ArgumentTypeError, match="did you mean 'cma-dt-bypassed'"):
        diagnostic_code("cma-dt-bypass")
    wrong_case = r"'Memory-None' is not .*did you mean 'memory-none'"
    with pytest.raises(argparse.ArgumentTypeError, match=wrong_case):
        diagnostic_code("Memory-None")
    assert diagnostic_code("memory-none") == "memory-none"


def test_resolve_gate_levels(tmp_path: Path, capsys: Capsys) -> None:
    base = ["resolve", "--example", "evk", "--kernel-version", "6.1", "--format", "json"]
    assert run(base, capsys)[0] == 0  # a warning (cma-dt-bypassed) does not fail by default
    assert run([*base, "--fail-on", "warning"], capsys)[0] == 1
    # an error (no /memory) fails by default, and not with never
    board = tmp_path / "nomem.dts"
    board.write_text("/dts-v1/;\n/ { #address-cells = <1>; #size-cells = <1>; };\n")
    argv = ["resolve", "--dts", str(board), "--arch", "arm64", "--kernel-version", "6.1", "--format", "json"]
    status, out, _ = run(argv, capsys)
    assert status == 1 and "memory-none" in {d["code"] for d in json.loads(out)["diagnostics"]}
    status, out, _ = run([*argv, "--fail-on", "never"], capsys)
    assert status == 0 and "memory-none" in {d["code"] for d in json.loads(out)["diagnostics"]}
    status, out, _ = run([*argv, "--ignore", "memory-none"], capsys)
    assert status == 0 and "memory-none" not in {d["code"] for d in json.loads(out)["diagnostics"]}


def test_dts_summary_gate(tmp_path: Path, capsys: Capsys) -> None:
    board = str(_board_with_a_bad_reg(tmp_path))
    status, out, _ = run(["dts", board], capsys)
    assert status == 0 and "warnings (2):" in out  # warnings do not fail by default
    assert "[dtc-reg-format]" in out and "[dts-summary]" in out
    status, out, _ = run(["dts", board, "--fail-on", "warning"], capsys)
    assert status == 1 and "warnings (2):" in out
    status, out, _ = run(["dts", board, "--fail-on", "warning", "--ignore", "dts-summary"], capsys)
    assert status == 1 and "warnings (1):" in out and "[dts-summary]" not in out
    argv = ["dts", board, "--fail-on", "warning", "--ignore", "dts-summary", "--ignore", "dtc-reg-format"]
    status, out, _ = run(argv, capsys)
    assert status == 0 and "warnings: none" in out


def test_dts_compile_gate_prints_the_warnings_on_stderr(tmp_path: Path, capsys: Capsys) -> None:
    board, dtb = str(_board_with_a_bad_reg(tmp_path)), tmp_path / "b.dtb"
    status, out, err = run(["dts", board, "-o", str(dtb)], capsys)
    assert status == 0 and out.startswith(f"wrote {dtb}")
    assert f"memplan: {board}:5:" in err and "warning: [dtc-reg-format]" in err
    status, _, err = run(["dts", board, "-o", str(dtb), "--fail-on", "warning"], capsys)
    assert status == 1 and dtb.is_file()
    status, _, err = run(["dts", board, "-o", str(dtb), "--fail-on", "warning", "--ignore", "dtc-reg-format"],
                         capsys)
    assert status == 0 and err == ""


@pytest.mark.skipif(not MATCHED_WITH_WARNING.is_dir(), reason="recorded boot fixtures not present")
def test_check_gates_on_diagnostics_only_when_asked(capsys: Capsys) -> None:
    fx = MATCHED_WITH_WARNING
    base = ["check", str(fx), "--dts", str(fx / "board.dts"), "--cmdline-file", str(fx / "cmdline.txt"),
            "--arch", "arm64"]
    status, out, _ = run(base, capsys)
    assert status == 0 and "diagnostics at --fail-on" not in out  # default never: the comparison decides
    status, out, _ = run([*base, "--fail-on", "error"], capsys)
    assert status == 0
    status, out, _ = run([*base, "--fail-on", "warning"], capsys)
    assert status == 1
    listed = out.split("diagnostics at --fail-on warning (1):\n")[1].splitlines()
    assert len(listed) == 1 and "warning: [cma-dt-bypassed]" in listed[0]
    status, out, _ = run([*base, "--fail-on", "warning", "--format", "json"], capsys)
    codes = {d["code"]: d["severity"] for d in json.loads(out)["diagnostics"]}
    assert status == 1 and codes["cma-dt-bypassed"] == "warning"
    status, out, _ = run([*base, "--fail-on", "warning", "--ignore", "cma-dt-bypassed", "--format", "json"],
                         capsys)
    assert status == 0 and "cma-dt-bypassed" not in {d["code"] for d in json.loads(out)["diagnostics"]}


def test_gate_exit_statuses_are_in_every_help(capsys: Capsys) -> None:
    for command in GATED:
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "\n  1  " in out and "--fail-on" in out.split("exit status:")[1], command
