"""Fetch Debian kernel and busybox packages into ``.qemu-cache/`` without touching the host's APT setup.

A private APT root (own sources list, lists, cache and an empty dpkg status) knows the suites the
scenarios need, for amd64, arm64, armhf and riscv64. Packages are fetched with ``apt-get download``
and unpacked with ``dpkg -x``; nothing is installed.
"""

from __future__ import annotations

import fcntl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.qemu.kernels import KernelBuild

MIRROR = "http://deb.debian.org/debian"
SUITES = ("bookworm", "bookworm-backports", "bullseye", "trixie", "sid")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
#: Debian architectures whose package indexes the private root downloads.
ARCHES = ("amd64", "arm64", "armhf", "riscv64")


class FetchError(RuntimeError):
    """A package could not be downloaded or unpacked."""


def repo_root() -> Path:
    """The repository checkout this file lives in."""
    return Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """``.qemu-cache/`` at the repository root (gitignored)."""
    d = repo_root() / ".qemu-cache"
    d.mkdir(exist_ok=True)
    return d


@dataclass(frozen=True)
class Artifacts:
    """Unpacked files of one kernel build."""

    vmlinuz: Path
    config: Path
    busybox: Path


class PrivateApt:
    """An APT configuration rooted in ``.qemu-cache/apt``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "apt"
        (self.root / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        (self.root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        self.sources = self.root / "sources.list"
        lines = [
            f"deb [arch={','.join(ARCHES)} signed-by={KEYRING}] {MIRROR} {suite} main"
            for suite in SUITES
        ]
        text = "\n".join(lines) + "\n"
        if not self.sources.exists() or self.sources.read_text() != text:
            self.sources.write_text(text)
        status = self.root / "status"
        if not status.exists():
            status.write_text("")

    def options(self) -> list[str]:
        """``-o`` options that point apt at the private root."""
        r = self.root
        opts = {
            "Dir::Etc::SourceList": str(self.sources),
            "Dir::Etc::SourceParts": str(r / "sources.list.d-none"),
            "Dir::State": str(r),
            "Dir::State::Lists": str(r / "lists"),
            "Dir::State::status": str(r / "status"),
            "Dir::Cache": str(r / "cache"),
            "APT::Architecture": "amd64",
            "APT::Sandbox::User": "root",
        }
        out: list[str] = []
        for k, v in opts.items():
            out += ["-o", f"{k}={v}"]
        for arch in ARCHES:
            out += ["-o", f"APT::Architectures::={arch}"]
        return out

    def update(self, force: bool = False) -> None:
        """Download the package indexes once (or again with ``force``)."""
        lists = self.root / "lists"
        if not force and all(any(lists.glob(f"*binary-{a}_Packages*")) for a in ARCHES):
            return
        _run(["apt-get", *self.options(), "update"], cwd=self.root)

    def download(self, package: str, dest: Path) -> Path:
        """``apt-get download package`` into ``dest``; returns the .deb path."""
        dest.mkdir(parents=True, exist_ok=True)
        name = package.split(":")[0].split("=")[0]
        arch = package.split(":")[1].split("=")[0] if ":" in package.split("=")[0] else "*"
        pattern = f"{name}_*_{arch}.deb"
        before = set(dest.glob(pattern))
        if before:
            return sorted(before)[0]
        self.update()
        _run(["apt-get", *self.options(), "download", package], cwd=dest)
        after = sorted(dest.glob(pattern))
        if not after:
            raise FetchError(f"apt-get download {package} produced no .deb")
        return after[0]


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise FetchError(f"{' '.join(cmd[:1] + cmd[-2:])} failed:\n{proc.stderr[-2000:]}")


def unpack(deb: Path) -> Path:
    """``dpkg -x`` the package once; returns the extraction directory."""
    out = cache_dir() / "x" / deb.stem
    if not (out / ".done").exists():
        out.mkdir(parents=True, exist_ok=True)
        _run(["dpkg", "-x", str(deb), str(out)], cwd=out)
        (out / ".done").write_text("")
    return out


def fetch(kernel: KernelBuild) -> Artifacts:
    """Download and unpack the kernel and busybox for ``kernel`` (cached; safe across processes)."""
    lock_path = cache_dir() / "fetch.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        apt = PrivateApt()
        debs = cache_dir() / "debs"
        roots = [unpack(apt.download(p, debs)) for p in kernel.packages]
        bb_root = unpack(apt.download(kernel.busybox_package, debs))
    vmlinuz = _find(roots, ["boot/vmlinuz-*", "usr/lib/modules/*/vmlinuz", "boot/vmlinux-*"])
    config = _find(roots, ["boot/config-*", "usr/lib/modules/*/config"])
    busybox = _find([bb_root], ["bin/busybox", "usr/bin/busybox"])  # usr/bin since trixie
    return Artifacts(vmlinuz=vmlinuz, config=config, busybox=busybox)


def _find(roots: list[Path], patterns: list[str]) -> Path:
    for root in roots:
        for pat in patterns:
            hits = sorted(root.glob(pat))
            if hits:
                return hits[0]
    raise FetchError(f"none of {patterns} in {[str(r) for r in roots]}")
