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
