"""``memplan resolve``: the layout a kernel builds from a Device Tree, a command line and a .config."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from memplan.cli.exits import RESOLVE_EXITS
from memplan.cli.options import add_format, add_gate_options, add_prediction_inputs, new_subparser

FORMATS = ("text", "json", "iomem", "dmesg", "svg", "explain", "sarif", "github")


def register(subparsers: Any) -> None:
    """Add the ``resolve`` sub-command."""
    p = new_subparser(
        subparsers,
        "resolve",
        help="predict the memory layout (reserved memory, CMA) and which CMA pool wins",
        description="Predict the physical memory layout a Linux kernel builds: /memory, /reserved-memory, "
        "/memreserve/, the global CMA pool (DTS vs cma= vs Kconfig, by kernel version), mem=, memmap= "
        "(x86), crashkernel=. Kernels 5.6 and later let cma= win over a linux,cma-default node; "
        "older kernels (and --precedence seed) let the Device Tree win.\n\n"
        "Formats: text (tables), json (the Plan; see the published JSON Schema), iomem and dmesg "
        "(what the kernel would print), svg (a picture), explain (the decisions in words), "
        "sarif (SARIF 2.1.0 for code scanning) and github (workflow-command annotations).",
        epilog=RESOLVE_EXITS,
    )
    add_prediction_inputs(p)
    add_format(p, FORMATS)
    add_gate_options(p)
    p.set_defaults(func=run)


def render(plan: Any, fmt: str) -> str:
    """``plan`` in output format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return str(plan.to_json()) + "\n"
    if fmt == "iomem":
        from memplan.render.iomem import render_iomem

        return render_iomem(plan)
    if fmt == "dmesg":
        from memplan.render.dmesg import render_dmesg

        return render_dmesg(plan)
    if fmt == "svg":
        return str(plan.to_svg())
    if fmt == "explain":
        return str(plan.explain())
    if fmt == "sarif":
        from memplan.render.sarif import render_sarif

        return render_sarif(plan.diagnostics)
    if fmt == "github":
        from memplan.render.github import render_github

        return render_github(plan.diagnostics)
    from memplan.render.text import render_text

    return render_text(plan)


def run(args: argparse.Namespace) -> int:
    """Resolve and print; returns the exit status."""
    from memplan.cli.early import start_prediction_cpp

    start_prediction_cpp(args)

    import memplan
    from memplan.argnames import cli_spelling
    from memplan.cli.gate import apply_gate
    from memplan.cli.inputs import prediction_kwargs

    with cli_spelling():
        plan = memplan.resolve(**prediction_kwargs(args))
    plan, status = apply_gate(plan, args.fail_on, args.ignore)
    text = render(plan, args.format)
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return status
