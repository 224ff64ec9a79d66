"""cma debugfs (old and new directory naming, v6.15 ranges) and sysfs readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memplan.errors import ObserveError
from memplan.observe import read_debugfs_cma, read_sysfs_cma
from memplan.observe.debugfs import area_name_from_dir
from memplan.version import KernelVersion


def write_area(root: Path, dirname: str, **files: str) -> Path:
    d = root / dirname
    d.mkdir(parents=True)
    for name, value in files.items():
        path = d / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value)
    return d


def test_new_naming_and_units(tmp_path: Path) -> None:
    write_area(
        tmp_path,
        "reserved",
        base_pfn="745984\n",
        count="16384\n",
        order_per_bit="0\n",
        used="192\n",
        maxchunk="16192\n",
        bitmap="4294967295 0 0\n",
    )
    areas, diags = read_debugfs_cma(tmp_path, kernel_version=KernelVersion(6, 1))
    assert diags == ()
    [a] = areas
    assert (a.name, a.name_truncated) == ("reserved", False)
    assert a.base == 745984 * 4096 and a.size == 64 << 20
    assert (a.used, a.maxchunk, a.order_per_bit) == (192, 16192, 0)
    assert a.bitmap == (4294967295, 0, 0)


def test_old_naming_strips_prefix_and_flags_truncation(tmp_path: Path) -> None:
    write_area(tmp_path, "cma-reserved", base_pfn="1\n", count="2\n")
    write_area(tmp_path, "cma-cma@6000000", base_pfn="393216\n", count="4096\n")
    areas, _ = read_debugfs_cma(tmp_path)
    by_dir = {a.dirname: a for a in areas}
    assert (by_dir["cma-reserved"].name, by_dir["cma-reserved"].name_truncated) == ("reserved", False)
    trunc = by_dir["cma-cma@6000000"]
    assert (trunc.name, trunc.name_truncated) == ("cma@6000000", True)


def test_name_from_dir_by_version() -> None:
    assert area_name_from_dir("cma-linux,cma") == ("linux,cma", False)
    assert area_name_from_dir("cma-linux,cma", KernelVersion(6, 6)) == ("cma-linux,cma", False)
    assert area_name_from_dir("linux,cma") == ("linux,cma", False)


def test_ranges_directory_and_page_size(tmp_path: Path) -> None:
    write_area(
        tmp_path,
        "hugetlb0",
        count="8192\n",
        used="0\n",
        ranges__0__base_pfn="65536\n",
        ranges__0__bitmap="0 0\n",
        ranges__1__base_pfn="131072\n",
    )
    [a], diags = read_debugfs_cma(tmp_path, page_size=16384)
    assert diags == ()
    assert [(r.index, r.base_pfn) for r in a.ranges] == [(0, 65536), (1, 131072)]
    assert a.base_pfn == 65536 and a.base == 65536 * 16384
    assert a.size == 8192 * 16384


def test_bad_value_and_missing_files_are_reported(tmp_path: Path) -> None:
    write_area(tmp_path, "reserved", base_pfn="zz\n")
    [a], diags = read_debugfs_cma(tmp_path)
    assert a.base is None and a.size is None
    assert {d.code for d in diags} == {"observe-malformed-line", "observe-debugfs-incomplete"}
    bad = next(d for d in diags if d.code == "observe-malformed-line")
    assert bad.source is not None and bad.source.file is not None and bad.source.file.endswith("base_pfn")


def test_sysfs_counters(tmp_path: Path) -> None:
    write_area(
        tmp_path, "reserved", alloc_pages_success="10\n", alloc_pages_fail="0\n", total_pages="16384\n"
    )
    write_area(tmp_path, "linux,cma", alloc_pages_success="x\n")
    areas, diags = read_sysfs_cma(tmp_path)
    by = {a.name: a for a in areas}
    assert by["reserved"].get("alloc_pages_success") == 10
    assert by["reserved"].get("total_pages") == 16384
    assert by["reserved"].get("available_pages") is None
    assert by["linux,cma"].counters == ()
    [d] = diags
    assert d.code == "observe-malformed-line"


@pytest.mark.parametrize("reader", [read_debugfs_cma, read_sysfs_cma])
def test_a_cma_directory_that_cannot_be_listed_is_an_observe_error(tmp_path: Path, reader: Any) -> None:
    """A missing directory, or a file where the directory should be, is an ObserveError naming it
    (found by the front-end fuzzer: it was a bare FileNotFoundError)."""
    for root in (tmp_path / "missing", tmp_path / "a-file"):
        if root.name == "a-file":
            root.write_text("0\n")
        with pytest.raises(ObserveError) as info:
            reader(root)
        assert info.value.source is not None and info.value.source.file == str(root)
        assert str(root) in info.value.message and "cma directory" in info.value.message
