"""Normalise a text table read from a source into the work CSV that validation reads.

The work CSV has one column per schema field, in schema order, under the field names, so that
frictionless-py validates it against the schema without guessing anything. Source labels are
matched to fields here, and what does not match becomes a report error (frictionless' label
error types) instead of an exception, so one report lists every problem of a run.

Cell text is copied as the source wrote it (`00357` stays `00357`). Only the clean-up rules
configured for a field change it. Reading numbers with a decimal comma or dates as
`dd.mm.yyyy` is left to frictionless, through the localized schema built here from the
resource's `locale`.
"""

from __future__ import annotations

import copy
import csv
import re
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frictionless import Detector, Dialect, Resource, Schema
from frictionless.formats import CsvControl

from opendata_sofia.catalog import ResourceSpec
from opendata_sofia.errors import CatalogError

# On 64-bit CPython, the row numbers of a million-row table take 8 MB as unsigned longs,
# against about 36 MB as a list of Python ints.
ROW_NUMBER_TYPECODE = "L"

# Properties that `locale` (globally or per field) may set, by field type. Frictionless 5.21
# reads no `groupChar` on integer fields, so a grouped integer needs type `number` or a
# `replace` clean-up rule.
LOCALE_PROPERTIES = {
    "number": ("decimalChar", "groupChar", "bareNumber"),
    "integer": ("bareNumber",),
    "date": ("format",),
    "datetime": ("format",),
    "time": ("format",),
    "boolean": ("trueValues", "falseValues"),
}
LOCALE_FORMAT_KEYS = {"dateFormat": "date", "datetimeFormat": "datetime", "timeFormat": "time"}
LOCALE_KEYS = {"decimalChar", "groupChar", "bareNumber", "trueValues", "falseValues", "format", "fields"}
LOCALE_KEYS |= set(LOCALE_FORMAT_KEYS)
CLEANUP_ACTIONS = ("stripSuffix", "replace", "strip", "padStart")
POSITION_KEY = re.compile(r"#[1-9][0-9]*")

# A file whose every row is too long would otherwise keep one problem per row in memory. The
# report shows this many and counts the rest.
MAX_ROW_PROBLEMS = 1000


@dataclass(frozen=True)
class TableProblem:
    """A problem found while normalising: a label that matches no field, a row too short or too long.

    `type` is the frictionless error type slug; `row` is the source row number (None for the
    header); `value` is the label or cell text concerned.
    """

    type: str
    note: str
    row: int | None = None
    field: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Notice:
    """Something the operator should know that is not an error, as a message key and parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkTable:
    """The work CSV of one resource and what is needed to validate, report and convert it."""

    path: Path
    schema: dict[str, Any]  # localized: how the work CSV is read
    canonical_schema: dict[str, Any]  # as in the catalog: what the outputs follow
    row_numbers: array  # source row number of each work row, in order
    row_count: int
    label_errors: list[TableProblem]
    notices: list[Notice]
    read_info: Any
    row_errors: list[TableProblem] = field(default_factory=list)
    row_error_count: int = 0  # all row problems found, also those past MAX_ROW_PROBLEMS
    missing_fields: list[str] = field(default_factory=list)

    def source_row(self, work_row_number: int) -> int | None:
        """Map a frictionless row number of the work CSV (header is row 1) to the source row."""
        index = work_row_number - 2
        if 0 <= index < len(self.row_numbers):
            return self.row_numbers[index]
        return None

    def frictionless_resource(self) -> Resource:
        """Return a frictionless `Resource` that reads the work CSV with the localized schema.

        The dialect and encoding are stated so frictionless does not sniff a file whose shape
        is known. The absolute folder goes into `basepath` because frictionless rejects an
        absolute `path` outside its trusted mode.
        """
        return Resource(
            path=self.path.name,
            basepath=str(self.path.parent),
            schema=Schema.from_descriptor(self.schema),
            format="csv",
            encoding="utf-8",
            dialect=Dialect(header_rows=[1], controls=[CsvControl(delimiter=",", quote_char='"')]),
            detector=Detector(schema_sync=False),
        )


@dataclass(frozen=True)
class LabelMapping:
    """Source column of each schema field, and the labels and fields that did not match."""

    columns: list[int | None]  # per schema field: source column index, None when missing
    problems: list[TableProblem]
    missing_optional: list[str]
    missing_required: list[str]


def normalise(
    table: Any,
    resource: ResourceSpec,
    dataset: str,
    work_dir: Path,
    *,
    batch_size: int = 10_000,
) -> WorkTable:
    """Write the work CSV of `resource` from `table` (a `reading.TableRead`) into `work_dir`.

    The file is written batch by batch, so memory does not grow with the table. Only the row
    number map grows, at 8 bytes per row.
    """
    fields = resource.schema.get("fields", [])
    names = [f["name"] for f in fields]
    mapping = map_labels(table.labels, resource.schema, resource.labels)
    cleaners = [_cleaner(resource.cleanup, name) for name in names]
    notices = [Notice("normalise.optional_field_empty", {"field": name}) for name in mapping.missing_optional]

    # Localized schema
    schema, locale_notices = localize_schema(resource.schema, resource.locale)
    notices.extend(locale_notices)
    notices.extend(_relax_missing_fields(schema, mapping.missing_required))

    # Work CSV
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / f"{dataset}.{resource.name}.work.csv"
    row_numbers = array(ROW_NUMBER_TYPECODE)
    row_errors: list[TableProblem] = []
    row_error_count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for batch in table.batches(batch_size):
            rows = []
            for source_row in batch:
                for problem in _check_width(source_row, table.labels, mapping.columns, names):
                    row_error_count += 1
                    if len(row_errors) < MAX_ROW_PROBLEMS:
                        row_errors.append(problem)
                rows.append(_work_cells(source_row.cells, mapping.columns, cleaners))
                row_numbers.append(source_row.number)
            writer.writerows(rows)

    return WorkTable(
        path=path,
        schema=schema,
        canonical_schema=resource.schema,
        row_numbers=row_numbers,
        row_count=len(row_numbers),
        label_errors=mapping.problems,
        notices=notices,
        read_info=table.info,
        row_errors=row_errors,
        row_error_count=row_error_count,
        missing_fields=mapping.missing_required + mapping.missing_optional,
    )


# Labels


def map_labels(labels: list[str], schema: dict[str, Any], configured: dict[str, str]) -> LabelMapping:
    """Match each source label to a schema field: configured labels, then field name, then title.

    Matching ignores case and repeated whitespace. A label that matches a field already taken
    is a `duplicate-label`; one that matches nothing is an `extra-label`. A field without a
    column is a `missing-label` when it is required or part of the primary key.
    """
    fields = schema.get("fields", [])
    names = [f["name"] for f in fields]
    key_fields = primary_key(schema)
    # "#3" names the third column, for a column whose header is blank or ambiguous
    by_position = {int(key[1:]): target for key, target in configured.items() if POSITION_KEY.fullmatch(key)}
    lookups = [
        {_label_key(label): target for label, target in configured.items() if not POSITION_KEY.fullmatch(label)},
        {_label_key(name): name for name in reversed(names)},
        {_label_key(f["title"]): f["name"] for f in reversed(fields) if f.get("title")},
    ]

    taken: dict[str, int] = {}
    problems = []
    for index, label in enumerate(labels):
        position = index + 1
        target = by_position.get(position)
        if target is None and (label is None or not label.strip()):
            problems.append(TableProblem("blank-label", f"label at position {position} is blank", value=label or ""))
            continue

        if target is None:
            target = next((lookup[key] for lookup in lookups if (key := _label_key(label)) in lookup), None)
        if target is None:
            note = f'label "{label}" at position {position} matches no field of the schema'
            problems.append(TableProblem("extra-label", note, value=label))
        elif target in taken:
            note = f'label "{label}" at position {position} maps to field "{target}", already taken by the label at position {taken[target] + 1}'
            problems.append(TableProblem("duplicate-label", note, field=target, value=label))
        else:
            taken[target] = index

    missing_required, missing_optional = [], []
    for f in fields:
        if f["name"] in taken:
            continue
        if _is_required(f) or f["name"] in key_fields:
            missing_required.append(f["name"])
            note = f'required field "{f["name"]}" has no column in the source'
            problems.append(TableProblem("missing-label", note, field=f["name"]))
        else:
            missing_optional.append(f["name"])

    columns = [taken.get(name) for name in names]
    return LabelMapping(columns, problems, missing_optional, missing_required)


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _is_required(schema_field: dict) -> bool:
    return bool(schema_field.get("constraints", {}).get("required"))


def primary_key(schema: dict[str, Any]) -> list[str]:
    """Return the primary key fields of a Table Schema, which may write a single key as a string."""
    key = schema.get("primaryKey") or []
    return [key] if isinstance(key, str) else list(key)


# Rows


def _work_cells(cells: list[str | None], columns: list[int | None], cleaners: list[Callable | None]) -> list[str]:
    row = []
    for column, clean in zip(columns, cleaners):
        value = cells[column] if column is not None and column < len(cells) else None
        if value is None:
            row.append("")
            continue
        row.append(clean(value) if clean else value)
    return row


def _check_width(source_row: Any, labels: list[str], columns: list[int | None], names: list[str]) -> Iterable[TableProblem]:
    """Report cells beyond the header and mapped columns cut short, as frictionless would."""
    cells = source_row.cells
    for position in range(len(labels), len(cells)):
        value = cells[position]
        if value is not None and value.strip():
            note = f"cell at position {position + 1} is beyond the {len(labels)} columns of the header"
            yield TableProblem("extra-cell", note, row=source_row.number, value=value)

    for column, name in zip(columns, names):
        if column is not None and column >= len(cells):
            note = f'row has {len(cells)} cells, so field "{name}" at column {column + 1} has none'
            yield TableProblem("missing-cell", note, row=source_row.number, field=name)


# Clean-up rules


def _cleaner(rules: list[dict], name: str) -> Callable[[str], str] | None:
    """Compose the clean-up actions configured for field `name`, in the order they are written."""
    actions = []
    for rule in rules:
        if name not in rule.get("fields", []):
            continue
        for key, argument in rule.items():
            if key == "fields":
                continue
            actions.append(_cleanup_action(key, argument, name))

    if not actions:
        return None

    def clean(value: str) -> str:
        for action in actions:
            value = action(value)
        return value

    return clean


def _cleanup_action(key: str, argument: Any, name: str) -> Callable[[str], str]:
    if key == "stripSuffix":
        suffix = str(argument)
        return lambda value: value[: -len(suffix)] if suffix and value.endswith(suffix) else value
    if key == "replace":
        old, new = str(argument["from"]), str(argument["to"])
        return lambda value: value.replace(old, new)
    if key == "strip" and argument:
        return str.strip
    if key == "strip":
        return lambda value: value
    if key == "padStart":
        # Restores leading zeros that a spreadsheet dropped from a fixed-width code (463 -> 0463)
        width, fill = int(argument["length"]), str(argument.get("char", "0"))
        return lambda value: value.rjust(width, fill) if value else value
    raise CatalogError("catalog.cleanup_unknown", rule=key, field=name, allowed=", ".join(CLEANUP_ACTIONS))


# Localized schema


def localize_schema(schema: dict[str, Any], locale: dict[str, Any]) -> tuple[dict[str, Any], list[Notice]]:
    """Return a copy of `schema` with the source's locale applied, and notices on what was skipped.

    Global locale values apply to every field of a matching type, then `locale.fields` overrides
    per field. Locale values win over the schema's own, because they describe this source.
    """
    unknown = sorted(set(locale) - LOCALE_KEYS)
    if unknown:
        raise CatalogError("catalog.locale_unknown", keys=", ".join(unknown), allowed=", ".join(sorted(LOCALE_KEYS)))

    localized = copy.deepcopy(schema)
    notices = []
    overrides = locale.get("fields") or {}
    for schema_field in localized.get("fields", []):
        notices.extend(_apply_locale(schema_field, locale, explicit=False))
        notices.extend(_apply_locale(schema_field, overrides.get(schema_field["name"]) or {}, explicit=True))
    return localized, notices


def _apply_locale(schema_field: dict, locale: dict[str, Any], *, explicit: bool) -> list[Notice]:
    field_type = schema_field.get("type", "string")
    allowed = LOCALE_PROPERTIES.get(field_type, ())
    properties = {key: value for key, value in locale.items() if key != "fields"}
    for key, target_type in LOCALE_FORMAT_KEYS.items():
        value = properties.pop(key, None)
        if value is not None and target_type == field_type:
            properties["format"] = value

    notices = []
    for key, value in properties.items():
        if key in allowed:
            schema_field[key] = value
        elif explicit or (field_type == "integer" and key == "groupChar"):
            params = {"field": schema_field["name"], "property": key, "type": field_type}
            notices.append(Notice("normalise.locale_not_applied", params))
    return notices


def _relax_missing_fields(schema: dict[str, Any], missing: list[str]) -> list[Notice]:
    """Drop checks that would fail on every row of a field that has no column.

    The `missing-label` error already makes the report invalid. Without this, each row would
    add its own `required` or `primary-key` error and push the real problems past the error limit.
    """
    if not missing:
        return []

    for schema_field in schema.get("fields", []):
        if schema_field["name"] in missing:
            schema_field.get("constraints", {}).pop("required", None)

    key = primary_key(schema)
    if set(key) & set(missing):
        del schema["primaryKey"]
        return [Notice("normalise.primary_key_skipped", {"fields": ", ".join(key)})]
    return []
