"""``memplan check``: resolve a prediction and compare it with an observed boot.

``--tolerate-modelled`` accepts address differences of regions whose placement memplan only
models (their address depends on early allocations it cannot see); they are still listed.
When ``--kernel-version`` is not given, the observed kernel's version is used for the
prediction (and said so in the report).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from memplan.cli.exits import CHECK_EXITS, EXIT_FINDINGS, EXIT_INCONCLUSIVE, EXIT_OK
from memplan.cli.options import add_format, add_gate_options, add_prediction_inputs, new_subparser

if TYPE_CHECKING:
    from memplan.observe.model import Observed


def register(subparsers: Any) -> None:
    """Add the ``check`` sub-command."""
    p = new_subparser(
        subparsers,
        "check",
        help="compare memplan's prediction with an observed boot (exit 1 on mismatch)",
        description=(
            "Resolve the layout from the inputs and compare it with observed kernel state. Inputs not "
            "given are taken from the snapshot when it carries them (the booted DTB, the .config, the "
            "kernel version, uname -m, the command line, the firmware RAM map), so "
            "'memplan check SNAPSHOT.tar.gz' (from 'memplan collect') needs nothing else."
        ),
        epilog=CHECK_EXITS,
    )
    p.add_argument(
        "snapshot", nargs="*", metavar="SNAPSHOT",
        help="a snapshot (.tar.gz from 'memplan collect', or a folder) or observed files",
    )
    p.add_argument(
        "--observed", nargs="+", default=[], metavar="PATH",
        help="snapshot archives or folders, or observed files (iomem, meminfo, dmesg, cma debugfs/sysfs, "
        "fdt); the same as SNAPSHOT",
    )
    add_prediction_inputs(p, from_observed=True, version_default="the observed kernel's")
    add_format(p, ("text", "json"))
    p.add_argument(
        "--tolerate-modelled", action="store_true",
        help="do not fail on address differences of 'modelled' placements",
    )
    p.add_argument("--page-size", type=int, default=4096, help="page size for debugfs page counts")
    add_gate_options(
        p, default="never",
        default_means="only a mismatch fails; error or warning also fail on the prediction's or the "
        "observation's diagnostics, which are then listed",
    )
    p.set_defaults(func=run)


#: The prediction inputs a snapshot can supply (see :func:`memplan.collect.fill_inputs`).
_SNAPSHOT_INPUTS = ("dts", "dtb", "config", "arch", "kernel_version", "cmdline", "memory")


def observed_nothing(observed: Observed) -> bool:
    """True when none of the readers found anything (e.g. an empty snapshot folder)."""
    return (
        observed.iomem is None
        and observed.meminfo is None
        and observed.log is None
        and not observed.debugfs
        and not observed.sysfs
        and observed.fdt is None
        and not observed.regions
    )


def run(args: argparse.Namespace) -> int:
    """Observe, resolve, compare, print; exit 0 on agreement, 1 on mismatch, 3 when inconclusive."""
    from memplan.cli.early import start_prediction_cpp

    start_prediction_cpp(args)

    import attrs

    import memplan
    from memplan.argnames import cli_spelling
    from memplan.cli.gate import apply_gate, at_level, kept
    from memplan.cli.inputs import prediction_kwargs
    from memplan.collect import fill_inputs, read_snapshot_inputs
    from memplan.errors import UsageError
    from memplan.observe import read_observed

    paths = [*args.snapshot, *args.observed]
    if not paths:
        raise UsageError("nothing observed to check: give a SNAPSHOT (or --observed PATH ...)")
    observed = read_observed(paths, page_size=args.page_size)
    if args.ignore:
        observed = attrs.evolve(observed, diagnostics=kept(observed.diagnostics, args.ignore))
    kwargs = prediction_kwargs(args, observed_cmdline=observed.cmdline)
    # Inputs not given are taken from the snapshot (the booted DTB, .config, version, ...).
    filled = fill_inputs(
        {k: kwargs.get(k) for k in _SNAPSHOT_INPUTS}, read_snapshot_inputs(paths), observed
    )
    kwargs.update({k: v for k, v in filled.kwargs.items() if v is not None})
    version_note = next((n for n in filled.notes if n.startswith("kernel version:")), None)
    with cli_spelling():
        plan = memplan.resolve(**kwargs)
    plan, _ = apply_gate(plan, args.fail_on, args.ignore)
    comparison = plan.compare(observed, tolerate_modelled=args.tolerate_modelled)
    diagnostics = (*plan.diagnostics, *observed.diagnostics)
    gated = at_level(diagnostics, args.fail_on)
    if args.format == "json":
        data = comparison.to_dict()
        data["plan_kernel_version_from_observed"] = version_note is not None
        data["inputs_from_snapshot"] = list(filled.notes)
        data["diagnostics"] = [d.to_dict() for d in diagnostics]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        for note in filled.notes:
            if note is version_note:
                sys.stdout.write(f"(predicting for the observed kernel version {kwargs['kernel_version']})\n")
            else:
                sys.stdout.write(f"(from the snapshot: {note})\n")
        sys.stdout.write(comparison.to_text())
        if gated:
            sys.stdout.write(f"diagnostics at --fail-on {args.fail_on} ({len(gated)}):\n")
            sys.stdout.writelines(f"  {d}\n" for d in gated)
    if observed_nothing(observed):
        print(f"memplan: nothing observed in {' '.join(paths)}", file=sys.stderr)
        return EXIT_INCONCLUSIVE
    if comparison.mismatches or comparison.global_cma.is_mismatch or gated:
        return EXIT_FINDINGS
    return EXIT_INCONCLUSIVE if comparison.inconclusive else EXIT_OK
