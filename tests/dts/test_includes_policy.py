"""Includes behave like cpp and dtc by default, and are confined on request (--include-root).

The fixtures copy the shape of Linux 6.12's arch/arm/boot/dts: boards in vendor folders that
include a shared file one level up ("../cros-ec-keyboard.dtsi", "../armv7-m.dtsi").
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from memplan.dts import load_device_tree, parse_dts, parse_text
from memplan.dts.preprocess import preprocess
from memplan.errors import IncludeError, PreprocessError

HAVE_CPP = shutil.which("cpp") is not None
TOOLS = [pytest.param("system", marks=pytest.mark.skipif(not HAVE_CPP, reason="no system cpp")), "pcpp"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def kernel(tmp_path: Path) -> Path:
    """A small arch/arm/boot/dts with vendor folders and shared files one level up."""
    dts = tmp_path / "arch/arm/boot/dts"
    write(dts / "cros-ec-keyboard.dtsi", "&keyboard { keypad,num-rows = <8>; };\n")
    write(dts / "armv7-m.dtsi",
          "/ { nvic: interrupt-controller@e000e100 { reg = <0xe000e100 0xc00>; }; };\n")
    write(dts / "rockchip/rk3288-veyron.dtsi",
          '/dts-v1/;\n/ { ec { keyboard: keyboard { }; }; };\n#include "../cros-ec-keyboard.dtsi"\n')
    write(dts / "rockchip/rk3288-veyron-jerry.dts",
          '#include "rk3288-veyron.dtsi"\n/ { model = "jerry"; };\n')
    write(dts / "st/stm32f746.dtsi", '#include "../armv7-m.dtsi"\n/ { soc { }; };\n')
    write(dts / "st/stm32f746-disco.dts", '/dts-v1/;\n#include "stm32f746.dtsi"\n/ { model = "disco"; };\n')
    write(dts / "st/stm32h750-dtc.dts", '/dts-v1/;\n/include/ "../armv7-m.dtsi"\n/ { model = "dtc"; };\n')
    write(tmp_path / "secret.dtsi", "/ { secret = \"top secret\"; };\n")
    return tmp_path


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize(
    ("board", "check"),
    [
        ("rockchip/rk3288-veyron-jerry.dts", ("ec/keyboard", "keypad,num-rows")),
        ("st/stm32f746-disco.dts", ("interrupt-controller@e000e100", "reg")),
        ("st/stm32h750-dtc.dts", ("interrupt-controller@e000e100", "reg")),
    ],
)
def test_kernel_boards_including_one_level_up_build(kernel: Path, tool: str, board: str,
                                                    check: tuple[str, str]) -> None:
    dts = kernel / "arch/arm/boot/dts"
    tree = load_device_tree(dts / board, cpp=tool).tree
    node = tree.root
    for part in check[0].split("/"):
        node = node.children[part]
    assert check[1] in node.properties
    # confined to the kernel's dts folder, the same boards still build
    again = load_device_tree(dts / board, cpp=tool, include_roots=[dts]).tree
    assert again.root.children.keys() == tree.root.children.keys()
    # confined to the vendor folder, the climb out is refused
    with pytest.raises(IncludeError, match="outside the include roots"):
        load_device_tree(dts / board, cpp=tool, include_roots=[(dts / board).parent])


@pytest.mark.parametrize("tool", TOOLS)
def test_same_error_whether_or_not_the_outside_file_exists(kernel: Path, tool: str) -> None:
    board = kernel / "b/board.dts"
    messages = []
    for name in ("../secret.dtsi", "../no-such.dtsi"):
        write(board, f'/dts-v1/;\n#include "{name}"\n/ {{ }};\n')
        with pytest.raises(IncludeError) as info:
            preprocess(board, cpp=tool, include_roots=[board.parent])
        err = info.value
        assert err.source is not None and (err.source.line, err.source.column) == (2, 10)
        assert "top secret" not in str(err)
        messages.append(err.message.replace(name, "NAME"))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("tool", TOOLS)
def test_symlink_inside_the_root_pointing_out_is_refused_when_confined(kernel: Path, tool: str) -> None:
    root = kernel / "proj"
    write(root / "board.dts", '/dts-v1/;\n#include "link.dtsi"\n/ { };\n')
    (root / "link.dtsi").symlink_to(kernel / "secret.dtsi")
    assert "top secret" in preprocess(root / "board.dts", cpp=tool).text  # followed, like cpp
    with pytest.raises(IncludeError, match="outside the include roots") as info:
        preprocess(root / "board.dts", cpp=tool, include_roots=[root])
    assert "top secret" not in str(info.value)


def test_dtc_include_and_incbin_symlinks_out_are_refused_when_confined(kernel: Path) -> None:
    root = kernel / "proj"
    root.mkdir()
    (root / "link.dtsi").symlink_to(kernel / "secret.dtsi")
    (root / "blob.bin").symlink_to(kernel / "secret.dtsi")
    text = '/dts-v1/;\n/include/ "link.dtsi"\n/ { b = /incbin/("blob.bin"); };\n'
    main = write(root / "m.dts", text)
    tree = parse_text(text, str(main))
    assert tree.root.properties["secret"].value == b"top secret\0"
    with pytest.raises(IncludeError, match="outside the include roots") as info:
        parse_text(text, str(main), include_roots=[root])
    assert info.value.source is not None and info.value.source.line == 2
    assert "top secret" not in str(info.value)


def test_text_without_a_location_reads_only_its_include_dirs(
    kernel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(kernel)
    text = '/dts-v1/;\n/include/ "secret.dtsi"\n'
    with pytest.raises(IncludeError, match="not found"):
        parse_dts(text=text)  # the current directory is not an include dir
    with pytest.raises(IncludeError, match="outside the include roots"):
        parse_dts(text='/dts-v1/;\n/include/ "../secret.dtsi"\n', include_dirs=[kernel / "arch"])
    assert "secret" in parse_dts(text=text, include_dirs=[kernel]).root.properties


def test_fifo_device_and_dev_paths_are_never_read_by_memplan(kernel: Path) -> None:
    fifo = kernel / "proj/fifo.dtsi"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    for name in ("fifo.dtsi", "/dev/zero", "/dev/stdin"):
        text = f'/dts-v1/;\n/include/ "{name}"\n/ {{ }};\n'
        with pytest.raises(IncludeError) as info:
            parse_text(text, str(kernel / "proj/m.dts"))
        assert info.value.source is not None and info.value.source.line == 2
        with pytest.raises(IncludeError):
            parse_text(text.replace("/include/", "/ { b = /incbin/(").replace('"\n/ { };', '"); };'),
                       str(kernel / "proj/m.dts"))
        board = write(kernel / "proj/b.dts", f'/dts-v1/;\n#include "{name}"\n/ {{ }};\n')
        with pytest.raises(IncludeError):
            preprocess(board, cpp="pcpp")
        with pytest.raises(IncludeError):
            preprocess(board, cpp="system" if HAVE_CPP else "pcpp", include_roots=[board.parent])


@pytest.mark.skipif(not HAVE_CPP, reason="no system cpp")
def test_system_cpp_is_bounded_on_fifo_and_dev_zero(kernel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = kernel / "fifo.dtsi"
    os.mkfifo(fifo)
    monkeypatch.setenv("MEMPLAN_CPP_TIMEOUT", "2")
    board = write(kernel / "b.dts", '/dts-v1/;\n#include "fifo.dtsi"\n/ { };\n')
    with pytest.raises(PreprocessError, match="MEMPLAN_CPP_TIMEOUT") as info:
        preprocess(board, cpp="system")
    assert "limit 2 seconds" in info.value.message
    monkeypatch.setenv("MEMPLAN_CPP_TIMEOUT", "30")
    monkeypatch.setenv("MEMPLAN_CPP_MEMORY", str(256 << 20))
    write(board, '/dts-v1/;\n#include "/dev/zero"\n/ { };\n')
    with pytest.raises(PreprocessError, match=r"MEMPLAN_CPP_(MEMORY|OUTPUT)"):
        preprocess(board, cpp="system")
    # /dev/stdin reads as empty: cpp's stdin is closed, nothing waits
    write(board, '/dts-v1/;\n#include "/dev/stdin"\n/ { };\n')
    assert preprocess(board, cpp="system").text.endswith("/ { };\n")


@pytest.mark.parametrize("tool", TOOLS)
def test_macro_bomb_is_bounded(tmp_path: Path, tool: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMPLAN_CPP_TIMEOUT", "3")
    monkeypatch.setenv("MEMPLAN_PCPP_EXPANSION", "5000")
    lines = ["/dts-v1/;", "#define B0 x"] + [f"#define B{i} B{i - 1} B{i - 1}" for i in range(1, 41)]
    board = write(tmp_path / "bomb.dts", "\n".join([*lines, "/ { v = <B40>; };", ""]))
    with pytest.raises(PreprocessError, match=r"MEMPLAN_(CPP_TIMEOUT|CPP_OUTPUT|PCPP_EXPANSION)") as info:
        preprocess(board, cpp=tool)
    assert info.value.source is not None and info.value.source.file == str(board)


@pytest.mark.parametrize(
    "directive",
    ["#if", "#ifdef", "#ifndef", "#undef", "#define", "#define A( , )", "#elif", "#include"],
)
def test_pcpp_failures_are_positioned_errors(tmp_path: Path, directive: str) -> None:
    board = write(tmp_path / "b.dts", f"/dts-v1/;\n{directive}\n/ {{ }};\n")
    with pytest.raises(PreprocessError) as info:
        preprocess(board, cpp="pcpp")
    src = info.value.source
    assert src is not None and (src.file, src.line) == (str(board), 2)


def test_bare_pragma_is_ignored_like_cpp(tmp_path: Path) -> None:
    board = write(tmp_path / "b.dts", "/dts-v1/;\n#pragma\n/ { };\n")
    assert load_device_tree(board, cpp="pcpp").tree.root.name == ""


def test_thousand_macro_chain(tmp_path: Path) -> None:
    lines = ["/dts-v1/;", "#define M0 7"] + [f"#define M{i} M{i - 1}" for i in range(1, 1000)]
    board = write(tmp_path / "chain.dts", "\n".join([*lines, "/ { v = <M999>; };", ""]))
    with pytest.raises(PreprocessError, match="--cpp system") as info:
        preprocess(board, cpp="pcpp")
    assert info.value.source is not None and info.value.source.line == 1002
    if HAVE_CPP:
        assert load_device_tree(board, cpp="system").tree.root.properties["v"].as_u32() == 7


def test_cli_include_root_confines_and_names_the_option(
    kernel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from memplan.cli import main

    dts = kernel / "arch/arm/boot/dts"
    board = str(dts / "st/stm32h750-dtc.dts")
    assert main(["dts", board, "--include-root", str(dts)]) == 0
    capsys.readouterr()
    assert main(["dts", board, "--include-root", str(dts / "st")]) == 2
    err = capsys.readouterr().err
    assert "outside the include roots" in err and "--include-root" in err and "Traceback" not in err
    assert main(["dts", board, "--include-root", str(kernel / "nowhere")]) == 2
    assert "--include-root: no such folder" in capsys.readouterr().err
    memory = ('/ { #address-cells = <1>; #size-cells = <1>;\n'
              '  memory@0 { device_type = "memory"; reg = <0 0x40000000>; }; };\n')
    write(dts / "st/mem.dtsi", memory)
    write(dts / "st/m.dts", '/dts-v1/;\n/include/ "mem.dtsi"\n/include/ "../armv7-m.dtsi"\n')
    args = ["resolve", "--dts", str(dts / "st/m.dts"), "--arch", "arm", "--kernel-version", "6.1"]
    assert main([*args, "--include-root", str(dts)]) == 0
    capsys.readouterr()
    assert main([*args, "--include-root", str(dts / "st")]) == 2
    assert "outside the include roots" in capsys.readouterr().err


#: Inputs where the walk ahead of the confined system cpp once differed from the pcpp back end:
#: an outside include after an error cpp goes on after, or one pcpp did not see (GNU forms).
CONFINED_CASES = {
    "after-error": '/dts-v1/;\n#error stop\n#include "../secret.dtsi"\n/ { };\n',
    "after-bad-if": '/dts-v1/;\n#if\n#endif\n#include "../secret.dtsi"\n/ { };\n',
    "after-inside-include": '/dts-v1/;\n#include "in.dtsi"\n#include "../secret.dtsi"\n/ { };\n',
    "inside-include-then-out": '/dts-v1/;\n#include "climb.dtsi"\n/ { };\n',
    "has-include": '/dts-v1/;\n#if __has_include("../secret.dtsi")\n#include "../secret.dtsi"\n#endif\n',
    "has-include-missing": '/dts-v1/;\n#if __has_include("../none.dtsi")\n#endif\n/ { };\n',
    "include-next": '/dts-v1/;\n#include_next "../secret.dtsi"\n/ { };\n',
    "import": '/dts-v1/;\n#import "../secret.dtsi"\n/ { };\n',
    "computed": '/dts-v1/;\n#define F "../secret.dtsi"\n#include F\n/ { };\n',
    "error-then-missing": '/dts-v1/;\n#error first\n#include "none.dtsi"\n/ { };\n',
    "bare-define-then-out": '/dts-v1/;\n#define\n#include "../secret.dtsi"\n/ { };\n',
}


def _outcome(board: Path, tool: str, root: Path) -> tuple[str, str, int | None, int | None]:
    try:
        preprocess(board, cpp=tool, include_roots=[root])
    except (IncludeError, PreprocessError) as err:
        src = err.source
        assert "top secret" not in str(err)
        return type(err).__name__, err.message, src.line if src else None, src.column if src else None
    return "ok", "", None, None


@pytest.mark.skipif(not HAVE_CPP, reason="no system cpp")
@pytest.mark.parametrize("case", sorted(CONFINED_CASES))
def test_confined_back_ends_give_the_same_error(kernel: Path, case: str) -> None:
    root = kernel / "proj"
    write(root / "in.dtsi", "/ { inside; };\n")
    write(root / "climb.dtsi", '#include "in.dtsi"\n#include "../secret.dtsi"\n')
    board = write(root / "b.dts", CONFINED_CASES[case])
    system, pcpp = _outcome(board, "system", root), _outcome(board, "pcpp", root)
    assert system == pcpp
    assert system[0] != "ok" and system[2] is not None


@pytest.mark.skipif(not HAVE_CPP, reason="no system cpp")
@pytest.mark.parametrize("case", ["after-error", "after-bad-if", "has-include", "include-next", "import",
                                  "bare-define-then-out"])
def test_confined_system_cpp_never_opens_the_outside_file(
    kernel: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outside file is a FIFO: had cpp opened it, the run would wait for the time limit."""
    monkeypatch.setenv("MEMPLAN_CPP_TIMEOUT", "20")
    root = kernel / "proj"
    os.mkfifo(kernel / "fifo.dtsi")
    board = write(root / "b.dts", CONFINED_CASES[case].replace("secret.dtsi", "fifo.dtsi"))
    with pytest.raises((IncludeError, PreprocessError)) as info:
        preprocess(board, cpp="system", include_roots=[root])
    assert "MEMPLAN_CPP_TIMEOUT" not in info.value.message


def test_parser_include_and_incbin_give_the_cpp_error(kernel: Path) -> None:
    """``/include/``, ``/incbin/`` and ``#include`` of the same outside file: one message."""
    root = kernel / "proj"
    messages = set()
    for text in ('/dts-v1/;\n/include/ "../secret.dtsi"\n',
                 '/dts-v1/;\n/ { b = /incbin/("../secret.dtsi"); };\n'):
        with pytest.raises(IncludeError) as info:
            parse_text(text, str(write(root / "p.dts", text)), include_roots=[root])
        messages.add(info.value.message.replace("/incbin/", "include"))
    for tool in ("system", "pcpp") if HAVE_CPP else ("pcpp",):
        board = write(root / "b.dts", '/dts-v1/;\n#include "../secret.dtsi"\n')
        with pytest.raises(IncludeError) as info:
            preprocess(board, cpp=tool, include_roots=[root])
        messages.add(info.value.message)
    assert len(messages) == 1, messages


@pytest.mark.skipif(not HAVE_CPP, reason="no system cpp")
def test_pcpp_follows_gnu_include_forms_like_cpp(tmp_path: Path) -> None:
    """#include_next (libcpp's search rule), #import (once only) and __has_include, as GNU cpp."""
    write(tmp_path / "inc1/n.dtsi", "#include_next <n.dtsi>\n/ { one; };\n")
    write(tmp_path / "inc2/n.dtsi", "/ { two; };\n")
    write(tmp_path / "a.dtsi", "/ { a = <1>; };\n")
    board = write(tmp_path / "n.dts", (
        '/dts-v1/;\n#include <n.dtsi>\n#import "a.dtsi"\n#import "a.dtsi"\n'
        '#if __has_include("a.dtsi") && !__has_include(<zz.h>) && __has_include_next(<n.dtsi>)\n'
        "/ { has; };\n#endif\n#ifdef __has_include\n/ { hasdef; };\n#endif\n"
        '#include_next "a.dtsi"\n#include "a.dtsi"\n'))
    dirs = [tmp_path / "inc1", tmp_path / "inc2"]
    trees = [load_device_tree(board, include_dirs=dirs, cpp=tool).tree for tool in ("system", "pcpp")]
    assert sorted(trees[0].root.properties) == ["a", "has", "hasdef", "one", "two"]
    assert trees[0].root.properties.keys() == trees[1].root.properties.keys()
    codes = [d.message for d in preprocess(board, include_dirs=dirs, cpp="pcpp").diagnostics]
    assert codes.count("#import is a deprecated GCC extension") == 2
    assert "#include_next in primary source file" in codes


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


STDIN_BOARD = b'/dts-v1/;\n#include "in.dtsi"\n/include/ "dtc.dtsi"\n/ { b = /incbin/("blob.bin"); };\n'


@pytest.mark.parametrize("tool", TOOLS)
def test_stdin_dts_is_confined_to_the_roots_like_a_file(
    kernel: Path, tool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--dts -`` with --include-root: includes next to <stdin> are looked up in the current
    directory (as cpp and dtc do for their standard input) and confined to the roots."""
    from memplan.cli import main

    root = kernel / "proj"
    write(root / "in.dtsi", "/ { inside; };\n")
    write(root / "dtc.dtsi", "/ { by-dtc; };\n")
    (root / "blob.bin").write_bytes(b"\x01\x02")
    monkeypatch.chdir(root)
    for roots in ([], ["--include-root", str(root)], ["--include-root", str(kernel)]):
        _stdin(monkeypatch, STDIN_BOARD)
        assert main(["dts", "-", "--cpp", tool, *roots]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert "source: <stdin>" in out and "in.dtsi" in out and "blob.bin" in out
    # confined elsewhere: the include is refused, positioned in <stdin>, whichever back end
    write(kernel / "elsewhere/x.dtsi", "")
    _stdin(monkeypatch, STDIN_BOARD)
    assert main(["dts", "-", "--cpp", tool, "--include-root", str(kernel / "elsewhere")]) == 2
    err = capsys.readouterr().err
    assert "<stdin>:2:10: include 'in.dtsi' is outside the include roots" in err
    assert '    #include "in.dtsi"' in err  # the caret line comes from standard input
    # climbing out of the root from the current directory is refused as from a file
    _stdin(monkeypatch, b'/dts-v1/;\n#include "../secret.dtsi"\n')
    assert main(["dts", "-", "--cpp", tool, "--include-root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "<stdin>:2:10: include '../secret.dtsi' is outside the include roots" in err
    assert "top secret" not in err
    # the dtc /include/ and /incbin/ of <stdin> are confined too
    _stdin(monkeypatch, b'/dts-v1/;\n/ { b = /incbin/("../secret.dtsi"); };\n')
    assert main(["dts", "-", "--cpp", tool, "--include-root", str(root)]) == 2
    assert "<stdin>:2:18: /incbin/ '../secret.dtsi' is outside the include roots" in capsys.readouterr().err


@pytest.mark.parametrize("tool", TOOLS)
def test_stdin_dts_looks_in_include_dirs_after_the_current_directory(
    kernel: Path, tool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from memplan.cli import main

    dts = kernel / "arch/arm/boot/dts"
    monkeypatch.chdir(kernel)
    text = b'/dts-v1/;\n#include "armv7-m.dtsi"\n/ { model = "m"; };\n'
    _stdin(monkeypatch, text)
    assert main(["dts", "-", "--cpp", tool]) == 2
    assert "<stdin>:2:10: include file 'armv7-m.dtsi' not found" in capsys.readouterr().err
    _stdin(monkeypatch, text)
    assert main(["dts", "-", "--cpp", tool, "-I", str(dts)]) == 0, capsys.readouterr().err
    assert "armv7-m.dtsi" in capsys.readouterr().out
    # confined, the current directory (searched first for "...") must be inside a root too ...
    _stdin(monkeypatch, text)
    assert main(["dts", "-", "--cpp", tool, "-I", str(dts), "--include-root", str(dts)]) == 2
    assert "run memplan from inside an include root" in capsys.readouterr().err
    # ... <...> searches only the include dirs, and from inside the root "..." works
    angled = text.replace(b'"armv7-m.dtsi"', b"<armv7-m.dtsi>")
    _stdin(monkeypatch, angled)
    assert main(["dts", "-", "--cpp", tool, "-I", str(dts), "--include-root", str(dts)]) == 0
    assert "armv7-m.dtsi" in capsys.readouterr().out
    monkeypatch.chdir(dts / "st")
    _stdin(monkeypatch, text)
    assert main(["dts", "-", "--cpp", tool, "-I", str(dts), "--include-root", str(dts)]) == 0
    assert "armv7-m.dtsi" in capsys.readouterr().out
    # resolve reads --dts - the same way
    _stdin(monkeypatch, text)
    argv = ["resolve", "--dts", "-", "-I", str(dts), "--arch", "arm", "--kernel-version", "6.1",
            "--memory", "256M", "--include-root"]
    assert main([*argv, str(dts)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    _stdin(monkeypatch, text)
    assert main([*argv, str(dts / "st")]) == 2
    assert "outside the include roots" in capsys.readouterr().err
