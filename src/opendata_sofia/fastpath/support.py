"""Decide per schema whether the Arrow fast path can check it, or frictionless-py must.

The fast path reproduces frictionless-py 5.21 for the common Table Schema features. A schema
that uses anything else is validated and converted by frictionless-py, which stays the
reference implementation.
"""

from __future__ import annotations

from typing import Any

from frictionless import Schema

from opendata_sofia.normalise import primary_key

# Types read cell by cell with frictionless' own reader on distinct values, or vectorised
# (string, integer, number). geojson, object, array, geopoint, yearmonth, duration and any
# fall back: they are rare in tabular registers and their outputs are JSON documents.
SUPPORTED_TYPES = {"string", "integer", "number", "boolean", "date", "datetime", "time", "year"}
# Types whose values can be compared as keys of `unique` and `primaryKey`. time is left out
# because frictionless compares aware and naive times in ways a hash cannot mirror.
KEY_TYPES = {"string", "integer", "number", "boolean", "date", "datetime", "year"}
BOUND_CONSTRAINTS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def supports(schema: dict[str, Any]) -> bool:
    """Return True when the fast path gives the same errors and outputs as frictionless-py for `schema`."""
    return unsupported_reason(schema) is None


def unsupported_reason(schema: dict[str, Any]) -> str | None:
    """Return why `schema` needs frictionless-py, or None when the fast path covers it."""
    if schema.get("foreignKeys"):
        return "foreign keys are checked by frictionless-py"
    if not schema.get("fields"):
        return "a schema without fields has no columns to read"

    fields = {f["name"]: f for f in schema.get("fields", [])}
    for name, reason in _field_reasons(schema):
        return f"field {name!r}: {reason}"

    key_fields = set(primary_key(schema))
    key_fields |= {name for name, f in fields.items() if f.get("constraints", {}).get("unique")}
    for name in sorted(key_fields):
        field_type = fields.get(name, {}).get("type", "string")
        if name not in fields or field_type not in KEY_TYPES:
            return f"field {name!r} of type {field_type} is part of a key"
    return None


def _field_reasons(schema: dict[str, Any]):
    frictionless_fields = Schema.from_descriptor(schema).fields
    for descriptor, field in zip(schema.get("fields", []), frictionless_fields):
        field_type = descriptor.get("type", "string")
        if field_type not in SUPPORTED_TYPES:
            yield field.name, f"type {field_type} is checked by frictionless-py"
        elif "missingValues" in descriptor:
            yield field.name, "field-level missingValues are checked by frictionless-py"
        elif descriptor.get("floatNumber"):
            yield field.name, "floatNumber changes how values are typed"
        elif not _bounds_readable(field):
            yield field.name, "a minimum or maximum is not a value of the field's type"


def _bounds_readable(field: Any) -> bool:
    """Frictionless reads bounds with the field's own reader and fails on a bound it cannot read."""
    reader = field.create_value_reader()
    for name in BOUND_CONSTRAINTS:
        if name in field.supported_constraints and field.constraints.get(name) is not None:
            bound = reader(field.constraints[name])
            if bound is None or (field.type == "integer" and not isinstance(bound, int)):
                return False
    return True
