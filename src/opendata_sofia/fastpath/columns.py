"""Parse one column of the work CSV, read as text, into error masks, keys and output values.

Every cell takes one of three routes:

- missing: the text is one of the schema's `missingValues` (only `required` applies);
- fast: the text matches the field's fast pattern (any text for a string field), so Arrow
  kernels type it, check it and format it;
- exact: any other text goes through frictionless' own cell reader, once per distinct text,
  and through the encoders of `conversion`, so unusual values (`+5`, `1e3`, NBSP padding,
  `31.02.2024`) get exactly the errors and output text frictionless-py gives them.

Fast cells whose check Arrow cannot decide exactly (a number equal to its bound once both
are floats, a pattern RE2 rejects) are checked on the exact route as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from opendata_sofia.fastpath.plan import FieldPlan
from opendata_sofia.fastpath.readings import Readings
from opendata_sofia.fastpath.text import has_any_byte

EPOCH = date(1970, 1, 1)
# Bytes that `json.dumps` escapes, besides the control characters below 0x20.
JSON_ESCAPED = b'"\\'
# Key of a missing cell inside a composite primary key.
NULL_KEY = np.uint64(0x9E3779B97F4A7C15)
MASK_64 = (1 << 64) - 1
# Key types that are the value itself (no hash), so equal keys are equal values.
EXACT_KEY_TYPES = {"integer", "date", "year", "boolean"}
BOUND_TESTS = {
    "minimum": (np.less, np.greater_equal),
    "maximum": (np.greater, np.less_equal),
    "exclusiveMinimum": (np.less_equal, np.greater),
    "exclusiveMaximum": (np.greater_equal, np.less),
}


@dataclass
class ParsedColumn:
    """One column of one batch: where the errors are, the key of each cell, the output values."""

    raw: pa.Array
    missing: np.ndarray
    type_error: np.ndarray
    violations: dict[str, np.ndarray] = field(default_factory=dict)  # constraint name: cells breaking it
    key: np.ndarray | None = None  # uint64 per cell; meaningful where `key_valid`
    key_valid: np.ndarray | None = None
    typed: pa.Array | None = None  # the Parquet column
    csv: pa.Array | None = None  # CSV cell text, empty for null
    json: pa.Array | None = None  # JSON value text, `null` for null
    json_quoted: bool = False  # True when `json` is text that the writer still has to put in quotes


@dataclass
class _Exact:
    """Cells read by frictionless: their entry in the field's readings."""

    mask: np.ndarray
    index: np.ndarray  # entry in `readings` of each cell on this route, else -1
    readings: Readings

    def per_cell(self, flags: np.ndarray) -> np.ndarray:
        result = np.zeros(len(self.mask), dtype=bool)
        if self.mask.any():
            result[self.mask] = flags[self.index[self.mask]]
        return result


def parse_column(plan: FieldPlan, raw: pa.Array, readings: Readings, *, keys: bool, outputs: bool) -> ParsedColumn:
    """Parse the text cells `raw` of the field `plan`; add keys and output values when asked."""
    missing = _numpy(pc.is_in(raw, value_set=plan.missing_values))
    fast = _fast_mask(plan, raw, missing)
    fast_values = _fast_values(plan, raw, fast)

    # Checks
    recheck = _needs_exact_check(plan, raw, fast, fast_values)
    checked = _read_exact(readings, raw, (~missing & ~fast) | recheck)
    column = ParsedColumn(raw=raw, missing=missing, type_error=checked.per_cell(readings.flags("type")))
    vector = fast & ~recheck
    for name in plan.constraints:
        exact_part = checked.per_cell(readings.flags(name))
        column.violations[name] = exact_part | _vector_violation(plan, name, raw, missing, vector, fast_values)

    # Keys and outputs
    exact = checked
    if (outputs or keys) and recheck.any():
        exact = _read_exact(readings, raw, ~missing & ~fast)
    if keys:
        column.key, column.key_valid = _keys(plan, raw, fast, fast_values, exact, column.type_error)
    if outputs:
        column.typed, column.csv, column.json, column.json_quoted = _outputs(plan, raw, missing, fast, fast_values, exact)
    return column


def _numpy(array: pa.Array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False)


# Routes


def _fast_mask(plan: FieldPlan, raw: pa.Array, missing: np.ndarray) -> np.ndarray:
    if plan.type == "string" and plan.field.format == "default":
        return ~missing
    if plan.fast_regex is None:
        return np.zeros(len(raw), dtype=bool)
    return _numpy(pc.match_substring_regex(raw, plan.fast_regex)) & ~missing


def _fast_values(plan: FieldPlan, raw: pa.Array, fast: np.ndarray) -> dict[str, Any]:
    """Type the fast cells with Arrow; other cells get a placeholder that is never used."""
    if plan.type == "integer":
        safe = pc.if_else(pa.array(fast), raw, "0")
        return {"int": pc.cast(safe, pa.int64())}
    if plan.type == "number":
        text = raw
        if plan.group_char:
            text = pc.replace_substring(text, plan.group_char, "")
        if plan.decimal_char != ".":
            text = pc.replace_substring(text, plan.decimal_char, ".")
        text = pc.if_else(pa.array(fast), text, "0")
        return {"text": text, "float": pc.cast(text, pa.float64())}
    return {}


def _read_exact(readings: Readings, raw: pa.Array, mask: np.ndarray) -> _Exact:
    return _Exact(mask, readings.positions(raw, mask), readings)


def _needs_exact_check(plan: FieldPlan, raw: pa.Array, fast: np.ndarray, values: dict[str, Any]) -> np.ndarray:
    """Mark fast cells whose constraints only frictionless' reader can decide exactly."""
    recheck = np.zeros(len(raw), dtype=bool)
    if "pattern" in plan.constraints:
        if plan.pattern_re2 is None:
            recheck |= fast
        else:
            # RE2 accepting means Python accepts too; a rejection is confirmed in Python,
            # whose `$` also matches before a final newline.
            recheck |= fast & ~_numpy(pc.match_substring_regex(raw, plan.pattern_re2))
    if "enum" in plan.constraints and plan.enum_texts is None:
        recheck |= fast
    if plan.type == "number":
        floats = _numpy(values["float"])
        for name, bound in plan.bounds.items():
            # Rounding to float keeps order, so only a float equal to the bound is undecided.
            recheck |= fast & (floats == float(bound))
    return recheck


def _vector_violation(plan, name, raw, missing, vector, values) -> np.ndarray:
    if name == "required":
        return missing.copy()
    if not vector.any() or name not in plan.vector_constraints:
        return np.zeros(len(raw), dtype=bool)

    if name in ("minLength", "maxLength"):
        lengths = _numpy(pc.utf8_length(raw))
        limit = plan.field.constraints[name]
        return vector & (lengths < limit if name == "minLength" else lengths > limit)
    if name == "pattern":
        return np.zeros(len(raw), dtype=bool)  # RE2 rejections were sent to the exact route
    if name == "enum":
        return vector & ~_numpy(pc.is_in(raw, value_set=plan.enum_texts))

    numbers = _numpy(values["int"]) if plan.type == "integer" else _numpy(values["float"])
    bound = plan.bounds[name] if plan.type == "integer" else float(plan.bounds[name])
    breaks, _ = BOUND_TESTS[name]
    return vector & breaks(numbers, bound)


# Keys


def _keys(plan, raw, fast, values, exact: _Exact, type_error) -> tuple[np.ndarray, np.ndarray]:
    """Return a uint64 key per cell, equal for equal values, and where a key exists.

    Integers, dates, years and booleans are their own key. Strings, numbers and datetimes are
    hashed, so equal keys are candidates that the caller confirms.
    """
    count = len(raw)
    key = np.zeros(count, dtype=np.uint64)
    if plan.type == "string":
        key = pd.util.hash_array(_numpy(raw).astype(object), categorize=False)
    elif plan.type == "integer":
        key[fast] = _numpy(values["int"])[fast].view(np.uint64)
    elif plan.type == "number":
        # Adding 0.0 turns -0.0 into 0.0, as Decimal("-0") == Decimal("0").
        key[fast] = (_numpy(values["float"])[fast] + 0.0).view(np.uint64)

    if plan.type == "string":
        return key, ~column_missing(raw, fast, exact) & ~type_error

    valid = fast.copy()
    cells = exact.mask & ~type_error
    if cells.any():
        entry_keys, entry_valid = exact.readings.key_arrays()
        key[cells] = entry_keys[exact.index[cells]]
        valid[cells] = entry_valid[exact.index[cells]]
    if plan.type == "number":
        # NaN equals nothing, itself included, so it never repeats a key.
        valid &= ~np.isnan(_numpy(values["float"])) | ~fast
    return key, valid


def column_missing(raw, fast, exact: _Exact) -> np.ndarray:
    return ~(fast | exact.mask)


def python_key(field_type: str, value: Any) -> int | None:
    if value is None:
        return None
    if field_type == "number":
        number = float(value)
        return None if number != number else int(np.float64(number + 0.0).view(np.uint64))
    if field_type == "date":
        return (value - EPOCH).days & MASK_64
    if field_type in ("integer", "year", "boolean"):
        return int(value) & MASK_64
    return hash(value) & MASK_64


def key_is_exact(plan: FieldPlan) -> bool:
    return plan.type in EXACT_KEY_TYPES


# Outputs


def _outputs(plan, raw, missing, fast, values, exact: _Exact) -> tuple[pa.Array, pa.Array, pa.Array, bool]:
    """Return the Parquet values, CSV text and JSON text of every cell, and whether the JSON text needs quotes."""
    typed, csv_text, json_text = _fast_outputs(plan, raw, values)
    if plan.type == "string" and fast.all() and not has_any_byte(raw, JSON_ESCAPED, below=0x20):
        # The common case: every cell is plain text, so the JSON writer adds the quotes.
        return typed, csv_text, raw, True
    if plan.type == "string" and fast.any():
        json_text = json_strings(raw)

    if exact.mask.any():
        entry_typed, entry_csv, entry_json = exact.readings.output_arrays()
        indices = pa.array(exact.index, mask=~exact.mask)
        chosen = pa.array(exact.mask)
        typed = pc.if_else(chosen, entry_typed.take(indices), typed)
        csv_text = pc.if_else(chosen, entry_csv.take(indices), csv_text)
        json_text = pc.if_else(chosen, entry_json.take(indices), json_text)

    is_null = missing | ~(fast | exact.mask)
    if is_null.any():
        nulls = pa.array(is_null)
        typed = pc.if_else(nulls, pa.scalar(None, plan.arrow_type), typed)
        csv_text = pc.if_else(nulls, "", csv_text)
        json_text = pc.if_else(nulls, "null", json_text)
    return typed, csv_text, json_text, False


def _fast_outputs(plan, raw, values) -> tuple[pa.Array, pa.Array, pa.Array]:
    if plan.type == "integer":
        text = pc.cast(values["int"], pa.string())
        return values["int"], text, text
    if plan.type == "number":
        return values["float"], values["text"], values["text"]
    if plan.type == "string":
        return raw, raw, pa.nulls(len(raw), pa.string())
    placeholder = pa.nulls(len(raw), plan.arrow_type)
    return placeholder, pa.nulls(len(raw), pa.string()), pa.nulls(len(raw), pa.string())


def json_strings(raw: pa.Array) -> pa.Array:
    """Quote text as `json.dumps(ensure_ascii=False)` does; texts with escapes go through Python."""
    plain = pc.binary_join_element_wise('"', raw, '"', "")
    if not has_any_byte(raw, JSON_ESCAPED, below=0x20):
        return plain
    needs_escape = pc.match_substring_regex(raw, r'[\x00-\x1f"\\]')
    if not pc.any(needs_escape).as_py():
        return plain

    from opendata_sofia.conversion import json_text

    escaped = pa.array([json_text(text) if flag else None for text, flag in zip(raw.to_pylist(), needs_escape.to_pylist())], pa.string())
    return pc.if_else(needs_escape, escaped, plain)
