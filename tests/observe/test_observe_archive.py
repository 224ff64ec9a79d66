"""Snapshot archives (.tar.gz) are read safely: no link followed, no name escaping, size caps."""

from __future__ import annotations

import contextlib
import gzip
import io
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memplan.errors import ObserveError
from memplan.observe import archive as archive_mod
from memplan.observe import read_observed
from memplan.observe.archive import decompress_limited, parse_manifest, read_archive

FIXTURE = Path(__file__).resolve().parents[1] / "kernel" / "fixtures" / "arm64-6.12-dt-default-cma"


def _tar(path: Path, entries: list[tuple[str, bytes | None, bytes]]) -> Path:
    """Write a .tar.gz: (name, data, type) with data None for non-regular members."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE or kind == tarfile.LNKTYPE:
                info.linkname = "/etc/passwd"
            if data is not None:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return path


def _boot_entries(top: str = "memplan-snapshot/") -> list[tuple[str, bytes | None, bytes]]:
    return [
        (top + "iomem", (FIXTURE / "iomem.txt").read_bytes(), tarfile.REGTYPE),
        (top + "dmesg", (FIXTURE / "dmesg.txt").read_bytes(), tarfile.REGTYPE),
        (top + "fdt", (FIXTURE / "fdt").read_bytes(), tarfile.REGTYPE),
    ]


def test_links_devices_and_escaping_names_are_refused(tmp_path: Path) -> None:
    entries = [
        *_boot_entries(),
        ("memplan-snapshot/meminfo", None, tarfile.SYMTYPE),
        ("memplan-snapshot/cma/reserved/count", None, tarfile.LNKTYPE),
        ("memplan-snapshot/console", None, tarfile.CHRTYPE),
        ("memplan-snapshot/fifo", None, tarfile.FIFOTYPE),
        ("../evil", b"x", tarfile.REGTYPE),
        ("/etc/evil", b"x", tarfile.REGTYPE),
        ("memplan-snapshot/../../evil", b"x", tarfile.REGTYPE),
    ]
    arc = read_archive(_tar(tmp_path / "s.tar.gz", entries))
    # the escaping names are refused, so every remaining member is below the one top directory
    assert sorted(arc.files) == ["dmesg", "fdt", "iomem"]
    refused = [d.message for d in arc.diagnostics]
    assert len(refused) == 7 and all(d.code == "observe-archive-member-refused" for d in arc.diagnostics)
    assert any("symbolic link" in m and "/etc/passwd" in m for m in refused)
    assert any("hard link" in m for m in refused) and any("device node" in m for m in refused)
    assert sum("absolute or leaves" in m for m in refused) == 3
    assert not (tmp_path.parent / "evil").exists() and not Path("/etc/evil").exists()
    observed = read_observed([tmp_path / "s.tar.gz"])
    assert observed.global_cma.base == 0xB5A00000
    assert observed.sources == tuple(f"{tmp_path / 's.tar.gz'}!/{n}" for n in ("iomem", "dmesg", "fdt"))


def test_size_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _tar(tmp_path / "s.tar.gz", _boot_entries())
    monkeypatch.setattr(archive_mod, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(ObserveError, match="more than a snapshot file may have"):
        read_archive(path)
    monkeypatch.setattr(archive_mod, "MAX_MEMBER_BYTES", 1 << 30)
    monkeypatch.setattr(archive_mod, "MAX_TOTAL_BYTES", 40_000)
    with pytest.raises(ObserveError, match="unpacks to more than"):
        read_archive(path)
    monkeypatch.setattr(archive_mod, "MAX_TOTAL_BYTES", 1 << 30)
    monkeypatch.setattr(archive_mod, "MAX_MEMBERS", 2)
    with pytest.raises(ObserveError, match="more than 2 members") as err:
        read_archive(path)
    assert err.value.source is not None and err.value.source.file == str(path)


def test_gzip_bomb_in_a_member_is_capped() -> None:
    bomb = gzip.compress(b"\0" * (2 << 20))
    with pytest.raises(ObserveError, match="unpacks to more than 1 MiB"):
        decompress_limited(bomb, "s.tar.gz!/config.gz", limit=1 << 20)
    with pytest.raises(ObserveError, match="truncated"):
        decompress_limited(bomb[: len(bomb) // 2], "s.tar.gz!/config.gz")
    with pytest.raises(ObserveError, match="corrupt gzip"):
        decompress_limited(b"\x1f\x8bnot gzip at all", "s.tar.gz!/config.gz")
    assert decompress_limited(gzip.compress(b"CONFIG_CMA=y\n"), "x") == b"CONFIG_CMA=y\n"


@pytest.mark.parametrize(
    "data",
    [b"\x1f\x8b" + b"\0" * 40, gzip.compress(b"plain text, not a tar archive\n" * 20)],
    ids=["bad-gzip", "not-tar"],
)
def test_unreadable_archives_are_clear_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.tar.gz"
    path.write_bytes(data)
    with pytest.raises(ObserveError, match=r"not a readable \.tar\.gz snapshot") as err:
        read_observed([path])
    assert err.value.source is not None and err.value.source.file == str(path)


def test_flat_archive_duplicates_and_cma_directories(tmp_path: Path) -> None:
    entries = [
        *_boot_entries(top=""),
        ("iomem", b"00000000-ffffffff : something else\n", tarfile.REGTYPE),
        ("cma/reserved/base_pfn", b"744960\n", tarfile.REGTYPE),
        ("cma/reserved/count", b"oops\n", tarfile.REGTYPE),
        ("mm-cma/reserved/alloc_pages_success", b"7\n", tarfile.REGTYPE),
    ]
    path = _tar(tmp_path / "flat.tar.gz", entries)
    observed = read_observed([path])
    label = f"{path}!/"
    assert [a.name for a in observed.debugfs] == ["reserved"] and observed.debugfs[0].base_pfn == 744960
    assert observed.debugfs[0].source.file == label + "cma/reserved"
    assert observed.sysfs[0].counters == (("alloc_pages_success", 7),)
    assert observed.sysfs[0].source.file == label + "mm-cma/reserved"
    by_code = {d.code: d for d in observed.diagnostics}
    assert "a second member of the same name" in by_code["observe-archive-member-refused"].message
    # a malformed debugfs value is reported at its place in the archive, not in a temporary copy
    bad = by_code["observe-malformed-line"]
    assert bad.source is not None and bad.source.file == label + "cma/reserved/count"
    assert all("memplan-snapshot-" not in str(d) for d in observed.diagnostics)
    assert all(s.startswith(label) for s in observed.sources)
    # identical input, identical output (no temporary names leak into the result)
    assert read_observed([path]).to_dict() == observed.to_dict()


def test_manifest_lines() -> None:
    text = (
        "format\t1\ninfo\tuid\t0\t\nok\tdmesg\t/var/log/kern.log\tdmesg failed\n"
        "skip\tfdt\t/sys/firmware/fdt\tnot present\nbogus\n"
    )
    entries, notes = parse_manifest(text, "s!/MANIFEST")
    assert [(e.status, e.name, e.source, e.reason, e.line) for e in entries] == [
        ("info", "uid", "0", "", 2),
        ("ok", "dmesg", "/var/log/kern.log", "dmesg failed", 3),
        ("skip", "fdt", "/sys/firmware/fdt", "not present", 4),
    ]
    assert [(d.code, d.source.line if d.source else None) for d in notes] == [("observe-malformed-line", 5)]
    _, notes = parse_manifest("format\t2\n", "s!/MANIFEST")
    assert [d.code for d in notes] == ["observe-manifest-format"]


def test_observe_cli_reads_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from memplan.cli import main

    path = _tar(tmp_path / "s.tar.gz", _boot_entries())
    assert main(["observe", str(path), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"base_hex": "0xb5a00000"' in out and "s.tar.gz!/dmesg" in out


def test_without_a_boot_log_the_identity_comes_from_version_release_cmdline(tmp_path: Path) -> None:
    line = (FIXTURE / "dmesg.txt").read_text().splitlines()[1].split("] ", 1)[1]
    assert line.startswith("Linux version ")
    entries: list[tuple[str, bytes | None, bytes]] = [
        ("s/version", line.encode() + b"\n", tarfile.REGTYPE),
        ("s/release", b"6.12.117+deb13-arm64\n", tarfile.REGTYPE),
        ("s/cmdline", b"console=ttyAMA0 cma=128M\n", tarfile.REGTYPE),
        ("s/meminfo", b"MemTotal:        2000000 kB\n", tarfile.REGTYPE),
    ]
    observed = read_observed([_tar(tmp_path / "s.tar.gz", entries)])
    assert observed.log is None
    assert str(observed.kernel_version) == "6.12.117"  # Debian's upstream version, not the release
    assert observed.kernel_release == "6.12.117+deb13-arm64"
    assert observed.cmdline == "console=ttyAMA0 cma=128M"
    # a boot log, when there is one, is what counts
    with_log = read_observed([_tar(tmp_path / "l.tar.gz", [*entries, *_boot_entries("s/")])])
    assert with_log.cmdline == (FIXTURE / "cmdline.txt").read_text().strip()


def test_a_flat_archive_of_only_a_cma_folder_keeps_its_names(tmp_path: Path) -> None:
    path = _tar(
        tmp_path / "cma.tar.gz",
        [
            ("cma/reserved/base_pfn", b"744960\n", tarfile.REGTYPE),
            ("cma/reserved/count", b"32768\n", tarfile.REGTYPE),
        ],
    )
    assert sorted(read_archive(path).files) == ["cma/reserved/base_pfn", "cma/reserved/count"]
    observed = read_observed([path])
    assert [(a.name, a.base_pfn, a.count) for a in observed.debugfs] == [("reserved", 744960, 32768)]


def test_what_counts_as_an_archive(tmp_path: Path) -> None:
    from memplan.observe.archive import is_archive

    tar = _tar(tmp_path / "snapshot.bin", _boot_entries())  # a tar by content, whatever its name
    assert is_archive(tar)
    log = tmp_path / "dmesg.gz"
    log.write_bytes(gzip.compress((FIXTURE / "dmesg.txt").read_bytes()))
    assert not is_archive(log)  # a compressed log is not a snapshot archive
    broken = tmp_path / "x.tgz"
    broken.write_bytes(b"\x1f\x8b\x08\x00broken")
    assert is_archive(broken)  # named like one: reading it gives the clear error
    assert not is_archive(tmp_path)
    assert read_observed([tar]).global_cma.base == 0xB5A00000


_NAME_PARTS = st.sampled_from(
    ["memplan-snapshot", "cma", "reserved", "iomem", "dmesg", "fdt", "..", ".", "", "a b"]
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(_NAME_PARTS, min_size=1, max_size=4).map("/".join) | st.text(max_size=20),
            st.binary(max_size=64),
            st.sampled_from(
                [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE]
            ),
            st.booleans(),
        ),
        max_size=8,
    )
)
def test_any_archive_reads_to_safe_names_or_a_clear_error(
    members: list[tuple[str, bytes, bytes, bool]],
) -> None:
    """Whatever the members, the reader keeps only relative names inside the archive, or raises
    ObserveError; reading never writes outside a private temporary folder."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fuzz.tar.gz"
        with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
            for name, data, kind, absolute in members:
                info = tarfile.TarInfo(("/" if absolute else "") + name)
                info.type = kind
                info.linkname = "/etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
                info.size = len(data) if kind == tarfile.REGTYPE else 0
                tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        try:
            arc = read_archive(path)
        except ObserveError:
            return
        for name in arc.files:
            parts = name.split("/")
            assert name and not name.startswith("/") and ".." not in parts and "" not in parts
        with contextlib.suppress(ObserveError):
            read_observed([path])
        assert sorted(p.name for p in Path(d).iterdir()) == ["fuzz.tar.gz"]


def test_a_file_named_like_a_folder_is_refused(tmp_path: Path) -> None:
    entries: list[tuple[str, bytes | None, bytes]] = [
        ("s/cma/reserved", b"1\n", tarfile.REGTYPE),
        ("s/cma/reserved/count", b"32768\n", tarfile.REGTYPE),
        ("s/cma/reserved/base_pfn", b"744960\n", tarfile.REGTYPE),
    ]
    observed = read_observed([_tar(tmp_path / "clash.tar.gz", entries)])
    assert [(a.name, a.base_pfn, a.count) for a in observed.debugfs] == [("reserved", 744960, 32768)]
    refused = [d.message for d in observed.diagnostics if d.code == "observe-archive-member-refused"]
    assert refused == [
        "archive member 'cma/reserved' not read: a file of the same name as a folder of the archive"
    ]
