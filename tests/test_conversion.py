"""Conversion: canonical CSV, JSON, Parquet and GeoJSON, value by value, and byte-identical reruns."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opendata_sofia.conversion import convert, output_schema
from opendata_sofia.errors import ValidationFailed
from opendata_sofia.normalise import normalise
from opendata_sofia.reading import SourceRow
from tests.factories import make_resource
from tests.shared import shared_path
from tests.tables import case_table, list_table, read_case_csv

DATASET = "sofia-test"


def run(table, resource, tmp_path, out="out", **options):
    work = normalise(table, resource, DATASET, tmp_path / "work")
    return convert(work, resource, tmp_path / out, **options)


def csv_rows(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def json_rows(path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def files_by_format(result) -> dict:
    return {output.format: output.path for output in result.files}


# Decimal comma


@pytest.fixture
def budget(tmp_path):
    """Convert the valid rows of the decimal-comma case; the two dot-grouped amounts are left out."""
    case = shared_path("cases", "05-decimal-comma")
    table = case_table(case / "budget_decimal_comma.csv", ";", keep=lambda row: row.number not in (5, 7))
    schema = output_schema(json.loads((case / "schema.json").read_text(encoding="utf-8")))
    resource = make_resource("budget", schema=schema, locale={"decimalChar": ",", "groupChar": " "})
    return run(table, resource, tmp_path)


def test_decimal_comma_csv(budget):
    path = files_by_format(budget)["CSV"]

    assert csv_rows(path) == [
        ["параграф", "дейност", "план_лв", "отчет_лв"],
        ["01", "3311", "193135621.00", "192843627.00"],
        ["10", "3311", "1186638.50", "121574.10"],
        ["10", "3311", "-964.00", "0.00"],
        ["53", "3322", "71706", "71706.00"],
    ]
    assert path.read_bytes().startswith("параграф".encode())
    assert path.read_bytes().count(b"\r\n") == 5


def test_decimal_comma_json(budget):
    path = files_by_format(budget)["JSON"]

    assert path.read_text(encoding="utf-8").splitlines()[:2] == [
        "[",
        '{"параграф":"01","дейност":"3311","план_лв":193135621.00,"отчет_лв":192843627.00},',
    ]
    rows = json.loads(path.read_text(encoding="utf-8"), parse_float=str)
    assert [row["план_лв"] for row in rows] == ["193135621.00", "1186638.50", "-964.00", 71706]
    assert [row["параграф"] for row in rows] == ["01", "10", "10", "53"]


def test_decimal_comma_parquet(budget):
    table = pq.read_table(files_by_format(budget)["Parquet"])

    assert table.schema.field("план_лв").type == pa.float64()
    assert table.schema.field("параграф").type == pa.string()
    assert table.column("план_лв").to_pylist() == [193135621.0, 1186638.5, -964.0, 71706.0]
    assert table.column("параграф").to_pylist() == ["01", "10", "10", "53"]


def test_result_lists_files_with_checksums(budget):
    assert budget.rows == 4
    assert [(f.key, f.format, f.media_type) for f in budget.files] == [
        ("budget.csv", "CSV", "text/csv"),
        ("budget.json", "JSON", "application/json"),
        ("budget.parquet", "Parquet", "application/vnd.apache.parquet"),
    ]
    for output in budget.files:
        assert output.sha256 == hashlib.sha256(output.path.read_bytes()).hexdigest()
        assert output.bytes == output.path.stat().st_size
        assert output.resource == "budget"


def test_invalid_row_stops_conversion(tmp_path):
    case = shared_path("cases", "05-decimal-comma")
    table = read_case_csv(case / "budget_decimal_comma.csv", ";")
    schema = output_schema(json.loads((case / "schema.json").read_text(encoding="utf-8")))
    resource = make_resource("budget", schema=schema, locale={"decimalChar": ",", "groupChar": " "})

    with pytest.raises(ValidationFailed) as raised:
        run(table, resource, tmp_path)

    assert raised.value.params == {"resource": "budget", "row": 5}
    assert list((tmp_path / "out").iterdir()) == []


# Dates


def test_dates_ddmmyyyy_become_iso(tmp_path):
    case = shared_path("cases", "06-date-format-ddmmyyyy")
    extra = [SourceRow(9, ["6", "Обект", "02.01.2020", None])]
    table = case_table(case / "acts_dates.csv", ",", keep=lambda row: row.number <= 4, extra_rows=extra)
    schema = output_schema(json.loads((case / "schema.json").read_text(encoding="utf-8")))
    cleanup = [{"fields": ["Дата на въвеждане"], "stripSuffix": " г."}]
    resource = make_resource("acts", schema=schema, locale={"dateFormat": "%d.%m.%Y"}, cleanup=cleanup)

    result = run(table, resource, tmp_path)

    files = files_by_format(result)
    assert [row[2:] for row in csv_rows(files["CSV"])] == [
        ["Дата на акта", "Дата на въвеждане"],
        ["2016-03-15", "2024-07-19"],
        ["2024-07-01", "2024-07-19"],
        ["2024-07-01", "2025-07-30"],
        ["2020-01-02", ""],
    ]
    assert [row["Дата на въвеждане"] for row in json_rows(files["JSON"])] == [
        "2024-07-19", "2024-07-19", "2025-07-30", None,
    ]  # fmt: skip
    parquet = pq.read_table(files["Parquet"])
    assert parquet.schema.field("Дата на акта").type == pa.date32()
    assert parquet.column("Дата на акта").to_pylist()[:3] == [date(2016, 3, 15), date(2024, 7, 1), date(2024, 7, 1)]
    assert parquet.column("Дата на въвеждане").to_pylist()[3] is None
    assert parquet.column("№").type == pa.int64()


# Codes with leading zeros


def test_codes_stay_strings_everywhere(tmp_path):
    table = read_case_csv(shared_path("cases", "09-leading-zero-codes", "class_codes.csv"), ",")
    schema = {"fields": [{"name": name, "type": "string"} for name in table.labels]}
    resource = make_resource("classes", schema=schema)

    files = files_by_format(run(table, resource, tmp_path))

    assert [row[:2] for row in csv_rows(files["CSV"])[1:]] == [
        ["0563", "00357"], ["2277", "02511"], ["0568", "07106"], ["1213", "68134"], ["0164А", "68134"],
    ]  # fmt: skip
    json_data = json_rows(files["JSON"])
    assert [row["код_паралелка"] for row in json_data] == ["0563", "2277", "0568", "1213", "0164А"]
    assert json_data[0]["екатте"] == "00357"
    parquet = pq.read_table(files["Parquet"])
    assert [parquet.schema.field(name).type for name in ("код_паралелка", "екатте", "район_код")] == [pa.string()] * 3
    assert parquet.column("екатте").to_pylist()[:3] == ["00357", "02511", "07106"]
    assert parquet.column("код_паралелка").to_pylist()[4] == "0164А"


# Other types


def test_types_are_written_canonically(tmp_path):
    schema = {
        "fields": [
            {"name": "id", "type": "integer", "title": "Номер", "description": "Пореден номер"},
            {"name": "open", "type": "boolean", "trueValues": ["да"], "falseValues": ["не"]},
            {"name": "seen", "type": "datetime"},
            {"name": "tags", "type": "array"},
            {"name": "year", "type": "year"},
            {"name": "ratio", "type": "number"},
        ]
    }
    rows = [
        ["1", "да", "2024-07-19T14:30:00", '["а", "b"]', "2024", "1e-3"],
        ["2", "не", None, None, None, None],
    ]
    resource = make_resource("misc", schema=schema)

    files = files_by_format(run(list_table([f["name"] for f in schema["fields"]], rows), resource, tmp_path))

    assert csv_rows(files["CSV"])[1:] == [
        ["1", "true", "2024-07-19T14:30:00", '["а","b"]', "2024", "0.001"],
        ["2", "false", "", "", "", ""],
    ]
    assert files["JSON"].read_text(encoding="utf-8").splitlines()[1:3] == [
        '{"id":1,"open":true,"seen":"2024-07-19T14:30:00","tags":["а","b"],"year":2024,"ratio":0.001},',
        '{"id":2,"open":false,"seen":null,"tags":null,"year":null,"ratio":null}',
    ]
    parquet = pq.read_table(files["Parquet"])
    assert parquet.column("seen").to_pylist() == [datetime(2024, 7, 19, 14, 30), None]
    assert parquet.column("tags").to_pylist() == ['["а","b"]', None]
    assert parquet.column("open").to_pylist() == [True, False]
    assert parquet.schema.field("id").metadata == {b"title": "Номер".encode(), b"description": "Пореден номер".encode()}


def test_empty_table_writes_headers_only(tmp_path):
    resource = make_resource("empty", schema={"fields": [{"name": "code", "type": "string"}]})

    result = run(list_table(["code"], []), resource, tmp_path)

    files = files_by_format(result)
    assert result.rows == 0
    assert files["CSV"].read_bytes() == b"code\r\n"
    assert json_rows(files["JSON"]) == []
    assert pq.read_table(files["Parquet"]).num_rows == 0


# Determinism


def test_same_input_gives_identical_bytes(tmp_path):
    rows = [[f"{index:05d}", f"{index},25", "да" if index % 2 else "не"] for index in range(250)]
    schema = {
        "fields": [
            {"name": "code", "type": "string"},
            {"name": "amount", "type": "number"},
            {"name": "open", "type": "boolean", "trueValues": ["да"], "falseValues": ["не"]},
        ]
    }
    resource = make_resource("codes", schema=schema, locale={"decimalChar": ","})

    first = run(list_table(["code", "amount", "open"], rows), resource, tmp_path, out="first", batch_size=7)
    second = run(list_table(["code", "amount", "open"], rows), resource, tmp_path, out="second", batch_size=7)

    assert [(f.key, f.sha256, f.bytes) for f in first.files] == [(f.key, f.sha256, f.bytes) for f in second.files]
    assert first.rows == 250


def test_parquet_row_groups_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr("opendata_sofia.conversion.PARQUET_ROW_GROUP_ROWS", 10)
    rows = [[str(index)] for index in range(25)]
    resource = make_resource("numbers", schema={"fields": [{"name": "n", "type": "integer"}]})

    result = run(list_table(["n"], rows), resource, tmp_path, batch_size=4)

    parquet = pq.ParquetFile(files_by_format(result)["Parquet"])
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [12, 12, 1]
    assert parquet.read().column("n").to_pylist() == list(range(25))


# GeoJSON


def test_geo_resource_writes_feature_collection(tmp_path):
    schema = {
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "geometry", "type": "geojson"},
            {"name": "area", "type": "number"},
        ]
    }
    rows = [
        ["Средец", '{"type": "Point", "coordinates": [23.3219, 42.6977]}', "2,75"],
        ["Лозенец", '{"type": "Point", "coordinates": [23.32, 42.67]}', None],
    ]
    resource = make_resource("districts", schema=schema, read={"format": "geojson"}, locale={"decimalChar": ","})

    result = run(list_table(["name", "geometry", "area"], rows), resource, tmp_path)

    files = files_by_format(result)
    assert files["GeoJSON"].name == "districts.geojson"
    assert [f.media_type for f in result.files if f.format == "GeoJSON"] == ["application/geo+json"]
    assert files["GeoJSON"].read_text(encoding="utf-8").splitlines() == [
        '{"type":"FeatureCollection","features":[',
        '{"type":"Feature","geometry":{"type":"Point","coordinates":[23.3219,42.6977]},'
        '"properties":{"name":"Средец","area":2.75}},',
        '{"type":"Feature","geometry":{"type":"Point","coordinates":[23.32,42.67]},'
        '"properties":{"name":"Лозенец","area":null}}',
        "]}",
    ]
    assert csv_rows(files["CSV"])[1] == ["Средец", '{"type":"Point","coordinates":[23.3219,42.6977]}', "2.75"]


def test_output_schema_drops_source_rules():
    schema = {
        "fields": [
            {"name": "amount", "type": "number", "decimalChar": ",", "groupChar": " "},
            {"name": "act_date", "type": "date", "format": "%d.%m.%Y", "title": "Дата"},
        ]
    }

    assert output_schema(schema)["fields"] == [
        {"name": "amount", "type": "number"},
        {"name": "act_date", "type": "date", "title": "Дата"},
    ]
    assert schema["fields"][0]["decimalChar"] == ","
