"""The Arrow fast path against frictionless-py: the same errors and byte-identical outputs.

Each table is normalised once; then both paths validate the same work CSV and, when it is
valid, both write the outputs. Errors are compared in full (row, field, type, note, cell)
up to the error limit, outputs by their bytes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from opendata_sofia import fastpath, pipeline
from opendata_sofia.catalog import load_catalog
from opendata_sofia.conversion import convert, frictionless_convert, output_schema
from opendata_sofia.errors import ValidationFailed
from opendata_sofia.normalise import normalise
from opendata_sofia.reading import ReadOptions, read_table
from opendata_sofia.validation import validate
from tests.factories import make_resource
from tests.shared import real_inbox, shared_path
from tests.tables import list_table, read_case_csv

ROOT = Path(__file__).resolve().parents[1]
DEMO_INBOX = ROOT / "demo" / "inbox"
LIMIT = 1000


def frictionless_errors(work, limit=LIMIT) -> list[tuple]:
    report = work.frictionless_resource().validate(limit_errors=limit)
    errors = list(report.errors) + (list(report.tasks[0].errors) if report.tasks else [])
    return [_key(error) for error in errors]


def fast_errors(work, limit=LIMIT) -> list[tuple]:
    return [_key(error) for error in fastpath.find_errors(work, limit_errors=limit, batch_size=97)]


def _key(error) -> tuple:
    return (error.row_number, getattr(error, "field_name", None), error.type, error.note, getattr(error, "cell", None))


def assert_same_outputs(work, resource, tmp_path, batch_size=10_000):
    reference = frictionless_convert(work, resource, tmp_path / "frictionless", batch_size=batch_size)
    fast = fastpath.convert(work, resource, tmp_path / "fast", batch_size=batch_size)

    assert fast.rows == reference.rows
    assert fast.schema == reference.schema
    for expected, actual in zip(reference.files, fast.files, strict=True):
        assert actual.key == expected.key
        assert actual.path.read_bytes() == expected.path.read_bytes(), expected.key
        assert (actual.sha256, actual.bytes) == (expected.sha256, expected.bytes)


def compare(table, resource, tmp_path, *, limit=LIMIT, outputs=True):
    work = normalise(table, resource, "sofia-test", tmp_path / "work")
    assert fastpath.unsupported_reason(work.schema) is None

    expected = frictionless_errors(work, limit)
    assert fast_errors(work, limit) == expected
    if outputs and not expected:
        assert_same_outputs(work, resource, tmp_path)
    return expected


# Real files of the catalog


CATALOG = load_catalog(ROOT / "datapackages", ROOT / "schemas")
# Resources with a file to read: planned datasets have none, and the indicator dataset's files
# are written by the pipeline itself from the ledger.
REAL_RESOURCES = [
    pytest.param(dataset, resource, id=f"{dataset.name}/{resource.name}")
    for dataset in sorted(pipeline.runnable(list(CATALOG.datasets.values())), key=lambda dataset: dataset.name)
    for resource in dataset.resources
]


@pytest.mark.parametrize("dataset, resource", REAL_RESOURCES)
def test_real_file_same_errors_and_outputs(dataset, resource, tmp_path):
    demo = DEMO_INBOX / resource.source["path"]
    path = demo if demo.is_file() else real_inbox() / resource.source["path"]
    assert path.is_file(), f"{path} not found: the source is neither a demo file nor among the real files"
    table = read_table(path, ReadOptions.from_descriptor(resource.read))
    work = normalise(table, resource, dataset.name, tmp_path / "work")
    if resource.is_geo:
        # Geometries are checked by frictionless-py only: the fast path must decline the schema
        assert "geojson" in fastpath.unsupported_reason(work.schema)
        return

    expected = frictionless_errors(work)
    assert fast_errors(work) == expected
    if not expected and not resource.is_geo:
        assert_same_outputs(work, resource, tmp_path)


# Cases


def test_decimal_comma_case(tmp_path):
    case = shared_path("cases", "05-decimal-comma")
    schema = output_schema(json.loads((case / "schema.json").read_text(encoding="utf-8")))
    resource = make_resource("budget", schema=schema, locale={"decimalChar": ",", "groupChar": " "})

    errors = compare(read_case_csv(case / "budget_decimal_comma.csv", ";"), resource, tmp_path)

    assert [(row, field, type_) for row, field, type_, *_ in errors] == [(5, "план_лв", "type-error"), (7, "план_лв", "type-error")]


def test_decimal_comma_without_locale_case(tmp_path):
    case = shared_path("cases", "05-decimal-comma")
    schema = output_schema(json.loads((case / "schema.json").read_text(encoding="utf-8")))

    errors = compare(read_case_csv(case / "budget_decimal_comma.csv", ";"), make_resource("budget", schema=schema), tmp_path)

    assert len(errors) == 11


@pytest.mark.parametrize("cleanup", [[], [{"fields": ["Дата на акта", "Дата на въвеждане"], "stripSuffix": " г."}]])
def test_dates_ddmmyyyy_case(cleanup, tmp_path):
    case = shared_path("cases", "06-date-format-ddmmyyyy")
    schema = output_schema(json.loads((case / "schema.json").read_text(encoding="utf-8")))
    resource = make_resource("acts", schema=schema, locale={"dateFormat": "%d.%m.%Y"}, cleanup=cleanup)

    errors = compare(read_case_csv(case / "acts_dates.csv", ","), resource, tmp_path)

    assert {type_ for _, _, type_, *_ in errors} == {"type-error"}


def test_blank_rows_case(tmp_path):
    table = read_table(shared_path("cases", "08-blank-rows", "districts_blank_rows.csv"), ReadOptions(format="csv"))
    schema = {
        "fields": [
            {"name": "district", "type": "string", "title": "Район"},
            {"name": "code", "type": "string", "title": "Код", "constraints": {"pattern": "^68134-[0-9]{2}$"}},
            {"name": "population", "type": "integer", "title": "Брой жители", "constraints": {"maximum": 80000}},
        ]
    }

    errors = compare(table, make_resource("districts", schema=schema), tmp_path)

    assert [(row, field, type_) for row, field, type_, *_ in errors] == [(3, "population", "constraint-error")]


def test_leading_zero_codes_case(tmp_path):
    table = read_case_csv(shared_path("cases", "09-leading-zero-codes", "class_codes.csv"), ",")
    schema = {"fields": [{"name": name, "type": "string"} for name in table.labels]}
    schema["fields"][0]["constraints"] = {"pattern": "^[0-9]{4}[А-Я]?$", "unique": True}
    schema["fields"][1]["constraints"] = {"pattern": "^[0-9]{5}$"}

    errors = compare(table, make_resource("classes", schema=schema), tmp_path)

    assert errors == []


# Generated tables with injected errors


GENERATED_SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True, "minimum": 1}},
        {"name": "code", "type": "string", "constraints": {"pattern": "[0-9]{5}", "minLength": 5, "maxLength": 5}},
        {"name": "district", "type": "string", "constraints": {"enum": ["Средец", "Лозенец", "Витоша"]}},
        {"name": "amount", "type": "number", "constraints": {"minimum": 0, "maximum": 1000000}},
        {"name": "share", "type": "number", "constraints": {"minimum": 0, "maximum": 1}},
        {"name": "opened", "type": "date"},
        {"name": "seen", "type": "datetime"},
        {"name": "at", "type": "time"},
        {"name": "active", "type": "boolean"},
        {"name": "built", "type": "year", "constraints": {"maximum": 2030}},
        {"name": "lat", "type": "number", "constraints": {"minimum": -90, "maximum": 90}},
        {"name": "note", "type": "string", "constraints": {"maxLength": 12}},
    ],
    "primaryKey": ["code", "district"],
    "missingValues": ["", "-", "н.д."],
}
GENERATED_LOCALE = {
    "decimalChar": ",",
    "groupChar": " ",
    "dateFormat": "%d.%m.%Y",
    "trueValues": ["да"],
    "falseValues": ["не"],
}
# Per field: valid texts, then texts that break the type or a constraint.
GOOD = {
    "id": lambda rng, n: str(n),
    "code": lambda rng, n: f"{rng.randrange(100000):05d}",
    "district": lambda rng, n: rng.choice(["Средец", "Лозенец", "Витоша"]),
    "amount": lambda rng, n: rng.choice(["1 234,50", "0,1", "999 999,99", "12", "0", "7,125", "1000000"]),
    "share": lambda rng, n: rng.choice(["0,5", "0,001", "0,999999"]),
    "opened": lambda rng, n: f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.{rng.randrange(2000, 2025)}",
    "seen": lambda rng, n: rng.choice(["2024-07-19T14:30:00", "2024-07-19T14:30:00+02:00", "2024-01-01T00:00:00Z"]),
    "at": lambda rng, n: rng.choice(["14:30:00", "00:00:00", "23:59:59"]),
    "active": lambda rng, n: rng.choice(["да", "не"]),
    "built": lambda rng, n: str(rng.randrange(1900, 2030)),
    "lat": lambda rng, n: f"42,{rng.randrange(10**6):06d}",
    "note": lambda rng, n: rng.choice(["бележка", 'с "кавички"', "ред\nнов", "a,b", "таб\tx", "наклон\\"]),
}
BAD = {
    "id": ["0", "-3", "x", "1.5", "+4", "007", " 8", "99999999999999999999"],
    "code": ["1234", "123456", "12a45", "12345\n", "\u00a012345", "١٢٣٤٥"],
    "district": ["София", "средец", " Средец"],
    "amount": ["-1", "1.234,5", "1 2345", "1e3", "NaN", "abc", "1000000,01", "\u00a012", "12\u00a0", "0 123", "+5", "1000 000", "-0"],
    "share": ["-0,001", "1,001", "1,0", "-0,5", "Infinity", "-Infinity"],
    "opened": ["31.02.2024", "1.2.2024", "2024-02-01", "01.01.1999", "29.02.2023", "19.07.2024 г."],
    "seen": ["2024-07-19", "2024-07-19 14:30", "x"],
    "at": ["25:00:00", "14:30", "2 pm"],
    "active": ["Да", "true", "1", "x"],
    "built": ["20245", "2031", "99", "-200"],
    "lat": ["91", "-90,0000001", "90,0", "42.5"],
    "note": ["дълга бележка над лимита"],
}


def generated_rows(seed: int, count: int, error_rate: float) -> list[list[str | None]]:
    rng = random.Random(seed)
    names = [f["name"] for f in GENERATED_SCHEMA["fields"]]
    rows = []
    for number in range(1, count + 1):
        row = [GOOD[name](rng, number) for name in names]
        for index, name in enumerate(names):
            if rng.random() < error_rate:
                row[index] = rng.choice(BAD[name] + ["", "-", "н.д."])
        if rng.random() < error_rate / 2:
            row = [rng.choice(["", "-"]) for _ in names]  # a blank row
        if rng.random() < error_rate and rows:
            repeated = rng.choice(rows)
            row[0], row[1], row[2] = repeated[0], repeated[1], repeated[2]  # duplicate id and key
        rows.append(row)
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_generated_errors_match(seed, tmp_path):
    rows = generated_rows(seed, 3000, error_rate=0.02)
    names = [f["name"] for f in GENERATED_SCHEMA["fields"]]
    resource = make_resource("generated", schema=GENERATED_SCHEMA, locale=GENERATED_LOCALE)

    errors = compare(list_table(names, rows), resource, tmp_path, limit=100_000)

    found_types = {type_ for _, _, type_, *_ in errors}
    assert found_types >= {"type-error", "constraint-error", "unique-error", "primary-key", "blank-row"}


def test_generated_error_limit_match(tmp_path):
    rows = generated_rows(11, 3000, error_rate=0.05)
    names = [f["name"] for f in GENERATED_SCHEMA["fields"]]
    resource = make_resource("generated", schema=GENERATED_SCHEMA, locale=GENERATED_LOCALE)

    errors = compare(list_table(names, rows), resource, tmp_path, limit=250)

    assert len(errors) == 250


def test_generated_valid_outputs_identical(tmp_path):
    rows = generated_rows(5, 2500, error_rate=0.0)
    names = [f["name"] for f in GENERATED_SCHEMA["fields"]]
    # Keys are drawn at random, so keep the first row of each and drop the repeats.
    seen, unique_rows = set(), []
    for row in rows:
        if (row[1], row[2]) not in seen:
            seen.add((row[1], row[2]))
            unique_rows.append(row)
    resource = make_resource("generated", schema=GENERATED_SCHEMA, locale=GENERATED_LOCALE)
    work = normalise(list_table(names, unique_rows), resource, "sofia-test", tmp_path / "work")

    assert frictionless_errors(work) == []
    assert fast_errors(work) == []
    assert_same_outputs(work, resource, tmp_path, batch_size=300)


def test_leading_zero_integer_key_repeats(tmp_path):
    schema = {"fields": [{"name": "n", "type": "integer"}, {"name": "s", "type": "string"}], "primaryKey": ["n"]}
    rows = [["007", "a"], ["7", "b"], ["-0", "c"], ["0", "d"], [" 7", "e"], ["+7", "f"]]

    errors = compare(list_table(["n", "s"], rows), make_resource("keys", schema=schema), tmp_path)

    assert [(row, type_) for row, _, type_, *_ in errors] == [(3, "primary-key"), (5, "primary-key"), (6, "primary-key"), (7, "primary-key")]


def test_number_key_equal_values_repeat(tmp_path):
    schema = {"fields": [{"name": "x", "type": "number", "constraints": {"unique": True}}]}
    rows = [["1,0"], ["1"], ["1,00"], ["-0"], ["0"], ["NaN"], ["NaN"], ["0,1"]]
    resource = make_resource("numbers", schema=schema, locale={"decimalChar": ","})

    errors = compare(list_table(["x"], rows), resource, tmp_path)

    assert [(row, type_) for row, _, type_, *_ in errors] == [(3, "unique-error"), (4, "unique-error"), (6, "unique-error")]


def test_unsupported_schemas_fall_back():
    assert fastpath.supports({"fields": [{"name": "g", "type": "geojson"}]}) is False
    assert fastpath.supports({"fields": [{"name": "a", "type": "string"}], "foreignKeys": [{"fields": "a", "reference": {"resource": "", "fields": "a"}}]}) is False
    assert fastpath.supports({"fields": [{"name": "t", "type": "time", "constraints": {"unique": True}}]}) is False
    assert fastpath.supports({"fields": [{"name": "a", "type": "string", "missingValues": ["-"]}]}) is False
    assert fastpath.supports({"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": 1}}]}) is True


def test_number_key_float_collision_confirmed(tmp_path):
    # Both texts round to the same float64, so their keys collide, but their Decimals differ.
    schema = {"fields": [{"name": "x", "type": "number", "constraints": {"unique": True}}]}
    rows = [["0.1"], ["0.10000000000000000001"], ["0.1"]]

    errors = compare(list_table(["x"], rows), make_resource("numbers", schema=schema), tmp_path)

    assert [(row, type_, note) for row, _, type_, note, _ in errors] == [(4, "unique-error", "the same as in the row at position 2")]


# Outputs staged while validating


def valid_generated_work(tmp_path):
    names = [f["name"] for f in GENERATED_SCHEMA["fields"]]
    seen, rows = set(), []
    for row in generated_rows(8, 1500, error_rate=0.0):
        if (row[1], row[2]) not in seen:
            seen.add((row[1], row[2]))
            rows.append(row)
    resource = make_resource("generated", schema=GENERATED_SCHEMA, locale=GENERATED_LOCALE)
    return normalise(list_table(names, rows), resource, "sofia-test", tmp_path / "work"), resource


def test_staged_outputs_adopted_identical(tmp_path):
    work, resource = valid_generated_work(tmp_path)
    reference = frictionless_convert(work, resource, tmp_path / "frictionless")

    report = validate(work, "sofia-test", resource.name)
    staged = list(work.path.parent.glob("*.outputs"))
    result = convert(work, resource, tmp_path / "out")

    assert report.valid is True
    assert len(staged) == 1
    assert not staged[0].exists()
    assert result.rows == reference.rows
    for expected, actual in zip(reference.files, result.files, strict=True):
        assert actual.path == tmp_path / "out" / expected.key
        assert actual.path.read_bytes() == expected.path.read_bytes(), expected.key
        assert (actual.sha256, actual.bytes) == (expected.sha256, expected.bytes)


def test_staged_outputs_dropped_when_work_changes(tmp_path):
    work, resource = valid_generated_work(tmp_path)
    validate(work, "sofia-test", resource.name)
    with work.path.open("a", encoding="utf-8", newline="") as handle:
        handle.write("x,Средец,,,,,,,,,,\r\n")

    with pytest.raises(ValidationFailed):
        convert(work, resource, tmp_path / "out")

    assert list(work.path.parent.glob("*.outputs")) == []
    assert list((tmp_path / "out").iterdir()) == []


def test_invalid_table_stages_nothing(tmp_path):
    names = [f["name"] for f in GENERATED_SCHEMA["fields"]]
    resource = make_resource("generated", schema=GENERATED_SCHEMA, locale=GENERATED_LOCALE)
    work = normalise(list_table(names, generated_rows(3, 500, error_rate=0.02)), resource, "sofia-test", tmp_path / "work")

    report = validate(work, "sofia-test", resource.name)

    assert report.valid is False
    assert list(work.path.parent.glob("*.outputs")) == []
