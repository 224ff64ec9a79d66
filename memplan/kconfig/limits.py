"""What the kernel accepts for the numbers memplan reads from a ``.config``, and input size limits.

Every integer the resolver uses goes through :func:`checked_int`: it is read with the bounded
:func:`memplan.numbers.parse_int` and checked against the values with which the kernel still
builds, and a value outside them is a :class:`~memplan.errors.ConfigError` at its config line.
The page shift is special: the symbol has no prompt, so the kernel's tools recompute a bad
value from the page-size choice; memplan warns and does the same.
"""

from __future__ import annotations

import os

from memplan.diagnostics import diag
from memplan.errors import ConfigError, shorten
from memplan.model import Diagnostic
from memplan.numbers import parse_int
from memplan.source import Source

#: Largest C ``int`` (Kconfig numbers become ``#define``s used as ``int``).
INT_MAX = (1 << 31) - 1

#: Allowed ranges (inclusive) and why; symbols not listed are not read as numbers.
RANGES: dict[str, tuple[int, int, str]] = {
    # Kconfig gives these no range; the kernel computes (phys_addr_t)CONFIG_CMA_SIZE_MBYTES * SZ_1M
    # and total_pages * CONFIG_CMA_SIZE_PERCENTAGE / 100 in unsigned arithmetic, so a negative
    # or huge value builds and wraps (memplan.resolve.precedence.kconfig_cma_size); only a
    # number no C integer constant can hold does not build.
    "CMA_SIZE_MBYTES": (-(1 << 64) + 1, (1 << 64) - 1, "a C integer constant"),
    "CMA_SIZE_PERCENTAGE": (-(1 << 63), (1 << 63) - 1, "a C integer constant of a signed type"),
    "CMA_ALIGNMENT": (0, 63, "an alignment order"),
    # MAX_CMA_AREAS sizes a static array: a negative count does not compile
    "CMA_AREAS": (0, INT_MAX, "a count of area slots"),
    "PAGE_BLOCK_MAX_ORDER": (0, 63, "a page order"),
    "ARCH_FORCE_MAX_ORDER": (0, 63, "a page order"),
    "FORCE_MAX_ZONEORDER": (1, 64, "a page order plus one"),
}

#: Page shifts the kernel offers (arch/Kconfig PAGE_SIZE_4KB ... PAGE_SIZE_256KB; arm64's
#: ARM64_PAGE_SHIFT is 12, 14 or 16).
PAGE_SHIFTS: tuple[int, ...] = (12, 13, 14, 15, 16, 18)

#: Longest kconfiglib warning kept in a diagnostic.
TOOL_WARNING_LIMIT = 400

#: Default largest kernel config, in bytes (characters for ``text=``), after decompression. A
#: real one is under 1 MB (about 12,000 lines); a million-line config of real-length lines is
#: about 35 MB and fits. Reading costs about 200 bytes of memory per line (the text, each name
#: once, a slot in the columns and the name index: :mod:`memplan.kconfig.dotconfig`), about
#: 250 MB for a million lines; the most a config at this limit can take is about 850 MB (64 MB
#: of the shortest lines, ``CONFIG_XXXXX=y``, 4.5 million of them).
DEFAULT_MAX_CONFIG_BYTES = 64 << 20
#: Environment variable that raises (or lowers) :data:`DEFAULT_MAX_CONFIG_BYTES`.
MAX_CONFIG_ENV = "MEMPLAN_MAX_CONFIG_BYTES"


def max_config_bytes() -> int:
    """The config size limit: ``$MEMPLAN_MAX_CONFIG_BYTES`` when set, else the default."""
    raw = os.environ.get(MAX_CONFIG_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_CONFIG_BYTES
    return parse_int(
        raw, error=ConfigError, what=MAX_CONFIG_ENV, min_value=1,
        source=Source("config", file=f"${MAX_CONFIG_ENV}", text=shorten(raw)),
    )


def too_big_message(what: str, limit: int) -> str:
    """The message for an input over ``limit`` bytes: names the limit and how to raise it."""
    return (
        f"{what} is larger than {limit} bytes (the limit for kernel configs; a real one is under 1 MB); "
        f"set {MAX_CONFIG_ENV} to a larger number of bytes to read it anyway"
    )


def _read(symbol: str, value: str, source: Source | None) -> int:
    return parse_int(value, error=ConfigError, source=source, base=0, signed=True, what=f"CONFIG_{symbol}")


def checked_int(symbol: str, value: str, source: Source | None) -> int | None:
    """``CONFIG_<symbol>``'s value as a number in the kernel's accepted range (``None`` when
    unset or empty); :class:`ConfigError` at ``source`` otherwise."""
    if not value:
        return None
    low, high, what = RANGES[symbol]
    number = _read(symbol, value, source)
    if not low <= number <= high:
        raise ConfigError(
            f"CONFIG_{symbol}={shorten(value)} is out of range: {what}, {low}..{high}, "
            "is what the kernel builds with",
            source,
        )
    return number


def page_shift(symbol: str, value: str, source: Source | None, diags: list[Diagnostic]) -> int | None:
    """``CONFIG_<symbol>`` (a page shift) when it is one the kernel offers, else ``None`` with a
    warning: the symbol has no prompt, so the kernel's tools recompute it."""
    if not value:
        return None
    try:
        shift = _read(symbol, value, source)
    except ConfigError as err:
        reason = err.message
    else:
        if shift in PAGE_SHIFTS:
            return shift
        reason = f"CONFIG_{symbol}={shorten(value)} is not a page shift the kernel offers " + (
            f"({', '.join(map(str, PAGE_SHIFTS))})"
        )
    diags.append(diag(
        "kconfig-out-of-range",
        f"{reason}; the kernel's tools recompute it from the page-size choice, which memplan follows",
        source, f"CONFIG_{symbol}",
    ))
    return None


def check_max_order(symbol: str, value: str, order: int, page_size: int, source: Source | None) -> None:
    """Refuse a buddy order limit the kernel cannot build with: the largest order must be at
    least 0 and a block of that order must be addressable (``order + PAGE_SHIFT <= 63``)."""
    shift = page_size.bit_length() - 1
    if not 0 <= order <= 63 - shift:
        raise ConfigError(
            f"CONFIG_{symbol}={shorten(value)} gives a largest page order of {order}; with "
            f"{page_size}-byte pages the kernel needs 0..{63 - shift}",
            source,
        )
