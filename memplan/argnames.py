"""How an error names an input: as the API's keyword (``arch=``) or as the CLI's option (``--arch``).

:func:`memplan.resolve` reports a bad argument by its keyword. The command line runs the same
code inside :func:`cli_spelling`, so the same message names the option the user typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

__all__ = ["CLI_OPTIONS", "argument", "argument_value", "cli_spelling", "in_cli"]

#: The command-line option for each keyword argument of :func:`memplan.resolve`.
CLI_OPTIONS: dict[str, str] = {
    "dts": "--dts",
    "dtb": "--dtb",
    "cmdline": "--cmdline",
    "bootloader_cmdline": "--cmdline",
    "config": "--config",
    "arch": "--arch",
    "kernel_version": "--kernel-version",
    "precedence": "--precedence",
    "include_dirs": "--include",
    "include_roots": "--include-root",
    "memory": "--memory",
    "dtc_version": "--dtc-version",
}

_STYLE: ContextVar[Literal["api", "cli"]] = ContextVar("memplan_argument_style", default="api")


def argument(name: str) -> str:
    """``name=`` (the API keyword) or its command-line option (``--kernel-version``)."""
    if _STYLE.get() == "cli":
        return CLI_OPTIONS.get(name, "--" + name.replace("_", "-"))
    return f"{name}="


def argument_value(name: str, value: object) -> str:
    """The argument as it was given: ``arch=arm64`` (API) or ``--arch arm64`` (command line)."""
    return f"{argument(name)} {value}" if in_cli() else f"{name}={value}"


def in_cli() -> bool:
    """True inside :func:`cli_spelling`."""
    return _STYLE.get() == "cli"


@contextmanager
def cli_spelling() -> Iterator[None]:
    """Within this block, :func:`argument` names command-line options."""
    token = _STYLE.set("cli")
    try:
        yield
    finally:
        _STYLE.reset(token)
