"""Validate a work table with frictionless-py and build the validation report.

The report names every error by the source's row number (not the work CSV's), the field and
its Bulgarian title, the value as written, frictionless' error type and a hint, in Bulgarian and
English, on what to fix. Errors found while normalising (labels that match no field, rows
of the wrong width) join the frictionless errors in the same report, so one run shows them all.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from frictionless import Checklist
from frictionless import checks as frictionless_checks

from opendata_sofia import fastpath
from opendata_sofia.i18n import LANGUAGES, both, get_language, message
from opendata_sofia.normalise import Notice, TableProblem, WorkTable, primary_key

# Constraint errors carry the rule in the note: 'constraint "minimum" is "0"'.
CONSTRAINT_NOTE = re.compile(r'^constraint "(?P<name>\w+)" is "(?P<value>.*)"$', re.DOTALL)
# Unique and primary key notes point at the earlier row by its work CSV position.
ROW_POSITION = re.compile(r"(row at position )(\d+)")

SUMMARY_ERRORS_IN_FULL = 20
DROPPED_ROWS_IN_REPORT = 100
HEADER_ERROR_TYPES = ("blank-label", "extra-label", "missing-label", "duplicate-label", "incorrect-label")
KNOWN_CONSTRAINTS = (
    "required", "unique", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "pattern", "enum",
)  # fmt: skip
KNOWN_ERROR_TYPES = HEADER_ERROR_TYPES + (
    "type-error", "constraint-error", "primary-key", "unique-error", "missing-cell", "extra-cell", "blank-row",
    "row-constraint", "empty-table",
)  # fmt: skip
# Date formats shown to the operator as a pattern to type, not as strptime directives.
FORMAT_DIRECTIVES = {
    "bg": {"%d": "ДД", "%m": "ММ", "%Y": "ГГГГ", "%y": "ГГ", "%H": "чч", "%M": "мм", "%S": "сс"},
    "en": {"%d": "DD", "%m": "MM", "%Y": "YYYY", "%y": "YY", "%H": "hh", "%M": "mm", "%S": "ss"},
}
EXAMPLE_MOMENT = datetime(2024, 7, 19, 14, 30, 0)


@dataclass(frozen=True)
class ReportError:
    """One error of a validation report, located in the source."""

    dataset: str
    resource: str
    row: int | None  # source row number, or None for an error in the header
    field: str | None  # schema field name
    label: str | None  # the field's Bulgarian title
    type: str  # frictionless error type slug
    value: str | None
    constraint: str | None
    note: str  # frictionless' English note, with row positions mapped to the source
    hint: dict[str, str] = field(default_factory=dict)  # what to fix, per language


@dataclass
class ValidationReport:
    """The outcome of validating one resource: errors, counts, how the source was read."""

    dataset: str
    resource: str
    valid: bool
    errors: list[ReportError]
    stats: dict[str, Any]
    read_info: dict[str, Any]
    warnings: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data, keys in a fixed order."""
        return {
            "dataset": self.dataset,
            "resource": self.resource,
            "valid": self.valid,
            "stats": self.stats,
            "read": self.read_info,
            "warnings": self.warnings,
            "errors": [asdict(error) for error in self.errors],
        }

    def save(self, path: Path) -> Path:
        """Write the report as UTF-8 JSON to `path` and return it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    def summary(self, lang: str = "bg") -> str:
        """Return the report as text for the operator: the first errors in full, then counts."""
        return "\n".join(_summary_lines(self, lang))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ValidationReport":
        """Rebuild a report saved with `to_dict`."""
        return cls(
            dataset=data["dataset"],
            resource=data["resource"],
            valid=data["valid"],
            errors=[ReportError(**error) for error in data["errors"]],
            stats=data["stats"],
            read_info=data["read"],
            warnings=data["warnings"],
        )


def summarise_saved_report(document: dict[str, Any], lang: str | None = None) -> str:
    """Return the operator's summary of a dataset report saved by the pipeline (all resources)."""
    lang = lang or get_language()
    return "\n\n".join(ValidationReport.from_dict(resource).summary(lang) for resource in document["resources"])


def require_rows(report: ValidationReport, work: WorkTable) -> None:
    """Add an `empty-table` error to `report` when the table has no data rows.

    An export with a header and nothing else is almost always a failed export; publishing it
    would replace the published rows with none.
    """
    if work.row_count:
        return
    hint = both("validation.hint.empty-table")
    empty = ReportError(
        dataset=report.dataset,
        resource=report.resource,
        row=None,
        field=None,
        label=None,
        type="empty-table",
        value=None,
        constraint=None,
        note="the table has no data rows",
        hint=hint,
    )
    report.errors.insert(0, empty)
    report.valid = False
    report.stats["errors"] = len(report.errors)
    report.stats["by_type"] = dict(sorted(Counter(error.type for error in report.errors).items()))


def validate(
    work: WorkTable,
    dataset: str,
    resource: str,
    *,
    limit_errors: int = 1000,
    checks: list[dict[str, Any]] | None = None,
) -> ValidationReport:
    """Validate the work CSV of `work` against its localized schema and report every error.

    Errors found while normalising count toward `limit_errors` first; frictionless stops
    reading rows once the limit is reached, and the report then carries a warning. `checks`
    are the resource's row checks (`sofia.checks`), run by frictionless with the schema.
    """
    checks = checks or []
    fields = {f["name"]: f for f in work.schema.get("fields", [])}
    titles = {f["name"]: f.get("title") for f in work.canonical_schema.get("fields", [])}

    def report_error(type_: str, row, field_name, value, note, constraint=None, limit=None) -> ReportError:
        schema_field = fields.get(field_name) if field_name else None
        hint = _hint(type_, schema_field, value, constraint, limit, note, work.schema)
        return ReportError(
            dataset, resource, row, field_name, titles.get(field_name), type_, value, constraint, note, hint
        )

    # Normalising
    errors = [_from_problem(problem, report_error) for problem in work.label_errors + work.row_errors]

    # Frictionless
    warnings = [_warning(notice) for notice in work.notices]
    remaining = max(limit_errors - len(errors), 0)
    row_errors = []
    if remaining:
        for error in _table_errors(work, checks, remaining):
            if error.type == "row-constraint":
                row_errors.append(_from_row_check(error, work, checks, report_error))
            else:
                row_errors.append(_from_frictionless(error, work, report_error))
    errors = _in_source_order(errors + row_errors)[:limit_errors]

    # Warnings
    found = len(work.label_errors) + work.row_error_count + len(row_errors)
    if found >= limit_errors:
        warnings.append(_warning(Notice("validation.error_limit", {"limit": limit_errors})))
    warnings.extend(_read_warnings(work.read_info))

    stats = {
        "rows": work.row_count,
        "errors": len(errors),
        "by_type": dict(sorted(Counter(error.type for error in errors).items())),
    }
    return ValidationReport(
        dataset=dataset,
        resource=resource,
        valid=not errors,
        errors=errors,
        stats=stats,
        read_info=read_summary(work.read_info),
        warnings=warnings,
    )


# Errors


def _from_problem(problem: TableProblem, report_error) -> ReportError:
    return report_error(problem.type, problem.row, problem.field, problem.value, problem.note)


def _from_frictionless(error: Any, work: WorkTable, report_error) -> ReportError:
    row_number = getattr(error, "row_number", None)
    row = work.source_row(row_number) if row_number else None
    note = ROW_POSITION.sub(lambda match: match.group(1) + str(work.source_row(int(match.group(2)))), error.note)

    constraint = limit = None
    match = CONSTRAINT_NOTE.match(error.note) if error.type == "constraint-error" else None
    if match:
        constraint, limit = match["name"], match["value"]

    value = getattr(error, "cell", None)
    if error.type == "primary-key":
        value = ", ".join("" if cell is None else str(cell) for cell in _key_cells(error, work.schema))
    return report_error(error.type, row, getattr(error, "field_name", None), value, note, constraint, limit)


def _table_errors(work: WorkTable, checks: list[dict[str, Any]], limit: int) -> list[Any]:
    """Return the row errors of the work CSV, from the Arrow fast path when it covers the schema.

    The fast path reports the same errors as frictionless-py, and stages the outputs that
    `conversion.convert` then adopts. Row checks and schemas it does not cover (see
    `fastpath.supports`) are left to frictionless-py.
    """
    if not checks and fastpath.supports(work.schema):
        return fastpath.find_errors(work, limit_errors=limit, stage_outputs=True)

    frictionless_report = work.frictionless_resource().validate(_checklist(checks), limit_errors=limit)
    task_errors = frictionless_report.tasks[0].errors if frictionless_report.tasks else []
    return list(frictionless_report.errors) + list(task_errors)


def _checklist(checks: list[dict[str, Any]]) -> Checklist:
    """Build frictionless' checklist from `sofia.checks`; only row constraints are supported."""
    return Checklist(checks=[frictionless_checks.row_constraint(formula=check["formula"]) for check in checks])


def _from_row_check(error: Any, work: WorkTable, checks: list[dict[str, Any]], report_error) -> ReportError:
    """Report a failed row check at the field it names, with the check's own hint."""
    check = next((c for c in checks if f'"{c["formula"]}"' in error.note), checks[0])
    names = [f["name"] for f in work.schema.get("fields", [])]
    field_name = check.get("field")
    cells = list(getattr(error, "cells", []) or [])
    value = cells[names.index(field_name)] if field_name in names and names.index(field_name) < len(cells) else None
    found = report_error("row-constraint", work.source_row(error.row_number), field_name, value, error.note,
                         constraint=check["formula"])
    if check.get("hint"):
        found = dataclasses.replace(found, hint=dict(check["hint"]))
    return found


def _key_cells(error: Any, schema: dict[str, Any]) -> list[Any]:
    names = [f["name"] for f in schema.get("fields", [])]
    cells = list(getattr(error, "cells", []) or [])
    return [cells[names.index(name)] for name in primary_key(schema) if names.index(name) < len(cells)]


def _in_source_order(errors: list[ReportError]) -> list[ReportError]:
    """Put header errors first, then row errors by source row; the sort keeps ties in order."""
    return sorted(errors, key=lambda error: -1 if error.row is None else error.row)


# Hints


def _hint(type_, schema_field, value, constraint, limit, note, schema) -> dict[str, str]:
    """Render what to fix for one error, in every language."""
    field_name = schema_field["name"] if schema_field else ""
    params = {"value": "" if value is None else value, "field": field_name, "limit": limit, "note": note}

    if type_ == "type-error" and schema_field:
        return _type_hint(schema_field, params)
    if type_ == "constraint-error":
        key = constraint if constraint in KNOWN_CONSTRAINTS else "other"
        return both(f"validation.hint.constraint.{key}", **params, constraint=constraint)
    if type_ in ("primary-key", "unique-error"):
        # frictionless' note names the earlier row ("the same as in the row at position 25")
        earlier = ROW_POSITION.search(note or "")
        params["first_row"] = earlier.group(2) if earlier else "?"
    if type_ == "primary-key":
        return both("validation.hint.primary-key", **params, fields=", ".join(primary_key(schema)))
    if type_ == "unique-error":
        return both("validation.hint.unique-error", **params)
    if type_ in KNOWN_ERROR_TYPES and type_ != "type-error":
        return both(f"validation.hint.{type_}", **params)
    return both("validation.hint.other", **params)


def _type_hint(schema_field: dict, params: dict[str, Any]) -> dict[str, str]:
    field_type = schema_field.get("type", "string")

    if field_type == "number":
        decimal_char = schema_field.get("decimalChar", ".")
        group_char = schema_field.get("groupChar", "")
        example = f"1{group_char}234{decimal_char}56"
        key = "validation.hint.type.number_grouped" if group_char else "validation.hint.type.number"
        return both(key, **params, decimal=decimal_char, group=group_char, example=example)

    if field_type in ("date", "datetime", "time"):
        return _temporal_hint(field_type, schema_field.get("format", "default"), params)

    if field_type == "boolean":
        values = schema_field.get("trueValues", ["true", "True", "TRUE", "1"])
        values = values + schema_field.get("falseValues", ["false", "False", "FALSE", "0"])
        return both("validation.hint.type.boolean", **params, values=", ".join(values))

    if field_type in ("integer", "year", "object", "array", "geojson"):
        return both(f"validation.hint.type.{field_type}", **params)
    return both("validation.hint.type.other", **params, type=field_type)


def _temporal_hint(field_type: str, pattern: str, params: dict[str, Any]) -> dict[str, str]:
    if pattern == "any":
        return both("validation.hint.type.temporal_any", **params, type=field_type)

    if pattern == "default":
        pattern = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M:%S", "time": "%H:%M:%S"}[field_type]
    moment = {"date": EXAMPLE_MOMENT.date(), "datetime": EXAMPLE_MOMENT, "time": EXAMPLE_MOMENT.time()}[field_type]
    example = _strftime(moment, pattern)

    hints = {}
    for lang in LANGUAGES:
        shown = pattern
        for directive, text in FORMAT_DIRECTIVES[lang].items():
            shown = shown.replace(directive, text)
        hints[lang] = message(f"validation.hint.type.{field_type}", lang=lang, **params, format=shown, example=example)
    return hints


def _strftime(moment: date | datetime | time, pattern: str) -> str:
    try:
        return moment.strftime(pattern)
    except ValueError:
        return moment.isoformat()


# Read information and warnings


def read_summary(info: Any) -> dict[str, Any]:
    """Return how the source was read (`info` is a `reading.ReadInfo`) as JSON-able data."""
    dropped = list(getattr(info, "dropped_rows", None) or [])
    return {
        "format": getattr(info, "format", None),
        "encoding": getattr(info, "encoding", None),
        "delimiter": getattr(info, "delimiter", None),
        "header_rows": _jsonable(getattr(info, "header_rows", None)),
        "sheet": getattr(info, "sheet", None),
        "skipped_blank_rows": getattr(info, "skipped_blank_rows", 0) or 0,
        "dropped_rows": len(dropped),
        "dropped": [
            {"row": number, "reason": reason, "text": text}
            for number, reason, text in dropped[:DROPPED_ROWS_IN_REPORT]
        ],
    }


def _warning(notice: Notice) -> dict[str, Any]:
    return {"key": notice.key, "params": notice.params, **both(notice.key, **notice.params)}


def _read_warnings(info: Any) -> list[dict[str, Any]]:
    """Carry the reader's notices, `(message key, parameters)` pairs, into the report."""
    return [_warning(Notice(key, dict(params))) for key, params in getattr(info, "notices", None) or []]


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# Summary


def _summary_lines(report: ValidationReport, lang: str) -> list[str]:
    total = len(report.errors)
    names = {"dataset": report.dataset, "resource": report.resource}
    lines = [message("validation.summary.title", lang=lang, **names)]

    if report.valid:
        lines.append(message("validation.summary.valid", lang=lang, rows=report.stats["rows"]))
    else:
        lines.append(message("validation.summary.invalid", lang=lang, errors=total, rows=report.stats["rows"]))
    lines.append(_read_line(report.read_info, lang))

    if report.errors:
        shown = report.errors[:SUMMARY_ERRORS_IN_FULL]
        lines += ["", message("validation.summary.errors_heading", lang=lang, shown=len(shown), total=total)]
        lines += [_error_line(number, error, lang) for number, error in enumerate(shown, start=1)]

    rest = report.errors[SUMMARY_ERRORS_IN_FULL:]
    if rest:
        lines += ["", message("validation.summary.rest_heading", lang=lang, count=len(rest))]
        counts = Counter((error.field or "", error.type) for error in rest)
        for (field_name, error_type), count in sorted(counts.items()):
            lines.append(message("validation.summary.rest_line", lang=lang, field=field_name, type=error_type, count=count))

    if report.warnings:
        lines += ["", message("validation.summary.warnings_heading", lang=lang)]
        lines += [f"  - {warning[lang]}" for warning in report.warnings]

    if not report.valid:
        lines += ["", message("validation.summary.not_published", lang=lang)]
    return lines


def _read_line(info: dict[str, Any], lang: str) -> str:
    return message(
        "validation.summary.read",
        lang=lang,
        format=info.get("format") or "?",
        encoding=info.get("encoding") or "?",
        delimiter=info.get("delimiter") or "—",
        skipped=info.get("skipped_blank_rows", 0),
        dropped=info.get("dropped_rows", 0),
    )


def _error_line(number: int, error: ReportError, lang: str) -> str:
    if error.row is None:
        where = message("validation.summary.where_header", lang=lang)
    else:
        where = message("validation.summary.where_row", lang=lang, row=error.row)
    if error.field:
        key = "validation.summary.where_field_titled" if error.label else "validation.summary.where_field"
        where += message(key, lang=lang, field=error.field, label=error.label)
    if error.value not in (None, ""):
        where += message("validation.summary.where_value", lang=lang, value=error.value)

    error_type = message(f"validation.type.{error.type}", lang=lang) if error.type in KNOWN_ERROR_TYPES else error.type
    return message(
        "validation.summary.error_line",
        lang=lang,
        number=number,
        dataset=error.dataset,
        resource=error.resource,
        where=where,
        type=error.type,
        type_name=error_type,
        hint=error.hint.get(lang) or error.note,
    )
