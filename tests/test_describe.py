"""`describe`: how to read a new export, the proposed Table Schema, and the catalog stub it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendata_sofia import i18n
from opendata_sofia.catalog import load_catalog
from opendata_sofia.onboarding.code_patterns import code_pattern, shape_of
from opendata_sofia.errors import PipelineError
from opendata_sofia.onboarding.describe import describe_file, field_names, positional_labels, write_stub
from opendata_sofia.onboarding.placeholders import MARKER, find_placeholders
from opendata_sofia.pipeline import process_dataset
from tests.pipeline_fixtures import run_cli
from tests.runs import local_target, run_context
from tests.shared import real_inbox, shared_path

ORGANIZATIONS = {
    "so-iot": {
        "title": {"bg": "Дирекция ИОТ", "en": "IST Directorate"},
        "description": {"bg": "Описание", "en": "Description"},
    }
}
# Values a reviewer writes in place of each placeholder; the rest become plain text.
FILLED = {
    "SO-XXX-0000": "SO-TST-0001",
    "организация от datapackages/organizations.json": "so-iot",
    "daily | weekly | monthly | quarterly | annual | irregular | never": "annual",
}


@pytest.fixture(autouse=True)
def _bulgarian(monkeypatch):
    monkeypatch.setattr(i18n, "_language", None)
    monkeypatch.setenv("OPENDATA_SOFIA_LANG", "bg")


def fields_by_name(description) -> dict[str, dict]:
    return {schema_field["name"]: schema_field for schema_field in description.schema["fields"]}


def types_of(description) -> dict[str, str]:
    return {name: schema_field["type"] for name, schema_field in fields_by_name(description).items()}


def fill(value):
    """Replace every placeholder as a reviewer would, and drop the review marks."""
    if isinstance(value, dict):
        return {key: fill(item) for key, item in value.items() if key != "sofia:review"}
    if isinstance(value, list):
        return [fill(item) for item in value]
    if isinstance(value, str) and value.startswith(MARKER):
        text = value[len(MARKER) :].strip()
        if text in FILLED:
            return FILLED[text]
        return "Попълнен текст" if any("а" <= char <= "я" for char in text) else "Filled text"
    return value


def catalog_folders(tmp_path: Path) -> tuple[Path, Path]:
    catalog, schemas = tmp_path / "datapackages", tmp_path / "schemas"
    catalog.mkdir()
    schemas.mkdir()
    (catalog / "organizations.json").write_text(json.dumps(ORGANIZATIONS), encoding="utf-8")
    return catalog, schemas


def fill_stub(descriptor_path: Path, schema_path: Path) -> None:
    for path in (descriptor_path, schema_path):
        filled = fill(json.loads(path.read_text(encoding="utf-8")))
        path.write_text(json.dumps(filled, ensure_ascii=False, indent=2), encoding="utf-8")


# How to read the file


def test_nvo_semicolon_bom_decimal_comma():
    path = real_inbox() / "mon-nvo-dzi" / "nvo-7-2022-sofia.csv"

    description = describe_file(path)

    assert description.read == {"format": "csv", "encoding": "utf-8-sig", "delimiter": ";", "headerRows": [1]}
    assert description.rows == 207
    assert types_of(description) == {
        "oblast": "string", "obshtina": "string", "naseleno_myasto": "string", "uchilishte": "string",
        "kod": "string", "bel_uch": "integer", "bel": "number", "mat_uch": "integer", "mat": "number",
    }  # fmt: skip
    assert description.locale == {"fields": {"bel": {"decimalChar": ","}, "mat": {"decimalChar": ","}}}
    assert fields_by_name(description)["kod"]["constraints"]["pattern"] == "^[0-9]{7}$"
    assert fields_by_name(description)["kod"]["title"] == "КОД"
    assert description.proposed_constraints["bel"] == ["required", "minimum"]


def test_nvo_2023_title_rows_two_row_header():
    path = real_inbox() / "mon-nvo-dzi" / "nvo-7-2023.csv"

    description = describe_file(path)

    assert description.read["headerRows"] == [5, 6]
    assert description.rows == 1735
    assert [f["title"] for f in description.schema["fields"]][5:] == [
        "БЕЛ Явили се", "БЕЛ Ср. успех в точки", "МАТ Явили се", "МАТ Ср. успех в точки",
    ]  # fmt: skip
    assert fields_by_name(description)["kod_po_admin"]["constraints"]["pattern"] == "^[0-9]{6,7}$"
    assert types_of(description)["bel_sr_uspeh_v_tochki"] == "number"


def test_xlsx_merged_header_and_note():
    path = shared_path("cases", "07-xlsx-merged-multirow-header", "ranking_merged_header.xlsx")

    description = describe_file(path)

    assert description.read == {"format": "xlsx", "headerRows": [3, 4], "sheet": "Sheet1"}
    assert description.rows == 4
    assert description.dropped_rows == 1
    assert description.skipped_blank_rows == 2
    assert fields_by_name(description)["paralelka_kod"]["constraints"]["pattern"] == "^[0-9]{4}$"
    assert types_of(description)["minimalen_bal_obshto"] == "number"
    assert ("describe.note.as_of", {"date": "2024-07-19"}) in description.notes


def test_cp1251_encoding_detected():
    path = shared_path("cases", "01-cp1251-encoding-detection", "kindergartens_cp1251.csv")

    description = describe_file(path)

    assert description.read["encoding"] == "windows-1251"
    assert description.read["delimiter"] == ";"
    assert types_of(description)["mesta"] == "integer"
    assert description.locale["fields"]["aktualizatsia"] == {"format": "%d.%m.%Y"}


def test_blank_rows_and_counts_not_codes():
    path = shared_path("cases", "08-blank-rows", "districts_blank_rows.csv")

    description = describe_file(path)

    assert description.read["headerRows"] == [2]
    assert description.rows == 3
    assert description.skipped_blank_rows == 5
    assert types_of(description) == {"rayon": "string", "kod": "string", "broy_zhiteli": "integer"}


def test_padded_values_get_strip_rule():
    path = real_inbox() / "sofia-districts" / "Regions_SO.csv"

    description = describe_file(path)

    assert [f["title"] for f in description.schema["fields"]] == ["name", "code", "city_area_code"]
    assert description.cleanup == [{"fields": ["name"], "strip": True}]
    assert description.rows == 24


def test_legacy_xls_codes():
    path = real_inbox() / "nsi-ekatte-xls" / "Sof_rai.xls"

    description = describe_file(path)

    assert description.read == {"format": "xls", "headerRows": [1], "sheet": "Sof_rai"}
    assert fields_by_name(description)["ekatte"]["constraints"]["pattern"] == "^[0-9]{5}$"
    assert fields_by_name(description)["raion"]["constraints"]["pattern"] == "^[0-9]{5}-[0-9]{2}$"


# Types of whole columns


def test_codes_become_patterned_strings():
    path = shared_path("cases", "09-leading-zero-codes", "class_codes.csv")

    description = describe_file(path)
    fields = fields_by_name(description)

    assert types_of(description) == {"kod_paralelka": "string", "ekatte": "string", "rayon_kod": "string", "ime": "string"}
    assert fields["kod_paralelka"]["constraints"]["pattern"] == "^[0-9]{4}[А-Я]?$"
    assert fields["ekatte"]["constraints"]["pattern"] == "^[0-9]{5}$"
    assert fields["rayon_kod"]["constraints"]["pattern"] == "^[0-9]{5}-[0-9]{2}$"


def test_dates_with_year_suffix():
    path = shared_path("cases", "06-date-format-ddmmyyyy", "acts_dates.csv")

    description = describe_file(path)

    assert types_of(description)["data_na_akta"] == "date"
    assert description.locale["fields"]["data_na_vavezhdane"] == {"format": "%d.%m.%Y"}
    assert description.cleanup == [{"fields": ["data_na_vavezhdane"], "stripSuffix": " г."}]
    assert (
        "describe.note.unreadable_values",
        {"field": "data_na_akta", "count": 2, "form": "%d.%m.%Y", "examples": "31.02.2024, 19.07.24"},
    ) in description.notes
    assert "required" not in fields_by_name(description)["data_na_vavezhdane"].get("constraints", {})


def test_decimal_comma_with_space_groups():
    path = shared_path("cases", "05-decimal-comma", "budget_decimal_comma.csv")

    description = describe_file(path)

    assert description.locale["fields"]["plan_lv"] == {"decimalChar": ",", "groupChar": " "}
    assert types_of(description)["paragraf"] == "string"
    assert types_of(description)["deynost"] == "string"
    assert (
        "describe.note.unreadable_values",
        {"field": "plan_lv", "count": 2, "form": "number", "examples": "1.933.273, 1.234"},
    ) in description.notes
    assert "minimum" not in fields_by_name(description)["plan_lv"]["constraints"]


def test_whole_column_not_prefix(tmp_path):
    # A code with a letter, and a leading zero, only in the very last rows.
    lines = ["код;брой;оценка"] + [f"{1000 + n};{n};{n},5" for n in range(5000)] + ["0164А;5001;x", "0999;5002;3,5"]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    description = describe_file(path)

    assert types_of(description) == {"kod": "string", "broy": "integer", "otsenka": "number"}
    assert fields_by_name(description)["kod"]["constraints"]["pattern"] == "^[0-9]{4}[А-Я]?$"
    assert description.rows == 5002
    assert (
        "describe.note.unreadable_values",
        {"field": "otsenka", "count": 1, "form": "number", "examples": "x"},
    ) in description.notes


def test_booleans_in_bulgarian(tmp_path):
    path = tmp_path / "flags.csv"
    path.write_text("Име,Активен\nСредец,да\nЛозенец,не\nЛюлин,Да\n", encoding="utf-8")

    description = describe_file(path)

    assert types_of(description)["aktiven"] == "boolean"
    assert description.locale["fields"]["aktiven"]["trueValues"][0] == "да"


def test_code_pattern_shapes():
    assert code_pattern({shape_of("00357"), shape_of("68134")}) == "^[0-9]{5}$"
    assert code_pattern({shape_of("2216306"), shape_of("105201")}) == "^[0-9]{6,7}$"
    assert code_pattern({shape_of("68134-21"), shape_of("68134-01")}) == "^[0-9]{5}-[0-9]{2}$"
    assert code_pattern({shape_of("A1"), shape_of("1-B"), shape_of("22")}) == r"^[\-0-9A-Z]{2,3}$"


def test_repeated_and_blank_labels_mapped_by_position():
    labels = ["Код", "Паралелка ", "Паралелка", "", "Име"]

    names = field_names(labels)

    assert positional_labels(labels, names) == {"#2": names[1], "#3": names[2], "#4": names[3]}


def test_field_names_unique_snake_case():
    assert field_names(["Брой", "брой", "", "2002", "Ср. успех"]) == ["broy", "broy_2", "column_3", "field_2002", "sr_uspeh"]


# Names


def test_name_from_file_is_unique(tmp_path):
    catalog, schemas = catalog_folders(tmp_path)
    (catalog / "class-codes").mkdir()
    path = shared_path("cases", "09-leading-zero-codes", "class_codes.csv")

    description = describe_file(path, catalog_dir=catalog, schemas_dir=schemas)

    assert description.name == "class-codes-2"
    assert describe_file(path).name == "class-codes"


def test_invalid_name_rejected():
    path = shared_path("cases", "09-leading-zero-codes", "class_codes.csv")

    with pytest.raises(PipelineError) as raised:
        describe_file(path, name="Кодове")

    assert raised.value.render("bg").startswith("От „Кодове“ не може да се получи име на набор от данни")


# The stub


def test_stub_rejected_until_filled(tmp_path):
    catalog, schemas = catalog_folders(tmp_path)
    path = shared_path("cases", "09-leading-zero-codes", "class_codes.csv")
    description = describe_file(path, catalog_dir=catalog, schemas_dir=schemas)

    descriptor_path, schema_path = write_stub(description, catalog, schemas)
    problems = load_catalog(catalog, schemas).problems
    placeholders = [(problem.key, problem.params) for problem in problems]
    in_schema = [problem.params["where"] for problem in problems if problem.key == "catalog.problem.schema_placeholder"]

    assert descriptor_path == catalog / "class-codes" / "datapackage.json"
    assert schema_path == schemas / "class-codes.json"
    assert ("catalog.problem.placeholder", {"where": "title", "text": "TODO: заглавие на набора от данни"}) in placeholders
    assert ("catalog.problem.placeholder", {"where": "sofia.id", "text": "TODO: SO-XXX-0000"}) in placeholders
    assert "fields[0].sofia:review" in in_schema
    assert problems[0].detail("bg") == (
        f"{problems[0].params['where']} все още съдържа заместващия текст „{problems[0].params['text']}“: "
        "заменете го с истинската стойност."
    )
    # Titles, descriptions and keywords in both languages, id, organization, frequency, resource titles.
    assert len(find_placeholders(json.loads(descriptor_path.read_text(encoding="utf-8")))) == 11


def test_stub_never_overwrites(tmp_path):
    catalog, schemas = catalog_folders(tmp_path)
    path = shared_path("cases", "09-leading-zero-codes", "class_codes.csv")
    description = describe_file(path, catalog_dir=catalog, schemas_dir=schemas)
    write_stub(description, catalog, schemas)

    with pytest.raises(PipelineError) as raised:
        write_stub(description, catalog, schemas)

    assert raised.value.key == "describe.exists"


@pytest.mark.parametrize(
    "source",
    [
        ("data", "real", "mon-nvo-dzi", "nvo-7-2022-sofia.csv"),
        ("data", "real", "mon-nvo-dzi", "nvo-7-2023.csv"),
        ("data", "real", "ruo-sofia-xlsx", "sofia-20240719-minmax.xlsx"),
        ("data", "real", "nsi-ekatte-xls", "Sof_rai.xls"),
        ("data", "real", "sofia-districts", "Regions_SO.csv"),
        ("cases", "09-leading-zero-codes", "class_codes.csv"),
        ("cases", "01-cp1251-encoding-detection", "settlements_caps_cp1251.csv"),
        ("cases", "14-datastore-cyrillic-header-keys", "register_long_headers.csv"),
    ],
    ids=lambda parts: parts[-1],
)
def test_filled_stub_publishes_its_source(source, tmp_path):
    path = shared_path(*source)
    catalog, schemas = catalog_folders(tmp_path)
    description = describe_file(path, catalog_dir=catalog, schemas_dir=schemas)
    fill_stub(*write_stub(description, catalog, schemas))

    loaded = load_catalog(catalog, schemas)
    context = run_context(tmp_path, path.parent)
    result = process_dataset(loaded.datasets[description.name], context, local_target(context))

    assert [str(problem) for problem in loaded.problems] == []
    assert (result.status, result.message) == ("published", None)
    assert result.rows == description.rows


# The command


def test_cli_writes_stub_and_summary(tmp_path):
    path = shared_path("cases", "09-leading-zero-codes", "class_codes.csv")

    result = run_cli("describe", str(path), "--out", str(tmp_path))

    assert result.exit_code == 0
    assert "Описание на class_codes.csv: набор от данни class-codes, ресурс class-codes" in result.stdout
    assert "  kod_paralelka (string) ← „код_паралелка“: pattern ^[0-9]{4}[А-Я]?$" in result.stdout
    assert (tmp_path / "datapackages" / "class-codes" / "datapackage.json").is_file()
    assert (tmp_path / "schemas" / "class-codes.json").is_file()


def test_cli_english_and_json(tmp_path):
    path = shared_path("cases", "09-leading-zero-codes", "class_codes.csv")

    english = run_cli("--lang", "en", "describe", str(path), "--out", str(tmp_path), "--name", "codes-en")
    as_json = run_cli("describe", str(path), "--out", str(tmp_path), "--json")

    assert english.exit_code == 0
    assert "Description of class_codes.csv: dataset codes-en, resource class-codes" in english.stdout
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["read"]["delimiter"] == ","
    assert json.loads(as_json.stdout)["name"] == "class-codes"


def test_cli_existing_stub_fails(tmp_path):
    path = shared_path("cases", "09-leading-zero-codes", "class_codes.csv")
    run_cli("describe", str(path), "--out", str(tmp_path), "--name", "codes")

    again = run_cli("describe", str(path), "--out", str(tmp_path), "--name", "codes")

    assert again.exit_code == 1
    assert "вече съществува и не е презаписан" in again.stderr
