"""Lint one board: build its Device Tree as the kernel does, then resolve it with the
architecture's configuration.

A board whose source does not build is ``build-failed`` (the error becomes its one finding); a
board that builds but cannot be resolved gets ``lint-resolve-failed``; an unexpected exception
is reported as ``lint-internal-error`` rather than stopping the whole run. A board without a RAM
size is resolved again on the bank :mod:`memplan.lint.memory` assumes.
"""

from __future__ import annotations

import traceback
from typing import Any

import attrs

from memplan.api import resolve_extracted
from memplan.argnames import cli_spelling
from memplan.diagnostics import diag
from memplan.dts import LoadedTree, Tree, load_device_tree
from memplan.dts.dtcversion import DEFAULT_DTC, DtcVersion
from memplan.dts.facts import DtFacts, extract
from memplan.errors import MemplanError
from memplan.kconfig import KernelConfig
from memplan.lint.memory import assume_ram
from memplan.lint.model import BoardResult
from memplan.model import Diagnostic
from memplan.plan import Plan
from memplan.source import Source
from memplan.units import format_size
from memplan.version import KernelVersion


@attrs.frozen
class ArchContext:
    """Everything the boards of one architecture share (sent once to each worker process)."""

    srctree: str
    arch: str
    config: KernelConfig
    kernel_version: KernelVersion | None
    include_dirs: tuple[str, ...]
    dtc: DtcVersion = DEFAULT_DTC  # the tree's own scripts/dtc: the dtc its build uses


def _relative_source(src: Source | None, prefix: str) -> Source | None:
    if src is None or src.file is None or not src.file.startswith(prefix):
        return src
    return attrs.evolve(src, file=src.file[len(prefix):])


def relativise(diags: tuple[Diagnostic, ...], srctree: str) -> tuple[Diagnostic, ...]:
    """The diagnostics with file names (in sources and messages) made relative to ``srctree``."""
    prefix = srctree.rstrip("/") + "/"
    return tuple(
        attrs.evolve(d, message=d.message.replace(prefix, ""), source=_relative_source(d.source, prefix))
        for d in diags
    )


def _error_diag(code: str, err: MemplanError) -> Diagnostic:
    return diag(code, err.message, err.source)


def lint_board(ctx: ArchContext, path: str) -> BoardResult:
    """Build and resolve ``path`` (relative to the tree); never raises."""
    return finish_board(ctx, path, build_board(ctx.srctree, ctx.arch, ctx.include_dirs, ctx.dtc, path))


def build_board(srctree: str, arch: str, include_dirs: tuple[str, ...], dtc: DtcVersion,
                path: str) -> LoadedTree | BoardResult:
    """The first half of :func:`lint_board`, which needs no configuration: ``path`` built as the
    kernel builds it, or its result when it does not build (never raises)."""
    full = f"{srctree}/{path}"
    try:
        with cli_spelling():  # a build error's hint names the lint's options (--dtc-version)
            return load_device_tree(full, include_dirs, dtc=dtc)
    except MemplanError as err:
        return BoardResult(path, arch, relativise((_error_diag("build-failed", err),), srctree))
    except Exception as exc:  # a memplan bug must not stop the other boards
        return _internal(srctree, arch, path, exc)


def finish_board(ctx: ArchContext, path: str, built: LoadedTree | BoardResult) -> BoardResult:
    """The second half of :func:`lint_board`: the board :func:`build_board` built, resolved with
    ``ctx`` (never raises)."""
    if isinstance(built, BoardResult):
        return built
    try:
        return _resolve(ctx, path, built.tree, built.diagnostics)
    except MemplanError as err:
        diags = (*built.diagnostics, _error_diag("lint-resolve-failed", err))
        return BoardResult(path, ctx.arch, relativise(diags, ctx.srctree))
    except Exception as exc:
        return _internal(ctx.srctree, ctx.arch, path, exc)
    finally:
        _unlink(built.tree)


def _unlink(tree: Tree) -> None:
    """Drop the tree's parent links once the board is done: the tree is then freed by reference
    counting, not left for the cyclic garbage collector to find (which cost a fifth of a lint
    worker's time)."""
    level = [tree.root]
    while level:
        for node in level:
            node.parent = None
        level = [child for node in level for child in node.children.values()]


def _internal(srctree: str, arch: str, path: str, exc: Exception) -> BoardResult:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {frame.filename.rpartition('/memplan/')[2]}:{frame.lineno}" if frame else ""
    finding = diag(
        "lint-internal-error", f"{type(exc).__name__}: {exc}{where}", Source.at(f"{srctree}/{path}", 1)
    )
    return BoardResult(path, arch, relativise((finding,), srctree))


def _resolve(ctx: ArchContext, path: str, tree: Tree, cpp_notes: tuple[Diagnostic, ...]) -> BoardResult:
    facts = extract(tree)
    assumed = None
    if _sized_memory(facts):
        plan = _plan(ctx, tree, facts, None)
    else:  # resolved as written, the board would have no RAM at all
        assumed = assume_ram(facts, ctx.arch, ctx.config.arm_lpae)
        plan = _plan(ctx, tree, facts, [(assumed.base, assumed.size)])
    own = set(ctx.config.diagnostics)
    diags = [*cpp_notes, *(d for d in plan.diagnostics if d not in own)]
    if assumed is not None:
        diags.append(diag(
            "lint-memory-assumed",
            f"the Device Tree gives no RAM size (the boot loader fills in /memory): laid out on "
            f"{format_size(assumed.size)} at {assumed.base:#x} (base from {assumed.base_from})",
            facts.memory_nodes[0].source if facts.memory_nodes else tree.root.source,
        ))
    return BoardResult(
        path,
        ctx.arch,
        relativise(tuple(diags), ctx.srctree),
        memory=tuple((m.base, m.size) for m in plan.memory),
        memory_assumed=assumed is not None,
        has_reserved_memory=facts.rmem_present,
        regions=len(plan.regions),
        global_cma=_strip_prefix(plan.global_cma.to_dict(), ctx.srctree.rstrip("/") + "/"),
    )


def _sized_memory(facts: DtFacts) -> bool:
    """Whether a /memory node gives a bank a size. Only when none does is RAM assumed: a sized
    bank the kernel cannot use (above 4 GiB without LPAE, say) is a finding, not a gap the boot
    loader fills."""
    return any(size > 0 for node in facts.memory_nodes for _base, size in (node.ranges or ()))


def _plan(ctx: ArchContext, tree: Tree, facts: DtFacts, memory: list[tuple[int, int]] | None) -> Plan:
    return resolve_extracted(tree, facts, ctx.config, ctx.arch, ctx.kernel_version, memory)


def _strip_prefix(value: Any, prefix: str) -> Any:
    """``value`` (JSON-ready data) with ``prefix`` removed from every string in it."""
    if isinstance(value, str):
        return value.replace(prefix, "")
    if isinstance(value, dict):
        return {k: _strip_prefix(v, prefix) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip_prefix(v, prefix) for v in value]
    return value
