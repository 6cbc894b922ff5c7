"""Real exports with messy traits publish with the values their source bytes hold.

Each dataset of the catalog runs through `pipeline.process_dataset` with the real files of
`../shared/data/real` as the inbox and a local folder portal. The expected values were read
from the source files themselves (the CSV text, the cells of the workbooks).
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opendata_sofia.catalog import load_catalog
from opendata_sofia.pipeline import process_dataset
from tests.runs import REPO, local_target, run_context
from tests.shared import real_inbox

pytestmark = pytest.mark.shared

NVO = "rezultati-ot-nvo-v-7-klas-po-uchilishta"
ADMISSION = "minimalen-i-maksimalen-bal-po-paralelki-priem-v-8-klas-2024"
STATE_PLAN = "paralelki-s-darzhaven-plan-priem-v-8-klas-2022-2023"
SETTLEMENTS = "naseleni-mesta-v-stolichna-obshtina"
DISTRICTS = "rayoni-na-stolichna-obshtina"


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Path:
    """Publish the five datasets once for the module and return the portal folder."""
    inbox = real_inbox()
    catalog = load_catalog(REPO / "datapackages", REPO / "schemas")
    context = run_context(tmp_path_factory.mktemp("real"), inbox)
    target = local_target(context)

    outcomes = {}
    for name in (NVO, ADMISSION, STATE_PLAN, SETTLEMENTS, DISTRICTS):
        result = process_dataset(catalog.datasets[name], context, target)
        outcomes[name] = (result.status, result.message)
    assert outcomes == {name: ("published", None) for name in outcomes}
    return context.settings.portal


def csv_rows(portal: Path, dataset: str, resource: str) -> list[dict[str, str]]:
    text = (portal / dataset / f"{resource}.csv").read_bytes().decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def csv_lines(portal: Path, dataset: str, resource: str) -> list[str]:
    return (portal / dataset / f"{resource}.csv").read_bytes().decode("utf-8").split("\r\n")


def json_rows(portal: Path, dataset: str, resource: str) -> list[dict]:
    text = (portal / dataset / f"{resource}.json").read_text(encoding="utf-8")
    return json.loads(text, parse_float=Decimal)


def parquet(portal: Path, dataset: str, resource: str) -> pa.Table:
    return pq.read_table(portal / dataset / f"{resource}.parquet")


def by_key(rows: list[dict], key: str) -> dict[str, dict]:
    return {row[key]: row for row in rows}


def all_text(portal: Path, dataset: str, resource: str) -> str:
    """Return the CSV and JSON outputs of a resource as one text, to search for stray rows."""
    folder = portal / dataset
    return (folder / f"{resource}.csv").read_text(encoding="utf-8") + (folder / f"{resource}.json").read_text(encoding="utf-8")


# НВО 7th grade 2022: UTF-8 with BOM, `;`, decimal commas, doubled quotes in names


NVO_2022 = "nvo-7-2022-sofia"
# school code → (school, БЕЛ явили се, БЕЛ, МАТ явили се, МАТ), as lines 2, 6, 7, 16 and 208 of the file write them.
NVO_SCHOOLS = {
    "2216306": ('Софийска математическа гимназия "Паисий Хилендарски"', 159, "91.02", 159, "97.33"),
    "2200023": ('Частно средно училище "Константин-Кирил Философ"', 1, "72", 1, "80.5"),
    "2205521": ('Частно основно училище " Св. Климент Охридски "', 9, "78.06", 9, "78.03"),
    "2222133": ("133 Средно училище „Александър Сергеевич Пушкин”", 97, "76.02", 97, "65.18"),
    "2204136": ('136 ОСНОВНО УЧИЛИЩЕ "ЛЮБЕН КАРАВЕЛОВ"', 46, "20.3", 44, "9.35"),
}


def test_nvo_csv_keeps_scores_and_quotes(portal):
    lines = csv_lines(portal, NVO, NVO_2022)

    assert lines[0] == (
        "region,municipality,settlement,school,school_code,bel_participants,bel_average_score,"
        "mat_participants,mat_average_score"
    )
    assert lines[1] == (
        'СОФИЯ-ГРАД,СТОЛИЧНА,ГР.СОФИЯ,"Софийска математическа гимназия ""Паисий Хилендарски""",'
        "2216306,159,91.02,159,97.33"
    )
    assert lines[6] == (
        'СОФИЯ-ГРАД,СТОЛИЧНА,ГР.СОФИЯ,"Частно основно училище "" Св. Климент Охридски """,2205521,9,78.06,9,78.03'
    )
    # The source has no newline after its last record; the output ends with CRLF.
    assert lines[-2:] == ['СОФИЯ-ГРАД,СТОЛИЧНА,ГР.СОФИЯ,"136 ОСНОВНО УЧИЛИЩЕ ""ЛЮБЕН КАРАВЕЛОВ""",2204136,46,20.3,44,9.35', ""]
    assert len(lines) == 207 + 2


def test_nvo_values_by_school(portal):
    csv_by_code = by_key(csv_rows(portal, NVO, NVO_2022), "school_code")
    json_by_code = by_key(json_rows(portal, NVO, NVO_2022), "school_code")

    for code, (school, bel_count, bel, mat_count, mat) in NVO_SCHOOLS.items():
        assert csv_by_code[code]["school"] == school, code
        assert csv_by_code[code]["bel_average_score"] == bel, code
        assert csv_by_code[code]["mat_average_score"] == mat, code
        assert json_by_code[code]["school"] == school, code
        assert json_by_code[code]["bel_participants"] == bel_count, code
        assert json_by_code[code]["bel_average_score"] == Decimal(bel), code
        assert json_by_code[code]["mat_participants"] == mat_count, code
        assert json_by_code[code]["mat_average_score"] == Decimal(mat), code


def test_nvo_parquet_typed_numbers(portal):
    table = parquet(portal, NVO, NVO_2022)
    rows = by_key(table.to_pylist(), "school_code")

    assert table.num_rows == 207
    assert table.schema.field("bel_average_score").type == pa.float64()
    assert table.schema.field("school_code").type == pa.string()
    assert table.schema.field("bel_participants").type == pa.int64()
    assert rows["2216306"]["bel_average_score"] == 91.02
    assert rows["2216306"]["mat_average_score"] == 97.33
    assert rows["2200023"]["bel_average_score"] == 72.0
    assert rows["2204136"]["mat_participants"] == 44
    assert rows["2205521"]["school"] == 'Частно основно училище " Св. Климент Охридски "'


def test_nvo_first_label_has_no_bom(portal):
    raw = (portal / NVO / f"{NVO_2022}.csv").read_bytes()

    assert raw.startswith(b"region,")
    assert "\ufeff".encode() not in raw


# РУО minimum and maximum scores 2024: merged title and two-row header, note below the data


ADMISSION_SCORES = "admission-scores"


def test_admission_rows_without_note(portal):
    rows = json_rows(portal, ADMISSION, ADMISSION_SCORES)

    # Sheet rows 6 to 397 hold data; row 398 is blank and row 399 is the merged note.
    assert len(rows) == 392
    assert [row["row_number"] for row in rows] == list(range(1, 393))
    assert "Забележка" not in all_text(portal, ADMISSION, ADMISSION_SCORES)
    assert "СПРАВКА" not in all_text(portal, ADMISSION, ADMISSION_SCORES)
    assert parquet(portal, ADMISSION, ADMISSION_SCORES).num_rows == 392


def test_admission_class_codes_keep_zeros(portal):
    rows = csv_rows(portal, ADMISSION, ADMISSION_SCORES)
    table = parquet(portal, ADMISSION, ADMISSION_SCORES)
    codes = [row["class_code"] for row in rows]

    # 85 codes are text cells with a leading zero ('0563'), the rest are numbers (2277).
    assert codes[0] == "2277"
    assert codes[2] == "0814"
    assert codes[-2:] == ["0563", "0568"]
    assert sum(1 for code in codes if code.startswith("0")) == 85
    assert [code for code in codes if len(code) != 4] == []
    assert table.schema.field("class_code").type == pa.string()
    assert table.column("class_code").to_pylist()[-2:] == ["0563", "0568"]
    assert [row["class_code"] for row in json_rows(portal, ADMISSION, ADMISSION_SCORES)][-2:] == ["0563", "0568"]


def test_admission_scores_from_merged_header(portal):
    first = json_rows(portal, ADMISSION, ADMISSION_SCORES)[0]

    assert first == {
        "row_number": 1,
        "school_code": "2216306",
        "school_name": 'Софийска математическа гимназия "Паисий Хилендарски"',
        "class_code": "2277",
        "class_name": "Математически (математика и информатика) - АЕ (РИЧЕ)",
        "min_score_total": Decimal("484.25"),
        "min_score_male": Decimal("484.25"),
        "min_score_female": Decimal("485.5"),
        "max_score_total": Decimal("485.5"),
        "max_score_male": Decimal("485.5"),
        "max_score_female": Decimal("485.5"),
    }


# РУО state-plan classes 2022: title above the header, ОБЩО row with SUBTOTAL formulas, notes


STATE_PLAN_CLASSES = "state-plan-classes"


def test_state_plan_rows_without_total_and_notes(portal):
    rows = json_rows(portal, STATE_PLAN, STATE_PLAN_CLASSES)
    text = all_text(portal, STATE_PLAN, STATE_PLAN_CLASSES)

    # Sheet rows 5 to 389 hold data; 390 is ОБЩО:, 391 and 392 are notes.
    assert len(rows) == 385
    assert [row["row_number"] for row in rows] == list(range(1, 386))
    assert "ОБЩО" not in text
    assert "Забележка" not in text
    assert "Изключение са паралелките" not in text
    assert parquet(portal, STATE_PLAN, STATE_PLAN_CLASSES).num_rows == 385


def test_state_plan_values(portal):
    rows = by_key(json_rows(portal, STATE_PLAN, STATE_PLAN_CLASSES), "row_number")

    assert rows[1]["school"] == '78. Средно училище  "Христо Смирненски", ГР.БАНКЯ'
    assert rows[1]["class_name"] == "Извършване на термални процедури - АЕ"
    assert rows[1]["places_general"] == 26
    assert rows[376]["class_code"] == "3856"
    assert rows[376]["class_count"] == Decimal("0.5")
    assert rows[385]["class_code"] == "0941"  # the workbook stores 941: padded to four digits
    assert rows[385]["places_male"] == 13
    assert parquet(portal, STATE_PLAN, STATE_PLAN_CLASSES).schema.field("class_code").type == pa.string()


def test_state_plan_class_codes_four_digits(portal):
    codes = [row["class_code"] for row in csv_rows(portal, STATE_PLAN, STATE_PLAN_CLASSES)]

    assert [code for code in codes if len(code) != 4] == []
    assert "0463" in codes  # stored as the number 463 in the workbook, padded by the clean-up rule


# NSI EKATTE settlements: legacy .xls with text codes


def test_settlements_codes_intact(portal):
    rows = json_rows(portal, SETTLEMENTS, "settlements")
    table = parquet(portal, SETTLEMENTS, "settlements")

    assert len(rows) == 37
    assert rows[0] == {
        "ekatte": "00357",
        "settlement_type": "гр.",
        "name": "Нови Искър",
        "district_code": "68134-21",
        "kind": "1",
        "document": "21",
    }
    assert rows[-1]["ekatte"] == "87401"
    assert rows[-1]["district_code"] == "68134-22"
    assert csv_rows(portal, SETTLEMENTS, "settlements")[1]["ekatte"] == "02511"
    assert table.column("ekatte").to_pylist()[:3] == ["00357", "02511", "02659"]
    assert {field.name: field.type for field in table.schema} == {
        name: pa.string() for name in ("ekatte", "settlement_type", "name", "district_code", "kind", "document")
    }


# Sofia districts: header and values right-padded with spaces


def test_districts_values_trimmed(portal):
    source = (real_inbox() / "sofia-districts" / "Regions_SO.csv").read_text(encoding="utf-8").splitlines()
    expected = [line.split(",")[0].rstrip() for line in source[1:]]
    rows = csv_rows(portal, DISTRICTS, "districts")

    assert len(rows) == 24
    assert list(rows[0]) == ["name", "code", "city_area_code"]
    assert [row["name"] for row in rows] == expected
    assert rows[0] == {"name": "Средец", "code": "68134-01", "city_area_code": "1"}
    assert rows[10] == {"name": "Красна поляна", "code": "68134-11", "city_area_code": "11"}
    assert rows[11] == {"name": "Илинден", "code": "68134-12", "city_area_code": "12"}
    assert rows[23] == {"name": "Банкя", "code": "68134-24", "city_area_code": "24"}
    assert [row["name"] for row in json_rows(portal, DISTRICTS, "districts")][:2] == ["Средец", "Красно село"]
    assert parquet(portal, DISTRICTS, "districts").column("name").to_pylist()[23] == "Банкя"
