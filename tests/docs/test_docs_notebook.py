"""The example notebook runs top to bottom on the bundled board and shows picture and tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from docs_hook_loader import ROOT, resolver_available

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
pytest.importorskip("ipykernel", reason="ipykernel is in the test extra")

NOTEBOOK = ROOT / "docs" / "examples" / "which-cma-pool-wins.ipynb"


def test_notebook_is_valid_and_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs for c in code)
    source = "\n".join(c.source for c in code)
    for step in ("memplan.resolve(", ".explain()", ".to_svg()"):
        assert step in source


def test_notebook_uses_the_public_api_only() -> None:
    import re

    import memplan

    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"from memplan\.|import memplan\.", source)  # no private module imported
    used = set(re.findall(r"\bmemplan\.(\w+)", source))
    assert used and used <= set(memplan.__all__), used - set(memplan.__all__)


def _kernel_for_this_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec that runs *this* interpreter (the stock one runs whatever ``python`` is on PATH)."""
    name = "memplan-test-python"
    spec_dir = tmp_path / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "memplan tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return name


def test_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not resolver_available():
        pytest.skip("memplan.resolve is not available yet")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name=_kernel_for_this_python(tmp_path, monkeypatch),
        # run outside the source tree: the example board must come from the installed package
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("<svg" in h and "memplan-regions" in h for h in html)  # the Plan's own view
    svg = [o["data"]["image/svg+xml"] for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert svg and "global CMA pool" in svg[0]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Linux   5.4: dts" in text and "Linux   6.1: cmdline" in text
