"""The MkDocs hook's helpers: pages missing from the nav, placeholders, the module list."""

from __future__ import annotations

from pathlib import Path

from docs_hook_loader import ROOT, load_hook


def test_pages_missing_from_the_nav_are_found(tmp_path: Path) -> None:
    hook = load_hook()
    (tmp_path / "design").mkdir()
    (tmp_path / "hooks").mkdir()
    (tmp_path / "index.md").write_text("# Home\n")
    (tmp_path / "kernel-in-the-loop.md").write_text("intro\n# Kernel in the loop\n")
    (tmp_path / "design" / "notes.md").write_text("no heading\n")
    (tmp_path / "hooks" / "x.md").write_text("# ignored\n")
    nav = [{"Home": "index.md"}, {"Design": [{"Interfaces": "design/interfaces.md"}]}]
    assert hook.missing_from_nav(tmp_path, nav) == [
        ("design/notes.md", "design/notes.md"),
        ("Kernel in the loop", "kernel-in-the-loop.md"),
    ]


def test_every_placeholder_in_the_pages_is_known() -> None:
    hook = load_hook()
    used = set()
    for page in (ROOT / "docs").rglob("*.md"):
        used |= set(hook.iter_placeholders(page.read_text(encoding="utf-8")))
    assert used == {"diagnostic-catalogue", "api-reference", "example", "example-picture", "palette"}


def test_palette_table_lists_every_style() -> None:
    from memplan.render._palette import legend_order

    md = load_hook().palette_markdown()
    for style in legend_order():
        assert f"| `{style.letter}` |" in md and style.fill in md


def test_public_modules_skip_private_ones() -> None:
    hook = load_hook()
    mods = hook.public_modules()
    assert mods[0] == "memplan"
    assert "memplan.render.text" in mods and "memplan.plan" in mods
    assert not [m for m in mods if any(p.startswith("_") for p in m.split(".")[1:])]
