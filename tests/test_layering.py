"""The import structure: data flows one way (foundation → front ends → plan → resolve → render/observe
→ facade) and no module imports itself back through others. Every ``import`` counts, also the
ones inside functions and under ``TYPE_CHECKING``; a kernel rule compares versions only in
:mod:`memplan.kernel.rules`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "memplan"

#: Layers in flow order; a module may import its own layer and the layers before it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "memplan.errors",
            "memplan.source",
            "memplan.units",
            "memplan.numbers",
            "memplan.argnames",
            "memplan.schemas",
            "memplan.diagnostics",
            "memplan.version",
            "memplan.arch",
            "memplan.ranges",
            "memplan.kernel",
            "memplan.jsonform",
            "memplan.model",
            # what a booted kernel reported and the comparison result: values without logic (the
            # Plan names them in ``Plan.compare``); the observer's parsers and logic come later
            "memplan.observe.model",
            "memplan.observe.verdict",
        ),
    ),
    ("sources", ("memplan.dts", "memplan.cmdline", "memplan.kconfig")),
    ("plan", ("memplan.plan",)),
    ("resolve", ("memplan.resolve",)),
    ("present", ("memplan.render", "memplan.observe")),
    ("facade", ("memplan.api", "memplan.cli", "memplan.__main__", "memplan.lint", "memplan.collect",
                "memplan.examples", "memplan")),
)
#: Imports forbidden although the layer order allows them: renderers and the observer read only
#: the Plan (never the resolver), and neither imports the other.
FORBIDDEN: tuple[tuple[str, str], ...] = (
    ("memplan.render", "memplan.resolve"),
    ("memplan.observe", "memplan.resolve"),
    ("memplan.render", "memplan.observe"),
    ("memplan.observe", "memplan.render"),
)


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every memplan module ``name`` imports (submodules resolved), with the line number."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("memplan"):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("memplan"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), node.lineno


def _layer(name: str) -> int:
    best, best_len = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    assert best >= 0, f"{name} is in no layer: add it to LAYERS"
    return best


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layering_violations(modules: dict[str, Path]) -> list[str]:
    out = []
    for name, path in modules.items():
        mine = _layer(name)
        for target, line in _imports(name, path):
            if target == "memplan":
                continue  # the package itself (``__version__``, ``_VIEWS``) runs before any of its modules
            theirs = _layer(target)
            rel = path.relative_to(ROOT)
            if theirs > mine:
                out.append(f"{rel}:{line}: {name} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})")
            for a, b in FORBIDDEN:
                if _under(name, a) and _under(target, b):
                    out.append(
                        f"{rel}:{line}: {name} imports {target} (render and observe read only the Plan)"
                    )
    return out


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    graph = {
        name: sorted({t for t, _ in _imports(name, path) if t in modules and t not in (name, "memplan")})
        for name, path in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            succ = graph[v]
            if i < len(succ):
                work.append((v, i + 1))
                w = succ[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return comps


def test_every_import_follows_the_flow() -> None:
    assert layering_violations(MODULES) == []


def test_no_import_cycles() -> None:
    assert import_cycles(MODULES) == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """A renderer importing the resolver, and two modules importing each other, are caught."""
    pkg = tmp_path / "memplan"
    (pkg / "render").mkdir(parents=True)
    (pkg / "resolve").mkdir()
    (pkg / "render" / "bad.py").write_text("def f():\n    from memplan.resolve.x import y\n")
    (pkg / "resolve" / "x.py").write_text("from memplan.resolve import z\ny = 1\n")
    (pkg / "resolve" / "z.py").write_text("import memplan.resolve.x\n")
    fake = {
        "memplan.render.bad": pkg / "render" / "bad.py",
        "memplan.resolve.x": pkg / "resolve" / "x.py",
        "memplan.resolve.z": pkg / "resolve" / "z.py",
    }
    global ROOT, MODULES
    saved = ROOT, MODULES
    ROOT, MODULES = tmp_path, fake
    try:
        assert any("render.bad" in v and "memplan.resolve.x" in v for v in layering_violations(fake))
        assert import_cycles(fake) == [["memplan.resolve.x", "memplan.resolve.z"]]
    finally:
        ROOT, MODULES = saved


# -- version comparisons live in memplan.kernel.rules ---------------------------------------------
_VERSION_NAMES = {
    "version",
    "v",
    "ver",
    "kv",
    "ov",
    "plan_v",
    "obs_v",
    "kernel_version",
    "model_version",
    "header_version",
    "explicit",
}
_RULES_HOME = {"memplan.kernel.rules", "memplan.version"}
#: Modules that compare versions of other tools, never of the kernel (dtc: memplan.dts.dtcversion).
_OTHER_TOOL_VERSIONS = {"memplan.dts.dtcversion"}


def _is_version_expr(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in _VERSION_NAMES
    if isinstance(node, ast.Attribute):
        return node.attr in _VERSION_NAMES or node.attr in {"major", "minor", "patch"}
    if isinstance(node, ast.Call):
        f = node.func
        return (isinstance(f, ast.Name) and f.id == "KernelVersion") or (
            isinstance(f, ast.Attribute) and f.attr in {"at_least", "parse", "coerce"}
        )
    if isinstance(node, ast.Tuple):
        return any(_is_version_expr(e) for e in node.elts)
    return False


def _is_int(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool)


def version_comparisons(name: str, path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "at_least"
        ):
            out.append(f"{path.name}:{node.lineno}: .at_least()")
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        ordering = any(isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for op in node.ops)
        equality = any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops)
        versions = any(_is_version_expr(o) for o in operands) and not any(_is_int(o) for o in operands)
        numbers = any(isinstance(o, ast.Tuple) and any(_is_int(x) for x in o.elts) for o in operands)
        parts = any(isinstance(o, ast.Attribute) and o.attr in {"major", "minor"} for o in operands)
        if (ordering and versions) or (equality and versions and numbers) or parts:
            out.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return out


def test_kernel_versions_are_compared_only_in_the_rules_module() -> None:
    found = [
        hit
        for name, path in MODULES.items()
        if name not in _RULES_HOME | _OTHER_TOOL_VERSIONS
        for hit in version_comparisons(name, path)
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "ok = v.at_least(6, 1)\n",
        "ok = version >= KernelVersion(6, 1)\n",
        "ok = (v.major, v.minor) == (5, 10)\n",
    ],
)
def test_the_version_check_can_fail(tmp_path: Path, source: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert version_comparisons("memplan.resolve.m", path)
