"""The scan of cpp's output for line markers (memplan/dts/preprocess.py): the lines that start
with '#' are found by a string search; they must be exactly the lines a multi-line ``^#``
pattern finds, whatever the text (first line, last line without newline, empty lines, '#'
inside a line, carriage returns)."""

from __future__ import annotations

import random
import re

import pytest

from memplan.dts.preprocess import _hash_lines, parse_linemarker

_REFERENCE = re.compile(r"^#[^\n]*", re.MULTILINE)


def _expected(text: str) -> list[str]:
    return [m.group() for m in _REFERENCE.finditer(text)]


@pytest.mark.parametrize("text", [
    "", "#", "\n", "#\n", "\n#", "##", "#a", "a#", "a\n#b", "#a\n#b\n", "\n\n#\n#", "x#y\n #z\n#w",
    "#\n\n#x\r\n#y", '# 1 "a.dts"\n/dts-v1/;\n# 3 "b.dtsi" 1\nx = <1>;\n# 5 "a.dts" 2\n',
])
def test_the_lines_starting_with_a_hash(text: str) -> None:
    assert _hash_lines(text) == _expected(text)


def test_random_texts() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        text = "".join(rng.choice("#\n\r a") for _ in range(rng.randint(0, 24)))
        assert _hash_lines(text) == _expected(text), repr(text)


def test_a_marker_name_is_unescaped_only_where_it_holds_a_backslash() -> None:
    plain = parse_linemarker('# 3 "dir/a.dtsi" 1 3')
    assert plain is not None and (plain.line, plain.file, plain.flags) == (3, "dir/a.dtsi", (1, 3))
    escaped = parse_linemarker(r'# 9 "we\"ird\\name.dts"')
    assert escaped is not None and escaped.file == 'we"ird\\name.dts'
