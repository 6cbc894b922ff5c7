"""The personal data guard: ЕГН, ЛНЧ, e-mail, mobile numbers and IBAN block publishing."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from opendata_sofia.security import pii
from opendata_sofia.catalog import load_catalog
from opendata_sofia.reporting.progress import INDICATOR_DATASET
from tests.security_helpers import (
    make_egn,
    make_iban,
    make_lnch,
    make_settings,
    portal_files,
    run_one,
    text_dataset,
    write_csv,
)

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 6, 1)


# One value


@pytest.mark.parametrize(
    "birth",
    [date(1885, 3, 14), date(1900, 1, 1), date(1985, 12, 31), date(2004, 2, 29), date(2019, 7, 5)],
    ids=str,
)
def test_egn_valid_in_every_century(birth):
    egn = make_egn(birth.year, birth.month, birth.day)
    assert pii.is_valid_egn(egn, today=TODAY)


@pytest.mark.parametrize("birth", [date(1885, 3, 14), date(1985, 12, 31), date(2019, 7, 5)], ids=str)
def test_egn_wrong_check_digit_is_invalid(birth):
    assert not pii.is_valid_egn(make_egn(birth.year, birth.month, birth.day, valid=False), today=TODAY)


def test_egn_month_encoding_per_century():
    # The same digits in positions 3-4 mean 1800s (+20), 1900s and 2000s (+40)
    assert make_egn(1885, 3, 14)[2:4] == "23"
    assert make_egn(1985, 3, 14)[2:4] == "03"
    assert make_egn(2005, 3, 14)[2:4] == "43"


@pytest.mark.parametrize(
    "digits",
    [
        "8513301235",  # month 13 is no month in any century
        "8502301230",  # 30 February
        "0000000000",  # month 00
        "12345",  # an EKATTE code has 5 digits
        "85010112345",  # 11 digits
    ],
)
def test_egn_invalid_dates_and_lengths(digits):
    assert not pii.is_valid_egn(digits, today=TODAY)


def test_egn_in_future_is_invalid():
    assert not pii.is_valid_egn(make_egn(2030, 1, 1), today=TODAY)


def test_lnch_check_digit():
    assert pii.is_valid_lnch(make_lnch("100200300"))
    assert not pii.is_valid_lnch(make_lnch("100200300", valid=False))


def test_iban_mod97():
    iban = make_iban()
    assert pii.is_valid_iban(iban)
    assert pii.is_valid_iban(" ".join(iban[i : i + 4] for i in range(0, len(iban), 4)))
    wrong = iban[:2] + f"{(int(iban[2:4]) + 1) % 100:02d}" + iban[4:]
    assert not pii.is_valid_iban(wrong)


@pytest.mark.parametrize("text", ["0888 123 456", "088/812-3456", "(0888) 12 34 56", "+359 88 812 3456", "+359888123456", "00359 87 7123456"])
def test_mobile_numbers_match(text):
    assert pii.is_mobile_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "02/98-24160, 02/866-2227",  # the police-district offices' landlines
        "02 981 1234",
        "032 123 456",
        "08.07.2023",
        "1088123456",
        "23.3288812345",  # a coordinate's fraction digits
    ],
)
def test_landlines_and_other_numbers_do_not_match(text):
    assert not pii.is_mobile_number(text)


@pytest.mark.parametrize(
    "address",
    ["ivan.petrova@abv.bg", "petar1985@gmail.com", "m.georgieva@company.bg"],
)
def test_personal_email(address):
    assert pii.PiiRules().is_personal_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "kancelaria@sofia.bg",
        "g.ivanov@sofia.bg",
        "someone@mh.government.bg",
        "info-2200123@edu.mon.bg",
        "info@abv.bg",
        "office.lozenets@gmail.com",
        "INFO@Example.com",
    ],
)
def test_public_or_role_email(address):
    assert not pii.PiiRules().is_personal_email(address)


def test_public_domains_setting_adds_domain(monkeypatch):
    monkeypatch.setenv("OPENDATA_SOFIA_PII_PUBLIC_DOMAINS", "so-lozenets.bg, example.org")
    rules = pii.PiiRules.from_env()
    assert not rules.is_personal_email("m.petrova@so-lozenets.bg")
    assert rules.is_personal_email("m.petrova@abv.bg")


def test_mask_keeps_two_characters_each_side():
    assert pii.mask("8501011234") == "85******34"
    assert pii.mask("0888123456") == "08******56"
    assert pii.mask("abc") == "***"


# Whole runs: blocked


def _report_of(result) -> dict:
    return json.loads(Path(result.report).read_text(encoding="utf-8"))


def _pii_errors(report: dict) -> list[dict]:
    return [error for resource in report["resources"] for error in resource["errors"] if error["type"] == "personal-data"]


def test_egn_column_blocks_dataset(tmp_path):
    egn_1800s, egn_1900s, egn_2000s = make_egn(1899, 12, 1), make_egn(1975, 4, 9), make_egn(2008, 11, 30)
    settings = make_settings(tmp_path)
    write_csv(settings.inbox / "registar.csv", [
        ["1", "Лице 1", egn_1800s, "10"],
        ["2", "Лице 2", egn_1900s, "20"],
        ["3", "Лице 3", egn_2000s, "30"],
    ])  # fmt: skip

    result = run_one(text_dataset(), settings)

    assert result.status == "invalid"
    assert portal_files(settings) == []
    errors = _pii_errors(_report_of(result))
    assert [(e["field"], e["constraint"], e["row"]) for e in errors] == [("contact", "egn", 2)]
    assert errors[0]["value"] == ", ".join(pii.mask(v) for v in (egn_1800s, egn_1900s, egn_2000s))
    assert "Лични данни: колоната contact („Контакт“) на ресурса registar от набора test-registar" in errors[0]["hint"]["bg"]
    assert "ЕГН" in errors[0]["hint"]["bg"]
    assert "на редове 2, 3, 4" in errors[0]["hint"]["bg"]
    assert "3 от 3 попълнени клетки" in errors[0]["hint"]["bg"]


def test_report_never_holds_full_personal_number(tmp_path):
    egn = make_egn(1975, 4, 9)
    settings = make_settings(tmp_path)
    write_csv(settings.inbox / "registar.csv", [["1", f"Лице с ЕГН {egn}", "", "10"]])

    result = run_one(text_dataset(), settings)

    assert result.status == "invalid"
    assert egn not in Path(result.report).read_text(encoding="utf-8")
    assert egn not in result.message


def test_single_valid_egn_in_free_text_blocks(tmp_path):
    settings = make_settings(tmp_path)
    rows = [[str(n), f"Ред {n}", "", "1"] for n in range(1, 50)]
    rows[30][1] = f"Заявител с ЕГН {make_egn(1962, 8, 17)}, гр. София"
    write_csv(settings.inbox / "registar.csv", rows)

    result = run_one(text_dataset(), settings)

    assert result.status == "invalid"
    assert [(e["field"], e["constraint"], e["row"]) for e in _pii_errors(_report_of(result))] == [("name", "egn", 32)]


@pytest.mark.parametrize(
    "kind, values",
    [
        ("phone", ["0888 123 456", "+359 89 765 4321"]),
        ("email", ["ivan.petrova@abv.bg", "georgi.g@gmail.com"]),
        ("iban", [make_iban(), make_iban("UNCR", "70001234567890")]),
        ("lnch", [make_lnch("100200300"), make_lnch("200300400"), make_lnch("300400500")]),
    ],
)
def test_each_kind_blocks(tmp_path, kind, values):
    settings = make_settings(tmp_path)
    write_csv(settings.inbox / "registar.csv", [[str(n), "Лице", value, "1"] for n, value in enumerate(values, start=1)])

    result = run_one(text_dataset(), settings)

    assert result.status == "invalid"
    assert portal_files(settings) == []
    assert [(e["field"], e["constraint"]) for e in _pii_errors(_report_of(result))] == [("contact", kind)]


# Whole runs: published


def test_public_data_is_published(tmp_path):
    settings = make_settings(tmp_path)
    rows = [
        ["1", "Районно управление", "02/98-24160, 02/866-2227", "1"],
        ["2", "Училище", "info-2200123@edu.mon.bg", "2"],
        ["3", "Район Лозенец", "kancelaria@lozenets.sofia.bg", "3"],
        ["4", "Код по ЕКАТТЕ 68134", make_egn(1975, 4, 9, valid=False), "4"],
        ["5", "Грешен номер", make_egn(1885, 3, 14, valid=False), "5"],
        ["6", "Сума", "", "1234567890"],
        ["7", "Координата", "23.3288812345", "7"],
    ]
    write_csv(settings.inbox / "registar.csv", rows)

    result = run_one(text_dataset(), settings)

    assert result.status == "published", result.message
    assert _pii_errors(_report_of(result)) == []
    assert (settings.portal / "test-registar").is_dir()


def test_lnch_by_chance_in_code_column_is_published(tmp_path):
    # One in ten 10-digit codes passes the ЛНЧ check by chance; a code column is not a ЛНЧ column.
    codes = [make_lnch(f"{400000000 + n * 7919:09d}", valid=n % 10 == 0) for n in range(40)]
    codes = [code for code in codes if not pii.is_valid_egn(code)]
    assert 3 <= sum(pii.is_valid_lnch(code) for code in codes) < len(codes) // 2
    settings = make_settings(tmp_path)
    write_csv(settings.inbox / "registar.csv", [[str(n), f"Обект номер {n}", code, "1"] for n, code in enumerate(codes, start=1)])

    result = run_one(text_dataset(), settings)

    assert result.status == "published", result.message


def test_reviewed_allow_entry_publishes(tmp_path):
    allow = [{"field": "contact", "kind": "phone", "reason": "Служебни мобилни телефони на дежурните",
              "reviewedBy": "Длъжностно лице по защита на данните", "reviewedOn": "2026-05-01"}]
    settings = make_settings(tmp_path)
    write_csv(settings.inbox / "registar.csv", [["1", "Дежурен", "0888 123 456", "1"]])

    result = run_one(text_dataset(pii_allow=allow), settings)

    assert result.status == "published", result.message


def test_allow_entry_covers_its_kind_only(tmp_path):
    allow = [{"field": "contact", "kind": "phone", "reason": "Служебни телефони",
              "reviewedBy": "ДЛЗД", "reviewedOn": "2026-05-01"}]
    settings = make_settings(tmp_path)
    write_csv(settings.inbox / "registar.csv", [["1", "Дежурен", "0888 123 456", "1"], ["2", "Лице", make_egn(1975, 4, 9), "2"]])

    result = run_one(text_dataset(pii_allow=allow), settings)

    assert result.status == "invalid"
    assert [(e["field"], e["constraint"]) for e in _pii_errors(_report_of(result))] == [("contact", "egn")]


# Catalog check of allow entries


def _catalog_with_allow(tmp_path: Path, allow: list) -> list:
    catalog, schemas = tmp_path / "datapackages", tmp_path / "schemas"
    shutil.copytree(REPO / "schemas", schemas)
    catalog.mkdir()
    shutil.copy(REPO / "datapackages" / "organizations.json", catalog)
    name = "rayoni-na-stolichna-obshtina"
    descriptor = json.loads((REPO / "datapackages" / name / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["sofia"]["pii"] = {"allow": allow}
    (catalog / name).mkdir()
    (catalog / name / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    return load_catalog(catalog, schemas).problems


def _keys_and_params(problems: list) -> list[tuple[str, str | None, dict]]:
    return [(problem.key, problem.resource, problem.params) for problem in problems]


COMPLETE = {"field": "name", "kind": "email", "reason": "Адреси на районите", "reviewedBy": "ДЛЗД", "reviewedOn": "2026-05-01"}


def test_catalog_accepts_complete_allow_entry(tmp_path):
    assert _catalog_with_allow(tmp_path, [COMPLETE]) == []


@pytest.mark.parametrize("missing", ["reason", "reviewedBy", "reviewedOn", "field", "kind"])
def test_catalog_rejects_incomplete_allow_entry(tmp_path, missing):
    entry = {key: value for key, value in COMPLETE.items() if key != missing}
    problems = _catalog_with_allow(tmp_path, [entry])

    assert _keys_and_params(problems) == [
        ("catalog.problem.pii_allow_incomplete", "districts", {"index": 0, "missing": missing})
    ]
    assert problems[0].detail("en") == f"sofia.pii.allow[0] needs {missing}: an allowed column must be reviewed."
    assert problems[0].render("en").endswith(
        f"datapackage.json: rayoni-na-stolichna-obshtina: resource \"districts\": sofia.pii.allow[0] needs {missing}:"
        " an allowed column must be reviewed."
    )
    assert problems[0].detail("bg") == (
        f"В sofia.pii.allow[0] липсва {missing}: всяка разрешена колона трябва да е прегледана."
    )


@pytest.mark.parametrize(
    "change, key, params, text",
    [
        (
            {"field": "nope"},
            "catalog.problem.pii_allow_field",
            {"index": 0, "field": "nope"},
            "sofia.pii.allow[0]: „nope“ не е поле на схемата на таблицата.",
        ),
        (
            {"kind": "passport"},
            "catalog.problem.pii_allow_kind",
            {"index": 0, "kind": "passport", "allowed": "egn, lnch, email, phone, iban"},
            "sofia.pii.allow[0]: видът лични данни „passport“ е невалиден: "
            "използвайте една от стойностите egn, lnch, email, phone, iban.",
        ),
        (
            {"reviewedOn": "01.05.2026"},
            "catalog.problem.pii_allow_date",
            {"index": 0, "value": "01.05.2026"},
            "sofia.pii.allow[0]: reviewedOn „01.05.2026“ трябва да е дата във вида ГГГГ-ММ-ДД.",
        ),
    ],
)
def test_catalog_rejects_wrong_allow_values(tmp_path, change, key, params, text):
    problems = _catalog_with_allow(tmp_path, [{**COMPLETE, **change}])

    assert _keys_and_params(problems) == [(key, "districts", params)]
    assert problems[0].detail("bg") == text


# Every real dataset of the catalog


REAL_CATALOG = load_catalog(REPO / "datapackages", REPO / "schemas")


# The indicator dataset is written by the pipeline itself from the ledger, so it has no file here.
CONNECTED = sorted(
    (d for d in REAL_CATALOG.datasets.values() if d.connected and d.name != INDICATOR_DATASET),
    key=lambda d: d.name,
)


@pytest.mark.parametrize("dataset", CONNECTED, ids=lambda d: d.name)
def test_real_dataset_has_no_personal_data(tmp_path, dataset):
    from opendata_sofia.pipeline import RunContext, check_dataset, fetch_dataset
    from tests.shared import real_inbox

    demo = REPO / "demo" / "inbox"
    inbox = demo if (demo / dataset.resources[0].source["path"]).is_file() else real_inbox()
    context = RunContext(settings=make_settings(tmp_path, inbox=inbox), run_id="real")

    checked = check_dataset(dataset, fetch_dataset(dataset, context), context)

    found = [(r.resource, e.field, e.constraint) for r in checked.reports for e in r.errors if e.type == "personal-data"]
    assert found == []
    assert sum(report.stats["rows"] for report in checked.reports) > 0
