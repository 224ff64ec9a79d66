"""``resolve`` (API and CLI) and ``check`` on the merged tree: overlays change the layout, an
overlay's ``/chosen/bootargs`` counts, and regions an overlay changed point at the overlay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import memplan
from memplan.cli import main
from memplan.dts import parse_dts
from memplan.errors import OverlayError

HERE = Path(__file__).resolve().parent / "overlays"
BASE = HERE / "base.dts"
OK = HERE / "ok"
M = 1 << 20


def _region(plan: memplan.Plan, name: str) -> memplan.model.Region:
    return next(r for r in plan.regions if r.name == name)


def test_overlay_resizes_the_default_pool() -> None:
    plain = memplan.resolve(dts=BASE, kernel_version="6.1")
    assert _region(plain, "linux,cma").size == 64 * M
    merged = memplan.resolve(dts=BASE, kernel_version="6.1", overlays=[OK / "01-cma-size-by-label.dtso"])
    cma = _region(merged, "linux,cma")
    assert cma.size == 256 * M and cma.status == "ok"
    assert cma.source is not None and cma.source.file == str(OK / "01-cma-size-by-label.dtso")
    assert cma.source.line == 4


def test_overlay_bootargs_count_and_cmdline_wins() -> None:
    plan = memplan.resolve(dts=BASE, kernel_version="6.1",
                           overlays=[OK / "01-cma-size-by-label.dtso", OK / "04-chosen-bootargs.dtso"])
    assert _region(plan, "linux,cma").status == "bypassed"
    pool = _region(plan, "reserved")
    assert pool.size == 128 * M
    bypassed = [d for d in plan.diagnostics if d.code == "cma-dt-bypassed"]
    assert bypassed and bypassed[0].source is not None
    assert bypassed[0].source.file == str(OK / "01-cma-size-by-label.dtso")
    text = plan.explain()
    assert "01-cma-size-by-label.dtso:4" in text


def test_boot_loader_cmdline_still_replaces_overlay_bootargs() -> None:
    plan = memplan.resolve(dts=BASE, kernel_version="6.1", cmdline="console=ttyAMA0",
                           overlays=[OK / "04-chosen-bootargs.dtso"])
    assert _region(plan, "linux,cma").status == "ok"


def test_new_region_from_overlay_and_tree_input_untouched() -> None:
    tree = parse_dts(BASE, symbols=True)
    plan = memplan.resolve(dts=tree, kernel_version="6.1", overlays=[OK / "03-new-reserved-region.dtso"])
    dsp = _region(plan, "dsp@50000000")
    assert (dsp.base, dsp.size, dsp.kind) == (0x50000000, 8 * M, "no-map")
    assert dsp.source is not None and dsp.source.file == str(OK / "03-new-reserved-region.dtso")
    assert tree.find("/reserved-memory/dsp@50000000") is None


def test_resolve_cli_with_overlays(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["resolve", "--dts", str(BASE), "--kernel-version", "6.1", "--format", "json",
            "--overlay", str(OK / "28-new-default-cma.dtso")]
    assert main(args) in (0, 1)
    data = json.loads(capsys.readouterr().out)
    names = {r["name"] for r in data["regions"]}
    assert "cma@60000000" in names


def test_resolve_cli_errors_name_the_overlay(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = HERE / "err" / "missing-symbol.dtso"
    assert main(["resolve", "--dts", str(BASE), "--kernel-version", "6.1", "--overlay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"overlay {bad}:" in err and "no_such_label" in err
    assert main(["resolve", "--dts", str(BASE), "--overlay", str(tmp_path / "none.dtbo")]) == 2
    assert "--overlay: no such file" in capsys.readouterr().err


def test_check_compares_with_the_merged_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # what a kernel booted with the overlay would log (rendered from memplan's own prediction)
    overlay = str(OK / "01-cma-size-by-label.dtso")
    common = ["--dts", str(BASE), "--kernel-version", "6.1"]
    assert main(["resolve", *common, "--overlay", overlay, "--format", "dmesg"]) == 0
    log = tmp_path / "dmesg.txt"
    log.write_text(capsys.readouterr().out)
    assert "size 256 MiB" in log.read_text()
    assert main(["check", "--observed", str(log), *common, "--overlay", overlay]) == 0
    assert "agreement" in capsys.readouterr().out
    assert main(["check", "--observed", str(log), *common]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_overlay_needs_a_base() -> None:
    with pytest.raises(memplan.errors.MemplanError, match="overlays need a base"):
        memplan.resolve(arch="x86", memory="4G", overlays=[OK / "01-cma-size-by-label.dtso"])


def test_plain_source_is_not_an_overlay(tmp_path: Path) -> None:
    src = tmp_path / "plain.dts"
    src.write_text("/dts-v1/;\n/ { x; };\n")
    with pytest.raises(OverlayError, match="no /plugin/"):
        memplan.resolve(dts=BASE, overlays=[src])


def test_address_checks_run_on_the_merged_tree(tmp_path: Path) -> None:
    # on its own the overlay's reg looks wrong (a fragment has default cell counts); merged it is fine
    plan = memplan.resolve(dts=BASE, kernel_version="6.1", overlays=[OK / "03-new-reserved-region.dtso"])
    # dtc's checks (dtc-*), not the note saying which dtc release 6.1 carries
    checks = [d for d in plan.diagnostics if d.code.startswith("dtc-") and d.code != "dtc-from-kernel"]
    assert not checks
    bad = tmp_path / "bad-reg.dtso"
    bad.write_text("/dts-v1/;\n/plugin/;\n&reserved_memory {\n"
                   "\tx@50000000 { reg = <0x50000000 0x1000>; };\n};\n")
    plan = memplan.resolve(dts=BASE, kernel_version="6.1", overlays=[bad])
    found = [d for d in plan.diagnostics if d.code == "dtc-reg-format"]
    assert len(found) == 1 and found[0].source is not None
    assert (found[0].source.file, found[0].source.line) == (str(bad), 4)


def test_compiled_base_and_overlay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, overlay = tmp_path / "base.dtb", tmp_path / "cma.dtbo"
    assert main(["dts", str(BASE), "-@", "-o", str(base)]) == 0
    assert main(["dts", str(OK / "01-cma-size-by-label.dtso"), "-@", "-o", str(overlay)]) == 0
    capsys.readouterr()
    assert main(["resolve", "--dtb", str(base), "--overlay", str(overlay), "--kernel-version", "6.1",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    cma = next(r for r in data["regions"] if r["name"] == "linux,cma")
    assert cma["size"] == 256 * M and str(overlay) in json.dumps(cma)


def test_one_overlay_alone_and_bad_argument() -> None:
    one = memplan.resolve(dts=BASE, kernel_version="6.1", overlays=str(OK / "01-cma-size-by-label.dtso"))
    assert _region(one, "linux,cma").size == 256 * M
    with pytest.raises(memplan.errors.ResolveError, match="expected a list of overlay files, got int"):
        memplan.resolve(dts=BASE, kernel_version="6.1", overlays=3)  # type: ignore[arg-type]
