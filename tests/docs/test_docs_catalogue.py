"""The diagnostic catalogue page is generated from the one registry, memplan.diagnostics."""

from __future__ import annotations

from docs_hook_loader import load_hook

from memplan.diagnostics import CODES, FRONT_ENDS


def test_catalogue_is_the_registry_in_order() -> None:
    hook = load_hook()
    assert [d.code for d in hook.catalogue()] == list(CODES)


def test_catalogue_markdown_has_a_section_per_code_with_its_text() -> None:
    hook = load_hook()
    md = hook.catalogue_markdown()
    for code, entry in CODES.items():
        assert f"### `{code}` {{ #{code} }}" in md
        assert f"[`{code}`](#{code})" in md
        section = md.split(f"### `{code}` {{ #{code} }}")[1].split("### ")[0]
        assert f"**What it means.** {hook._md(entry.meaning)}" in section
        assert f"**How to fix it.** {hook._md(entry.fix)}" in section
        assert f"severity *{entry.severity}" in section
    for front_end in {c.front_end for c in CODES.values()}:
        assert f"## {FRONT_ENDS[front_end].capitalize()}\n" in md


def test_codes_with_several_severities_say_so() -> None:
    hook = load_hook()
    varied = [c for c in CODES.values() if c.other_severities]
    assert varied, "some codes are emitted with more than one severity"
    md = hook.catalogue_markdown()
    for c in varied:
        assert f"severity *{c.severity} (sometimes {' or '.join(c.other_severities)})*" in md


def test_markdown_escaping() -> None:
    hook = load_hook()
    assert hook._md("a_b [c] *d* <e>") == "a\\_b \\[c\\] \\*d\\* &lt;e>"
