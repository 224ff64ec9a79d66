"""The diagnostic catalogue is generated from the code and describes every code memplan emits."""

from __future__ import annotations

from docs_hook_loader import load_hook


def test_registry_codes_come_first_with_their_text() -> None:
    from memplan.resolve.codes import CODES

    hook = load_hook()
    docs = hook.catalogue()
    assert [d.code for d in docs[: len(CODES)]] == list(CODES)
    first = docs[0]
    entry = CODES[first.code]
    assert (first.severity, first.title, first.meaning, first.fix) == (
        entry.severity, entry.title, entry.meaning, entry.fix,
    )
    assert len({d.code for d in docs}) == len(docs)  # each code once


def test_front_end_literal_codes_are_found() -> None:
    hook = load_hook()
    emitted = {e.code: e for e in hook.emitted_codes()}
    catalogue = {d.code for d in hook.catalogue()}
    assert set(emitted) <= catalogue
    # every emission site points at a real line of the package
    for e in emitted.values():
        lines = (hook.ROOT / e.file).read_text(encoding="utf-8").splitlines()
        assert 1 <= e.line <= len(lines)


def test_scanner_reads_literal_and_variable_severities() -> None:
    import ast

    hook = load_hook()
    call = ast.parse('sink.add("warning", "cmdline-x-y", f"{a} is bad", tok)').body[0].value  # type: ignore[attr-defined]
    assert hook._code_in_call(call) == ("cmdline-x-y", "warning", "… is bad")
    call2 = ast.parse('Diagnostic(severity, "some-code", "m")').body[0].value  # type: ignore[attr-defined]
    assert hook._code_in_call(call2) == ("some-code", None, "m")
    call3 = ast.parse('f("a", "not-a-diagnostic")').body[0].value  # type: ignore[attr-defined]
    assert hook._code_in_call(call3) is None


def test_every_code_has_a_meaning_and_a_fix() -> None:
    hook = load_hook()
    missing = hook.undocumented()
    assert not missing, (
        "describe these codes in docs/diagnostics/frontend-codes.yml (or a codes registry): "
        + ", ".join(missing)
    )


def test_no_stale_descriptions() -> None:
    hook = load_hook()
    assert hook.stale_descriptions() == []


def test_catalogue_markdown_has_an_anchor_per_code() -> None:
    hook = load_hook()
    md = hook.catalogue_markdown()
    for d in hook.catalogue():
        assert f"### `{d.code}` {{ #{d.code} }}" in md
        assert f"[`{d.code}`](#{d.code})" in md


def test_scanner_follows_codes_through_helpers() -> None:
    """A code handed to a helper (directly or as ``f"{code}-suffix"``) is found at the call site."""
    import ast

    hook = load_hook()
    module = ast.parse(
        "def no_value(token, sink, code):\n"
        "    sink.add('warning', code, 'no value', token)\n"
        "def note_trailing(token, index, sink, code):\n"
        "    sink.add('info', code, 'trailing', token)\n"
        "class Parser:\n"
        "    def size_param(self, token, sink, code):\n"
        "        no_value(token, sink, f'{code}-invalid')\n"
        "        note_trailing(token, 0, sink, f'{code}-trailing')\n"
        "    def unrelated(self, name):\n"
        "        print(name, f'{name}-x')\n"
    )
    helpers = hook._code_helpers([module])
    assert helpers["no_value"] == (2, (("", "warning"),))
    assert helpers["note_trailing"] == (3, (("", "info"),))
    assert helpers["size_param"] == (2, (("-invalid", "warning"), ("-trailing", "info")))
    assert "unrelated" not in helpers
