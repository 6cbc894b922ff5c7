"""The main job end to end: the CLI runs the Prefect flow, which publishes to the local portal."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from opendata_sofia import i18n
from tests.pipeline_fixtures import REPO, run_cli, summary_of
from tests.shared import real_inbox

pytestmark = pytest.mark.usefixtures("prefect_server")

SCHEMA = {
    "fields": [
        {"name": "code", "type": "string", "title": "Код", "constraints": {"required": True, "pattern": "[0-9]{2}"}},
        {"name": "name", "type": "string", "title": "Район"},
        {"name": "population", "type": "integer", "title": "Население", "constraints": {"minimum": 0}},
    ],
    "primaryKey": ["code"],
}
VALID = "Код;Район;Население\n01;Средец;31000\n02;Красно село;80000\n"
INVALID = "Код;Район;Население\n01;Средец;31000\n02;Красно село;-5\n"


@pytest.fixture(autouse=True)
def _bulgarian(monkeypatch):
    monkeypatch.setattr(i18n, "_language", None)


@pytest.fixture
def small_catalog(tmp_path, monkeypatch, project):
    """A catalog of one dataset, written here, with its inbox."""
    catalog, schemas, inbox = tmp_path / "datapackages", tmp_path / "schemas", tmp_path / "inbox"
    (catalog / "test-rayoni").mkdir(parents=True)
    schemas.mkdir()
    inbox.mkdir()

    (schemas / "test-districts.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (catalog / "organizations.json").write_text(json.dumps({
        "so-iot": {"title": {"bg": "Дирекция ИОТ", "en": "IST Directorate"},
                   "description": {"bg": "Описание", "en": "Description"}},
    }), encoding="utf-8")
    (catalog / "test-rayoni" / "datapackage.json").write_text(json.dumps({
        "name": "test-rayoni",
        "title": "Райони (тест)",
        "description": "Тестов набор от данни.",
        "keywords": ["райони"],
        "licenses": [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0"}],
        "sofia": {"id": "SO-TEST-0001", "organization": "so-iot", "frequency": "annual",
                  "en": {"title": "Districts (test)", "description": "A test dataset.", "keywords": ["districts"]}},
        "resources": [{
            "name": "districts",
            "title": "Райони",
            "schema": "../../schemas/test-districts.json",
            # an English title too: without one the dataset does not count toward the target
            "sofia": {"en": {"title": "Districts"}, "source": {"kind": "inbox", "path": "districts.csv"},
                      "read": {"format": "csv", "encoding": "utf-8", "delimiter": ";"}},
        }],
    }), encoding="utf-8")

    monkeypatch.setenv("OPENDATA_SOFIA_CATALOG", str(catalog))
    monkeypatch.setenv("OPENDATA_SOFIA_SCHEMAS", str(schemas))
    monkeypatch.setenv("OPENDATA_SOFIA_INBOX", str(inbox))
    return inbox


def test_run_demo_publishes_to_local_portal(project):
    result = run_cli("run", "--json")

    assert result.exit_code == 0, result.output
    summary = summary_of(result)
    published = [r for r in summary["results"] if r["status"] == "published"]
    assert published, summary
    assert summary["needs_attention"] == []
    for entry in published:
        folder = project / "portal" / entry["dataset"]
        package = json.loads((folder / "ckan.json").read_text(encoding="utf-8"))
        formats = {resource["format"] for resource in package["resources"]}
        assert {"CSV", "JSON", "Parquet", "datapackage"} <= formats
        for resource in package["resources"]:
            data = (folder / resource["url"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == resource["hash"]
            assert len(data) == resource["size"]
    assert (project / "portal" / "index.html").is_file()


def test_run_twice_reports_unchanged(project):
    first = summary_of(run_cli("run", "--json"))
    portal_files = {p: p.stat().st_mtime_ns for p in (project / "portal").rglob("*") if p.is_file()}

    second = run_cli("run", "--json")

    assert second.exit_code == 0
    statuses = {r["dataset"]: r["status"] for r in summary_of(second)["results"]}
    for entry in first["results"]:
        if entry["status"] == "published":
            assert statuses[entry["dataset"]] == "unchanged"
    assert {p: p.stat().st_mtime_ns for p in (project / "portal").rglob("*") if p.is_file()} == portal_files


def test_invalid_file_is_reported_and_previous_version_stays(small_catalog, project):
    (small_catalog / "districts.csv").write_text(VALID, encoding="utf-8")
    assert run_cli("run", "--json").exit_code == 0
    published_csv = (project / "portal" / "test-rayoni" / "districts.csv").read_bytes()

    (small_catalog / "districts.csv").write_text(INVALID, encoding="utf-8")
    result = run_cli("run")

    assert result.exit_code == 3
    assert "test-rayoni" in result.output
    assert "невалиден" in result.output
    assert "population" in result.output  # the field
    assert "3" in result.output  # the source row: line 3 of the file
    assert (project / "portal" / "test-rayoni" / "districts.csv").read_bytes() == published_csv
    report_files = list((project / "reports").glob("*/test-rayoni.json"))
    assert len(report_files) == 2
    raw_files = [p for p in (project / "raw").rglob("*") if p.is_file() and p.name != "pulls.jsonl"]
    assert len(raw_files) == 2  # the bytes of both pulls are kept


def test_invalid_dataset_report_names_row_and_field(small_catalog, project):
    (small_catalog / "districts.csv").write_text(INVALID, encoding="utf-8")

    result = run_cli("run", "--json")

    assert result.exit_code == 3
    summary = summary_of(result)
    assert summary["needs_attention"] == ["test-rayoni"]
    report = json.loads(Path(summary["results"][0]["report"]).read_text(encoding="utf-8"))
    errors = report["resources"][0]["errors"]
    assert [(e["row"], e["field"], e["type"]) for e in errors] == [(3, "population", "constraint-error")]
    assert not (project / "portal" / "test-rayoni").exists()


def test_status_counts_published(small_catalog, project):
    (small_catalog / "districts.csv").write_text(VALID, encoding="utf-8")
    run_cli("run", "--json")

    result = run_cli("status", "--json")
    text = run_cli("status")

    numbers = json.loads(result.stdout)
    assert numbers["published"] == 1
    assert numbers["target"] == 50
    assert numbers["organizations"] == [{
        "name": "so-iot", "title": {"bg": "Дирекция ИОТ", "en": "IST Directorate"},
        "in_plan": 1, "published": 1, "stale": 0, "planned": 0,
    }]
    assert numbers["states"]["published"] == 1
    assert "Публикувани: 1 от 50" in text.stdout


def test_english_messages(small_catalog, project):
    result = run_cli("--lang", "en", "run")

    assert result.exit_code == 0
    assert "skipped" in result.output
    assert "пропуснат" not in result.output


def test_unknown_dataset_is_a_usage_error(project):
    result = run_cli("run", "merki-ot-plana", "--json")

    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["key"] == "catalog.unknown_dataset"
    assert "merki-ot-plana-za-deystvie-za-inteligenten-rastezh-2016" in error["message"]  # a close name
    assert "Traceback" not in result.output


def test_header_only_file_keeps_previous_version(small_catalog, project):
    (small_catalog / "districts.csv").write_text(VALID, encoding="utf-8")
    assert run_cli("run", "--json").exit_code == 0
    published_csv = (project / "portal" / "test-rayoni" / "districts.csv").read_bytes()

    (small_catalog / "districts.csv").write_text("Код;Район;Население\n", encoding="utf-8")
    result = run_cli("run", "--json")

    assert result.exit_code == 3
    summary = summary_of(result)
    report = json.loads(Path(summary["results"][0]["report"]).read_text(encoding="utf-8"))
    assert [e["type"] for e in report["resources"][0]["errors"]] == ["empty-table"]
    assert (project / "portal" / "test-rayoni" / "districts.csv").read_bytes() == published_csv


def test_broken_descriptor_does_not_stop_others(small_catalog, project, tmp_path):
    (small_catalog / "districts.csv").write_text(VALID, encoding="utf-8")
    broken = tmp_path / "datapackages" / "test-broken"
    broken.mkdir()
    descriptor = json.loads((tmp_path / "datapackages" / "test-rayoni" / "datapackage.json").read_text(encoding="utf-8"))
    descriptor.update(name="test-broken")
    descriptor["sofia"]["id"] = "SO-TEST-0002"
    descriptor["sofia"]["frequency"] = "sometimes"
    (broken / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")

    result = run_cli("run", "--json")

    assert result.exit_code == 3
    statuses = {r["dataset"]: r["status"] for r in summary_of(result)["results"]}
    assert statuses["test-rayoni"] == "published"
    assert statuses["test-broken"] == "invalid"
    assert summary_of(result)["needs_attention"] == ["test-broken"]


def test_bad_target_is_a_usage_error(project):
    result = run_cli("run", "--target", "ftp")

    assert result.exit_code == 2


def test_real_inbox_publishes_and_blocks_air_quality(project):
    result = run_cli("run", "--inbox", str(real_inbox()), "--json")

    summary = summary_of(result)
    statuses = {r["dataset"]: r["status"] for r in summary["results"]}
    published = [name for name, status in statuses.items() if status == "published"]
    assert result.exit_code == 3
    assert len(published) >= 8, statuses
    invalid = [name for name, status in statuses.items() if status == "invalid"]
    assert len(invalid) == 1, statuses
    assert "vazduh" in invalid[0]
    report = json.loads(Path(next(r["report"] for r in summary["results"] if r["status"] == "invalid"))
                        .read_text(encoding="utf-8"))
    errors = [e for resource in report["resources"] for e in resource["errors"]]
    assert all(e["type"] == "row-constraint" for e in errors)
    assert len(errors) == 30
    assert all(e["row"] and e["field"] for e in errors)


def test_catalog_check_passes():
    result = run_cli("catalog", "check")

    assert result.exit_code == 0, result.output
    assert "Каталогът е наред" in result.output


def test_demo_inbox_ships_with_the_repository():
    files = [p for p in (REPO / "demo" / "inbox").rglob("*") if p.is_file()]
    assert files
