"""Markdown table of the recorded scenarios: what the kernel did and whether memplan predicted it.

Usage: ``python -m tools.qemu.report`` (prints to stdout) or
``python -m tools.qemu.report --update docs/kernel-in-the-loop.md`` (replaces the text between
the ``<!-- scenario-table:start -->`` / ``<!-- scenario-table:end -->`` markers, and the
per-architecture summary between ``<!-- arch-table:start -->`` / ``<!-- arch-table:end -->``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tools.qemu.fixtures import Fixture, all_fixtures

MIB = 1 << 20


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n // MIB} MiB" if n % MIB == 0 else f"{n // 1024} KiB"


def _addr(n: int | None) -> str:
    return "-" if n is None else f"0x{n:x}"


def kernel_did(fx: Fixture) -> tuple[str, str]:
    """(global area, regions) as short text."""
    g = fx.expected["global_cma"]
    if g["origin"] is None:
        glob = "none" + (" (failed)" if fx.expected["global_cma_failures"] else "")
    else:
        glob = f"{g['origin']} {_size(g['size'])} @ {_addr(g['base'])}"
    parts = []
    for name, r in fx.expected["regions"].items():
        where = f" @ {_addr(r['base'])}" if r["base"] is not None else ""
        parts.append(f"{name}: {r['status']}{where}")
    if fx.expected["overlaps"]:
        parts.append("OVERLAP " + ", ".join(f"{o['a']}/{o['b']}" for o in fx.expected["overlaps"]))
    ck = fx.expected["crashkernel"]
    if ck:
        parts.append(f"crashkernel {_size(ck['size'])} @ {_addr(ck['base'])}")
    for c in fx.expected["extra_cma"]:
        state = "" if c["active"] else " (not activated)"
        parts.append(f"{c['kind']} CMA {_size(c['size'])} @ {_addr(c['base'])}{state}")
    low = fx.expected.get("crashkernel_low")
    if low:
        parts.append(f"crashkernel low @ {_addr(low['base'])}")
    user = fx.expected["e820"].get("user")
    if user:
        bios = {(e["start"], e["end"], e["type"]) for e in fx.expected["e820"].get("BIOS-e820", [])}
        shown = [e for e in user if e["type"] == "usable" or (e["start"], e["end"], e["type"]) not in bios]
        parts.append("user map: " + ", ".join(f"{_addr(e['start'])}-{_addr(e['end'])} {e['type']}"
                                              for e in shown))
    return glob, "; ".join(parts) or "-"


def memplan_verdict(fx: Fixture) -> str:
    """Whether ``memplan.resolve`` reproduces the global area and every region (``-`` if unavailable)."""
    try:
        import memplan
    except ImportError:
        return "-"
    resolve: Any = getattr(memplan, "resolve", None)
    if not callable(resolve):
        return "-"
    kw: dict[str, Any] = {"cmdline": fx.cmdline, "config": fx.config_text, "arch": fx.arch,
                          "kernel_version": fx.kernel_version}
    # riscv: the DTB the kernel booted (OpenSBI adds mmode_resv0 to the tree QEMU passes)
    dt = fx.directory / ("fdt" if fx.arch == "riscv" else "board.dts")
    if dt.exists():
        kw["dts"] = str(dt)
    else:
        kw["memory"] = fx.ram
    try:
        plan = resolve(**kw)
    except Exception as exc:  # report, do not crash the table
        return f"error: {type(exc).__name__}"
    bad: list[str] = []
    g, e = plan.global_cma, fx.expected["global_cma"]
    if (g.origin, g.size, g.base) != (e["origin"], e["size"], e["base"]):
        bad.append(f"global {_addr(g.base)}")
    for name, r in fx.expected["regions"].items():
        try:
            p = plan.region(name)
        except KeyError:
            bad.append(f"{name} absent")
            continue
        if p.status != r["status"] or (r["base"] is not None and (p.base, p.size) != (r["base"], r["size"])):
            bad.append(f"{name} {p.status} {_addr(p.base)}")
    cks = sorted((r.base, r.size) for r in plan.regions if r.kind == "crashkernel" and r.status == "ok")
    want = sorted((c["base"], c["size"]) for c in (fx.expected["crashkernel"],
                                                    fx.expected.get("crashkernel_low")) if c)
    if want and cks != want:
        bad.append("crashkernel " + ",".join(_addr(b) for b, _ in cks))
    from memplan.resolve.cma import not_activated

    kinds = {"numa": "numa-cma", "hugetlb": "hugetlb-cma", "kconfig": "cma"}
    inactive = not_activated(plan)
    extra = sorted((r.kind, r.size) for r in plan.regions if r.kind in kinds.values()
                   and (r.status == "ok" or r.name in inactive)
                   and not (r.kind == "cma" and r.name == g.region))
    if extra != sorted((kinds[c["kind"]], c["size"]) for c in fx.expected["extra_cma"]):
        bad.append("node/hugetlb CMA areas not predicted")
    return "exact" if not bad else "DIFFERS: " + "; ".join(bad)


def table() -> str:
    """The Markdown table."""
    rows = [
        "| scenario | kernel | RAM | scenario cmdline | global CMA (kernel) | regions etc. (kernel) "
        "| memplan |",
        "|---|---|---|---|---|---|---|",
    ]
    for fx in all_fixtures():
        if fx.scenario.get("expect_hang"):
            continue
        glob, regs = kernel_did(fx)
        cmd = fx.scenario["scenario_cmdline"] or "-"
        rows.append(f"| {fx.name} | {fx.kernel_version} | {fx.scenario['ram']} | `{cmd}` | {glob} | "
                    f"{regs} | {memplan_verdict(fx)} |")
    return "\n".join(rows) + "\n"


def _global_exact(fx: Fixture) -> bool | None:
    """Whether memplan's global area (origin, size, base, status) is the kernel's (None: no answer)."""
    import memplan

    kw: dict[str, Any] = {"cmdline": fx.cmdline, "config": fx.config_text, "arch": fx.arch,
                          "kernel_version": fx.kernel_version}
    dt = fx.directory / ("fdt" if fx.arch == "riscv" else "board.dts")
    if dt.exists():
        kw["dts"] = str(dt)
    else:
        kw["memory"] = fx.ram
    try:
        g = memplan.resolve(**kw).global_cma
    except Exception:  # counted as not exact
        return False
    e = fx.expected["global_cma"]
    return (g.origin, g.size, g.base) == (e["origin"], e["size"], e["base"])


def arch_table() -> str:
    """Per architecture: boots that completed, how many memplan predicts exactly (everything), how
    many get the global area (origin, size, base) exactly, and the boots that hung on purpose."""
    rows = ["| architecture | kernels | scenarios | exact | global area exact | hung boots |",
            "|---|---|---|---|---|---|"]
    fixtures = all_fixtures()
    for arch in ("arm64", "arm", "riscv", "x86"):
        done = [f for f in fixtures if f.arch == arch and not f.scenario.get("expect_hang")]
        hung = [f for f in fixtures if f.arch == arch and f.scenario.get("expect_hang")]
        if not done and not hung:
            continue
        kernels = ", ".join(sorted({f.scenario["kernel"] for f in done + hung}))
        exact = sum(memplan_verdict(f) == "exact" for f in done)
        glob = sum(bool(_global_exact(f)) for f in done)
        rows.append(f"| {arch} | {kernels} | {len(done)} | {exact} | {glob} | {len(hung)} |")
    return "\n".join(rows) + "\n"


START = "<!-- scenario-table:start -->"
END = "<!-- scenario-table:end -->"


ARCH_START = "<!-- arch-table:start -->"
ARCH_END = "<!-- arch-table:end -->"


def _replace(text: str, start: str, end: str, body: str, path: Path) -> str:
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    if end not in rest:
        raise SystemExit(f"{path}: markers {start} / {end} not found")
    return f"{head}{start}\n{body}{end}{tail}"


def update(path: Path) -> None:
    """Replace the tables between the markers in ``path``."""
    text = _replace(path.read_text(), START, END, table(), path)
    path.write_text(_replace(text, ARCH_START, ARCH_END, arch_table(), path))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--update":
        update(Path(sys.argv[2]))
    else:
        sys.stdout.write(arch_table() + "\n" + table())
