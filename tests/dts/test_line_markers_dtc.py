"""Line markers exactly as dtc's lexer takes them, judged by dtc at test time (the installed
1.6.1 and the kernel tree's 1.7.0): never laxer (``#line 5`` without a file name, ``# 5"f"``,
leading blanks are syntax errors there) and never stricter (any blanks, any number of flags);
what follows a marker on its line is ordinary input, on the line before the one it names."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from libfdt_tools import JUDGES, dtc

from memplan.dts import parse_text
from memplan.errors import DtsSyntaxError

MARKERS = {
    "no-file-name": "#line 5",
    "no-file-name-hash": "# 5",
    "plain": '# 5 "f.dts"',
    "line-keyword": '#line 5 "f.dts"',
    "extra-spaces": '#  5  "f.dts"',
    "line-extra-spaces": '#line  5 \t "f.dts"',
    "tabs": '#\t5\t"f.dts"',
    "one-flag": '# 5 "f.dts" 2',
    "many-flags": '# 5 "f.dts" 1 3 4 9 12345',
    "flag-after-spaces": '# 5 "f.dts"    1',
    "trailing-blanks": '# 5 "f.dts"   \t',
    "leading-blank": '  # 5 "f.dts"',
    "name-not-set-off": '# 5"f.dts"',
    "line-glued": '#line5 "f.dts"',
    "space-inside-keyword": '# line 5 "f.dts"',
    "junk-after": '# 5 "f.dts" x',
    "flag-then-junk": '# 5 "f.dts" 1 x',
    "escaped-name": '# 5 "a\\"b.dts"',
    "comment-after": '# 5 "f.dts" /* c */',
}

#: A board with the marker on line 2, a good node, then one with an error dtc and memplan report.
GOOD = '/dts-v1/;\n{marker}\n/ {{ p = <1>; }};\n'
BAD = '/dts-v1/;\n{marker}\n/ {{ p = <1>; }};\n/ {{ q = <2> }};\n'
_ERROR = re.compile(r"Error: (?P<file>.+?):(?P<line>\d+)\.(?P<col>\d+)")


def judged(tool: str, text: str, tmp_path: Path) -> tuple[str, int, int] | None:
    """Where dtc reports the first error (file, line, column), or ``None`` when it accepts."""
    src = tmp_path / "board.dts"
    src.write_text(text)
    res = subprocess.run([tool, "-q", "-I", "dts", "-O", "dtb", "-o", str(tmp_path / "out.dtb"), str(src)],
                         capture_output=True, text=True, check=False)
    if res.returncode == 0:
        return None
    m = _ERROR.search(res.stderr)
    assert m is not None, res.stderr
    return Path(m.group("file")).name, int(m.group("line")), int(m.group("col"))


def memplan_says(text: str) -> tuple[str, int, int] | None:
    try:
        parse_text(text, "board.dts")
    except DtsSyntaxError as err:
        src = err.source
        assert src is not None and src.file is not None and src.line is not None and src.column is not None
        return Path(src.file).name, src.line, src.column
    return None


@pytest.mark.parametrize("judge", JUDGES)
@pytest.mark.parametrize("case", sorted(MARKERS))
def test_line_marker_like_dtc(case: str, judge: str, tmp_path: Path) -> None:
    tool = dtc(judge)
    for template in (GOOD, BAD):
        text = template.format(marker=MARKERS[case])
        assert memplan_says(text) == judged(tool, text, tmp_path), (case, template)


def test_rest_of_a_marker_line_stands_on_the_line_before() -> None:
    err = memplan_says('/dts-v1/;\n# 40 "x.dtsi" x\n/ { };\n')
    assert err == ("x.dtsi", 39, 15)
