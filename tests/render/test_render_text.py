"""The terminal view: table alignment, human sizes, the bar map, the CMA verdict, diagnostics."""

from __future__ import annotations

import re

from render_plan_factory import GiB, MiB, evk_plan, two_bank_plan

from memplan.model import Diagnostic, MemoryBank, Region
from memplan.render._fmt import human_size
from memplan.render.text import bank_bar, render_text


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    out = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        out.append(line)
    return out


def test_human_sizes() -> None:
    assert human_size(64 * MiB) == "64 MiB"
    assert human_size(0x88000) == "544 KiB"
    assert human_size(3 * GiB // 2) == "1.5 GiB"
    assert human_size(100) == "100 B"
    assert human_size(0) == "0 B"
    assert human_size(None) == "-"
    assert human_size(1 << 40) == "1 TiB"


def test_region_table_is_aligned_and_uses_human_sizes() -> None:
    text = render_text(evk_plan())
    rows = _section(text, "Regions (")
    header, body = rows[0], [r for r in rows[1:] if "->" not in r]
    assert len(body) == 4
    for col in ("BASE", "SIZE", "STATUS", "SOURCE"):
        at = header.index(col)
        for row in body:
            assert row[at - 1] == " " and row[at] != " ", (col, row)
    dsp = next(r for r in body if "dsp@92400000" in r)
    assert "0x92400000" in dsp and "0x933fffff" in dsp and "16 MiB" in dsp and "no-map" in dsp
    assert "memplan/examples/evk/board.dts:32:3" in dsp
    # address order: dsp (0x924...) before cma (0xa8...) before vpu (0xbc...); unplaced last
    names = [r.split()[1] if r.startswith("  G") else r.split()[0] for r in body]
    assert names == ["dsp@92400000", "cma", "vpu-pool", "linux,cma"]


def test_non_ok_regions_show_their_reason() -> None:
    text = render_text(evk_plan())
    assert "-> bypassed: cma= on the command line wins from v5.6" in text
    text2 = render_text(two_bank_plan())
    assert "-> rejected: size cell count does not match #size-cells" in text2
    assert "-> failed: no room in alloc-ranges" in text2


def test_global_cma_verdict_and_candidates() -> None:
    text = render_text(evk_plan())
    verdict = next(line for line in text.splitlines() if line.startswith("Global CMA:"))
    assert verdict == (
        "Global CMA: 320 MiB from the kernel command line at 0xa8000000-0xbbffffff, region 'cma'"
    )
    cands = _section(text, "Global CMA:")
    assert cands[0].split() == ["STATUS", "ORIGIN", "SIZE", "SOURCE"]
    assert cands[1].lstrip().startswith("*  selected")
    assert cands[2].strip() == "-> cma= wins on 6.1"
    assert "overridden" in cands[3] and "linux,cma" in cands[3] and "256 MiB" in cands[3]
    assert cands[4].strip() == "-> dropped because cma= is given"
    assert "kconfig" in cands[5] and "32 MiB" in cands[5] and "defconfig:4" in cands[5]
    assert cands[0].index("SOURCE") == cands[5].index("memplan/examples/evk/defconfig:4")
    # the global region is marked G in the table
    assert any(r.startswith("  G  cma") for r in _section(text, "Regions ("))


def test_no_global_cma() -> None:
    from memplan.model import GlobalCma

    plan = evk_plan(global_cma=GlobalCma(None, None, None, None, ()))
    assert "\nGlobal CMA: none\n" in render_text(plan)
    zero = evk_plan(global_cma=GlobalCma("cmdline", 0, None, None, ()))
    assert "\nGlobal CMA: none (size 0 from the kernel command line)\n" in render_text(zero)
    unplaced = evk_plan(global_cma=GlobalCma("kconfig", 64 * MiB, None, None, ()))
    assert "\nGlobal CMA: 64 MiB from the kernel configuration (not placed)\n" in render_text(unplaced)


def test_bar_map_places_regions_in_the_right_cells() -> None:
    plan = evk_plan()
    text = render_text(plan, bar_width=64)
    bar_line = next(line for line in text.splitlines() if line.startswith("  0x40000000 |"))
    bar = bar_line.split("|")[1]
    assert len(bar) == 64
    bank = plan.memory[0]

    def cell(addr: int) -> int:
        return (addr - bank.base) * 64 // bank.size

    assert bar[cell(0x92400000)] == "N"
    assert bar[cell(0xA8000000)] == "G" and bar[cell(0xBBFFFFFF)] == "G"
    assert bar[cell(0xBFFFFFFF)] == "C"
    assert bar[0] == "." and bar[cell(0x90000000)] == "."
    assert set(bar) == {".", "N", "G", "C"}
    legend = text.splitlines()[text.splitlines().index(bar_line) + 1]
    assert "G global CMA pool" in legend and "N no-map" in legend and "C CMA" in legend


def test_tiny_region_is_visible_and_overlap_marked() -> None:
    bank = MemoryBank(0, 4 * GiB)
    tiny = Region("tiny", "reserved", "dts", "ok", "static", 3 * GiB, 4096)
    assert bank_bar(bank, [tiny], [], None, 32)[24] == "R"
    text = render_text(two_bank_plan())
    lines = text.splitlines()
    first = next(line for line in lines if line.startswith("  0x080000000 |"))
    assert first.split("|")[1][0] == "!"
    assert re.search(r"^  !  fw@80000000 ", text, re.M) and re.search(r"^  !  ovl@80100000 ", text, re.M)
    second = next(line for line in lines if line.startswith("  0x880000000 |"))
    assert second.split("|")[1].startswith("E" * 16)
    assert "K crashkernel" in text and "E memmap= reservation" in text


def test_diagnostics_errors_first_with_code_and_source() -> None:
    text = render_text(two_bank_plan())
    diag = _section(text, "Diagnostics (")
    assert _section(text, "Diagnostics")[0] == diag[0]
    assert text.count("Diagnostics (1 error, 1 warning):") == 1
    assert diag[0].split()[:2] == ["error", "[region-overlap]"]
    assert diag[1].strip() == "at b.dts:14:3"
    assert diag[2].split()[:2] == ["warning", "[bad-size-cells]"]


def test_empty_plan_pieces() -> None:
    plan = evk_plan(memory=(), regions=(), devices=(), diagnostics=())
    text = render_text(plan)
    assert "RAM: 0 B in 0 banks (none)" in text
    assert "Regions: none" in text
    assert "Diagnostics: none" in text
    assert "Map (" not in text and "Devices:" not in text


def test_header_and_unknown_version() -> None:
    text = render_text(two_bank_plan())
    assert text.splitlines()[0] == (
        "memplan: arm64, kernel version unknown, precedence seed (requested auto), page size 4 KiB"
    )
    first = render_text(evk_plan()).splitlines()[0]
    assert first.startswith("memplan: arm64, Linux 6.1.0, precedence kernel")


def test_diagnostic_without_source() -> None:
    plan = evk_plan(diagnostics=(Diagnostic("warning", "x-code", "something"),))
    assert "  warning [x-code] something" in render_text(plan)


def test_str_is_the_text_view_and_repr_one_line() -> None:
    plan = evk_plan()
    assert str(plan) == plan.to_text() == render_text(plan)
    assert "Global CMA: 320 MiB" in str(plan)
    # repr() is one line: what it is, the global pool, counts
    assert "\n" not in repr(plan)
    assert repr(plan).startswith("<Plan arm64 6.1") and "global CMA cmdline 320 MiB" in repr(plan)


def test_approx_size_for_gaps() -> None:
    from memplan.units import approx_size

    assert approx_size(64 * MiB) == "64 MiB"
    assert approx_size(1316 * MiB) == "1316 MiB"
    assert approx_size(230392 * 1024) == "~225 MiB"
    assert approx_size(0x1_2345_6789) == "~4.55 GiB"
    assert approx_size(5176831 * 1024) == "~4.94 GiB"
    assert human_size(5176831 * 1024) == "~4.94 GiB" and human_size(5464 * 1024) == "5464 KiB"
    assert approx_size(100) == "100 B"
