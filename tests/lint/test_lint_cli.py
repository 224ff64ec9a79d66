"""``memplan lint``: exit status by --fail-on, the three formats, the progress bar."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from lint_mini_tree import BOARDS, MINI

from memplan.cli import main
from memplan.cli.lint_cmd import ProgressBar


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", str(MINI), "-j", "1", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("boards", "fail_on", "status"),
    [
        ((), "error", 1),
        ((), "never", 0),
        (("board-clean", "board-outside"), "error", 0),
        (("board-clean", "board-outside"), "warning", 1),
        (("board-overlap",), "build-failed", 0),
        (("board-broken",), "build-failed", 1),
        (("board-overlap",), "error", 1),
    ],
)
def test_exit_status_follows_fail_on(
    capsys: pytest.CaptureFixture[str], boards: tuple[str, ...], fail_on: str, status: int
) -> None:
    code, _, err = _run(capsys, *boards, "--fail-on", fail_on)
    assert code == status
    assert err == ""  # no progress bar when stderr is not a terminal


def test_text_lists_findings_then_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys)
    assert "arch/arm64/boot/dts/vendor/board-overlap.dts: errors\n" in out
    assert "  arch/arm64/boot/dts/vendor/soc.dtsi:20:13: error: [rmem-overlap]" in out
    assert "board-clean.dts" not in out  # clean boards are only counted
    table = out[out.index("Summary of"):].splitlines()
    assert table[1].split() == ["arch", "boards", "clean", "warnings", "errors", "build-failed"]
    assert table[2].split() == ["arm", "1", "1", "0", "0", "0"]
    assert table[3].split() == ["arm64", "6", "3", "1", "1", "1"]
    assert table[4].split() == ["total", "7", "4", "1", "1", "1"]
    assert "Findings by code" in out and "build-failed      error          1         1" in out


def test_json_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "lint.json"
    code, out, _ = _run(capsys, "--format", "json", "-o", str(target))
    assert code == 1 and out == ""
    data = json.loads(target.read_text())
    assert {b["path"]: b["status"] for b in data["boards"]} == BOARDS


def test_sarif_output(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "--format", "sarif")
    log = json.loads(out)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "memplan"
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == MINI.as_uri() + "/"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert set(by_rule) == {"build-failed", "rmem-outside-ram", "rmem-overlap"} == set(rules)
    overlap = by_rule["rmem-overlap"]
    assert overlap["level"] == "error" and rules[overlap["ruleIndex"]] == "rmem-overlap"
    loc = overlap["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "arch/arm64/boot/dts/vendor/soc.dtsi", "uriBaseId": "SRCROOT"}
    assert (loc["region"]["startLine"], loc["region"]["startColumn"]) == (20, 13)
    assert "firmware@48000000" in loc["region"]["snippet"]["text"]
    assert overlap["properties"]["boards"] == ["arch/arm64/boot/dts/vendor/board-overlap.dts"]
    assert by_rule["rmem-outside-ram"]["level"] == "warning"
    rule = run["tool"]["driver"]["rules"][rules.index("build-failed")]
    assert rule["shortDescription"]["text"] and rule["help"]["text"]
    assert not any(r["level"] == "note" for r in run["results"])  # info findings are left out


def test_a_finding_shared_by_boards_is_one_sarif_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import shutil

    root = tmp_path / "linux"
    shutil.copytree(MINI, root, symlinks=True)
    soc = root / "arch/arm64/boot/dts/vendor/soc.dtsi"
    dup = "ranges;\n\t\tdup@48000000 { reg = <0x0 0x48000000 0x0 0x1000>; };"
    soc.write_text(soc.read_text().replace("ranges;", dup))
    main(["lint", str(root), "-j", "1", "--arch", "arm64", "--format", "sarif"])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    in_soc = [r for r in run["results"] if r["ruleId"] == "rmem-overlap"
              and "dup@48000000" in r["message"]["text"] and "firmware@48000000" in r["message"]["text"]]
    assert len(in_soc) == 1, "the overlap written in soc.dtsi is one result for every board that includes it"
    boards = in_soc[0]["properties"]["boards"]
    assert len(boards) == 4 == len(set(boards))  # all arm64 boards but the broken and the cross one


def test_github_annotations_and_ignored_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--format", "github")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 3  # one per distinct finding
    assert any(line.startswith("::error file=arch/arm64/boot/dts/vendor/soc.dtsi,line=20,col=13,")
               for line in lines)
    code, out, _ = _run(capsys, "--ignore", "rmem-overlap", "--ignore", "build-failed", "--format", "json")
    data = json.loads(out)
    assert code == 0  # what remains is a warning
    assert data["summary"]["errors"] == data["summary"]["build_failed"] == 0
    statuses = {b["path"]: b["status"] for b in data["boards"]}
    assert statuses["arch/arm64/boot/dts/vendor/board-broken.dts"] == "clean"
    assert _run(capsys, "--ignore", "Not A Code")[0] == 2


def test_unusable_input_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(capsys, "no-such-board")
    assert code == 2 and out == "" and err.startswith("memplan: error: ") and "no-such-board" in err
    assert main(["lint", str(tmp_path)]) == 2
    assert "not a Linux source tree" in capsys.readouterr().err
    assert main(["lint", str(MINI), "-j", "0"]) == 2
    assert "at least 1 process, got 0" in capsys.readouterr().err


def test_arch_option_takes_lists(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "--arch", "aarch64,arm", "--fail-on", "never", "--format", "json")
    assert [c["arch"] for c in json.loads(out)["configs"]] == ["arm64", "arm"]


def test_progress_bar_redraws_one_line() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, width=10)
    bar(0, 4)
    bar(4, 4)
    text = stream.getvalue()
    assert text.startswith("\r[..........] 0/4 boards")
    assert "\r[##########] 4/4 boards" in text and text.endswith("\r")
    assert "\n" not in text
