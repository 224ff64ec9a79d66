"""The Debian kernel builds used by the scenarios (package names pinned to what was recorded)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KernelBuild:
    """One Debian kernel build: ``arch`` is the memplan arch name (``arm64`` / ``x86`` / ``arm`` /
    ``riscv``); ``release`` is ``uname -r``, ``upstream`` the upstream version the Debian package
    carries."""

    key: str
    arch: str
    debian_arch: str
    release: str
    packages: tuple[str, ...]
    suite: str
    upstream: str

    @property
    def busybox_package(self) -> str:
        """The busybox-static package for the same architecture (bookworm's; trixie's for riscv64,
        which bookworm does not have)."""
        return f"busybox-static:{self.debian_arch}={BUSYBOX_VERSIONS.get(self.debian_arch, _BUSYBOX)}"


_BUSYBOX = "1:1.35.0-4+deb12u1+b1"
BUSYBOX_VERSIONS: dict[str, str] = {"riscv64": "1:1.37.0-6+b9"}


KERNELS: dict[str, KernelBuild] = {
    k.key: k
    for k in (
        KernelBuild("arm64-5.10", "arm64", "arm64", "5.10.0-32-arm64",
                    ("linux-image-5.10.0-32-arm64:arm64",), "bullseye", "5.10.223"),
        KernelBuild("arm64-6.1", "arm64", "arm64", "6.1.0-50-arm64",
                    ("linux-image-6.1.0-50-arm64:arm64",), "bookworm", "6.1.176"),
        KernelBuild("arm64-6.12", "arm64", "arm64", "6.12.117+deb13-arm64",
                    ("linux-image-6.12.117+deb13-arm64:arm64",), "trixie", "6.12.117"),
        KernelBuild("arm64-7.2", "arm64", "arm64", "7.2.13+deb14-arm64",
                    ("linux-binary-7.2.13+deb14-arm64:arm64",
                     "linux-base-7.2.13+deb14-arm64:arm64"), "sid", "7.2.13"),
        KernelBuild("amd64-6.1", "x86", "amd64", "6.1.0-50-amd64",
                    ("linux-image-6.1.0-50-amd64:amd64",), "bookworm", "6.1.176"),
        KernelBuild("amd64-7.2", "x86", "amd64", "7.2.13+deb14-amd64",
                    ("linux-binary-7.2.13+deb14-amd64:amd64",
                     "linux-base-7.2.13+deb14-amd64:amd64"), "sid", "7.2.13"),
        KernelBuild("amd64-6.12", "x86", "amd64", "6.12.117+deb13-amd64",
                    ("linux-image-6.12.117+deb13-amd64:amd64",), "trixie", "6.12.117"),
        KernelBuild("armmp-6.12", "arm", "armhf", "6.12.117+deb13-armmp",
                    ("linux-image-6.12.117+deb13-armmp:armhf",), "trixie", "6.12.117"),
        KernelBuild("armmp-lpae-6.12", "arm", "armhf", "6.12.117+deb13-armmp-lpae",
                    ("linux-image-6.12.117+deb13-armmp-lpae:armhf",), "trixie", "6.12.117"),
        KernelBuild("riscv64-6.12", "riscv", "riscv64", "6.12.117+deb13-riscv64",
                    ("linux-image-6.12.117+deb13-riscv64:riscv64",), "trixie", "6.12.117"),
        KernelBuild("riscv64-7.2", "riscv", "riscv64", "7.2.13+deb14-riscv64",
                    ("linux-binary-7.2.13+deb14-riscv64:riscv64",
                     "linux-base-7.2.13+deb14-riscv64:riscv64"), "sid", "7.2.13"),
        KernelBuild("armmp-7.2", "arm", "armhf", "7.2.13+deb14-armmp",
                    ("linux-binary-7.2.13+deb14-armmp:armhf",
                     "linux-base-7.2.13+deb14-armmp:armhf"), "sid", "7.2.13"),
    )
}
