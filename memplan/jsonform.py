"""The JSON form of memplan's frozen values: one serialiser, :func:`json_record`, on attrs' own
:func:`attrs.asdict` (its ``filter`` and ``value_serializer``), for the Plan, the model, the
observe model and the comparison. The formats are documented in docs/json-format.md and checked
by the schemas in :mod:`memplan.schemas`.

A record has one key per field, in declaration order, each value in its JSON form: a
:class:`~memplan.source.Source` as its structured record, a kernel version as its text, a nested
value as its record, a tuple as a list. A field's metadata (:func:`json_field`) changes that for
the field: left out always (``skip``) or for some values (``omit``), a source as its one-line
text (``text``), a tuple of pairs as an object or as records (``pairs``), a nested value as some
of its keys (``only``), a tuple of records as an object keyed by one of them (``by``).

A class whose record is ordered differently from its fields, or that adds derived values, lists
its keys in ``__json_keys__``: each a field or attribute name, or ``(key, attribute)``. Fields it
does not list are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from memplan.source import Source
from memplan.version import KernelVersion

#: Where a field's JSON rules are kept in its attrs metadata.
METADATA_KEY = "memplan.json"


@attrs.frozen
class JsonRule:
    """How one field is written (see the module docstring)."""

    skip: bool = False
    omit: Callable[[Any, Any], bool] | None = None
    text: bool = False
    pairs: Literal["object"] | tuple[str, str] | None = None
    only: tuple[str, ...] | None = None
    by: str | None = None


def json_field(
    *,
    skip: bool = False,
    omit: Callable[[Any, Any], bool] | None = None,
    text: bool = False,
    pairs: Literal["object"] | tuple[str, str] | None = None,
    only: tuple[str, ...] | None = None,
    by: str | None = None,
) -> Mapping[str, JsonRule]:
    """Metadata for ``attrs.field(metadata=...)``: ``skip`` leaves the field out; ``omit(inst,
    value)`` leaves it out when true; ``text`` writes a source (or each of a tuple of them) as its
    one-line text; ``pairs`` writes a tuple of pairs as one object (``"object"``) or as records
    with these two keys; ``only`` writes a nested value as these keys of its record, in this
    order; ``by`` writes a tuple of values as an object keyed by that field of each."""
    return {METADATA_KEY: JsonRule(skip, omit, text, pairs, only, by)}


def omit_none(_inst: object, value: object) -> bool:
    """An ``omit`` rule: leave the field out when it is ``None``."""
    return value is None


def omit_empty(_inst: object, value: object) -> bool:
    """An ``omit`` rule: leave the field out when it is empty."""
    return not value


def _rule(field: attrs.Attribute[Any]) -> JsonRule | None:
    rule = field.metadata.get(METADATA_KEY)
    return rule if isinstance(rule, JsonRule) else None


def json_value(value: Any) -> Any:
    """Any value in its JSON form (the rules without field metadata)."""
    if isinstance(value, Source):
        return value.to_dict()
    if isinstance(value, KernelVersion):
        return str(value)
    if attrs.has(type(value)):
        return json_record(value)
    if isinstance(value, (tuple, list)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def _field_value(_inst: object, field: attrs.Attribute[Any] | None, value: Any) -> Any:
    rule = _rule(field) if field is not None else None
    if rule is None or value is None:
        return json_value(value)
    if rule.text:
        return [str(v) for v in value] if isinstance(value, tuple) else str(value)
    if rule.pairs == "object":
        return {k: json_value(v) for k, v in value}
    if rule.pairs is not None:
        first, second = rule.pairs
        return [{first: json_value(a), second: json_value(b)} for a, b in value]
    if rule.only is not None:
        record = json_record(value)
        return {key: record[key] for key in rule.only}
    if rule.by is not None:
        out: dict[str, Any] = {}
        for item in value:
            record = json_record(item)
            out[str(record.pop(rule.by))] = record
        return out
    return json_value(value)


def json_record(inst: Any) -> dict[str, Any]:
    """``inst`` (a frozen attrs value) as a JSON-ready dictionary, by :func:`attrs.asdict`."""
    cls = type(inst)
    keys: tuple[str | tuple[str, str], ...] | None = getattr(cls, "__json_keys__", None)
    listed = None if keys is None else {k if isinstance(k, str) else k[1] for k in keys}

    def wanted(field: attrs.Attribute[Any], value: Any) -> bool:
        rule = _rule(field)
        if listed is not None and field.name not in listed:
            return False
        if rule is None:
            return True
        return not rule.skip and not (rule.omit is not None and rule.omit(inst, value))

    fields = attrs.asdict(inst, recurse=False, filter=wanted, value_serializer=_field_value)
    if keys is None:
        return fields
    names = attrs.fields_dict(cls)
    out: dict[str, Any] = {}
    for entry in keys:
        key, attribute = (entry, entry) if isinstance(entry, str) else entry
        if attribute in fields:
            out[key] = fields[attribute]
        elif attribute not in names:  # a derived value (a property or class attribute)
            out[key] = json_value(getattr(inst, attribute))
    return out


__all__ = ["JsonRule", "json_field", "json_record", "json_value", "omit_empty", "omit_none"]
