"""The collect script under busybox ``sh`` against a fake root (MEMPLAN_ROOT), and its archive
read back by ``memplan observe`` / ``memplan check``."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_root import BOOT, BUSYBOX, CONFIG, RELEASE, fake_dmesg, make_root, manifest, members, run_collect

from memplan.cli import main
from memplan.collect import SCRIPT_NAME, collect_script
from memplan.observe import read_observed

pytestmark = pytest.mark.skipif(BUSYBOX is None, reason="busybox is not installed (busybox-static)")

TOP = "memplan-snapshot/"


def _entries(archive: Path, status: str) -> dict[str, list[str]]:
    return {f[1]: f for f in manifest(archive) if f[0] == status}


def test_full_root_collects_everything_and_check_agrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_root(tmp_path / "root")
    res = run_collect(
        root, "snap.tar.gz", tmp_path, env={"MEMPLAN_DMESG": str(fake_dmesg(tmp_path, fail=False))}
    )
    assert res.returncode == 0, res.stderr
    archive = tmp_path / "snap.tar.gz"
    files = members(archive)
    assert files[TOP + "iomem"] == (BOOT / "iomem.txt").read_bytes()
    assert files[TOP + "fdt"] == (BOOT / "fdt").read_bytes()
    assert files[TOP + "dmesg"] == (BOOT / "dmesg.txt").read_bytes()
    assert files[TOP + "release"].decode().strip() == RELEASE
    assert files[TOP + "machine"].decode().strip() == "aarch64"
    assert gzip.decompress(CONFIG.read_bytes()) == files[TOP + "config"]
    assert files[TOP + "cma/reserved/base_pfn"] == b"%d\n" % 0xB5A00
    assert files[TOP + "mm-cma/reserved/alloc_pages_success"] == b"3\n"
    # write-only hooks and links are left out; nothing outside the snapshot directory
    assert not any(n.endswith(("/alloc", "/free", "/escape")) for n in files)
    assert all(n.startswith(TOP) for n in files)
    ok = _entries(archive, "ok")
    assert ok["config"][2] == f"/boot/config-{RELEASE}"
    assert _entries(archive, "skip")["config.gz"][3].startswith("not present")
    assert {"cmdline", "version", "iomem", "meminfo", "zoneinfo", "fdt", "dmesg", "cma", "mm-cma"} <= set(ok)
    assert b"collected:" in res.stderr and b"snap.tar.gz" in res.stderr

    observed = read_observed([archive])
    assert str(observed.kernel_version) == "6.12.117"
    assert observed.global_cma.base == 0xB5A00000 and observed.global_cma.size == 128 << 20
    assert [a.name for a in observed.debugfs] == ["reserved"]
    assert all(str(archive) in s for s in observed.sources)

    # memplan check with nothing but the archive: every input comes from the snapshot
    assert main(["check", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "Device Tree: the booted one" in out and ".config:" in out and "Result: agreement" in out
    # and the same snapshot predicted for a kernel before 5.6 disagrees (the DT default would win)
    assert main(["check", str(archive), "--kernel-version", "5.4"]) == 1


def test_proc_config_gz_is_preferred(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", config_gz=True)
    res = run_collect(
        root, "s.tar.gz", tmp_path, env={"MEMPLAN_DMESG": str(fake_dmesg(tmp_path, fail=False))}
    )
    assert res.returncode == 0, res.stderr
    files = members(tmp_path / "s.tar.gz")
    assert files[TOP + "config.gz"] == CONFIG.read_bytes()
    assert TOP + "config" not in files


def test_restricted_dmesg_falls_back_to_the_last_boot_in_a_log_file(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", logfile="kern.log")
    res = run_collect(root, "s.tar.gz", tmp_path, env={"MEMPLAN_DMESG": str(fake_dmesg(tmp_path, fail=True))})
    assert res.returncode == 0, res.stderr
    archive = tmp_path / "s.tar.gz"
    log = members(archive)[TOP + "dmesg"].decode()
    assert "an older boot" not in log and "cma: Reserved 16 MiB" not in log
    assert log.splitlines()[0].startswith(
        "Dec  2 09:00:00 board kernel: [    0.000000] Linux version 6.12.117"
    )
    entry = _entries(archive, "ok")["dmesg"]
    assert entry[2] == "/var/log/kern.log" and "Operation not permitted" in entry[3]
    observed = read_observed([archive])
    assert str(observed.kernel_version) == "6.12.117"
    assert observed.global_cma.base == 0xB5A00000  # syslog prefixes are understood
    assert any(d.code == "observe-snapshot-note" and "kern.log" in d.message for d in observed.diagnostics)


def test_missing_pieces_are_listed_with_their_reason(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "meminfo").write_bytes((BOOT / "meminfo.txt").read_bytes())
    (root / "proc" / "iomem").write_text(
        "00000000-00000000 : System RAM\n  00000000-00000000 : Kernel code\n"
    )
    res = run_collect(root, "s.tar.gz", tmp_path, env={"MEMPLAN_DMESG": str(fake_dmesg(tmp_path, fail=True))})
    assert res.returncode == 0, res.stderr
    archive = tmp_path / "s.tar.gz"
    skipped = _entries(archive, "skip")
    assert skipped["iomem"][3] == "addresses hidden (every range reads 0 without root)"
    assert skipped["fdt"][3] == "not present"
    assert "CONFIG_CMA_DEBUGFS" in skipped["cma"][3] and "CONFIG_CMA_SYSFS" in skipped["mm-cma"][3]
    assert "Operation not permitted" in skipped["dmesg"][3] and "/var/log" in skipped["dmesg"][3]
    assert "CONFIG_IKCONFIG_PROC" in skipped["config.gz"][3]
    assert set(members(archive)) == {TOP + "MANIFEST", TOP + "meminfo"}
    observed = read_observed([archive])
    assert observed.mem_total is not None
    codes = {(d.code, d.message.split(" (")[0]) for d in observed.diagnostics}
    assert ("observe-snapshot-skipped", "the target did not collect fdt") in codes
    # a check with nothing to predict from says what is missing, exit 2 (unusable input)
    assert main(["check", str(archive)]) == 2


@pytest.fixture
def world_readable_tmp() -> Iterator[Path]:
    """A temporary directory other users can enter (pytest's tmp_path is private to its user)."""
    d = Path(tempfile.mkdtemp(prefix="memplan-collect-test-"))
    d.chmod(0o777)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_unprivileged_user_gets_what_it_may_read(world_readable_tmp: Path) -> None:
    """As a user without privileges: the root-only DTB and debugfs are skipped with the reason."""
    base = world_readable_tmp
    root = make_root(base / "root")
    (root / "sys" / "firmware" / "fdt").chmod(0o400)
    (root / "sys" / "kernel" / "debug").chmod(0o700)
    for d, _, names in os.walk(base):
        for n in names:
            p = Path(d) / n
            if not p.is_symlink() and p.name != "fdt":
                p.chmod(p.stat().st_mode | stat.S_IROTH)
    user = 65534 if os.geteuid() == 0 else None
    work = base / "work"
    work.mkdir()
    work.chmod(0o777)
    res = run_collect(
        root, "s.tar.gz", work, env={"MEMPLAN_DMESG": str(fake_dmesg(work, fail=True))}, user=user
    )
    assert res.returncode == 0, res.stderr
    archive = work / "s.tar.gz"
    skipped = _entries(archive, "skip")
    assert skipped["fdt"][3] == "permission denied (run as root)"
    assert skipped["cma"][3] == "permission denied on /sys/kernel/debug (run as root)"
    assert {"meminfo", "iomem", "cmdline", "mm-cma", "config"} <= set(_entries(archive, "ok"))
    observed = read_observed([archive])
    warned = {
        d.message
        for d in observed.diagnostics
        if d.code == "observe-snapshot-skipped" and d.severity == "warning"
    }
    assert any("fdt" in m for m in warned) and any("cma" in m for m in warned)


def test_output_to_stdout_and_unwritable_output(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", debugfs=False)
    env = {"MEMPLAN_DMESG": str(fake_dmesg(tmp_path, fail=False))}
    res = run_collect(root, "-", tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    (tmp_path / "piped.tar.gz").write_bytes(res.stdout)
    assert TOP + "fdt" in members(tmp_path / "piped.tar.gz")
    res = run_collect(root, str(tmp_path / "no" / "such" / "dir" / "s.tar.gz"), tmp_path, env=env)
    assert res.returncode == 1 and b"cannot write" in res.stderr
    # the temporary work directory is always removed
    assert not list(tmp_path.glob("memplan-collect.*"))


def test_default_output_name(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", debugfs=False)
    script = tmp_path / "collect.sh"
    script.write_text(collect_script())
    env = {
        "PATH": os.environ["PATH"],
        "MEMPLAN_ROOT": str(root),
        "TMPDIR": str(tmp_path),
        "MEMPLAN_DMESG": str(fake_dmesg(tmp_path, fail=False)),
    }
    res = subprocess.run(
        [str(BUSYBOX), "sh", str(script)], cwd=tmp_path, env=env, capture_output=True, check=False
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "memplan-snapshot.tar.gz").is_file()


@pytest.mark.skipif(shutil.which("dash") is None, reason="dash is not installed")
def test_runs_under_another_posix_shell(tmp_path: Path) -> None:
    """Nothing busybox-specific: dash (Debian's /bin/sh) with the host's tools gives the same files."""
    root = make_root(tmp_path / "root")
    env = {"MEMPLAN_DMESG": str(fake_dmesg(tmp_path, fail=False))}
    res = run_collect(root, "d.tar.gz", tmp_path, shell="dash", env=env)
    assert res.returncode == 0, res.stderr
    res = run_collect(root, "b.tar.gz", tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert set(members(tmp_path / "d.tar.gz")) == set(members(tmp_path / "b.tar.gz"))


def test_script_parses_and_uses_only_busybox_applets() -> None:
    text = collect_script()
    assert text.startswith("#!/bin/sh\n")
    res = subprocess.run([str(BUSYBOX), "sh", "-n", "-c", text], capture_output=True, check=False)
    assert res.returncode == 0, res.stderr
    applets = set(
        subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout.split()
    )
    for cmd in (
        "cat",
        "cut",
        "date",
        "dmesg",
        "grep",
        "gzip",
        "id",
        "mkdir",
        "mktemp",
        "mv",
        "rm",
        "tail",
        "tar",
        "uname",
        "head",
        "printf",
        "pwd",
    ):
        assert cmd in applets, cmd


def test_collect_command_prints_and_writes_the_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["collect"]) == 0
    assert capsys.readouterr().out == collect_script()
    out = tmp_path / SCRIPT_NAME
    assert main(["collect", "-o", str(out)]) == 0
    assert out.read_text() == collect_script()
    assert out.stat().st_mode & 0o111


@pytest.mark.skipif(not Path("/proc/meminfo").is_file(), reason="not a Linux system with /proc")
def test_on_this_machine_without_a_fake_root(tmp_path: Path) -> None:
    """The real /proc, uname and dmesg of the machine running the tests (whatever it allows)."""
    script = tmp_path / "collect.sh"
    script.write_text(collect_script())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(tmp_path)}
    res = subprocess.run(
        [str(BUSYBOX), "sh", str(script), "here.tar.gz"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    archive = tmp_path / "here.tar.gz"
    files = members(archive)
    assert files[TOP + "release"].decode().strip() == os.uname().release
    assert files[TOP + "machine"].decode().strip() == os.uname().machine
    assert files[TOP + "meminfo"].startswith(b"MemTotal:")
    manifest_lines = manifest(archive)
    # every piece is accounted for: collected or skipped with a reason
    named = {f[1] for f in manifest_lines if f[0] in ("ok", "skip")}
    assert {"cmdline", "iomem", "meminfo", "zoneinfo", "fdt", "dmesg", "cma", "mm-cma", "release"} <= named
    assert all(f[3] for f in manifest_lines if f[0] == "skip")
    observed = read_observed([archive])
    assert observed.mem_total is not None and observed.kernel_release == os.uname().release


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_clean() -> None:
    res = subprocess.run(
        ["shellcheck", "-s", "sh", "-"], input=collect_script(), capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout
