"""The command line's shared options, file arguments, hints, gates and exit statuses."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from memplan.cli import build_parser, main
from memplan.examples import example

EVK = example("evk")
VERSION = ["--kernel-version", "6.1"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _options(command: str) -> dict[str, tuple[str, ...]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: tuple(a.option_strings) for a in sub.choices[command]._actions if a.option_strings}


def test_resolve_and_check_spell_every_shared_option_the_same() -> None:
    resolve, check = _options("resolve"), _options("check")
    shared = set(resolve) & set(check)
    assert {"dts", "dtb", "example", "include_dirs", "cmdline", "cmdline_file", "config", "arch",
            "kernel_version", "precedence", "memory", "format"} <= shared
    for dest in shared:
        assert resolve[dest] == check[dest], dest
    assert resolve["include_dirs"] == ("-I", "--include")
    assert _options("dts")["include_dirs"] == ("-I", "--include")
    # every option has a long name
    for command in ("dts", "resolve", "observe", "check"):
        for dest, flags in _options(command).items():
            assert any(f.startswith("--") for f in flags), (command, dest)


def test_missing_board_path_is_an_error_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["resolve", "--dts", "myboard", "--arch", "arm64"], capsys)
    assert status == 2 and out == ""
    assert err.startswith("memplan: error: myboard: --dts: no such file")


@pytest.mark.parametrize("option", ["--dts", "--dtb", "--config", "--cmdline-file"])
def test_every_file_option_is_a_path(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["resolve", option, "no-such-file", "--arch", "x86", "--memory", "1G"], capsys)
    assert status == 2
    assert "no-such-file" in err and option in err and "no such file" in err


Capsys = pytest.CaptureFixture[str]


def test_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EVK.dts.read_bytes())))
    status, out, err = run(["resolve", "--dts", "-", "-I", str(EVK.dts.parent), "--config", str(EVK.config),
                            *VERSION, "--format", "json"], capsys)
    assert status == 0, err
    assert json.loads(out)["global_cma"]["origin"] == "cmdline"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EVK.config.read_bytes())))
    argv = ["resolve", "--example", "evk", "--config", "-", *VERSION, "--format", "json"]
    status, out, err = run(argv, capsys)
    assert status == 0, err
    assert json.loads(out)["arch"] == "arm64"


def test_standard_input_is_read_once(monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    status, _, err = run(["resolve", "--dts", "-", "--config", "-", "--arch", "arm64"], capsys)
    assert status == 2 and "--config: standard input (-) is already read by --dts" in err


@pytest.mark.parametrize("command", ["resolve", "check", "dts"])
def test_include_folder_must_exist(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = {"resolve": ["resolve", "--example", "evk"], "dts": ["dts", str(EVK.dts)],
            "check": ["check", "--observed", str(tmp_path), "--example", "evk"]}[command]
    status, _, err = run([*argv, "--include", str(tmp_path / "nowhere")], capsys)
    assert status == 2
    assert f"{tmp_path / 'nowhere'}: --include: no such folder" in err


def test_dtsi_as_board_gets_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(["resolve", "--dts", str(EVK.dts.parent / "soc.dtsi"), "--arch", "arm64"], capsys)
    assert "hint: " in err and "include file (.dtsi); pass the board .dts" in err


def test_dts_given_to_dtb_gets_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["resolve", "--dtb", str(EVK.dts), "--arch", "arm64"], capsys)
    assert status == 2
    assert f"{EVK.dts}: --dtb: this is Device Tree source, not a compiled blob" in err and "with --dts" in err


def test_errors_name_options_not_keywords(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(["resolve", "--arch", "sparc9", "--memory", "1G"], capsys)
    assert err.startswith("memplan: error: --arch: unknown architecture 'sparc9'")
    _, _, err = run(["resolve", "--memory", "1G"], capsys)
    assert "--arch" in err and "arch=" not in err
    _, _, err = run(["resolve", "--arch", "arm64"], capsys)
    assert "--memory" in err and "memory=" not in err
    _, _, err = run(["resolve", "--arch", "x86", "--memory", "lots"], capsys)
    assert err.startswith("memplan: error: --memory:")


def test_exit_codes_are_documented_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, codes in ((["--help"], "0123"), (["resolve", "--help"], "012"), (["check", "--help"], "0123")):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "exit status" in out
        for code in codes:
            assert f"\n  {code}  " in out, (argv, code)


def test_fail_on_and_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["resolve", "--example", "evk", *VERSION, "--format", "json"]
    status, out, _ = run(base, capsys)
    codes = {d["code"]: d["severity"] for d in json.loads(out)["diagnostics"]}
    assert status == 0 and codes["cma-dt-bypassed"] == "warning"
    assert run([*base, "--fail-on", "warning"], capsys)[0] == 1
    status, out, _ = run([*base, "--fail-on", "warning", "--ignore", "cma-dt-bypassed"], capsys)
    assert status == 0
    assert "cma-dt-bypassed" not in {d["code"] for d in json.loads(out)["diagnostics"]}
    assert run([*base, "--ignore", "Not A Code"], capsys)[0] == 2


def test_github_annotations_point_at_the_dts_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["resolve", "--example", "evk", *VERSION, "--format", "github"], capsys)
    assert status == 0
    bypassed = next(line for line in out.splitlines() if "cma-dt-bypassed" in line)
    lines = EVK.dts.read_text().splitlines()
    assert bypassed.startswith(f"::warning file={EVK.dts},line=")
    line = int(bypassed.split("line=")[1].split(",")[0])
    assert "linux,cma" in lines[line - 1]
    assert any(x.startswith(f"::notice file={EVK.config},line=1,") for x in out.splitlines())


def test_cli_import_is_light() -> None:
    # building the whole parser (every subcommand registered) imports none of the heavy parts
    code = (
        "import sys, memplan.cli; memplan.cli.build_parser(); "
        "heavy = [m for m in ('kconfiglib', 'attr', 'memplan.resolve', 'memplan.api', 'memplan.dts', "
        "'memplan.observe', 'memplan.kconfig', 'pyparsing', 'pcpp') if m in sys.modules]; print(heavy)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def test_config_that_is_not_a_config_is_unusable_input(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["resolve", "--example", "evk", "--config", str(EVK.dts)], capsys)
    assert status == 2 and out == ""
    assert err.count("\n") <= 4  # one error, not a warning per line
    assert f"{EVK.dts}:1: --config: this is not a kernel .config or defconfig" in err


def test_missing_memory_is_reported_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "b.dts"
    board.write_text(
        "/dts-v1/;\n/ {\n #address-cells = <1>; #size-cells = <1>;\n"
        " reserved-memory { #address-cells = <1>; #size-cells = <1>; ranges;\n"
        "  fw@48000000 { reg = <0x48000000 0x100000>; no-map; };\n"
        "  dsp@49000000 { reg = <0x49000000 0x100000>; no-map; };\n };\n};\n"
    )
    status, out, _ = run(["resolve", "--dts", str(board), "--arch", "arm64", "--kernel-version", "6.1",
                          "--format", "json"], capsys)
    assert status == 1
    codes = [d["code"] for d in json.loads(out)["diagnostics"]]
    assert codes.count("memory-none") == 1 and "rmem-outside-ram" not in codes
    memory_none = next(d for d in json.loads(out)["diagnostics"] if d["code"] == "memory-none")
    assert "--memory" in memory_none["message"] and "memory=" not in memory_none["message"].split(";")[1]


def test_dts_command_reads_standard_input(monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EVK.dts.read_bytes())))
    status, out, err = run(["dts", "-", "--include", str(EVK.dts.parent)], capsys)
    assert status == 0, err
    assert "memory banks (1):" in out and "  /memory@40000000: 0x40000000-0xbfffffff (2 GiB)" in out


def test_diagnostics_name_options_in_the_cli_and_keywords_in_the_api(capsys: Capsys) -> None:
    import memplan

    argv = ["resolve", "--example", "evk", "--arch", "x86", "--memory", "1G", "--kernel-version", "5.10",
            "--format", "json"]
    _, out, _ = run(argv, capsys)
    mismatch = next(d for d in json.loads(out)["diagnostics"] if d["code"] == "kconfig-arch-mismatch")
    assert "but --arch x86 was given" in mismatch["message"]
    plan = memplan.resolve(**EVK.inputs(), arch="x86", memory="1G", kernel_version="5.10")  # type: ignore[arg-type]
    api = next(d for d in plan.diagnostics if d.code == "kconfig-arch-mismatch")
    assert "but arch=x86 was given" in api.message


def test_a_run_builds_only_its_own_subparser_and_the_same_one(capsys: Capsys) -> None:
    def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return dict(sub.choices)

    full = subparsers(build_parser())
    assert list(full) == ["dts", "resolve", "observe", "check", "lint", "collect"]
    for command, parser in full.items():
        alone = subparsers(build_parser(command))
        assert list(alone) == [command]
        assert alone[command].format_help() == parser.format_help()
    # a mistyped command still hears every choice
    assert main(["resolv"]) == 2
    assert "invalid choice: 'resolv' (choose from 'dts', 'resolve', 'observe'" in capsys.readouterr().err


def test_one_board_commands_pause_the_collector_and_resume_it(
    monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    import gc

    import memplan.cli.resolve_cmd as resolve_cmd

    seen: list[bool] = []
    real = resolve_cmd.run

    def spy(args: argparse.Namespace) -> int:
        seen.append(gc.isenabled())
        return real(args)

    monkeypatch.setattr(resolve_cmd, "run", spy)
    assert gc.isenabled()
    assert main(["resolve", "--example", "evk", *VERSION]) == 0
    assert seen == [False] and gc.isenabled()
    assert main(["resolve", "--example", "evk", "--memory", "lots"]) == 2  # an error resumes it too
    assert seen == [False, False] and gc.isenabled()
    capsys.readouterr()
