"""Each bug-report case end to end: read → normalise → validate → convert, checked value by value.

The case files live in `../shared/cases`. Each test builds the resource that the case's README
implies (or uses the case's own `schema.json`), runs the real steps and checks the outputs (CSV
text, JSON values, Parquet values and types) and the validation report (row, field, type).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opendata_sofia import i18n
from opendata_sofia.conversion import ConversionResult, convert
from opendata_sofia.errors import EncodingError, ValidationFailed
from opendata_sofia.normalise import normalise
from opendata_sofia.pipeline import check_dataset, fetch_dataset, process_dataset
from opendata_sofia.reading import ReadOptions, TableRead, read_table
from opendata_sofia.slugs import NAME_PATTERN, slugify, unique_name
from opendata_sofia.validation import ValidationReport, validate
from tests.factories import make_dataset, make_resource
from tests.runs import local_target, published_names, run_context
from tests.shared import shared_path

DATASET = "sofia-case"


@pytest.fixture(autouse=True)
def _language_from_environment(monkeypatch):
    """Render messages in the language of `OPENDATA_SOFIA_LANG`, whatever an earlier test set."""
    monkeypatch.setattr(i18n, "_language", None)
    monkeypatch.setenv("OPENDATA_SOFIA_LANG", "bg")


# The real path


def case_file(case: str, name: str) -> Path:
    return shared_path("cases", case, name)


def case_schema(case: str) -> dict:
    return json.loads(case_file(case, "schema.json").read_text(encoding="utf-8"))


def read_case(path: Path, keep=None, **read) -> TableRead:
    """Read a case file with descriptor-style options; `keep(row)` leaves out rows, as a filter."""
    table = read_table(path, ReadOptions.from_descriptor(read))
    if keep is None:
        return table
    rows = [row for batch in table.batches() for row in batch if keep(row)]
    return TableRead(table.labels, table.info, lambda _info: iter(rows))


def run_path(table: TableRead, resource, tmp_path: Path) -> tuple[ValidationReport, ConversionResult | None]:
    """Normalise and validate `table`; convert it only when the report is valid, as the pipeline does."""
    work = normalise(table, resource, DATASET, tmp_path / "work")
    report = validate(work, DATASET, resource.name)
    if not report.valid:
        return report, None
    return report, convert(work, resource, tmp_path / "out")


def errors_of(report: ValidationReport) -> list[tuple]:
    return [(error.row, error.field, error.value, error.type) for error in report.errors]


def output(result: ConversionResult, extension: str) -> Path:
    return next(file.path for file in result.files if file.path.suffix == f".{extension}")


def csv_text(result: ConversionResult) -> str:
    return output(result, "csv").read_bytes().decode("utf-8")


def csv_rows(result: ConversionResult) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_text(result), newline="")))


def json_rows(result: ConversionResult) -> list[dict]:
    # Decimal keeps the digits the JSON output wrote (193135621.00), which float would drop.
    return json.loads(output(result, "json").read_text(encoding="utf-8"), parse_float=Decimal)


def parquet(result: ConversionResult) -> pa.Table:
    return pq.read_table(output(result, "parquet"))


def parquet_types(result: ConversionResult) -> dict[str, pa.DataType]:
    return {field.name: field.type for field in parquet(result).schema}


# 01: windows-1251 files


CP1251 = "01-cp1251-encoding-detection"
KINDERGARTENS = {
    "fields": [
        {"name": "district", "type": "string", "title": "Район"},
        {"name": "kindergarten", "type": "string", "title": "Детска градина"},
        {"name": "address", "type": "string", "title": "Адрес"},
        {"name": "places", "type": "integer", "title": "Места"},
        {"name": "updated", "type": "date", "title": "Актуализация"},
    ]
}
SETTLEMENTS = {
    "fields": [
        {"name": "province", "type": "string", "title": "ОБЛАСТ"},
        {"name": "municipality", "type": "string", "title": "ОБЩИНА"},
        {"name": "settlement", "type": "string", "title": "НАСЕЛЕНО МЯСТО"},
        {"name": "residents", "type": "integer", "title": "ПОСТОЯНЕН АДРЕС"},
    ]
}


def test_cp1251_kindergartens_decode_and_publish(tmp_path):
    table = read_case(case_file(CP1251, "kindergartens_cp1251.csv"))
    resource = make_resource("kindergartens", schema=KINDERGARTENS, locale={"dateFormat": "%d.%m.%Y"})

    report, result = run_path(table, resource, tmp_path)

    assert table.info.encoding == "windows-1251"
    assert table.labels == ["Район", "Детска градина", "Адрес", "Места", "Актуализация"]
    assert errors_of(report) == []
    assert report.read_info["encoding"] == "windows-1251"
    assert csv_text(result) == (
        "district,kindergarten,address,places,updated\r\n"
        "Средец,ДГ № 12 „Слънчице“,ул. „Примерна“ № 1,96,2024-03-15\r\n"
        "Лозенец,ДГ № 40 „Щурче“,бул. „Тестов“ № 22,120,2024-03-15\r\n"
        'Люлин,ДГ № 7 „Жар-птица“,"ж.к. Люлин, бл. 000",144,2024-03-16\r\n'
        "Възраждане,ДГ № 3 „Юнаци“,ул. „Въображаема“ № 5,72,2024-03-16\r\n"
        "Оборище,ДГ № 25 „Ябълчица“,пл. „Условен“ № 9,88,2024-03-17\r\n"
    )
    assert json_rows(result)[2] == {
        "district": "Люлин",
        "kindergarten": "ДГ № 7 „Жар-птица“",
        "address": "ж.к. Люлин, бл. 000",
        "places": 144,
        "updated": "2024-03-16",
    }
    assert parquet(result).column("places").to_pylist() == [96, 120, 144, 72, 88]
    assert parquet(result).column("updated").to_pylist()[-1] == date(2024, 3, 17)
    assert parquet_types(result)["places"] == pa.int64()


def test_cp1251_all_caps_decode_and_publish(tmp_path):
    table = read_case(case_file(CP1251, "settlements_caps_cp1251.csv"))
    resource = make_resource("settlements", schema=SETTLEMENTS)

    report, result = run_path(table, resource, tmp_path)

    assert table.info.encoding == "windows-1251"
    assert table.labels == ["ОБЛАСТ", "ОБЩИНА", "НАСЕЛЕНО МЯСТО", "ПОСТОЯНЕН АДРЕС"]
    assert errors_of(report) == []
    assert csv_rows(result) == [
        ["province", "municipality", "settlement", "residents"],
        ["СОФИЯ", "СТОЛИЧНА", "ГР.СОФИЯ", "1304772"],
        ["СОФИЯ", "СТОЛИЧНА", "С.БИСТРИЦА", "3541"],
        ["СОФИЯ", "СТОЛИЧНА", "ГР.БАНКЯ", "11870"],
        ["СОФИЯ", "СТОЛИЧНА", "С.ЛОЗЕН", "3276"],
    ]
    assert [row["settlement"] for row in json_rows(result)] == ["ГР.СОФИЯ", "С.БИСТРИЦА", "ГР.БАНКЯ", "С.ЛОЗЕН"]
    assert parquet(result).column("residents").to_pylist() == [1304772, 3541, 11870, 3276]


# Each wrong single-byte encoding with the example word the mojibake guard quotes from the file.
WRONG_ENCODINGS = [
    ("kindergartens_cp1251.csv", "koi8-u", "koi8-u", "пЮИНМ"),
    ("kindergartens_cp1251.csv", "cp1252", "windows-1252", "Ðàéîí"),
    ("kindergartens_cp1251.csv", "mac-cyrillic", "mac-cyrillic", "јдрес"),
    ("settlements_caps_cp1251.csv", "koi8-u", "koi8-u", "накюяр"),
    ("settlements_caps_cp1251.csv", "cp1252", "windows-1252", "ÎÁËÀÑÒ"),
    ("settlements_caps_cp1251.csv", "mac-cyrillic", "mac-cyrillic", "ќЅЋј"),
]


def cp1251_dataset(file_name: str, encoding: str):
    resource = make_resource(
        "table",
        schema=SETTLEMENTS if file_name.startswith("settlements") else KINDERGARTENS,
        source={"kind": "inbox", "path": file_name},
        read={"format": "csv", "encoding": encoding},
    )
    return make_dataset("sofia-case-cp1251", resources=[resource])


@pytest.mark.parametrize(("file_name", "configured", "shown", "word"), WRONG_ENCODINGS)
def test_cp1251_wrong_encoding_stops_check(file_name, configured, shown, word, tmp_path):
    dataset = cp1251_dataset(file_name, configured)
    context = run_context(tmp_path, case_file(CP1251, file_name).parent)
    pulls = fetch_dataset(dataset, context)

    with pytest.raises(EncodingError) as raised:
        check_dataset(dataset, pulls, context)

    assert raised.value.key == "read.encoding_mojibake"
    assert raised.value.render("bg") == (
        f"Файлът {file_name}, прочетен в кодировка {shown}, дава неразбираем текст (например „{word}“). "
        'Файлът се чете правилно като windows-1251: задайте "encoding": "windows-1251" в sofia.read на ресурса.'
    )
    assert raised.value.render("en") == (
        f'File {file_name} read as {shown} gives garbled text (for example "{word}"). '
        "The file reads correctly as windows-1251: set \"encoding\": \"windows-1251\" in the resource's sofia.read."
    )


@pytest.mark.parametrize(("file_name", "configured", "shown", "word"), WRONG_ENCODINGS)
def test_cp1251_wrong_encoding_publishes_nothing(file_name, configured, shown, word, tmp_path, monkeypatch):
    dataset = cp1251_dataset(file_name, configured)
    context = run_context(tmp_path, case_file(CP1251, file_name).parent)
    target = local_target(context)

    result = process_dataset(dataset, context, target)
    monkeypatch.setenv("OPENDATA_SOFIA_LANG", "en")
    english = process_dataset(dataset, context, target)

    assert result.status == "invalid"
    assert result.message.startswith(f"Файлът {file_name}, прочетен в кодировка {shown}")
    assert result.message.endswith('задайте "encoding": "windows-1251" в sofia.read на ресурса.')
    assert english.status == "invalid"
    assert english.message.startswith(f"File {file_name} read as {shown} gives garbled text")
    assert english.message.endswith("set \"encoding\": \"windows-1251\" in the resource's sofia.read.")
    assert published_names(target) == []
    assert not (context.settings.portal / dataset.name).exists()


# 03: BOM glued to the first label


BOM = "03-bom-in-header"
# Field names equal the source labels, so a U+FEFF left in a label would show in every output.
SCHOOLS = {
    "fields": [
        {"name": "Код", "type": "string", "constraints": {"pattern": "^[0-9]{7}$"}},
        {"name": "Училище", "type": "string"},
        {"name": "Брой", "type": "integer"},
        {"name": "Среден успех", "type": "number"},
    ]
}


@pytest.mark.parametrize("file_name", ["schools_bom.csv", "schools_triple_bom.csv"])
def test_bom_never_reaches_outputs(file_name, tmp_path):
    table = read_case(case_file(BOM, file_name))
    resource = make_resource("schools", schema=SCHOOLS, locale={"decimalChar": ","})

    report, result = run_path(table, resource, tmp_path)

    assert table.labels[0] == "Код"
    assert errors_of(report) == []
    assert csv_text(result) == (
        "Код,Училище,Брой,Среден успех\r\n"
        "2200001,СУ „Примерно“,38,4.05\r\n"
        "2200002,ОУ „Условно“,17,3.70\r\n"
    )
    assert json_rows(result) == [
        {"Код": "2200001", "Училище": "СУ „Примерно“", "Брой": 38, "Среден успех": Decimal("4.05")},
        {"Код": "2200002", "Училище": "ОУ „Условно“", "Брой": 17, "Среден успех": Decimal("3.70")},
    ]
    assert parquet(result).column_names == ["Код", "Училище", "Брой", "Среден успех"]
    assert parquet(result).column("Среден успех").to_pylist() == [4.05, 3.7]
    for extension in ("csv", "json", "parquet"):
        assert "\ufeff".encode() not in output(result, extension).read_bytes(), extension


# 04: semicolon delimiter


def test_semicolon_sniffed_and_kept_in_values(tmp_path):
    table = read_case(case_file("04-semicolon-delimiter-sniffing", "air_quality_semicolon.csv"))
    schema = {
        "fields": [
            {"name": "station", "type": "string", "title": "Станция"},
            {"name": "pollutant", "type": "string", "title": "Показател"},
            {"name": "measured_at", "type": "datetime", "title": "Дата и час"},
            {"name": "level", "type": "number", "title": "Стойност"},
            {"name": "unit", "type": "string", "title": "Мерна единица"},
        ]
    }
    resource = make_resource(
        "readings", schema=schema, locale={"decimalChar": ",", "datetimeFormat": "%d.%m.%Y %H:%M"}
    )

    report, result = run_path(table, resource, tmp_path)

    assert table.labels == ["Станция", "Показател", "Дата и час", "Стойност", "Мерна единица"]
    assert report.read_info["delimiter"] == ";"
    assert "read.notice.delimiter_sniffed" in [warning["key"] for warning in report.warnings]
    assert errors_of(report) == []
    assert csv_text(result) == (
        "station,pollutant,measured_at,level,unit\r\n"
        "Дружба,ФПЧ10,2024-01-15T08:00:00,41.27,µg/m³\r\n"
        "Надежда,ФПЧ10,2024-01-15T08:00:00,38.9,µg/m³\r\n"
        "Павлово,NO2,2024-01-15T08:00:00,27.35,µg/m³\r\n"
        "Копитото,O3,2024-01-15T08:00:00,55.02,µg/m³\r\n"
        'Младост,"ФПЧ2,5",2024-01-15T08:00:00,22.1,µg/m³\r\n'
    )
    assert json_rows(result)[4] == {
        "station": "Младост",
        "pollutant": "ФПЧ2,5",
        "measured_at": "2024-01-15T08:00:00",
        "level": Decimal("22.1"),
        "unit": "µg/m³",
    }
    assert parquet(result).column("level").to_pylist() == [41.27, 38.9, 27.35, 55.02, 22.1]
    assert parquet(result).column("measured_at").to_pylist()[0] == datetime(2024, 1, 15, 8, 0)
    assert parquet_types(result)["measured_at"] == pa.timestamp("us")


# 05: decimal comma and group separators


DECIMAL = "05-decimal-comma"


def test_decimal_comma_dot_groups_reported(tmp_path):
    table = read_case(case_file(DECIMAL, "budget_decimal_comma.csv"))
    resource = make_resource("budget", schema=case_schema(DECIMAL))

    report, result = run_path(table, resource, tmp_path)

    assert result is None
    assert errors_of(report) == [
        (5, "план_лв", "1.933.273", "type-error"),
        (7, "план_лв", "1.234", "type-error"),
    ]
    assert report.stats["rows"] == 6


def test_decimal_comma_invalid_row_stops_conversion(tmp_path):
    table = read_case(case_file(DECIMAL, "budget_decimal_comma.csv"))
    resource = make_resource("budget", schema=case_schema(DECIMAL))
    work = normalise(table, resource, DATASET, tmp_path / "work")

    with pytest.raises(ValidationFailed) as raised:
        convert(work, resource, tmp_path / "out")

    assert raised.value.key == "conversion.invalid_row"
    assert raised.value.params["row"] == 5
    assert list((tmp_path / "out").iterdir()) == []


def test_decimal_comma_values_with_explicit_rule(tmp_path):
    # The operator states that dots group thousands in this export, so they are removed.
    table = read_case(case_file(DECIMAL, "budget_decimal_comma.csv"))
    rule = {"fields": ["план_лв"], "replace": {"from": ".", "to": ""}}
    resource = make_resource("budget", schema=case_schema(DECIMAL), cleanup=[rule])

    report, result = run_path(table, resource, tmp_path)

    assert errors_of(report) == []
    assert csv_text(result) == (
        "параграф,дейност,план_лв,отчет_лв\r\n"
        "01,3311,193135621.00,192843627.00\r\n"
        "10,3311,1186638.50,121574.10\r\n"
        "10,3311,-964.00,0.00\r\n"
        "52,3322,1933273,1909261.25\r\n"
        "53,3322,71706,71706.00\r\n"
        "10,3322,1234,1234.00\r\n"
    )
    rows = json_rows(result)
    assert rows[0] == {"параграф": "01", "дейност": "3311", "план_лв": Decimal("193135621.00"), "отчет_лв": Decimal("192843627.00")}
    assert [row["план_лв"] for row in rows] == [
        Decimal("193135621.00"), Decimal("1186638.50"), Decimal("-964.00"), 1933273, 71706, 1234,
    ]  # fmt: skip
    assert parquet(result).column("план_лв").to_pylist() == [193135621.0, 1186638.5, -964.0, 1933273.0, 71706.0, 1234.0]
    assert parquet(result).column("параграф").to_pylist() == ["01", "10", "10", "52", "53", "10"]
    assert parquet_types(result) == {
        "параграф": pa.string(), "дейност": pa.string(), "план_лв": pa.float64(), "отчет_лв": pa.float64(),
    }  # fmt: skip


# 06: dd.mm.yyyy dates


DATES = "06-date-format-ddmmyyyy"
STRIP_YEAR_SUFFIX = {"fields": ["Дата на въвеждане"], "stripSuffix": " г."}


def test_dates_wrong_forms_reported_per_row(tmp_path):
    table = read_case(case_file(DATES, "acts_dates.csv"))
    resource = make_resource("acts", schema=case_schema(DATES), cleanup=[STRIP_YEAR_SUFFIX])

    report, result = run_path(table, resource, tmp_path)

    # The empty cell of row 6 is null, not an error.
    assert result is None
    assert errors_of(report) == [
        (5, "Дата на акта", "31.02.2024", "type-error"),
        (5, "Дата на въвеждане", "2024-07-19", "type-error"),
        (6, "Дата на акта", "19.07.24", "type-error"),
    ]


def test_dates_year_suffix_needs_rule(tmp_path):
    table = read_case(case_file(DATES, "acts_dates.csv"))
    resource = make_resource("acts", schema=case_schema(DATES))

    report, _ = run_path(table, resource, tmp_path)

    assert (3, "Дата на въвеждане", "19.07.2024 г.", "type-error") in errors_of(report)
    assert len(report.errors) == 4


def test_dates_valid_rows_become_iso(tmp_path):
    # Row 5 contains an impossible and an ISO date, so it stays out; the operator fixes the two-digit
    # year of row 6 with an explicit rule, which leaves its empty cell to show as null.
    table = read_case(case_file(DATES, "acts_dates.csv"), keep=lambda row: row.number != 5)
    fix_year = {"fields": ["Дата на акта"], "replace": {"from": "19.07.24", "to": "19.07.2024"}}
    resource = make_resource("acts", schema=case_schema(DATES), cleanup=[STRIP_YEAR_SUFFIX, fix_year])

    report, result = run_path(table, resource, tmp_path)

    assert errors_of(report) == []
    assert [row[2:] for row in csv_rows(result)] == [
        ["Дата на акта", "Дата на въвеждане"],
        ["2016-03-15", "2024-07-19"],
        ["2024-07-01", "2024-07-19"],
        ["2024-07-01", "2025-07-30"],
        ["2024-07-19", ""],
    ]
    assert [(row["Дата на акта"], row["Дата на въвеждане"]) for row in json_rows(result)] == [
        ("2016-03-15", "2024-07-19"),
        ("2024-07-01", "2024-07-19"),
        ("2024-07-01", "2025-07-30"),
        ("2024-07-19", None),
    ]
    assert parquet(result).column("Дата на въвеждане").to_pylist() == [
        date(2024, 7, 19), date(2024, 7, 19), date(2025, 7, 30), None,
    ]  # fmt: skip
    assert parquet_types(result)["Дата на акта"] == pa.date32()


# 07: XLSX with a merged title and a two-row merged header


RANKING = {
    "fields": [
        {"name": "number", "type": "integer", "title": "№"},
        {"name": "school_code", "type": "string", "title": "Училище Код", "constraints": {"pattern": "^[0-9]{7}$"}},
        {"name": "school_name", "type": "string", "title": "Училище Име"},
        {"name": "class_code", "type": "string", "title": "Паралелка Код", "constraints": {"pattern": "^[0-9]{4}$"}},
        {"name": "class_name", "type": "string", "title": "Паралелка Име"},
        {"name": "min_total", "type": "number", "title": "Минимален бал Общо"},
        {"name": "min_male", "type": "number", "title": "Минимален бал Мъже"},
        {"name": "min_female", "type": "number", "title": "Минимален бал Жени"},
    ]
}


def test_xlsx_merged_header_publishes_four_rows(tmp_path):
    path = case_file("07-xlsx-merged-multirow-header", "ranking_merged_header.xlsx")
    table = read_case(path, headerRows=[3, 4])
    resource = make_resource("ranking", schema=RANKING, read={"format": "xlsx", "headerRows": [3, 4]})

    report, result = run_path(table, resource, tmp_path)

    assert table.labels == [
        "№", "Училище Код", "Училище Име", "Паралелка Код", "Паралелка Име",
        "Минимален бал Общо", "Минимален бал Мъже", "Минимален бал Жени",
    ]  # fmt: skip
    assert table.info.metadata["asOf"] == "2024-07-19"
    assert errors_of(report) == []
    assert report.stats["rows"] == 4
    assert report.read_info["skipped_blank_rows"] == 2
    assert [(dropped["row"], dropped["reason"]) for dropped in report.read_info["dropped"]] == [
        (11, "read.dropped.note")
    ]
    assert csv_text(result) == (
        "number,school_code,school_name,class_code,class_name,min_total,min_male,min_female\r\n"
        "1,2299901,СУ „Примерно“,2277,Математика – АЕ,484.25,484.25,485.5\r\n"
        "2,2299902,ПГ „Условна“,0563,Декорация – АЕ,0,0,0\r\n"
        "3,2299902,ПГ „Условна“,0568,Кетъринг – АЕ,30,30,0\r\n"
        "4,2299903,ОУ „Тестово“,4445,Предприемачески,30,30,111\r\n"
    )
    assert [row["class_code"] for row in json_rows(result)] == ["2277", "0563", "0568", "4445"]
    assert json_rows(result)[0]["min_female"] == Decimal("485.5")
    assert parquet(result).column("class_code").to_pylist() == ["2277", "0563", "0568", "4445"]
    assert parquet_types(result)["class_code"] == pa.string()
    assert parquet(result).column("min_total").to_pylist() == [484.25, 0.0, 30.0, 30.0]


# 08: blank rows


def test_blank_rows_skipped_and_counted(tmp_path):
    table = read_case(case_file("08-blank-rows", "districts_blank_rows.csv"))
    schema = {
        "fields": [
            {"name": "district", "type": "string", "title": "Район"},
            {"name": "code", "type": "string", "title": "Код", "constraints": {"pattern": "^68134-[0-9]{2}$"}},
            {"name": "residents", "type": "integer", "title": "Брой жители"},
        ]
    }
    resource = make_resource("districts", schema=schema)

    report, result = run_path(table, resource, tmp_path)

    assert table.labels == ["Район", "Код", "Брой жители"]
    assert errors_of(report) == []
    assert report.stats["rows"] == 3
    # Lines 4, 7, 8, 9 and 10: delimiters only, whitespace only, and the empty last line.
    assert report.read_info["skipped_blank_rows"] == 5
    assert csv_text(result) == (
        "district,code,residents\r\n"
        "Средец,68134-01,73939\r\n"
        "Красно село,68134-02,90495\r\n"
        "Възраждане,68134-03,49906\r\n"
    )
    assert json_rows(result) == [
        {"district": "Средец", "code": "68134-01", "residents": 73939},
        {"district": "Красно село", "code": "68134-02", "residents": 90495},
        {"district": "Възраждане", "code": "68134-03", "residents": 49906},
    ]
    assert parquet(result).num_rows == 3


# 09: codes with leading zeros and mixed letters


CODES = {
    "fields": [
        {"name": "class_code", "type": "string", "title": "код_паралелка", "constraints": {"pattern": "^[0-9]{4}[А-Я]?$"}},
        {"name": "ekatte", "type": "string", "title": "екатте", "constraints": {"pattern": "^[0-9]{5}$"}},
        {"name": "district_code", "type": "string", "title": "район_код", "constraints": {"pattern": "^[0-9]{5}-[0-9]{2}$"}},
        {"name": "name", "type": "string", "title": "име"},
    ]
}


def test_codes_stay_strings_end_to_end(tmp_path):
    table = read_case(case_file("09-leading-zero-codes", "class_codes.csv"))
    resource = make_resource("codes", schema=CODES)

    report, result = run_path(table, resource, tmp_path)

    assert errors_of(report) == []
    assert csv_rows(result) == [
        ["class_code", "ekatte", "district_code", "name"],
        ["0563", "00357", "68134-21", "Декорация"],
        ["2277", "02511", "68134-21", "Математика"],
        ["0568", "07106", "68134-14", "Кетъринг"],
        ["1213", "68134", "68134-01", "Информатика"],
        ["0164А", "68134", "68134-01", "Изкуство"],
    ]
    rows = json_rows(result)
    assert [row["class_code"] for row in rows] == ["0563", "2277", "0568", "1213", "0164А"]
    assert [row["ekatte"] for row in rows] == ["00357", "02511", "07106", "68134", "68134"]
    assert parquet_types(result) == {name: pa.string() for name in ("class_code", "ekatte", "district_code", "name")}
    assert parquet(result).column("ekatte").to_pylist()[0] == "00357"
    assert parquet(result).column("class_code").to_pylist()[4] == "0164\u0410"


# 13: Cyrillic titles to dataset names


def slug_cases() -> list[dict[str, str]]:
    text = case_file("13-cyrillic-dataset-slug", "titles.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_slugs_follow_transliteration_act():
    taken: dict[str, str] = {}
    names = []
    for row in slug_cases():
        name = unique_name(slugify(row["title_bg"]), taken, row["source_id"])
        taken[name] = row["source_id"]
        names.append((row["source_id"], name))

    assert names == [(row["source_id"], row["expected_name"]) for row in slug_cases()]
    assert [name for _, name in names if not re.fullmatch(r"^[a-z0-9_-]{2,100}$", name)] == []
    assert [name for _, name in names if not NAME_PATTERN.match(name)] == []


def test_slugs_stable_across_calls():
    first = [slugify(row["title_bg"]) for row in slug_cases()]
    second = [slugify(row["title_bg"]) for row in slug_cases()]

    assert first == second
    assert first[6] == "shtarkelovi-gnezda"
    assert first[1] == "rayoni-na-sofia"


def test_slug_collision_gets_suffix():
    rows = {row["source_id"]: row for row in slug_cases()}
    base = slugify(rows["SO-EDU-0007"]["title_bg"])
    taken = {base: "SO-EDU-0007"}

    assert unique_name(base, taken, "SO-EDU-0007") == "detski-gradini-v-stolichna-obshtina"
    assert unique_name(base, taken, "RA-LOZ-0002") == "detski-gradini-v-stolichna-obshtina-2"
    assert unique_name(base, taken, "RA-LOZ-0002") == unique_name(base, dict(taken), "RA-LOZ-0002")
    taken["detski-gradini-v-stolichna-obshtina-2"] = "RA-LOZ-0002"
    assert unique_name(base, taken, "SO-XXX-0003") == "detski-gradini-v-stolichna-obshtina-3"
