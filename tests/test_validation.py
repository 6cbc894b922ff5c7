"""Validation: frictionless errors located in the source, hints, the report and its summary."""

from __future__ import annotations

import json
import re

import pytest

from opendata_sofia.conversion import output_schema
from opendata_sofia.normalise import normalise
from opendata_sofia.reading import ReadOptions, read_table
from opendata_sofia.validation import validate
from tests.factories import make_resource
from tests.shared import shared_path
from tests.tables import list_table, read_case_csv

DATASET = "sofia-test"

STATIONS = {
    "fields": [
        {"name": "code", "type": "string", "title": "Код на станцията"},
        {"name": "pm10", "type": "number", "title": "ФПЧ10", "constraints": {"minimum": 0}},
        {"name": "measured", "type": "date", "title": "Дата на измерване"},
    ],
    "primaryKey": ["code"],
}
STATIONS_LOCALE = {"decimalChar": ",", "dateFormat": "%d.%m.%Y"}


def found(report) -> list[tuple]:
    return [(error.row, error.field, error.value, error.type) for error in report.errors]


def check(table, resource, tmp_path, **options):
    work = normalise(table, resource, DATASET, tmp_path)
    return validate(work, DATASET, resource.name, **options)


# Cases from real exports


def budget_resource(**sofia):
    # The case's schema carries the decimal comma itself; the canonical schema must not, so the
    # locale alone has to make the amounts readable.
    schema = json.loads(shared_path("cases", "05-decimal-comma", "schema.json").read_text(encoding="utf-8"))
    return make_resource("budget", schema=output_schema(schema), **sofia)


def test_decimal_comma_dot_groups_rejected(tmp_path):
    table = read_case_csv(shared_path("cases", "05-decimal-comma", "budget_decimal_comma.csv"), ";")
    resource = budget_resource(locale={"decimalChar": ",", "groupChar": " "})

    report = check(table, resource, tmp_path)

    assert report.valid is False
    assert found(report) == [(5, "план_лв", "1.933.273", "type-error"), (7, "план_лв", "1.234", "type-error")]
    assert report.stats == {"rows": 6, "errors": 2, "by_type": {"type-error": 2}}


def test_decimal_comma_without_locale(tmp_path):
    table = read_case_csv(shared_path("cases", "05-decimal-comma", "budget_decimal_comma.csv"), ";")

    report = check(table, budget_resource(), tmp_path)

    # Every comma amount fails, but `1.234` reads as 1.234 with the default decimal point: the
    # reason the locale must come from the catalog and never be left to defaults.
    assert [(error.row, error.field) for error in report.errors] == [
        (2, "план_лв"), (2, "отчет_лв"), (3, "план_лв"), (3, "отчет_лв"), (4, "план_лв"), (4, "отчет_лв"),
        (5, "план_лв"), (5, "отчет_лв"), (6, "план_лв"), (6, "отчет_лв"), (7, "отчет_лв"),
    ]  # fmt: skip


def acts_resource(cleanup):
    schema = json.loads(shared_path("cases", "06-date-format-ddmmyyyy", "schema.json").read_text(encoding="utf-8"))
    return make_resource(
        "acts", schema=output_schema(schema), locale={"dateFormat": "%d.%m.%Y"}, cleanup=cleanup
    )


def test_dates_ddmmyyyy_with_suffix_rule(tmp_path):
    table = read_case_csv(shared_path("cases", "06-date-format-ddmmyyyy", "acts_dates.csv"), ",")
    resource = acts_resource([{"fields": ["Дата на акта", "Дата на въвеждане"], "stripSuffix": " г."}])

    report = check(table, resource, tmp_path)

    assert found(report) == [
        (5, "Дата на акта", "31.02.2024", "type-error"),
        (5, "Дата на въвеждане", "2024-07-19", "type-error"),
        (6, "Дата на акта", "19.07.24", "type-error"),
    ]


def test_dates_year_suffix_without_rule_is_error(tmp_path):
    table = read_case_csv(shared_path("cases", "06-date-format-ddmmyyyy", "acts_dates.csv"), ",")

    report = check(table, acts_resource([]), tmp_path)

    assert found(report) == [
        (3, "Дата на въвеждане", "19.07.2024 г.", "type-error"),
        (5, "Дата на акта", "31.02.2024", "type-error"),
        (5, "Дата на въвеждане", "2024-07-19", "type-error"),
        (6, "Дата на акта", "19.07.24", "type-error"),
    ]
    assert report.errors[0].hint["bg"] == (
        "стойността „19.07.2024 г.“ не е дата във формат ДД.ММ.ГГГГ, напр. 19.07.2024: проверете, че денят, "
        "месецът и годината съществуват и са записани в този формат, и коригирайте стойността в източника."
    )
    assert "in the format DD.MM.YYYY, e.g. 19.07.2024" in report.errors[0].hint["en"]


# Errors located in the source


def test_minimum_constraint_error_located(tmp_path):
    table = list_table(["code", "pm10", "measured"], [["S1", "12,5", "01.02.2024"], ["S2", "-47,81", "02.02.2024"]])
    resource = make_resource("air", schema=STATIONS, locale=STATIONS_LOCALE)

    report = check(table, resource, tmp_path)

    [error] = report.errors
    assert (error.dataset, error.resource, error.row, error.field) == (DATASET, "air", 3, "pm10")
    assert (error.label, error.type, error.value, error.constraint) == ("ФПЧ10", "constraint-error", "-47,81", "minimum")
    assert error.note == 'constraint "minimum" is "0"'
    assert error.hint["bg"] == "стойността -47,81 е под минимума 0: проверете източника и коригирайте стойността."
    assert error.hint["en"] == "the value -47,81 is below the minimum 0: check the source and correct the value."


def test_primary_key_duplicate_source_rows(tmp_path):
    rows = [["S1", "1", "01.02.2024"], ["S2", "2", "01.02.2024"], ["S1", "3", "02.02.2024"]]
    table = list_table(["code", "pm10", "measured"], rows, numbers=[4, 6, 10])
    resource = make_resource("air", schema=STATIONS, locale=STATIONS_LOCALE)

    report = check(table, resource, tmp_path)

    [error] = report.errors
    assert (error.row, error.type, error.value) == (10, "primary-key", "S1")
    assert error.note == "the same as in the row at position 4"
    assert "повтаря ред 4:" in error.hint["bg"]
    assert "position" not in error.hint["bg"]
    assert "repeats row 4:" in error.hint["en"]


def test_row_numbers_after_skipped_rows(tmp_path):
    table = list_table(["code", "pm10", "measured"], [["S1", "1", "01.02.2024"], ["S2", "x", "01.02.2024"]], numbers=[3, 8])
    resource = make_resource("air", schema=STATIONS, locale=STATIONS_LOCALE)

    report = check(table, resource, tmp_path)

    assert found(report) == [(8, "pm10", "x", "type-error")]


def test_label_errors_come_first(tmp_path):
    table = list_table(["pm10", "measured", "станция"], [["1", "01.02.2024", "S1"], ["-1", "02.02.2024", "S2"]])
    resource = make_resource("air", schema=STATIONS, locale=STATIONS_LOCALE)

    report = check(table, resource, tmp_path)

    assert found(report) == [
        (None, None, "станция", "extra-label"),
        (None, "code", None, "missing-label"),
        (3, "pm10", "-1", "constraint-error"),
    ]
    assert report.errors[1].label == "Код на станцията"


def test_error_limit_adds_warning(tmp_path):
    rows = [[f"S{index}", "x", "01.02.2024"] for index in range(5)]
    table = list_table(["code", "pm10", "measured"], rows)
    resource = make_resource("air", schema=STATIONS, locale=STATIONS_LOCALE)

    report = check(table, resource, tmp_path, limit_errors=3)

    assert [error.row for error in report.errors] == [2, 3, 4]
    assert [warning["key"] for warning in report.warnings] == ["validation.error_limit"]
    assert report.warnings[0]["en"].startswith("The limit of 3 errors was reached")


def test_valid_table_has_no_errors(tmp_path):
    table = list_table(["code", "pm10", "measured"], [["S1", "1,5", "01.02.2024"]])
    resource = make_resource("air", schema=STATIONS, locale=STATIONS_LOCALE)

    report = check(table, resource, tmp_path)

    assert report.valid is True
    assert report.errors == []
    assert report.summary("en").splitlines()[:2] == [
        'Validation report: dataset "sofia-test", resource "air"',
        "Result: valid, no errors (rows: 1).",
    ]


# The report and its summary


@pytest.fixture
def minimum_report(tmp_path):
    table = list_table(["code", "pm10", "measured"], [["S1", "1", "01.02.2024"], ["S2", "-47,81", "02.02.2024"]])
    resource = make_resource("air", schema=STATIONS, locale=STATIONS_LOCALE)
    return check(table, resource, tmp_path)


def test_summary_bg_names_dataset_row_field_hint(minimum_report):
    lines = minimum_report.summary().splitlines()

    assert lines[0] == "Отчет от валидирането: набор от данни „sofia-test“, ресурс „air“"
    assert lines[1] == "Резултат: невалиден (грешки: 1, редове: 2)."
    assert lines[5] == (
        "1. sofia-test / air, ред 3, поле „pm10“ (ФПЧ10), стойност „-47,81“: нарушено ограничение "
        "(constraint-error). Какво да поправите: стойността -47,81 е под минимума 0: проверете източника "
        "и коригирайте стойността."
    )


def test_summary_en_names_dataset_row_field_hint(minimum_report):
    lines = minimum_report.summary("en").splitlines()

    assert lines[5] == (
        '1. sofia-test / air, row 3, field "pm10" (ФПЧ10), value "-47,81": constraint violated '
        "(constraint-error). What to fix: the value -47,81 is below the minimum 0: check the source and "
        "correct the value."
    )


def test_summary_caps_errors_and_counts_the_rest(tmp_path):
    rows = [[f"S{index}", "x" if index % 2 else "-1", "01.02.2024"] for index in range(25)]
    table = list_table(["code", "pm10", "measured"], rows)
    resource = make_resource("air", schema=STATIONS, locale=STATIONS_LOCALE)

    lines = check(table, resource, tmp_path).summary().splitlines()

    assert lines[4] == "Грешки (първите 20 от 25):"
    assert sum(1 for line in lines if re.match(r"\d+\. sofia-test / air, ред \d+", line)) == 20
    assert lines[26:29] == [
        "Останалите 5 грешки по поле и вид:",
        "  - поле „pm10“, constraint-error: 3",
        "  - поле „pm10“, type-error: 2",
    ]


def test_report_to_dict_and_save(minimum_report, tmp_path):
    saved = minimum_report.save(tmp_path / "reports" / "air.json")

    data = json.loads(saved.read_text(encoding="utf-8"))
    assert list(data) == ["dataset", "resource", "valid", "stats", "read", "warnings", "errors"]
    assert list(data["errors"][0]) == [
        "dataset", "resource", "row", "field", "label", "type", "value", "constraint", "note", "hint",
    ]  # fmt: skip
    assert data["errors"][0]["row"] == 3
    assert data["errors"][0]["hint"]["bg"].startswith("стойността -47,81 е под минимума 0")
    assert data["read"] == {
        "format": "csv", "encoding": "utf-8", "delimiter": ",", "header_rows": [1], "sheet": None,
        "skipped_blank_rows": 0, "dropped_rows": 0, "dropped": [],
    }  # fmt: skip
    assert "ФПЧ10" in saved.read_text(encoding="utf-8")


def test_blank_rows_keep_source_numbers(tmp_path):
    # Encoding and delimiter are left to the reader, so its notices reach the report.
    table = read_table(shared_path("cases", "08-blank-rows", "districts_blank_rows.csv"), ReadOptions(format="csv"))
    schema = {
        "fields": [
            {"name": "district", "type": "string", "title": "Район"},
            {"name": "code", "type": "string", "title": "Код"},
            {"name": "population", "type": "integer", "title": "Брой жители", "constraints": {"maximum": 80000}},
        ]
    }

    report = check(table, make_resource("districts", schema=schema), tmp_path)

    # Красно село is the second data row but line 5 of the file, after a delimiter-only row.
    assert found(report) == [(5, "population", "90495", "constraint-error")]
    assert report.read_info["skipped_blank_rows"] == 5
    assert report.stats["rows"] == 3
    assert [warning["key"] for warning in report.warnings] == [
        "read.notice.encoding_detected", "read.notice.delimiter_sniffed",
    ]  # fmt: skip
