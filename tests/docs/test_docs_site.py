"""The documentation site builds with --strict (no warnings) and holds the generated pages."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from docs_hook_loader import ROOT, load_hook, resolver_available

pytest.importorskip("mkdocs", reason="mkdocs is in the test extra")
pytest.importorskip("mkdocstrings", reason="mkdocstrings is in the test extra")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    res = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    log = res.stdout + res.stderr
    assert res.returncode == 0, log
    assert "WARNING" not in log, log
    return out


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_every_page_is_built(site: Path) -> None:
    for page in ("getting-started", "which-cma-pool-wins", "pictures", "diagnostics", "json-format", "api"):
        assert (site / page / "index.html").is_file(), page
    assert (site / "examples" / "which-cma-pool-wins.ipynb").is_file()


def test_catalogue_page_lists_every_registered_code(site: Path) -> None:
    from memplan.diagnostics import CODES

    html = _page(site, "diagnostics")
    for code, entry in CODES.items():
        assert f'id="{code}"' in html, code
        # the meaning is on the page (HTML-escaped text; compare a quote-free prefix)
        words = re.split(r"['\"<>&]", entry.meaning)[0][:40]
        assert words in html, code
    hook = load_hook()
    for doc in hook.catalogue():
        assert f'id="{doc.code}"' in html, doc.code


def test_version_table_is_on_the_guide(site: Path) -> None:
    html = _page(site, "which-cma-pool-wins")
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    firsts = [re.sub(r"<[^>]+>", "", r.split("</td>")[0]).strip() for r in rows if "<td>" in r]
    for era in ("before 5.6", "5.6 to 6.12.12", "6.13 to 6.18, and 6.12.13 or later",
                "6.19 and later, and 6.18.y with the backport"):
        assert era in firsts, firsts


def test_api_reference_documents_the_public_api(site: Path) -> None:
    html = _page(site, "api")
    for name in ("memplan.plan.Plan", "memplan.render.text.render_text", "memplan.render.svg.render_svg",
                 "memplan.model.Region", "memplan.source.Source"):
        assert f'id="{name}"' in html, name
    # docstring text made it through
    assert "The plan as terminal text" in html


def test_examples_are_generated_from_the_resolver(site: Path) -> None:
    if not resolver_available():
        pytest.skip("memplan.resolve is not available yet")
    start = _page(site, "getting-started")
    assert "Global CMA: 320 MiB from the kernel command line" in start
    guide = _page(site, "which-cma-pool-wins")
    assert "Global CMA: 256 MiB from the device tree" in guide
    svg = (site / "images" / "evk-map-6.1.svg").read_text(encoding="utf-8")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "dsp@92400000" in svg and "vpu-pool" in svg
    assert "images/evk-map-6.1.svg" in _page(site, "pictures")
    assert '"global_cma"' in _page(site, "json-format").replace("&quot;", '"')


def test_api_reference_renders_cross_references(site: Path) -> None:
    html = _page(site, "api")
    raw = re.findall(r":(?:func|class|meth|attr|data|mod|exc|obj):`", html)
    assert raw == [], f"{len(raw)} raw Sphinx roles on the API page"
    links = re.findall(r'<a class="autorefs autorefs-internal"[^>]*href="([^"]+)"', html)
    assert len(links) > 100
    assert any(h.endswith("#memplan.api.resolve") for h in links)
    assert any(h.endswith("#memplan.plan.Plan") for h in links)


def test_api_reference_lists_every_model_field(site: Path) -> None:
    import attrs

    import memplan.model
    from memplan.plan import Plan
    from memplan.source import Source

    html = _page(site, "api")
    classes = [Plan, Source] + [
        c for c in vars(memplan.model).values()
        if isinstance(c, type) and attrs.has(c) and c.__module__ == "memplan.model"
    ]
    missing = [
        f"{c.__module__}.{c.__name__}.{f.name}"
        for c in classes
        for f in attrs.fields(c)
        if not f.name.startswith("_") and f'id="{c.__module__}.{c.__name__}.{f.name}"' not in html
    ]
    assert len(classes) >= 8 and missing == []
