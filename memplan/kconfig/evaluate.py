"""Applying a ``.config``'s assignments to a Kconfig model and explaining what did not stick.

kconfiglib resolves values exactly as the kernel's tools do, and as silently: a value whose
dependencies are unmet is dropped, an out-of-range number falls back to the default, a choice
keeps one member. This module compares each line the user wrote with the resolved value and
turns every difference into a positioned :class:`~memplan.model.Diagnostic`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import kconfiglib

from memplan.diagnostics import diag
from memplan.errors import shorten
from memplan.kconfig.dotconfig import INTERNAL_PREFIX as _INTERNAL_PREFIX
from memplan.kconfig.dotconfig import Assignment, AssignmentTable, is_well_formed_value, unquote
from memplan.kconfig.engine import BOOLEAN, TEXTUAL, ModelFacts, model_facts, model_lock
from memplan.kconfig.symbols import MEMPLAN_SYMBOLS
from memplan.model import Diagnostic
from memplan.source import Source

#: What the kernel's C tools accept for an int (``sym_string_valid``): no leading zeros.
_INT_RE = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_HEX_RE = re.compile(r"^(?:0[xX])?[0-9a-fA-F]+$")
_STRING_RE = re.compile(r'^"(?:[^"\\]|\\.)*"$')

#: Internal symbols of memplan's model (version eras); never taken from a user's file.
INTERNAL_PREFIX = _INTERNAL_PREFIX


@attrs.frozen
class Evaluation:
    """The outcome of one evaluation: every symbol's value, provenance and the findings."""

    values: dict[str, str]
    sources: dict[str, Source]
    diagnostics: tuple[Diagnostic, ...]
    defined: frozenset[str]
    warnings: tuple[str, ...]


def _type_name(sym: Any) -> str:
    return str(kconfiglib.TYPE_TO_STR[sym.orig_type])


def _valid_for_type(sym: Any, value: str) -> bool:
    t = sym.orig_type
    if t is kconfiglib.BOOL:
        return value in ("y", "n")
    if t is kconfiglib.TRISTATE:
        return value in ("y", "m", "n")
    if t is kconfiglib.INT:
        return bool(_INT_RE.match(value))
    if t is kconfiglib.HEX:
        return bool(_HEX_RE.match(value))
    if t is kconfiglib.STRING:
        return bool(_STRING_RE.match(value))
    return True


def _user_value(sym: Any, a: Assignment) -> str:
    if sym.orig_type is kconfiglib.STRING:
        return unquote(a.value)
    if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE) and not is_well_formed_value(a.value):
        return a.value[:1]  # the kernel's tools look at the first letter only
    return a.value


def _same(sym: Any, user: str, final: str) -> bool:
    t = sym.orig_type
    if t in (kconfiglib.INT, kconfiglib.HEX):
        base = 10 if t is kconfiglib.INT else 16
        try:
            return final != "" and int(user, base) == int(final, base)
        except ValueError:
            return False
    return user == final


def _has_prompt(sym: Any) -> bool:
    return any(node.prompt is not None for node in sym.nodes)


def _visibility_expr(sc: Any) -> Any:
    """What makes a symbol or choice settable: the conditions of its prompts (each including the
    ``depends on`` of its definition); the plain dependencies when it has no prompt."""
    conds = [node.prompt[1] for node in sc.nodes if node.prompt is not None]
    if not conds:
        return sc.direct_dep
    expr = conds[0]
    for cond in conds[1:]:
        expr = (kconfiglib.OR, expr, cond)
    return expr


def _is_internal_item(item: Any) -> bool:
    return isinstance(item, kconfiglib.Symbol) and item.name.startswith(INTERNAL_PREFIX)


def _mentions_internal(expr: Any) -> bool:
    return any(_is_internal_item(item) for item in kconfiglib.expr_items(expr))


def _is_literal(item: Any) -> bool:
    """Numbers and quoted strings inside expressions (kconfiglib keeps numbers as undefined symbols)."""
    return bool(item.is_constant) or not item.nodes


def _simplify(kconf: Any, expr: Any) -> Any:
    """``expr`` with every part that only tests memplan's internal version symbols replaced by
    its value, and ``y``/``n`` operands folded away, for messages a user can read."""
    if not isinstance(expr, tuple):
        return expr
    op = expr[0]
    if op is kconfiglib.NOT:
        inner = _simplify(kconf, expr[1])
        if inner is kconf.y:
            return kconf.n
        if inner is kconf.n:
            return kconf.y
        return (kconfiglib.NOT, inner)
    if op in (kconfiglib.AND, kconfiglib.OR):
        left, right = _simplify(kconf, expr[1]), _simplify(kconf, expr[2])
        absorbing, neutral = (kconf.n, kconf.y) if op is kconfiglib.AND else (kconf.y, kconf.n)
        if left is absorbing or right is absorbing:
            return absorbing
        if left is neutral:
            return right
        if right is neutral:
            return left
        return (op, left, right)
    if _mentions_internal(expr):
        return kconf.y if kconfiglib.expr_value(expr) else kconf.n
    return expr


def _show_expr(kconf: Any, expr: Any) -> str:
    return str(kconfiglib.expr_str(_simplify(kconf, expr)))


def _active_range(sym: Any, user: str) -> tuple[str, str] | None:
    """The active ``range`` of an int/hex symbol when ``user`` lies outside it, else ``None``."""
    base = 10 if sym.orig_type is kconfiglib.INT else 16
    for low_expr, high_expr, cond in sym.ranges:
        if kconfiglib.expr_value(cond):
            try:
                low = int(low_expr.str_value, base)
                high = int(high_expr.str_value, base)
                value = int(user, base)
            except (TypeError, ValueError):
                return None
            if not low <= value <= high:
                return low_expr.str_value, high_expr.str_value
            return None
    return None


def _clamp_to_ranges(numbers: Sequence[Any]) -> None:
    """Pull each user number that lies outside its symbol's active range to the nearest bound.

    This is what the kernel's C tools do (the value is clamped whenever it is computed);
    kconfiglib instead falls back on the default. Ranges may depend on other symbols, so
    this repeats until nothing changes. ``numbers``: the model's int and hex symbols
    (:attr:`memplan.kconfig.engine.ModelFacts.numbers`).
    """
    for _ in range(8):
        changed = False
        for sym in numbers:
            if not sym.user_value:
                continue
            if not sym.visibility:
                continue
            base = 10 if sym.orig_type is kconfiglib.INT else 16
            for low_expr, high_expr, cond in sym.ranges:
                if not kconfiglib.expr_value(cond):
                    continue
                try:
                    low = int(low_expr.str_value, base)
                    high = int(high_expr.str_value, base)
                    value = int(sym.user_value, base)
                except ValueError:
                    break
                bound = low_expr if value < low else high_expr if value > high else None
                if bound is not None:
                    sym.set_value(bound.str_value)
                    changed = True
                break
        if not changed:
            return


class _Explainer:
    """Builds the findings for one evaluation (called with the model lock held)."""

    def __init__(self, facts: ModelFacts, user: Mapping[str, Assignment], version_text: str) -> None:
        self.kconf = facts.kconf
        self.model = facts
        self.user = user
        self.version_text = version_text

    def where(self, name: str) -> str:
        a = self.user.get(name)
        return f" (line {a.line})" if a is not None else " (not in the file)"

    def facts(self, expr: Any) -> str:
        parts = []
        # expr_items() is a set (ordered by object address): sort it so the text is stable
        items = sorted(kconfiglib.expr_items(_simplify(self.kconf, expr)), key=lambda i: str(i.name))
        for item in items:
            if isinstance(item, kconfiglib.Symbol) and not _is_literal(item) and not _is_internal_item(item):
                value = item.str_value
                if item.orig_type is kconfiglib.STRING:
                    value = '"' + kconfiglib.escape(value) + '"'
                parts.append(f"{item.name}={shorten(value) or '<undefined>'}{self.where(item.name)}")
        return "; ".join(parts)

    def out_of_era(self, sym: Any) -> bool:
        return any(
            _is_internal_item(item) and item.name.startswith("MEMPLAN_ERA_") and item.tri_value == 0
            for item in kconfiglib.expr_items(_visibility_expr(sym))
        )

    def selectors(self, sym: Any) -> list[str]:
        """The symbols (or choices) whose ``select`` holds ``sym`` on, in kconfiglib's order."""
        expr_value = kconfiglib.expr_value
        return [name for term, name in self.model.selector_terms(sym) if expr_value(term)]

    def finding(
        self, a: Assignment, code: str, message: str, reason: str, kept: bool = False
    ) -> tuple[bool, Diagnostic | None, str | None]:
        """A warning about line ``a``, in the shape :meth:`explain` returns."""
        return kept, diag(code, message, a.source, f"CONFIG_{a.name}", severity="warning"), reason

    def explain(self, a: Assignment, sym: Any) -> tuple[bool, Diagnostic | None, str | None]:
        """(does the value come from the user's line, a finding or None, the builtin reason when
        not). A number clamped into its range still comes from the line."""
        name = a.name
        written = "is not set" if a.unset else f"={shorten(a.value)}"
        user = _user_value(sym, a)
        final = sym.str_value
        if self.out_of_era(sym):
            return self.finding(
                a,
                "kconfig-not-in-version",
                f"CONFIG_{name} does not exist {self.version_text}; the line has no effect",
                f"CONFIG_{name} does not exist {self.version_text}",
            )
        written_out = bool(sym.config_string) or sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE)
        if _same(sym, user, final) and written_out:
            return True, None, None
        deps = _show_expr(self.kconf, _visibility_expr(sym))
        if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
            return self._explain_bool(a, sym, user, final, deps)
        if not _has_prompt(sym):
            derived = final or "undefined"
            return self.finding(
                a,
                "kconfig-value-ignored",
                f"CONFIG_{name}{written} ignored: it has no prompt and the kernel derives it ({derived})",
                f"CONFIG_{name} has no prompt; the kernel derives it ({derived})",
            )
        if sym.visibility == 0:
            facts = self.facts(_visibility_expr(sym))
            reason = f"CONFIG_{name} only applies when {deps}"
            return self.finding(
                a,
                "kconfig-value-ignored",
                f"CONFIG_{name}{written} ignored: it only applies when {deps}"
                + (f"; here {facts}" if facts else ""),
                reason,
            )
        active = _active_range(sym, user)
        if active is not None:
            low, high = active
            reason = f"CONFIG_{name}={shorten(user)} is outside {low}..{high}; clamped to {final}"
            return self.finding(
                a,
                "kconfig-out-of-range",
                f"CONFIG_{name}={shorten(user)} is outside the allowed range {low}..{high} for this kernel; "
                f"the kernel tools clamp it to {final or 'no value'}",
                reason,
                kept=True,
            )
        reason = f"CONFIG_{name} resolved to {shorten(final)!r}"
        return self.finding(a, "kconfig-value-ignored", f"CONFIG_{name}{written} not used: {reason}", reason)

    def _explain_bool(
        self, a: Assignment, sym: Any, user: str, final: str, deps: str
    ) -> tuple[bool, Diagnostic | None, str | None]:
        name = a.name
        written = "is not set" if a.unset else f"={shorten(a.value)}"
        choice = sym.choice
        if choice is not None:
            prompt = next((n.prompt[0] for n in choice.nodes if n.prompt is not None), "choice")
            if user == "y" and choice.visibility == 0:
                facts = self.facts(_visibility_expr(choice))
                reason = f"the choice {prompt!r} is not available"
                return self.finding(
                    a,
                    "kconfig-unmet-dependency",
                    f"CONFIG_{name}=y dropped: the choice {prompt!r} needs "
                    f"{_show_expr(self.kconf, _visibility_expr(choice))}"
                    + (f"; here {facts}" if facts else ""),
                    reason,
                )
            chosen = choice.selection
            chosen_name = chosen.name if chosen is not None else None
            where = self.where(chosen_name) if chosen_name else ""
            if user == "y":
                msg = (
                    f"CONFIG_{name}=y overridden: the choice {prompt!r} resolved to "
                    f"CONFIG_{chosen_name}{where}"
                )
            else:
                msg = (
                    f"CONFIG_{name} is not set, but the choice {prompt!r} needs one member; "
                    f"CONFIG_{chosen_name}{where} is used"
                )
            return self.finding(
                a, "kconfig-choice-override", msg, f"choice {prompt!r} resolved to CONFIG_{chosen_name}"
            )
        if user == "n" and final in ("y", "m"):
            selectors = self.selectors(sym)
            if selectors:
                by = ", ".join(f"CONFIG_{s}" for s in selectors)
                return self.finding(
                    a,
                    "kconfig-value-overridden",
                    f"CONFIG_{name}{_spaced(written)} but it is selected by {by}, so it is {final}",
                    f"CONFIG_{name} selected by {by}",
                )
            reason = f"CONFIG_{name} is forced on by the Kconfig rules"
            return self.finding(
                a,
                "kconfig-value-ignored",
                f"CONFIG_{name}{_spaced(written)} ignored: it is always on here",
                reason,
            )
        if not _has_prompt(sym):
            reason = f"CONFIG_{name} has no prompt; the kernel derives it ({final})"
            return self.finding(
                a,
                "kconfig-value-ignored",
                f"CONFIG_{name}{written} ignored: it has no prompt and the kernel derives it ({final})",
                reason,
            )
        facts = self.facts(_visibility_expr(sym))
        reason = f"CONFIG_{name} needs {deps}"
        return self.finding(
            a,
            "kconfig-unmet-dependency",
            f"CONFIG_{name}{written} dropped: it depends on {deps}" + (f"; here {facts}" if facts else ""),
            reason,
        )


def _spaced(written: str) -> str:
    """``"=n"`` stays attached to the name, ``"is not set"`` gets a space."""
    return written if written.startswith("=") else f" {written}"


def _modelled(kconf: Any, assignments: Iterable[Assignment]) -> Iterator[Assignment]:
    """The assignments (file order) of symbols the model defines; from an
    :class:`AssignmentTable` only those are made into objects."""
    if isinstance(assignments, AssignmentTable):
        syms = kconf.syms
        for i, name in enumerate(assignments.names):
            if name in syms:
                yield assignments[i]
        return
    yield from assignments


def _apply(kconf: Any, assignments: Iterable[Assignment]) -> tuple[list[Diagnostic], set[int]]:
    """Set user values the way kconfiglib's own .config loader does. Returns the findings and
    the line numbers whose values were not applied (invalid for the type, or reserved)."""
    diags: list[Diagnostic] = []
    skipped: set[int] = set()
    for a in _modelled(kconf, assignments):
        sym = kconf.syms.get(a.name)
        if sym is None or not sym.nodes:
            continue
        if a.name.startswith(INTERNAL_PREFIX):
            diags.append(
                diag(
                    "kconfig-reserved-symbol",
                    f"CONFIG_{a.name} is internal to memplan's model; the line is ignored",
                    a.source,
                    f"CONFIG_{a.name}",
                )
            )
            skipped.add(a.line)
            continue
        if a.unset:
            if sym.orig_type not in (kconfiglib.BOOL, kconfiglib.TRISTATE):
                continue
            value = "n"
        else:
            value = a.value
            if not is_well_formed_value(value):
                if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE) and value[:1] in ("y", "m", "n"):
                    value = value[:1]  # like the kernel's tools: only the first letter counts
                else:
                    skipped.add(a.line)  # already reported as a malformed line
                    continue
            if not _valid_for_type(sym, value):
                diags.append(
                    diag(
                        "kconfig-invalid-value",
                        f"CONFIG_{a.name}={shorten(value)} is not a valid {_type_name(sym)} value; "
                        "the line is ignored",
                        a.source,
                        f"CONFIG_{a.name}",
                    )
                )
                skipped.add(a.line)
                continue
        if not _has_prompt(sym):
            continue  # derived by the Kconfig rules; explain() reports a differing line
        if sym.orig_type is kconfiglib.STRING:
            value = unquote(value)
        if sym.choice is not None and value != "n":
            sym.choice.set_value(value)
        sym.set_value(value)
    return diags, skipped


def _reset(kconf: Any) -> None:
    """Every user value and every cached value gone: the state ``unset_values()`` followed by
    ``_invalidate_all()`` leaves, without the invalidation each ``unset_value()`` spreads through
    the symbols that depend on the one it clears.

    Every cached value, not only those a user value reaches: what kconfiglib warns about while
    computing a value (an int symbol read as a bool) would otherwise depend on the
    configurations this process evaluated before.
    """
    for sym in kconf.unique_defined_syms:
        if sym.user_value is not None:
            sym.user_value = None
    for choice in kconf.unique_choices:
        choice.user_value = choice.user_selection = None
    kconf._invalidate_all()  # the choices' cached selections and visibility too


def evaluate(
    kconf: Any,
    assignments: Sequence[Assignment],
    effective: Mapping[str, Assignment],
    version_text: str,
    config_name: str,
    partial_model: bool = True,
) -> Evaluation:
    """Evaluate ``assignments`` (file order) on ``kconf`` and explain each effective line.

    With ``partial_model`` (memplan's bundled model, which leaves out most of the kernel), a
    derived (promptless) symbol outside :data:`MEMPLAN_SYMBOLS` that the file turns on keeps the
    file's value: whatever selects it in the real kernel is simply not modelled.
    """
    with model_lock():
        facts = model_facts(kconf)
        _reset(kconf)
        kconf.warnings.clear()
        diags, skipped = _apply(kconf, assignments)
        _clamp_to_ranges(facts.numbers)
        explainer = _Explainer(facts, effective, version_text)
        values: dict[str, str] = {}
        sources: dict[str, Source] = {}
        for sym, name, kind, seeded in facts.entries:
            value = sym.str_value
            if kind == TEXTUAL and not sym.config_string:
                value = ""
            if seeded and sym.visibility == 0:
                value = ""  # an int without any default: the kernel's tools leave it undefined
            values[name] = value
            if kind == BOOLEAN and value in ("y", "m"):
                selectors = explainer.selectors(sym)
                if selectors and name not in effective:
                    sources[name] = facts.builtin_source(
                        f"CONFIG_{name} selected by " + ", ".join(f"CONFIG_{s}" for s in selectors)
                    )
        for name in effective:
            sym = kconf.syms.get(name)
            if sym is None or not sym.nodes or name.startswith(INTERNAL_PREFIX):
                continue
            a = effective[name]
            if a.line in skipped:
                sources[name] = Source.builtin(
                    f"Kconfig default of CONFIG_{name} (line {a.line} of {config_name} is invalid)"
                )
                continue
            if (
                partial_model
                and name not in MEMPLAN_SYMBOLS
                and not _has_prompt(sym)
                and not a.unset
                and a.value in ("y", "m")
                and values.get(name) == "n"
            ):
                values[name] = a.value
                sources[name] = a.source
                continue
            kept, diag, reason = explainer.explain(a, sym)
            if kept:
                sources[name] = a.source
            else:
                sources[name] = Source.builtin(
                    f"Kconfig rules: {reason} (line {a.line} of {config_name} not used)"
                )
            if diag is not None:
                diags.append(diag)
        warnings = tuple(kconf.warnings)
    return Evaluation(values, sources, tuple(diags), facts.defined, warnings)
