"""memplan.dts.preprocess: kbuild-style C preprocessing with the system cpp and the pcpp fallback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memplan.dts.includes import IncludePolicy
from memplan.dts.preprocess import (
    Linemarker,
    format_linemarker,
    parse_linemarker,
    preprocess,
    source_lines,
)
from memplan.errors import IncludeError, MemplanError, PreprocessError

HAVE_CPP = shutil.which("cpp") is not None
TOOLS = [
    pytest.param("system", marks=pytest.mark.skipif(not HAVE_CPP, reason="no system cpp")),
    "pcpp",
]


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def content(text: str) -> list[tuple[str, int, str]]:
    """Non-blank output lines with their origin, whitespace normalised."""
    return [(os.path.basename(f), n, " ".join(t.split())) for f, n, t in source_lines(text) if t.strip()]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch directory that is also the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def board(here: Path) -> Path:
    write(
        here,
        "boards/b.dts",
        "/dts-v1/;\n"
        '#include "soc.dtsi"\n'
        "#include <dt-bindings/irq.h>\n"
        "#define SZ(x) ((x) * 2)\n"
        "/ {\n"
        "\t#address-cells = <1>;\n"
        "\t#size-cells = <1>;   /* a\n"
        "\t   comment */\n"
        "\tcma { compatible = \"shared-dma-pool\"; linux,cma-default; size = <SZ(IRQ_X)>; };\n"
        "#ifdef __DTS__\n"
        "\tdts = <1>;\n"
        "#endif\n"
        "};\n",
    )
    write(
        here,
        "boards/soc.dtsi",
        "#ifndef SOC\n#define SOC\n/ { soc { #interrupt-cells = <2>; }; };\n#endif\n",
    )
    write(here, "include/dt-bindings/irq.h", "#define IRQ_X 21\n")
    return here


@pytest.mark.parametrize("tool", TOOLS)
def test_kbuild_semantics(board: Path, tool: str) -> None:
    res = preprocess("boards/b.dts", ["include"], cpp=tool)
    assert res.tool == ("cpp" if tool == "system" else "pcpp")
    lines = content(res.text)
    assert ("b.dts", 1, "/dts-v1/;") in lines
    assert ("soc.dtsi", 3, "/ { soc { #interrupt-cells = <2>; }; };") in lines
    # directive-looking DTS lines pass through untouched, at their own line numbers
    assert ("b.dts", 6, "#address-cells = <1>;") in lines
    assert ("b.dts", 7, "#size-cells = <1>;") in lines
    # macros from an <angle> include expand; "linux" is not a macro (-undef)
    cma = 'cma { compatible = "shared-dma-pool"; linux,cma-default; size = <((21) * 2)>; };'
    assert ("b.dts", 9, cma) in lines
    assert ("b.dts", 11, "dts = <1>;") in lines
    assert [os.path.normpath(f) for f in res.files] == [
        os.path.normpath(p) for p in ("boards/b.dts", "boards/soc.dtsi", "include/dt-bindings/irq.h")
    ]


@pytest.mark.parametrize("tool", TOOLS)
def test_linemarkers_enter_and_return(board: Path, tool: str) -> None:
    text = preprocess("boards/b.dts", ["include"], cpp=tool).text
    markers = [m for m in map(parse_linemarker, text.split("\n")) if m is not None]
    assert markers[0] == Linemarker(1, "boards/b.dts")
    entered = [(os.path.normpath(m.file), m.line) for m in markers if m.flags == (1,)]
    returned = [(m.file, m.line) for m in markers if m.flags == (2,)]
    assert entered == [(os.path.normpath(f), 1) for f in ("boards/soc.dtsi", "include/dt-bindings/irq.h")]
    assert returned == [("boards/b.dts", 3), ("boards/b.dts", 4)]


@pytest.mark.parametrize("tool", TOOLS)
def test_angle_include_ignores_board_dir(here: Path, tool: str) -> None:
    write(here, "b.dts", "#include <local.h>\n")
    write(here, "local.h", "#define X 1\n")
    with pytest.raises(IncludeError) as info:
        preprocess("b.dts", [], cpp=tool)
    assert "local.h" in info.value.message
    assert "not found" in info.value.message
    assert "no include directories given" in info.value.message
    assert info.value.source is not None and (info.value.source.file, info.value.source.line) == ("b.dts", 1)


@pytest.mark.parametrize("tool", TOOLS)
def test_missing_include_names_position_and_dirs(here: Path, tool: str) -> None:
    write(here, "d/b.dts", "/dts-v1/;\n/ {\n  #include \"nothere.dtsi\"\n};\n")
    (here / "inc").mkdir()
    with pytest.raises(IncludeError) as info:
        preprocess("d/b.dts", ["inc"], cpp=tool)
    err = info.value
    assert "'nothere.dtsi' not found" in err.message
    assert "searched: d, inc" in err.message
    assert err.source is not None
    assert (err.source.file, err.source.line, err.source.column) == ("d/b.dts", 3, 12)
    assert str(err).splitlines()[0].startswith("d/b.dts:3:12: include file")
    assert str(err).splitlines()[-1] == "    " + " " * 11 + "^"


@pytest.mark.parametrize("tool", TOOLS)
def test_include_cycle(here: Path, tool: str) -> None:
    write(here, "b.dts", "/ {\n#include \"x.dtsi\"\n};\n")
    write(here, "x.dtsi", "#include \"y.dtsi\"\n")
    write(here, "y.dtsi", "/* y */\n#include \"x.dtsi\"\n")
    with pytest.raises(IncludeError) as info:
        preprocess("b.dts", [], cpp=tool)
    msg = info.value.message
    assert msg.startswith("include cycle: ")
    chain = msg.split(": ", 1)[1].split(" (")[0].split(" -> ")
    names = [os.path.basename(c) for c in chain]
    assert names in (["x.dtsi", "y.dtsi", "x.dtsi"], ["y.dtsi", "x.dtsi", "y.dtsi"])
    src = info.value.source
    assert src is not None and os.path.basename(src.file or "") in ("x.dtsi", "y.dtsi")
    assert src.column == 10  # the include target, with either preprocessor


@pytest.mark.parametrize("tool", TOOLS)
def test_guarded_self_include_is_not_a_cycle(here: Path, tool: str) -> None:
    write(here, "b.dts", '#include "g.dtsi"\n/ { v = <G>; };\n')
    write(here, "g.dtsi", '#ifndef G\n#define G 7\n#include "g.dtsi"\n#endif\n')
    res = preprocess("b.dts", [], cpp=tool)
    assert ("b.dts", 2, "/ { v = <7>; };") in content(res.text)


@pytest.mark.parametrize("tool", TOOLS)
def test_include_escaping_roots(here: Path, tool: str) -> None:
    write(here, "secret.txt", "top secret\n")
    write(here, "work/board/b.dts", '/dts-v1/;\n/ {\n\t#include "../../secret.txt"\n};\n')
    (here / "work/inc").mkdir()
    # like cpp by default: ".." may climb anywhere
    assert "top secret" in preprocess("work/board/b.dts", ["work/inc"], cpp=tool).text
    with pytest.raises(IncludeError) as info:
        preprocess("work/board/b.dts", ["work/inc"], cpp=tool, include_roots=["work"])
    err = info.value
    assert "outside the include roots" in err.message
    assert "../../secret.txt" in err.message and "top secret" not in str(err)
    assert err.source is not None
    assert (err.source.file, err.source.line, err.source.column) == ("work/board/b.dts", 3, 11)


@pytest.mark.parametrize("tool", TOOLS)
def test_include_into_another_root_is_allowed(here: Path, tool: str) -> None:
    write(here, "src/arm/common.dtsi", "/ { common; };\n")
    write(here, "src/arm64/vendor/b.dts", '#include "../../arm/common.dtsi"\n')
    res = preprocess("src/arm64/vendor/b.dts", ["src"], cpp=tool)
    assert ("common.dtsi", 1, "/ { common; };") in content(res.text)


@pytest.mark.parametrize("tool", TOOLS)
def test_error_directive_maps_to_position(here: Path, tool: str) -> None:
    write(here, "b.dts", "/ {\n};\n#error unsupported board\n")
    with pytest.raises(PreprocessError) as info:
        preprocess("b.dts", [], cpp=tool)
    err = info.value
    assert "#error unsupported board" in err.message
    assert err.source is not None and (err.source.file, err.source.line) == ("b.dts", 3)
    assert err.source.text == "#error unsupported board"


@pytest.mark.parametrize("tool", TOOLS)
def test_bad_if_expression_is_an_error(here: Path, tool: str) -> None:
    write(here, "b.dts", "/ { };\n\n#if 1 +\n#endif\n")
    with pytest.raises(PreprocessError) as info:
        preprocess("b.dts", [], cpp=tool)
    assert info.value.source is not None
    assert (info.value.source.file, info.value.source.line) == ("b.dts", 3)


@pytest.mark.parametrize("tool", TOOLS)
def test_warning_directive_becomes_diagnostic(here: Path, tool: str) -> None:
    write(here, "b.dts", "/ { };\n#warning old binding\n")
    res = preprocess("b.dts", [], cpp=tool)
    assert len(res.diagnostics) == 1
    diag = res.diagnostics[0]
    assert diag.code == "cpp-warning" and diag.severity == "warning"
    assert "old binding" in diag.message
    assert diag.source is not None and (diag.source.file, diag.source.line) == ("b.dts", 2)


@pytest.mark.parametrize("tool", TOOLS)
def test_defines(here: Path, tool: str) -> None:
    write(here, "b.dts", "/ { a = <A>; b = <B>; };\n#ifdef __ASSEMBLER__\n/ { asm; };\n#endif\n")
    res = preprocess("b.dts", [], cpp=tool, defines=["A=0x10", "B"])
    lines = content(res.text)
    assert ("b.dts", 1, "/ { a = <0x10>; b = <1>; };") in lines
    assert ("b.dts", 3, "/ { asm; };") in lines


@pytest.mark.parametrize("tool", TOOLS)
def test_no_gnu_or_system_macros(here: Path, tool: str) -> None:
    write(here, "b.dts", "/ { p = <unix linux __GNUC__ __PCPP__ __x86_64__>; };\n")
    res = preprocess("b.dts", [], cpp=tool)
    assert ("b.dts", 1, "/ { p = <unix linux __GNUC__ __PCPP__ __x86_64__>; };") in content(res.text)


@pytest.mark.parametrize("tool", TOOLS)
def test_line_numbers_survive_long_gaps(here: Path, tool: str) -> None:
    body = "/ {\n" + "#if 0\n" + "junk\n" * 30 + "#endif\n" + "\n" * 12 + "\tlate;\n};\n"
    write(here, "b.dts", body)
    res = preprocess("b.dts", [], cpp=tool)
    assert ("b.dts", 46, "late;") in content(res.text)
    assert ("b.dts", 47, "};") in content(res.text)


def test_system_and_pcpp_agree(board: Path) -> None:
    if not HAVE_CPP:
        pytest.skip("no system cpp")
    a = preprocess("boards/b.dts", ["include"], cpp="system")
    b = preprocess("boards/b.dts", ["include"], cpp="pcpp")
    assert content(a.text) == content(b.text)
    assert a.files == b.files


def test_no_preprocessing(board: Path) -> None:
    res = preprocess("boards/b.dts", ["include"], cpp="none")
    assert res.tool == "none"
    assert res.files == ("boards/b.dts",)
    assert res.text.startswith('# 1 "boards/b.dts"\n/dts-v1/;\n#include "soc.dtsi"\n')


def test_missing_main_file(tmp_path: Path) -> None:
    with pytest.raises(IncludeError) as info:
        preprocess(tmp_path / "nope.dts")
    assert "no such DTS file" in info.value.message


def test_unknown_choice_and_broken_cpp(board: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PreprocessError, match="unknown preprocessor choice 'gcc'"):
        preprocess("boards/b.dts", cpp="gcc")
    monkeypatch.setenv("MEMPLAN_CPP", str(board / "no-such-cpp"))
    with pytest.raises(PreprocessError, match="cannot run"):
        preprocess("boards/b.dts", ["include"], cpp="system")


def test_errors_are_memplan_errors() -> None:
    assert issubclass(IncludeError, MemplanError) and issubclass(PreprocessError, MemplanError)


def test_roots(tmp_path: Path) -> None:
    policy = IncludePolicy.make([tmp_path / "a", tmp_path / "inc"])
    assert policy.roots == (str(tmp_path / "a"), str(tmp_path / "inc"))
    assert policy.inside(str(tmp_path / "a" / "x" / ".." / "y.dtsi"))
    assert not policy.inside(str(tmp_path / "a" / ".." / "y.dtsi"))
    assert not policy.inside(str(tmp_path / "ab" / "y.dtsi"))
    assert not policy.inside("/dev/zero") and IncludePolicy().inside(str(tmp_path / "anything"))


@given(
    line=st.integers(min_value=0, max_value=10**6),
    file=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
    flags=st.lists(st.sampled_from([1, 2, 3, 4]), max_size=3),
)
def test_linemarker_round_trip(line: int, file: str, flags: list[int]) -> None:
    mk = parse_linemarker(format_linemarker(line, file, flags))
    assert mk == Linemarker(line, file, tuple(flags))


def test_linemarker_rejects_other_lines() -> None:
    assert parse_linemarker("#address-cells = <1>;") is None
    assert parse_linemarker("# 12 file.dts") is None
    assert parse_linemarker('#line 7 "x.dts"') == Linemarker(7, "x.dts")


@pytest.mark.parametrize("tool", TOOLS)
def test_pp_numbers_are_never_expanded(here: Path, tool: str) -> None:
    defines = "#define c60000 BAD\n#define e5 X\n#define L 7\n"
    write(here, "b.dts", defines + "/ { i2c@12c60000 { v = <1ULL 1e5 2e+5 (L)>; }; };\n")
    res = preprocess("b.dts", [], cpp=tool)
    assert ("b.dts", 4, "/ { i2c@12c60000 { v = <1ULL 1e5 2e+5 (7)>; }; };") in content(res.text)


#: Fragments of DTS and preprocessor use; the differential test below strings them together.
FRAGMENTS = (
    "#undef A\n#define A 2\n",
    "#define B(x) ((x) << 2)\n",
    "#define C(x, y) x##y\n",
    "#define S(x) #x\n",
    "#define NEG -1\nn = <(0-NEG)>;\n",
    "#define AMP &1\nam = <(1&AMP)>;\n",
    "#define F(a, ...) a __VA_ARGS__\nf = <F(1, 2, 3)>;\n",
    "/* multi\n line\n comment */ p = <1>;\n",
    "// line comment\n",
    "\t#address-cells = <A>;\n",
    "#gpio-cells = <2>; #size-cells = <A>;\n",
    "#if A > 1\nq = <B(3)>;\n#elif A == 1\nq = <1>;\n#else\nq = <0>;\n#endif\n",
    "#ifdef UNDEFINED\nbad;\n#endif\n",
    "r = <C(0x, 10)>;\n",
    "s = S(hello  world);\n",
    't = "str // not a comment /* nor this */";\n',
    "u = <B(\n 4)>;\n",
    "v = <1 2 3>; \\\n w = <4>;\n",
    "x = 'a';\n",
    "node@1e5 { reg = <0x1e5 12c60000>; };\n",
    "label: node { y = <&label>; };\n",
    "\n" * 10,
    '#include "inc.dtsi"\n',
    "z = <__LINE__>;\n",
    "/delete-node/ &foo;\n/include/ \"x.dtsi\"\nb = [00 11 2a];\nc = /bits/ 8 <1>;\n",
    "l = &{/soc/node@1};\n",
)


@pytest.mark.skipif(not HAVE_CPP, reason="no system cpp")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12))
def test_pcpp_matches_system_cpp(here: Path, parts: list[str]) -> None:
    write(here, "inc.dtsi", "#ifndef INC\n#define INC\ninc_prop = <A>;\n#endif\n")
    write(here, "f.dts", "#define A 1\n/ {\n" + "".join(parts) + "};\n")
    system = preprocess("f.dts", [], cpp="system")
    fallback = preprocess("f.dts", [], cpp="pcpp")
    assert content(fallback.text) == content(system.text)


@pytest.mark.parametrize("tool", TOOLS)
def test_hash_word_lines_are_text_and_expand(here: Path, tool: str) -> None:
    write(here, "b.dts", "#define CELLS 2\n/ {\n\t#address-cells = <CELLS>;\n#pragma once\n};\n")
    lines = content(preprocess("b.dts", [], cpp=tool).text)
    assert ("b.dts", 3, "#address-cells = <2>;") in lines


def test_auto_falls_back_to_pcpp_without_system_cpp(board: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(board / "empty-bin"))
    monkeypatch.delenv("MEMPLAN_CPP", raising=False)
    res = preprocess("boards/b.dts", ["include"])
    assert res.tool == "pcpp"
    assert ("b.dts", 11, "dts = <1>;") in content(res.text)
    with pytest.raises(PreprocessError, match="no system C preprocessor found"):
        preprocess("boards/b.dts", ["include"], cpp="system")


@pytest.mark.parametrize("tool", TOOLS)
def test_absolute_include_outside_roots(here: Path, tool: str) -> None:
    secret = write(here, "outside/secret.h", "#define SECRET 1\n")
    write(here, "board/b.dts", f'#include <{secret}>\n/ {{ }};\n')
    assert preprocess("board/b.dts", [], cpp=tool).files[-1] == str(secret)  # allowed, as cpp does
    with pytest.raises(IncludeError, match="outside the include roots") as info:
        preprocess("board/b.dts", [], cpp=tool, include_roots=["board"])
    src = info.value.source
    assert src is not None and (src.file, src.line, src.column) == ("board/b.dts", 1, 10)


#: ``#if`` divisions where pcpp once differed from C (float division, Python's remainder sign).
C_DIVISIONS = (
    "-7 % 2 == -1", "7 % -2 == 1", "-7 / 2 == -3", "0x7fffffffffffffff / 3 == 3074457345618258602",
    "-0x7fffffffffffffff / 7 == -1317624576693539401", "18446744073709551615u / 3 == 6148914691236517205",
    "-1 % 3u == 0", "0x7fffffffffffffff % 1000 == 807",
)


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("condition", C_DIVISIONS)
def test_if_divides_as_c_does(here: Path, tool: str, condition: str) -> None:
    """Both back ends take every one of these (GNU cpp is the judge when present)."""
    write(here, "d.dts", f"/dts-v1/;\n#if {condition}\n/ {{ taken; }};\n#endif\n")
    assert "taken" in preprocess("d.dts", [], cpp=tool).text
