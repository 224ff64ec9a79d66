"""The compiler proper behind a ``cpp`` driver: run ``cc1 -E`` as the driver would run it.

``cpp`` (GCC's driver) does no preprocessing itself: it works out the options of the
compiler proper (``cc1 -E -lang-asm -quiet ... -imultiarch ...``) and starts it, which costs
about a fifth of a DTS board's preprocessing time (a process, a dynamic link, the specs). A
run over many boards (``memplan lint``) asks the driver once per command shape with ``-###``
(print the commands, run nothing) and then starts the compiler proper itself.

The shape of a command is the command with its main file and its include directories (the
value after each ``-I``) replaced by placeholders. The driver is asked with placeholder paths
that exist nowhere; the answer is used only when it is exactly one command naming each
placeholder as a whole argument once (and the main file's base name, GCC's ``-dumpbase``, at
most once) and no placeholder anywhere else: then putting the real paths back gives the
command the driver would have run. Anything else (another driver, a ``-###`` format not
understood, several commands) keeps the driver. The output is the same either way: the
arguments are the driver's own.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence

__all__ = ["proper_command"]

#: Where the placeholders live: a directory name no real tree has (nothing is read from it).
_PROBE_ROOT = "/nonexistent-memplan-probe"

#: A slot of a template: a fixed argument, or ("main",), ("base",), ("dir", k).
_Slot = str | tuple[str] | tuple[str, int]

#: Templates by command shape (None: keep the driver for that shape).
_TEMPLATES: dict[tuple[str, ...], tuple[_Slot, ...] | None] = {}


def _shape(cmd: Sequence[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """The command's shape (the key) and the real values of its slots: the include directories
    in order, then the main file (the last argument). None when it has no file to replace."""
    if len(cmd) < 2 or cmd[-1] == "-" or cmd[-1].startswith("-"):
        return None
    key: list[str] = []
    values: list[str] = []
    after_i = False
    for arg in cmd[:-1]:
        if after_i:
            key.append(f"\0dir{len(values)}")
            values.append(arg)
        else:
            key.append(arg)
        after_i = arg == "-I"
    if after_i:
        return None
    main = cmd[-1]
    key.append("\0main" + os.path.splitext(main)[1])
    values.append(main)
    return tuple(key), values


def _probe(key: tuple[str, ...]) -> tuple[_Slot, ...] | None:
    """Ask the driver for the command of ``key``'s shape (see the module doc)."""
    dirs = sum(1 for k in key if k.startswith("\0dir"))
    ext = key[-1][len("\0main"):]
    main = f"{_PROBE_ROOT}/memplan-probe-main{ext}"
    base = os.path.basename(main)
    placeholders = {f"{_PROBE_ROOT}/memplan-probe-dir{k}": ("dir", k) for k in range(dirs)}
    args = [f"{_PROBE_ROOT}/memplan-probe-{k[1:]}" if k.startswith("\0dir") else k for k in key[:-1]]
    try:
        proc = subprocess.run(
            [args[0], "-###", *args[1:], main], stdin=subprocess.DEVNULL, capture_output=True,
            timeout=30, env={**os.environ, "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    lines = [ln for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.startswith(" ")]
    if len(lines) != 1:
        return None
    try:
        argv = shlex.split(lines[0])
    except ValueError:
        return None
    if not argv or not os.path.isabs(argv[0]) or _PROBE_ROOT in argv[0]:
        return None
    slots: list[_Slot] = []
    seen: set[_Slot] = set()
    for arg in argv:
        slot: _Slot | None
        if arg == main:
            slot = ("main",)
        elif arg == base:
            slot = ("base",)
        else:
            slot = placeholders.get(arg)
        if slot is None:
            if _PROBE_ROOT in arg or "memplan-probe" in arg:
                return None  # a placeholder inside another argument: not ours to rewrite
            slots.append(arg)
            continue
        if slot in seen:
            return None
        seen.add(slot)
        slots.append(slot)
    if ("main",) not in seen or len(seen - {("main",), ("base",)}) != dirs:
        return None
    return tuple(slots)


def proper_command(cmd: Sequence[str]) -> list[str] | None:
    """The command the ``cpp`` driver ``cmd[0]`` would start for ``cmd`` (its last argument the
    file to preprocess), or None when it cannot be known (see the module doc)."""
    shaped = _shape(cmd)
    if shaped is None:
        return None
    key, values = shaped
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _probe(key)
    template = _TEMPLATES[key]
    if template is None:
        return None
    main = values[-1]
    out: list[str] = []
    for slot in template:
        if isinstance(slot, str):
            out.append(slot)
        elif slot[0] == "main":
            out.append(main)
        elif slot[0] == "base":
            out.append(os.path.basename(main))
        else:
            out.append(values[slot[1]])  # type: ignore[misc]
    return out
