"""JSON arrays of records and GeoJSON feature collections."""

from __future__ import annotations

import json

import pytest

from opendata_sofia.errors import ReadError
from opendata_sofia.reading import ReadOptions, read_table
from opendata_sofia.reading.jsondoc import RawNumber, compact_json
from tests.reading_helpers import cells, numbers, read_all, write
from tests.shared import shared_path

STOP_COLUMNS = {"code": "code", "name_bg": "names.bg", "name_en": "names.en", "lat": "coords.0", "lon": "coords.1"}


def test_stops_default_columns():
    table, rows = read_all(shared_path("data", "real", "sofia-transit", "stops.json"))

    assert table.info.format == "json"
    assert table.info.encoding == "utf-8"
    assert table.labels == ["code", "coords", "names", "local_ref", "metro_ref", "request_stop"]
    assert len(rows) == 2828
    assert rows[0].number == 1
    assert rows[0].cells == [
        "0729", "[42.68473,23.36491]", '{"bg":"Зала Фестивална","en":"Zala Festivalna"}', None, None, None,
    ]  # fmt: skip
    assert rows[-1].number == 2828
    assert sum(1 for row in rows if row.cells[0].startswith("0")) == 927


def test_stops_mapped_columns():
    table, rows = read_all(shared_path("data", "real", "sofia-transit", "stops.json"), columns=STOP_COLUMNS)

    assert table.labels == ["code", "name_bg", "name_en", "lat", "lon"]
    assert rows[0].cells == ["0729", "Зала Фестивална", "Zala Festivalna", "42.68473", "23.36491"]
    assert rows[1].cells == ["1454", "Разклона за летището", "Airport Crossroad", "42.67166", "23.39359"]
    assert rows[2].cells == ["0027", "28-ми ДКЦ", "28th Polyclinic", "42.66569", "23.4064"]


def test_rpu_geojson_mixed_geometries():
    table, rows = read_all(shared_path("data", "real", "sofia-geojson", "rpu_sofia.geojson"))

    assert table.info.format == "geojson"
    assert table.labels == ["name", "description", "url", "id", "address", "telephone", "populationEst", "geometry"]
    assert len(rows) == 10
    assert numbers(rows) == list(range(1, 11))
    assert rows[0].cells[0] == "04 РПУ"
    assert rows[0].cells[3] == "sdvr_rpu4"
    assert rows[0].cells[4] == "ул.“Крум Попов“ №57"
    assert rows[0].cells[6] == "120000"
    assert rows[9].cells[:7] == [None, None, None, "outline", None, None, None]

    kinds = [json.loads(row.cells[7])["type"] for row in rows]
    assert kinds.count("Polygon") == 4
    assert kinds.count("MultiPolygon") == 5
    assert kinds.count("MultiLineString") == 1
    assert rows[0].cells[7].startswith('{"type":"Polygon","coordinates":[[[')


def test_numbers_kept_as_written(tmp_path):
    path = write(tmp_path, "n.json", '[{"a": 1.10, "b": 0, "c": 1e5, "d": -0.0, "e": 12345678901234567890}]')

    _, rows = read_all(path)

    assert cells(rows) == [["1.10", "0", "1e5", "-0.0", "12345678901234567890"]]


def test_values_rendered(tmp_path):
    records = '[{"t": true, "f": false, "n": null, "s": "", "o": {"k": [1, "я"]}, "x": " a "}]'
    path = write(tmp_path, "v.json", records)

    table, rows = read_all(path)

    assert table.labels == ["t", "f", "n", "s", "o", "x"]
    assert cells(rows) == [["true", "false", None, None, '{"k":[1,"я"]}', " a "]]


def test_union_of_keys_in_order(tmp_path):
    path = write(tmp_path, "u.json", '[{"a": 1}, {"b": 2, "a": 3}, {"c": 4}]')

    table, rows = read_all(path)

    assert table.labels == ["a", "b", "c"]
    assert cells(rows) == [["1", None, None], ["3", "2", None], [None, None, "4"]]


def test_record_path(tmp_path):
    path = write(tmp_path, "p.json", '{"meta": {"asOf": "2025-01-01"}, "data": {"items": [{"код": "01"}, {"код": "02"}]}}')

    table, rows = read_all(path, recordPath="data.items")

    assert table.labels == ["код"]
    assert cells(rows) == [["01"], ["02"]]


def test_missing_mapped_path_is_none(tmp_path):
    path = write(tmp_path, "m.json", '[{"coords": [42.1]}, {"coords": null, "code": "7"}]')

    _, rows = read_all(path, columns={"code": "code", "lat": "coords.0", "lon": "coords.1"})

    assert cells(rows) == [[None, "42.1", None], ["7", None, None]]


def test_empty_record_counted_as_blank(tmp_path):
    path = write(tmp_path, "e.json", '[{"a": 1}, {"a": null}, {"a": 2}]')

    table, rows = read_all(path)

    assert cells(rows) == [["1"], ["2"]]
    assert numbers(rows) == [1, 3]
    assert table.info.skipped_blank_rows == 1


def test_object_at_top_needs_record_path(tmp_path):
    path = write(tmp_path, "o.json", '{"data": [{"a": 1}]}')

    with pytest.raises(ReadError) as raised:
        read_table(path)

    assert raised.value.key == "read.json_not_records"
    assert raised.value.params == {"file": "o.json", "path": "", "value": "object"}


def test_record_path_missing(tmp_path):
    path = write(tmp_path, "o.json", '{"data": [{"a": 1}]}')

    with pytest.raises(ReadError) as raised:
        read_table(path, ReadOptions(record_path="rows"))

    assert raised.value.key == "read.json_path_not_found"
    assert raised.value.params == {"file": "o.json", "path": "rows"}


def test_record_not_object_raises(tmp_path):
    path = write(tmp_path, "r.json", '[{"a": 1}, [1, 2]]')

    with pytest.raises(ReadError) as raised:
        read_table(path)

    assert raised.value.key == "read.json_record_not_object"
    assert raised.value.params == {"file": "r.json", "row": 2, "value": "array"}


def test_invalid_json_names_line(tmp_path):
    path = write(tmp_path, "bad.json", '[\n  {"a": 1},\n  {"a": 2,}\n]')

    with pytest.raises(ReadError) as raised:
        read_table(path)

    assert raised.value.key == "read.json_invalid"
    assert raised.value.params["file"] == "bad.json"
    assert raised.value.params["row"] == 3


def test_geojson_needs_features(tmp_path):
    path = write(tmp_path, "g.geojson", '{"type": "Feature", "properties": {}, "geometry": null}')

    with pytest.raises(ReadError) as raised:
        read_table(path)

    assert raised.value.key == "read.geojson_not_features"


def test_geojson_property_union_then_geometry(tmp_path):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"a": 1}, "geometry": {"type": "Point", "coordinates": [23.3, 42.7]}},
            {"type": "Feature", "properties": {"b": "x"}, "geometry": None},
        ],
    }
    path = write(tmp_path, "g.geojson", json.dumps(collection))

    table, rows = read_all(path)

    assert table.labels == ["a", "b", "geometry"]
    assert cells(rows) == [["1", None, '{"type":"Point","coordinates":[23.3,42.7]}'], [None, "x", None]]


def test_json_with_bom(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + '[{"име": "Средец"}]'.encode())

    table, rows = read_all(path)

    assert table.info.encoding == "utf-8-sig"
    assert table.labels == ["име"]
    assert cells(rows) == [["Средец"]]


def test_compact_json():
    assert compact_json({"a": [RawNumber("1.50"), None, True], "б": "в"}) == '{"a":[1.50,null,true],"б":"в"}'
