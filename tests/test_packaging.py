"""The package metadata says only what is true, and names only files that exist."""

from __future__ import annotations

import tomllib
from pathlib import Path

from memplan.render.sarif import sarif_log

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_no_invented_urls() -> None:
    # the project has no public home, repository or tracker: no URL is named for one
    assert "urls" not in PROJECT["project"]
    assert "informationUri" not in sarif_log([])["runs"][0]["tool"]["driver"]


def test_license_and_readme_exist() -> None:
    project = PROJECT["project"]
    assert project["license"] == "MIT"
    for name in (*project["license-files"], project["readme"]):
        assert (ROOT / name).is_file(), name
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_every_package_data_pattern_matches_files() -> None:
    package = ROOT / "memplan"
    for pattern in PROJECT["tool"]["setuptools"]["package-data"]["memplan"]:
        assert any(p.is_file() for p in package.glob(pattern)), pattern


def test_sdist_manifest_names_what_exists() -> None:
    for line in (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0] not in ("include", "graft"):
            continue
        for name in words[1:]:
            assert (ROOT / name).exists(), line
