"""Normalising: labels to fields, clean-up rules, the work CSV, the row map, the localized schema."""

from __future__ import annotations

import csv
from array import array

import pytest

from opendata_sofia.errors import CatalogError
from opendata_sofia.normalise import localize_schema, normalise
from tests.factories import make_resource
from tests.tables import list_table

SCHEMA = {
    "fields": [
        {"name": "code", "type": "string", "title": "Код по ЕКАТТЕ", "constraints": {"required": True}},
        {"name": "name", "type": "string", "title": "Наименование"},
        {"name": "budget", "type": "number", "title": "Бюджет, лв."},
        {"name": "act_date", "type": "date", "title": "Дата на акта"},
        {"name": "note", "type": "string", "title": "Бележка"},
    ],
    "primaryKey": ["code"],
}


def read_work(work) -> list[list[str]]:
    with work.path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_labels_match_configured_name_and_title(tmp_path):
    table = list_table(
        ["Бележка", "  код  по   екатте ", "Сума", "name"],
        [["бел.", "00357", "12,5", "Банкя"]],
    )
    resource = make_resource(schema=SCHEMA, labels={"Сума": "budget"})

    work = normalise(table, resource, "sofia-test", tmp_path)

    assert read_work(work) == [
        ["code", "name", "budget", "act_date", "note"],
        ["00357", "Банкя", "12,5", "", "бел."],
    ]
    assert work.label_errors == []


def test_missing_optional_field_left_empty(tmp_path):
    table = list_table(["code", "name", "budget", "note"], [["0563", "Банкя", "1", None]])

    work = normalise(table, make_resource(schema=SCHEMA), "sofia-test", tmp_path)

    assert read_work(work)[1] == ["0563", "Банкя", "1", "", ""]
    assert [(notice.key, notice.params) for notice in work.notices] == [
        ("normalise.optional_field_empty", {"field": "act_date"})
    ]
    assert work.missing_fields == ["act_date"]


def test_label_errors_extra_blank_duplicate_missing(tmp_path):
    table = list_table(["name", "Код на района", "", "Наименование"], [["Банкя", "x", "y", "Банкя 2"]])

    work = normalise(table, make_resource(schema=SCHEMA), "sofia-test", tmp_path)

    found = [(error.type, error.field, error.value, error.row) for error in work.label_errors]
    assert found == [
        ("extra-label", None, "Код на района", None),
        ("blank-label", None, "", None),
        ("duplicate-label", "name", "Наименование", None),
        ("missing-label", "code", None, None),
    ]
    # The first column that matched a field keeps it; the duplicate's cells are not copied.
    assert read_work(work)[1] == ["", "Банкя", "", "", ""]


def test_missing_required_field_relaxes_its_checks(tmp_path):
    table = list_table(["name"], [["Банкя"], ["Бояна"]])

    work = normalise(table, make_resource(schema=SCHEMA), "sofia-test", tmp_path)

    assert "required" not in work.schema["fields"][0].get("constraints", {})
    assert "primaryKey" not in work.schema
    assert work.canonical_schema["fields"][0]["constraints"] == {"required": True}
    assert work.canonical_schema["primaryKey"] == ["code"]
    assert ("normalise.primary_key_skipped", {"fields": "code"}) in [(n.key, n.params) for n in work.notices]


def test_cleanup_rules_change_only_configured_fields(tmp_path):
    table = list_table(
        ["code", "name", "act_date", "note"],
        [
            ["00357", "Банкя\u00a0град", "19.07.2024 г.", " г."],
            [" 0563 ", "  Бояна  ", "01.07.2024", "19.07.2024 г."],
        ],
    )
    cleanup = [
        {"fields": ["act_date"], "stripSuffix": " г."},
        {"fields": ["name"], "replace": {"from": "\u00a0", "to": " "}},
        {"fields": ["name"], "strip": True},
    ]
    resource = make_resource(schema=SCHEMA, cleanup=cleanup)

    work = normalise(table, resource, "sofia-test", tmp_path)

    rows = read_work(work)[1:]
    assert rows[0] == ["00357", "Банкя град", "", "19.07.2024", " г."]
    assert rows[1] == [" 0563 ", "Бояна", "", "01.07.2024", "19.07.2024 г."]


def test_cleanup_unknown_rule_raises(tmp_path):
    table = list_table(["code"], [["1"]])
    resource = make_resource(schema=SCHEMA, cleanup=[{"fields": ["code"], "lower": True}])

    with pytest.raises(CatalogError) as raised:
        normalise(table, resource, "sofia-test", tmp_path)

    assert raised.value.key == "catalog.cleanup_unknown"
    assert raised.value.params == {"rule": "lower", "field": "code", "allowed": "stripSuffix, replace, strip, padStart"}
    assert raised.value.render("bg") == (
        "Непознато правило за почистване „lower“ за полето „code“: използвайте едно от stripSuffix, replace, strip, padStart."
    )


def test_row_numbers_follow_source_after_skipped_rows(tmp_path):
    table = list_table(["code"], [["1"], ["2"], ["3"]], numbers=[3, 5, 9])

    work = normalise(table, make_resource(schema=SCHEMA), "sofia-test", tmp_path, batch_size=2)

    assert work.row_numbers == array("L", [3, 5, 9])
    assert work.row_count == 3
    assert [work.source_row(number) for number in (2, 3, 4)] == [3, 5, 9]
    assert work.source_row(1) is None
    assert work.source_row(5) is None


def test_batch_size_does_not_change_work_csv(tmp_path):
    rows = [[f"{index:05d}", f"име {index}", f"{index},5"] for index in range(7)]
    table = list_table(["code", "name", "budget"], rows)
    resource = make_resource(schema=SCHEMA)

    small = normalise(table, resource, "small", tmp_path, batch_size=2)
    large = normalise(table, resource, "large", tmp_path)

    assert small.path.read_bytes() == large.path.read_bytes()
    assert read_work(small)[1] == ["00000", "име 0", "0,5", "", ""]


def test_rows_of_wrong_width_are_reported(tmp_path):
    table = list_table(
        ["code", "name", "budget"],
        [["1", "a", "2", "extra"], ["2", "b"], ["3", "c", "4", None, " "]],
    )

    work = normalise(table, make_resource(schema=SCHEMA), "sofia-test", tmp_path)

    found = [(problem.type, problem.row, problem.field, problem.value) for problem in work.row_errors]
    assert found == [("extra-cell", 2, None, "extra"), ("missing-cell", 3, "budget", None)]
    assert work.row_error_count == 2
    assert read_work(work)[1:] == [["1", "a", "2", "", ""], ["2", "b", "", "", ""], ["3", "c", "4", "", ""]]


def test_localize_schema_sets_number_and_date_rules():
    schema = {
        "fields": [
            {"name": "amount", "type": "number"},
            {"name": "count", "type": "integer"},
            {"name": "act_date", "type": "date"},
            {"name": "stamp", "type": "datetime"},
            {"name": "code", "type": "string"},
        ]
    }
    locale = {
        "decimalChar": ",",
        "groupChar": " ",
        "dateFormat": "%d.%m.%Y",
        "datetimeFormat": "%d.%m.%Y %H:%M",
        "fields": {"amount": {"groupChar": "."}, "count": {"bareNumber": False}},
    }

    localized, notices = localize_schema(schema, locale)

    assert localized["fields"] == [
        {"name": "amount", "type": "number", "decimalChar": ",", "groupChar": "."},
        {"name": "count", "type": "integer", "bareNumber": False},
        {"name": "act_date", "type": "date", "format": "%d.%m.%Y"},
        {"name": "stamp", "type": "datetime", "format": "%d.%m.%Y %H:%M"},
        {"name": "code", "type": "string"},
    ]
    assert schema["fields"][0] == {"name": "amount", "type": "number"}
    assert [(notice.key, notice.params) for notice in notices] == [
        ("normalise.locale_not_applied", {"field": "count", "property": "groupChar", "type": "integer"})
    ]


def test_localize_schema_unknown_key_raises():
    with pytest.raises(CatalogError) as raised:
        localize_schema({"fields": []}, {"decimalSeparator": ","})

    assert raised.value.key == "catalog.locale_unknown"
    assert raised.value.params["keys"] == "decimalSeparator"
