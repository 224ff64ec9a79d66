"""Kernel versions: parsing ``6.1.0-13-arm64`` style strings and comparing them."""

from __future__ import annotations

import re

import attrs

from memplan.errors import MemplanError, shorten
from memplan.numbers import parse_int
from memplan.source import Source

_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(.*)$", re.DOTALL)

#: Digits allowed in each of major, minor and patch (real ones have at most 3).
MAX_COMPONENT_DIGITS = 6


@attrs.frozen
class KernelVersion:
    """A mainline kernel version ``major.minor.patch``; ``extra`` keeps any suffix
    (``-13-arm64``, ``-rc2``) for display but does not take part in comparisons.

    Ordered by ``(major, minor, patch)``; comparing with anything but a :class:`KernelVersion`
    is not supported. (The orderings are written out: the resolver compares versions many times a
    board, and the ones attrs generates build two tuples through generators each time.)"""

    major: int
    minor: int
    patch: int = 0
    extra: str = attrs.field(default="", eq=False, order=False)

    @classmethod
    def parse(cls, text: str, source: Source | None = None) -> KernelVersion:
        """Parse ``"6.1"``, ``"v5.10.89"``, ``"6.1.0-13-arm64"``; raises :class:`MemplanError`
        (carrying ``source``, the place the text came from, when given).

        Each number may have at most :data:`MAX_COMPONENT_DIGITS` digits."""
        m = _VERSION_RE.match(text)
        if not m:
            raise MemplanError(
                f"not a kernel version: {shorten(text)!r} (expected e.g. '6.1' or '5.10.89')", source
            )
        major, minor, patch = (
            parse_int(
                part,
                error=MemplanError,
                source=source,
                what=f"kernel version {shorten(text)!r}: component",
                max_digits=MAX_COMPONENT_DIGITS,
            )
            for part in (m.group(1), m.group(2), m.group(3) or "0")
        )
        return cls(major, minor, patch, m.group(4).strip())

    @classmethod
    def coerce(cls, value: KernelVersion | str | tuple[int, ...] | None) -> KernelVersion | None:
        """Accept a version, a string or a tuple; ``None`` stays ``None``."""
        if value is None or isinstance(value, KernelVersion):
            return value
        if isinstance(value, tuple):
            parts = [*value, 0, 0][:3]
            return cls(int(parts[0]), int(parts[1]), int(parts[2]))
        return cls.parse(value)

    def implausible(self) -> str | None:
        """Why this cannot be a Linux release (major 2..20, minor 0..255, patch 0..9999), or ``None``."""
        if 2 <= self.major <= 20 and 0 <= self.minor <= 255 and 0 <= self.patch <= 9999:
            return None
        return f"{self} is not a plausible Linux release (expected e.g. 5.10 or 6.1.0)"

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        """True when this version is ``>= major.minor.patch``."""
        return (self.major, self.minor, self.patch) >= (major, minor, patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}{self.extra}"

    def __lt__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, KernelVersion)
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)

    def __le__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, KernelVersion)
        return (self.major, self.minor, self.patch) <= (other.major, other.minor, other.patch)

    def __gt__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, KernelVersion)
        return (self.major, self.minor, self.patch) > (other.major, other.minor, other.patch)

    def __ge__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, KernelVersion)
        return (self.major, self.minor, self.patch) >= (other.major, other.minor, other.patch)
