"""memplan's kernel-tree Kconfig parser builds exactly what kconfiglib's own parse builds.

:class:`memplan.kconfig.treeparse.TreeKconfig` hands out the token list of a line it has seen
before instead of tokenizing it again. Everything the parse makes must be the same as with
kconfiglib's tokenizer alone: symbols and their order, choices, menu nodes with file and line,
prompts, types, defaults, selects, implies, ranges, dependencies, help texts, preprocessor
variables and every warning in order. Small inputs with the awkward line shapes run always;
the whole Linux tree (``MEMPLAN_KERNEL_TREE``, default /work/linux-6.12) for arm, arm64 and
riscv when it is present.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import kconfiglib
import pytest

from memplan.errors import ConfigError
from memplan.kconfig import treeparse
from memplan.kconfig.engine import ModelKey, parse_model
from memplan.kconfig.treeparse import _BARE_MODULES_RE, TreeKconfig

LINUX = Path(os.environ.get("MEMPLAN_KERNEL_TREE", "/work/linux-6.12"))


class PlainKconfig(kconfiglib.Kconfig):  # type: ignore[misc]
    """kconfiglib's own tokenizer, with the same bare ``modules`` rewrite as TreeKconfig."""

    def _open(self, filename: str, mode: str) -> Any:
        handle = super()._open(filename, mode)
        if "r" not in mode:
            return handle
        import io

        with handle:
            return io.StringIO(_BARE_MODULES_RE.sub(r"\1option modules", handle.read()))


def _expr(expr: Any) -> str:
    """An expression in prefix form, without recursion (a much-selected symbol's reverse
    dependency is a chain of thousands of ``||``)."""
    out: list[str] = []
    stack = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            out.append(f"({item[0]}")
            stack.append(")")
            stack.extend(reversed(item[1:]))
        elif isinstance(item, str):
            out.append(item)
        else:
            const = "(const)" if getattr(item, "is_constant", False) else ""
            out.append(f"{type(item).__name__}:{item.name}{const}")
    return " ".join(out)


def _syms(items: Any) -> list[str]:
    return [f"{s.name}{'(const)' if getattr(s, 'is_constant', False) else ''}" for s in items]


def _attr(node: Any, name: str, show: Any = repr) -> str:
    """An attribute of a menu node as text (kconfiglib leaves some unset on some nodes)."""
    if not hasattr(node, name):
        return "<unset>"
    return str(show(getattr(node, name)))


def _prompt(node: Any) -> str:
    prompt = getattr(node, "prompt", "<unset>")
    if not prompt or prompt == "<unset>":
        return repr(prompt)
    return repr((prompt[0], _expr(prompt[1])))


def dump(kconf: Any) -> list[str]:
    """Everything a parse made, as lines of text (order included)."""
    out = [f"top {kconf.top_node.filename}:{kconf.top_node.linenr}"]
    for node in kconf.node_iter():
        item = node.item
        kind = item if isinstance(item, int) else type(item).__name__
        name = getattr(item, "name", None)
        out.append(f"N {node.filename}:{node.linenr} {kind} {name} menuconfig={node.is_menuconfig} "
                   f"list={node.list is not None} prompt={_prompt(node)} help={_attr(node, 'help')!r} "
                   f"dep={_attr(node, 'dep', _expr)} vis={_attr(node, 'visibility', _expr)} "
                   f"include={[(f, n) for f, n in node.include_path]!r}")
        out.append(f"T {node}")
        for attr in ("defaults", "selects", "implies", "ranges"):
            out.append(f"  {attr} {[tuple(_expr(e) for e in entry) for entry in getattr(node, attr)]!r}")
    for name, sym in kconf.syms.items():
        out.append(f"S {name} {sym.orig_type} nodes={[(n.filename, n.linenr) for n in sym.nodes]} "
                   f"rev={_expr(sym.rev_dep)} weak={_expr(sym.weak_rev_dep)} direct={_expr(sym.direct_dep)} "
                   f"choice={sym.choice and sym.choice.name} env={sym.env_var!r} "
                   f"dependents={sorted(_syms(sym._dependents))}")
    out.append(f"const {list(kconf.const_syms)}")
    for choice in kconf.unique_choices:
        out.append(f"C {choice.name} {choice.orig_type} {_syms(choice.syms)} "
                   f"defaults={[(s.name, _expr(c)) for s, c in choice.defaults]} "
                   f"dir={_expr(choice.direct_dep)}")
    out.append(f"defined {_syms(kconf.unique_defined_syms)}")
    out.append(f"menus {[(n.filename, n.linenr) for n in kconf.menus]}")
    out.append(f"comments {[(n.filename, n.linenr) for n in kconf.comments]}")
    out.append(f"variables {[(v.name, v.value, v.is_recursive) for v in kconf.variables.values()]}")
    out.append(f"files {kconf.kconfig_filenames} env {sorted(kconf.env_vars)}")
    defconfig_list = kconf.defconfig_list and kconf.defconfig_list.name
    out.append(f"modules {kconf.modules.name} defconfig_list {defconfig_list}")
    out.extend(f"W {w}" for w in kconf.warnings)
    return out


def _parse_both(key: ModelKey) -> tuple[list[str], list[str], Any]:
    plain, plain_err = parse_model(key, PlainKconfig)
    ours, our_err = parse_model(key, TreeKconfig)
    assert our_err == plain_err
    return dump(ours), dump(plain), ours


SYNTHETIC = {
    "Kconfig": r'''
        # a comment line
        mainmenu "Test $(ARCH) tree"
        GREETING := hello
        PLAIN := 1

        PLAIN += 2
        # a comment line

        PLAIN += 2
          # an indented comment line
          # an indented comment line
        ECHO = $(1)-$(2)
        config A
        ⇥bool "A prompt"
        ⇥default y
        ⇥help
        ⇥  Help of A.
        ⇥    indented more

        ⇥  after a blank line
        config B
        ⇥bool "A prompt"
        ⇥default y
        ⇥depends on A && (C || !D)
        ⇥---help---
           odd indentation, three spaces
        ⇥  a tab line under it
        config C
        ⇥tristate 'single quoted'
        ⇥default m if A
        ⇥select B if A
        ⇥imply N
        config N
        ⇥bool "n"
        config D
        ⇥int "number"
        ⇥range 1 10 if A
        ⇥range 1 10 if A
        ⇥default 5
        config E
        ⇥string "escapes \"quoted\" and \\ backslash"
        ⇥default "x\"y"
        ⇥default "x\"y"
        config F
        ⇥string "from $(GREETING)"
        ⇥default "$(GREETING)"
        GREETING := changed
        config G
        ⇥string "from $(GREETING)"
        ⇥default "$(GREETING)"
        config H
        ⇥bool "joined \
        prompt"
        ⇥depends on A && \
        ⇥⇥B
        ⇥depends on A && \
        ⇥⇥B
        ⇥help
        config I
        ⇥bool
        ⇥default $(ECHO,A,B)
        ⇥default y if A <= C || A >= C || A < C || A > C || A != C
        ⇥default y if A <= C || A >= C || A < C || A > C || A != C
        menu unquoted_title
        ⇥depends on A # trailing comment
        ⇥visible if C
        config J
        ⇥tristate unquoted_prompt
        config K
        ⇥tristate unquoted_prompt
        endmenu
        menu unquoted_title
        endmenu
        choice NAMED
        ⇥prompt "pick"
        ⇥default J
        config J
        ⇥bool "j in choice"
        config L
        ⇥bool "l"
        endchoice
        choice NAMED
        endchoice
        config MODULES
        ⇥bool "modules"
        ⇥modules
        config ENVY
        ⇥string
        ⇥option env="GREETING"
        config ENVY2
        ⇥string
        ⇥option env="GREETING"
        comment "a comment node"
        ⇥depends on A
        comment "a comment node"
        ⇥depends on A
        if A
        config M
        ⇥bool "M"
        ⇥default y
        ⇥help
        ⇥  Same help.
        endif
        if A
        config M
        ⇥bool "M"
        ⇥default y
        ⇥help
        ⇥  Same help.
        ⇥--help--
        endif
        source "$(srctree)/sub/Kconfig"
        source "$(srctree)/sub/Kconfig"
        config $(GREETING)_SYM
        ⇥bool "macro in a name"
        config $(GREETING)_SYM
        ⇥bool "macro in a name"
        $(warning-if,y,a warning from the preprocessor)
        $(warning-if,y,a warning from the preprocessor)
        config LAST
        ⇥bool "last"
        ⇥help
        ''',
    "sub/Kconfig": r'''
        config SUB
        ⇥bool "sub"
        ⇥default A
        ⇥help
        ⇥ one space indent
        ⇥   three
         config SUB
        ⇥def_bool y
        ⇥help
        ⇥  help text at the end of the file, no newline''',
}


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # "⇥" stands for a tab (kept out of this file's own indentation)
        path.write_text(textwrap.dedent(text).lstrip("\n").replace("⇥", "\t"), encoding="utf-8")


def test_synthetic_kconfig_parses_exactly_as_kconfiglib(tmp_path: Path) -> None:
    _write_tree(tmp_path, SYNTHETIC)
    ours, plain, kconf = _parse_both(ModelKey("arm64", srctree=str(tmp_path), kernelversion="6.12.0"))
    assert ours == plain
    # the awkward shapes really were there: macros expanded per copy, warnings per copy
    assert kconf.syms["F"].defaults[0][0].name == "hello"
    assert kconf.syms["G"].defaults[0][0].name == "changed"
    assert sum("quotes recommended" in w for w in kconf.warnings) >= 4
    assert sum("a warning from the preprocessor" in w for w in kconf.warnings) == 2
    assert "changed_SYM" in kconf.syms
    assert kconf.variables["PLAIN"].value == "1 2 2"  # a repeated assignment is carried out twice
    assert kconf._seen_lines is None  # the memory of lines is gone once the parse is done


def _parse_counting(key: ModelKey) -> tuple[Any, Any, list[str]]:
    """``parse_model(key, TreeKconfig)``, and each line kconfiglib's own tokenizer was given."""
    calls: list[str] = []
    real = kconfiglib.Kconfig._tokenize

    def counting(self: Any, s: str) -> Any:
        calls.append(s)
        return real(self, s)

    kconfiglib.Kconfig._tokenize = counting
    try:
        ours, errors = parse_model(key, TreeKconfig)
    finally:
        kconfiglib.Kconfig._tokenize = real
    return ours, errors, calls


def test_lines_seen_before_share_their_tokens(tmp_path: Path) -> None:
    """The point of it: a repeated plain line is tokenized once."""
    _write_tree(tmp_path, {"Kconfig": 'config A\n⇥bool "a"\n⇥default y\nconfig B\n⇥bool "b"\n⇥default y\n'})
    treeparse.forget()  # no lines of an earlier parse
    _ours, _errors, calls = _parse_counting(ModelKey("arm64", srctree=str(tmp_path)))
    assert calls.count("\tdefault y\n") == 1
    assert "config A\n" not in calls  # a line of the commonest shapes: not kconfiglib's tokenizer


def test_a_parse_error_on_a_repeated_line_names_its_own_line(tmp_path: Path) -> None:
    _write_tree(tmp_path, {"Kconfig": "config A\n\tbool \"a\"\n\tdepends on A\nconfig B\n\tdepends on A\n"
                                      "\tdepends on A )\n"})
    with pytest.raises(ConfigError) as ours:
        parse_model(ModelKey("arm64", srctree=str(tmp_path)), TreeKconfig)
    with pytest.raises(ConfigError) as plain:
        parse_model(ModelKey("arm64", srctree=str(tmp_path)), PlainKconfig)
    assert ours.value.message == plain.value.message
    assert ours.value.source == plain.value.source
    assert ours.value.source.line == 6


@pytest.mark.skipif(not (LINUX / "Kconfig").is_file(), reason=f"no Linux tree at {LINUX}")
@pytest.mark.parametrize("arch", ["arm", "arm64", "riscv"])
def test_kernel_tree_parses_exactly_as_kconfiglib(arch: str) -> None:
    """arm on its own; arm64 after arm and riscv after arm64 (as a lint's reader reads them),
    with the lines of the parse before."""
    treeparse.forget()
    before = {"arm64": "arm", "riscv": "arm64"}.get(arch)
    if before is not None:
        parse_model(ModelKey(before, srctree=str(LINUX), kernelversion="6.12.0"), TreeKconfig)
    ours, plain, kconf = _parse_both(ModelKey(arch, srctree=str(LINUX), kernelversion="6.12.0"))
    assert len(kconf.unique_defined_syms) > 10_000
    if ours != plain:  # name the first difference rather than diffing 200,000 lines
        first = next(i for i, (a, b) in enumerate(zip(ours, plain, strict=False)) if a != b)
        assert ours[first] == plain[first]
    assert ours == plain


def test_a_second_parse_makes_its_tokens_from_the_first_ones(tmp_path: Path) -> None:
    """The lines of one parse are known to the next (another tree here): the same lines in
    another order, with other symbols first, make exactly what kconfiglib makes, and are not
    tokenized again."""
    first = {"Kconfig": 'config A\n⇥bool "a"\n⇥depends on B && !C\n⇥select D if "x" = E\n⇥default y\n'
                        "config B\n⇥bool\nconfig C\n⇥bool\n# a comment\n\n"}
    second = {"Kconfig": 'config NEW\n⇥bool "new"\n⇥default y if n\n# a comment\n\nconfig C\n⇥bool\n'
                         'config A\n⇥bool "a"\n⇥select D if "x" = E\n⇥depends on B && !C\n'
                         '⇥default y\nconfig B\n⇥bool\n⇥default "x"\n'}
    _write_tree(tmp_path / "one", first)
    _write_tree(tmp_path / "two", second)
    treeparse.forget()
    parse_model(ModelKey("arm64", srctree=str(tmp_path / "one")), TreeKconfig)
    key = ModelKey("arm64", srctree=str(tmp_path / "two"))
    ours, our_err, calls = _parse_counting(key)
    plain, plain_err = parse_model(key, PlainKconfig)
    assert dump(ours) == dump(plain)
    assert our_err == plain_err
    assert list(ours.syms)[1:] == ["NEW", "C", "A", "D", "E", "B"]  # the new parse's own order
    assert "\tdepends on B && !C\n" not in calls and '\tselect D if "x" = E\n' not in calls
    assert "\tdefault y if n\n" in calls and '\tdefault "x"\n' in calls
    assert ours.syms["A"].kconfig is ours and ours.syms["A"].direct_dep[1] is ours.syms["B"]


def test_lines_of_the_commonest_shapes_are_tokenized_without_kconfiglib(tmp_path: Path) -> None:
    """``config NAME``, ``select NAME``, ``depends on NAME``, ``bool "prompt"`` and the like are
    tokenized by TreeKconfig itself, exactly as kconfiglib would; near misses are left to it."""
    text = ('config A0\n⇥bool "A prompt"\n⇥depends on m\n⇥select B_1\n⇥imply C\n'
            'menuconfig B_1\n⇥tristate "  spaces kept  "\n⇥depends on A0\n'
            'config C\n⇥string ""\n⇥prompt "a # in a prompt"\n'
            'config G\n⇥bool\nconfig D\n⇥int "number"\n⇥depends on A0 && C\n⇥select G if C\n'
            'config E\n⇥hex \'single quoted\'\n⇥depends  on A0\n  select G\n'
            'config F \n⇥bool "trailing space" if A0\n⇥bool "tab after"\t\n')
    _write_tree(tmp_path, {"Kconfig": text})
    key = ModelKey("arm64", srctree=str(tmp_path))
    treeparse.forget()
    ours, our_err, calls = _parse_counting(key)
    plain, plain_err = parse_model(key, PlainKconfig)
    assert dump(ours) == dump(plain)
    assert our_err == plain_err
    simple = ["config A0\n", '\tbool "A prompt"\n', "\tdepends on m\n", "\tselect B_1\n", "\timply C\n",
              "menuconfig B_1\n", '\ttristate "  spaces kept  "\n', '\tstring ""\n', '\tint "number"\n']
    assert not set(simple) & set(calls)
    assert {"\tdepends on A0 && C\n", "\thex 'single quoted'\n", "\tdepends  on A0\n", "  select G\n",
            "config F \n", '\tbool "tab after"\t\n', '\tbool "trailing space" if A0\n'} <= set(calls)
    assert ours.syms["B_1"].nodes[0].is_menuconfig
