"""Per-field plans of the fast path: readers, checks and encoders, built once per schema."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from frictionless import Schema

from opendata_sofia import conversion

# Texts whose reading is certain and the same in Arrow and in Python. A text that does not
# match goes to frictionless' own reader, so these only need to be safe, not complete.
# 18 digits always fit into int64.
FAST_INTEGER = r"^-?[0-9]{1,18}$"
# Constraints that Arrow kernels check on cells of the fast route.
VECTOR_CONSTRAINTS = {
    "string": {"required", "minLength", "maxLength", "pattern", "enum"},
    "integer": {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "number": {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
}
# A pattern without escapes of letters or digits, groups with `(?`, or alternation means the
# same in RE2 (Arrow) and in Python's `re` when anchored at both ends.
RE2_UNSAFE = re.compile(r"\\[A-Za-z0-9]|\(\?|\|")


@dataclass
class FieldPlan:
    """One schema field: how its cells are read, checked and written."""

    index: int
    name: str
    type: str
    field: Any  # frictionless Field, the reference for every cell off the fast route
    cell_reader: Callable[[Any], tuple[Any, dict | None]]
    value_reader: Callable[[Any], Any]
    missing_values: pa.Array
    constraints: list[str]  # checked constraints, in the order frictionless reports them
    fast_regex: str | None  # RE2 pattern of texts on the fast route (None: string fields take all)
    group_char: str | None
    decimal_char: str
    pattern_re2: str | None  # RE2 prefilter for the pattern constraint
    enum_texts: pa.Array | None  # enum of a string field
    bounds: dict[str, Any]  # constraint name to the bound as frictionless reads it
    arrow_type: pa.DataType
    csv_encoder: Callable[[Any], str]
    json_encoder: Callable[[Any], str]
    arrow_value: Callable[[Any], Any]

    @property
    def vector_constraints(self) -> set[str]:
        return VECTOR_CONSTRAINTS.get(self.type, {"required"})

    def type_note(self) -> str:
        return f'type is "{self.field.type}/{self.field.format}"'

    def constraint_note(self, name: str) -> str:
        return f'constraint "{name}" is "{self.field.constraints[name]}"'


def plan_fields(schema: dict[str, Any]) -> list[FieldPlan]:
    """Return the plan of every field of `schema` (the localized schema of a work table)."""
    frictionless_schema = Schema.from_descriptor(schema)
    missing_values = pa.array([str(value) for value in frictionless_schema.missing_values], pa.string())
    return [_plan(index, field, missing_values) for index, field in enumerate(frictionless_schema.fields)]


def _plan(index: int, field: Any, missing_values: pa.Array) -> FieldPlan:
    field_type = field.type
    value_reader = field.create_value_reader()
    constraints = [name for name in field.supported_constraints if field.constraints.get(name) is not None]
    defined = set(field.list_defined())
    number_rules = bool({"group_char", "decimal_char", "bare_number"} & defined)
    group_char = field.group_char if field_type == "number" and number_rules and field.group_char else None
    decimal_char = field.decimal_char if field_type == "number" and number_rules else "."

    pattern = field.constraints.get("pattern") if "pattern" in constraints else None
    enum = field.constraints.get("enum") if "enum" in constraints else None
    return FieldPlan(
        index=index,
        name=field.name,
        type=field_type,
        field=field,
        cell_reader=field.create_cell_reader(),
        value_reader=value_reader,
        missing_values=missing_values,
        constraints=constraints,
        fast_regex=_fast_regex(field, group_char, decimal_char),
        group_char=group_char,
        decimal_char=decimal_char,
        pattern_re2=None if pattern is None or RE2_UNSAFE.search(pattern) else f"^{pattern}$",
        enum_texts=pa.array(enum, pa.string()) if enum is not None and field_type == "string" else None,
        bounds={name: value_reader(field.constraints[name]) for name in constraints if name not in ("required", "enum", "pattern", "minLength", "maxLength")},
        arrow_type=conversion._arrow_type(field_type),
        csv_encoder=conversion._csv_encoder(field_type),
        json_encoder=conversion._json_encoder(field_type),
        arrow_value=conversion._arrow_value(field_type),
    )


def _fast_regex(field: Any, group_char: str | None, decimal_char: str) -> str | None:
    if field.type == "integer":
        return FAST_INTEGER
    if field.type != "number":
        return None

    # Canonical digits only (no leading zeros, sign or exponent), so the text with the
    # source's characters replaced is exactly what `format(Decimal(text), "f")` writes.
    decimal = re2_literal(decimal_char)
    whole = "(0|[1-9][0-9]*)"
    if group_char:
        whole = f"(0|[1-9][0-9]*|[1-9][0-9]{{0,2}}({re2_literal(group_char)}[0-9]{{3}})+)"
    return f"^-?{whole}({decimal}[0-9]+)?$"


def re2_literal(text: str) -> str:
    """Escape `text` for RE2, which rejects escapes of spaces that Python's `re.escape` writes."""
    return "".join(f"\\{char}" if char.isascii() and not char.isalnum() and char != " " else char for char in text)
