"""Which files an observed snapshot reads: unknown text files are warned about, logs are
recognised by their content, binary files are one diagnostic, stray bytes in a log are tolerated."""

from __future__ import annotations

from pathlib import Path

import pytest
from observe_samples import POOL, V61

from memplan.observe import read_observed


def _codes(paths: list[Path]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in read_observed(paths).diagnostics:
        out.setdefault(d.code, []).append(str(d.source.file if d.source else ""))
    return out


def test_unrecognised_text_file_is_warned(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\neggs\n")
    codes = _codes([notes])
    assert codes["observe-unrecognised-file"] == [str(notes)]


def test_recognised_log_by_content_is_not_warned(tmp_path: Path) -> None:
    log = tmp_path / "capture.txt"
    log.write_text(V61 + POOL.format(addr="00000000ba000000"))
    assert "observe-unrecognised-file" not in _codes([log])


@pytest.mark.parametrize(
    "data",
    [b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, b"caf\xe9 \xff\xfe text\n" * 20],
    ids=["nul-bytes", "not-utf8"],
)
def test_binary_file_is_one_diagnostic_not_a_log(tmp_path: Path, data: bytes) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(data)
    o = read_observed([blob])
    codes = [d.code for d in o.diagnostics]
    assert codes == ["observe-binary-input"]
    assert o.diagnostics[0].source is not None and o.diagnostics[0].source.file == str(blob)
    assert str(blob) not in o.sources


def test_named_log_with_stray_bytes_is_still_read(tmp_path: Path) -> None:
    log = tmp_path / "dmesg"
    log.write_bytes((V61 + POOL.format(addr="00000000ba000000")).encode() + b"garbage \xff\n")
    o = read_observed([log])
    assert "observe-not-utf8" in [d.code for d in o.diagnostics]
    assert o.global_cma.base == 0xBA000000
