"""Finding and reading ``#include``, ``/include/`` and ``/incbin/`` files, optionally confined.

By default memplan looks files up exactly as cpp and dtc do: relative to the including file,
then in the include directories; ``..``, absolute paths and symlinks are allowed (a tool that
compiles what the kernel compiles must not be stricter than the kernel build).

With include roots (``--include-root DIR``, ``include_roots=``) every read is confined: a
candidate path is resolved (symlinks followed) and must lie under one of the roots, or the
lookup stops with the same :class:`~memplan.errors.IncludeError` whether or not a file exists
there. Device files, FIFOs and anything under ``/dev`` are never read by memplan itself (in
either mode: such a read could block forever or never end), and every read is size-bounded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence

import attrs

from memplan.dts import limits
from memplan.errors import IncludeError, shorten
from memplan.source import Source

_DEV = os.sep + "dev" + os.sep

#: The name cpp and memplan give DTS read from standard input.
STDIN_NAME = "<stdin>"


def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


@attrs.frozen
class IncludePolicy:
    """Where includes may be read from: ``roots`` (resolved directories), or ``None`` for
    anywhere, as cpp and dtc allow."""

    roots: tuple[str, ...] | None = None

    @classmethod
    def make(cls, roots: Iterable[str | os.PathLike[str]] | None) -> IncludePolicy:
        """A policy confined to ``roots`` (resolved now), or unconfined for ``None``."""
        if roots is None:
            return cls(None)
        return cls(tuple(dict.fromkeys(_real(os.fspath(r)) for r in roots)))

    @property
    def confined(self) -> bool:
        """True when reads are limited to the roots."""
        return self.roots is not None

    def inside(self, path: str) -> bool:
        """True when ``path`` (symlinks resolved) lies under a root (always, when unconfined)."""
        if self.roots is None:
            return True
        real = _real(path)
        if real.startswith(_DEV) or path.startswith(_DEV):
            return False
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)

    def outside_error(self, what: str, name: str, where: Source | None) -> IncludeError:
        """The one error for a path outside the roots (the same whether or not it exists)."""
        roots = ", ".join(self.roots or ())
        return IncludeError(
            f"{what} {shorten(name)!r} is outside the include roots ({roots}); memplan reads only "
            "files under --include-root directories (include_roots=)",
            where,
        )

    def find(self, name: str, search: Sequence[str], what: str, where: Source | None) -> str | None:
        """The first candidate (``name`` itself when absolute, else ``dir/name`` for each dir of
        ``search``) that is a file, as cpp searches; ``None`` when there is none. Confined, a
        candidate outside the roots stops the search with :meth:`outside_error`."""
        candidates = [name] if os.path.isabs(name) else [os.path.join(d, name) if d else name for d in search]
        for i, cand in enumerate(candidates):
            if not self.inside(cand):
                err = self.outside_error(what, name, where)
                if i == 0 and where is not None and where.file == STDIN_NAME and not os.path.isabs(name):
                    err = IncludeError(
                        f"{err.message}; standard input's includes are looked up first in the current "
                        "directory, as cpp and dtc do: run memplan from inside an include root", where)
                raise err
            if cand.startswith(_DEV) or _real(cand).startswith(_DEV):
                raise IncludeError(
                    f"{what} {shorten(name)!r} names a device file; memplan does not read /dev", where
                )
            if os.path.exists(cand):
                if not os.path.isfile(cand):
                    if os.path.isdir(cand):
                        continue
                    raise IncludeError(
                        f"{what} {shorten(name)!r} is not a regular file (a device, FIFO or socket)", where
                    )
                return cand
        return None

    def read_bytes(self, path: str, what: str, where: Source | None) -> bytes:
        """The bytes of ``path``: a regular file inside the roots, at most
        :func:`memplan.dts.limits.max_source_bytes` long; :class:`IncludeError` otherwise.

        The file is opened without blocking and checked after opening, so a path swapped for
        a FIFO or device between lookup and read is refused too."""
        if not self.inside(path):
            raise self.outside_error(what, path, where)
        limit = limits.max_source_bytes()
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError as err:
            reason = err.strerror or str(err)
            raise IncludeError(f"cannot read {what} {shorten(path)!r}: {reason}", where) from None
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise IncludeError(
                    f"{what} {shorten(path)!r} is not a regular file (a device, FIFO or socket)", where
                )
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise IncludeError(limits.too_big_message(f"{what} {shorten(path)!r}", limit), where)
        return data

    def read_text(self, path: str, what: str, where: Source | None) -> str:
        """:meth:`read_bytes` decoded as UTF-8 (undecodable bytes kept as surrogates), with
        universal newlines as Python's text files read them."""
        text = self.read_bytes(path, what, where).decode("utf-8", "surrogateescape")
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
