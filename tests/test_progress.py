"""Progress toward the target: states, staleness, counting rules, history, ledger migration.

A small catalog is written per test and a real SQLite ledger records results, as a run would.
Staleness is checked by passing a later `now`, never by waiting.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from opendata_sofia.catalog import load_catalog
from opendata_sofia.reporting.dashboard import render_page
from opendata_sofia.reporting.indicators import write_tables
from opendata_sofia.ledger import DatasetResult, Ledger
from opendata_sofia.normalise import normalise
from opendata_sofia.reporting.progress import INDICATOR_DATASET, history, progress_numbers, snapshot
from opendata_sofia.reading import ReadOptions, read_table
from opendata_sofia.validation import validate
from opendata_sofia.reporting.yearly import write_yearly_report
from tests.pipeline_fixtures import REPO

SCHEMA = {"fields": [{"name": "code", "type": "string", "title": "Код"}]}
COMPLETE = {key: {"sha256": "0" * 64, "bytes": 1} for key in ("rows.csv", "rows.json", "rows.parquet")}
POSTGRES_URL = os.environ.get("OPENDATA_SOFIA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def descriptor(name: str, id_: str, frequency: str, *, connected: bool = True, hvd: str | None = None) -> dict:
    resource = {"name": "rows", "title": "Редове", "schema": "../../schemas/rows.json", "sofia": {"en": {"title": "Rows"}}}
    if connected:
        resource["sofia"]["source"] = {"kind": "inbox", "path": f"{name}.csv"}
    sofia = {"id": id_, "organization": "so-iot", "frequency": frequency,
             "en": {"title": f"{name} (en)", "description": "Test.", "keywords": ["test"]}}
    if hvd:
        sofia["hvd"] = hvd
    return {"name": name, "title": f"Набор {name}", "description": "Тест.", "keywords": ["тест"],
            "licenses": [{"name": "CC-BY-4.0"}], "sofia": sofia, "resources": [resource]}


@pytest.fixture
def catalog(tmp_path):
    """Four datasets: daily and annual (connected), planned, and a demo one that never counts."""
    folder, schemas = tmp_path / "datapackages", tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "rows.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    entries = [
        descriptor("daily", "SO-IOT-0101", "daily", hvd="statistics"),
        descriptor("annual", "SO-IOT-0102", "annual"),
        descriptor("planned", "SO-IOT-0103", "monthly", connected=False),
        descriptor("demo", "SO-IOT-0901", "daily"),
    ]
    for entry in entries:
        (folder / entry["name"]).mkdir(parents=True)
        (folder / entry["name"] / "datapackage.json").write_text(json.dumps(entry), encoding="utf-8")
    (folder / "organizations.json").write_text(json.dumps({
        "so-iot": {"title": {"bg": "Дирекция ИОТ", "en": "IST Directorate"}, "description": {"bg": "О", "en": "D"}},
    }), encoding="utf-8")
    loaded = load_catalog(folder, schemas)
    assert loaded.problems == []
    return loaded


@pytest.fixture
def ledger(tmp_path):
    return Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def record(ledger: Ledger, dataset: str, status: str, outputs=COMPLETE, target: str = "local") -> str:
    run_id = ledger.start_run(target=target, trigger="test", pipeline_version="test")
    ledger.record(run_id, target, DatasetResult(dataset=dataset, organization="so-iot", status=status,
                                                errors=0 if status in ("published", "unchanged") else None,
                                                outputs=outputs if status in ("published", "unchanged") else None))
    return run_id


# States and counting


def test_empty_ledger_states(catalog, ledger):
    numbers = progress_numbers(catalog, ledger, "local")

    assert numbers["in_plan"] == 3
    assert numbers["published"] == 0
    assert numbers["states"]["planned"] == 1
    assert numbers["states"]["source connected"] == 2
    assert numbers["not_counted"] == ["demo"]


def test_complete_publication_counts(catalog, ledger):
    record(ledger, "daily", "published")
    record(ledger, "demo", "published")

    numbers = progress_numbers(catalog, ledger, "local")

    assert numbers["published"] == 1
    assert numbers["percent"] == 2.0
    assert numbers["datasets"]["daily"]["state"] == "published"
    assert numbers["hvd"] == {"statistics": {"in_plan": 1, "published": 1}}
    assert numbers["organizations"][0]["published"] == 1


def test_daily_dataset_becomes_stale(catalog, ledger):
    record(ledger, "daily", "published")
    record(ledger, "annual", "published")
    later = datetime.now(timezone.utc) + timedelta(days=2)

    numbers = progress_numbers(catalog, ledger, "local", now=later)

    assert numbers["datasets"]["daily"]["state"] == "stale"
    assert numbers["datasets"]["annual"]["state"] == "published"
    assert numbers["published"] == 1
    assert numbers["stale"] == 1
    assert numbers["published_with_stale"] == 2
    assert numbers["stale_datasets"] == ["daily"]


def test_annual_dataset_stale_after_366_days(catalog, ledger):
    record(ledger, "annual", "published")
    now = datetime.now(timezone.utc)

    assert progress_numbers(catalog, ledger, "local", now=now + timedelta(days=365))["stale"] == 0
    assert progress_numbers(catalog, ledger, "local", now=now + timedelta(days=367))["stale"] == 1


def test_unchanged_run_does_not_refresh_content_date(catalog, ledger):
    record(ledger, "daily", "published")
    record(ledger, "daily", "unchanged")
    rows = ledger.publications("local")

    numbers = progress_numbers(catalog, ledger, "local")

    published_at = rows[0]["finished_at"].replace(tzinfo=timezone.utc).isoformat(timespec="seconds")
    assert numbers["datasets"]["daily"]["last_updated_at"] == published_at
    assert numbers["datasets"]["daily"]["first_published_at"] == published_at


def test_missing_format_keeps_dataset_valid(catalog, ledger):
    outputs = {key: value for key, value in COMPLETE.items() if key != "rows.parquet"}
    record(ledger, "daily", "published", outputs=outputs)

    numbers = progress_numbers(catalog, ledger, "local")

    assert numbers["datasets"]["daily"]["state"] == "valid"
    assert numbers["datasets"]["daily"]["missing"] == ["rows.parquet"]
    assert numbers["published"] == 0


def test_invalid_run_keeps_published_version(catalog, ledger):
    record(ledger, "daily", "published")
    record(ledger, "daily", "invalid")

    numbers = progress_numbers(catalog, ledger, "local")

    assert numbers["datasets"]["daily"]["state"] == "published"
    assert numbers["last_run_failed"] == ["daily"]


def test_run_outcomes_become_states(catalog, ledger):
    record(ledger, "daily", "invalid")
    record(ledger, "annual", "failed")

    states = {name: entry["state"] for name, entry in progress_numbers(catalog, ledger, "local")["datasets"].items()}

    assert states == {"daily": "schema defined", "annual": "failed", "planned": "planned"}


def test_targets_are_counted_apart(catalog, ledger):
    record(ledger, "daily", "published", target="ckan")

    assert progress_numbers(catalog, ledger, "local")["published"] == 0
    assert progress_numbers(catalog, ledger, "ckan")["published"] == 1


# History, indicator tables, reports


def test_history_keeps_changes_only(catalog, ledger):
    first = record(ledger, "daily", "published")
    ledger.save_progress(first, snapshot(progress_numbers(catalog, ledger, "local")))
    second = record(ledger, "daily", "unchanged")
    ledger.save_progress(second, snapshot(progress_numbers(catalog, ledger, "local")))

    days = history(ledger, "local")

    assert len(days) == 1
    assert days[0]["published"] == 1
    assert days[0]["planned"] == 1
    assert days[0]["target"] == 50


def test_indicator_tables_match_their_schemas(catalog, ledger, tmp_path):
    run_id = record(ledger, "daily", "published")
    numbers = progress_numbers(catalog, ledger, "local")
    ledger.save_progress(run_id, snapshot(numbers))
    folder = tmp_path / "inbox" / INDICATOR_DATASET

    write_tables(numbers, history(ledger, "local"), folder)

    real = load_catalog(REPO / "datapackages", REPO / "schemas").datasets[INDICATOR_DATASET]
    for resource in real.resources:
        table = read_table(folder / f"{resource.name}.csv", ReadOptions.from_descriptor(resource.read))
        work = normalise(table, resource, real.name, tmp_path / "work" / resource.name)
        report = validate(work, real.name, resource.name)
        assert [(e.row, e.field, e.type) for e in report.errors] == [], resource.name
    published = [line for line in (folder / "indicators.csv").read_text(encoding="utf-8").splitlines()
                 if line.startswith("published,")]
    assert published[0].split(",")[-3:-1] == ["1", "50"]


def test_dashboard_pages_link_each_other(catalog, ledger):
    record(ledger, "daily", "published")
    numbers = progress_numbers(catalog, ledger, "local")

    bulgarian = render_page(numbers, [], "bg")
    english = render_page(numbers, [], "en")

    assert 'href="index.en.html"' in bulgarian
    assert 'href="index.html"' in english
    assert 'id="published" data-value="1"' in bulgarian
    assert "Публикувани:" in bulgarian
    assert "Published:" in english
    assert "<script" not in bulgarian + english
    assert "http://" not in bulgarian.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in bulgarian


def test_yearly_report_counts_year(catalog, ledger, tmp_path):
    record(ledger, "daily", "published")
    record(ledger, "annual", "failed")
    year = datetime.now(timezone.utc).year

    paths = write_yearly_report(catalog, ledger, "local", year, tmp_path / "yearly")

    assert sorted(path.name for path in paths) == sorted(
        f"report-{year}.{lang}.{suffix}" for lang in ("bg", "en") for suffix in ("md", "html")
    )
    english = (tmp_path / "yearly" / f"report-{year}.en.md").read_text(encoding="utf-8")
    bulgarian = (tmp_path / "yearly" / f"report-{year}.bg.md").read_text(encoding="utf-8")
    assert "Published for the first time during the year (1)" in english
    assert "Failed and invalid runs during the year (1)" in english
    assert "| annual | 1 |" in english
    assert "Публикувани за първи път през годината (1)" in bulgarian
    assert "Целева стойност: 50" in bulgarian
    previous = write_yearly_report(catalog, ledger, "local", year - 1, tmp_path / "previous")
    assert "(0)" in previous[2].read_text(encoding="utf-8").split("## Published")[1].splitlines()[0]


# Ledger storage


def test_old_ledger_gets_new_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE TABLE runs (id VARCHAR(40) PRIMARY KEY, started_at DATETIME NOT NULL, finished_at DATETIME, "
            "target VARCHAR(20) NOT NULL, trigger VARCHAR(20) NOT NULL, pipeline_version VARCHAR(40) NOT NULL, counts JSON)"
        ))
        connection.execute(sa.text(
            "INSERT INTO runs (id, started_at, target, trigger, pipeline_version) "
            "VALUES ('old-run', '2025-01-01 00:00:00', 'local', 'manual', '0.0.1')"
        ))

    ledger = Ledger(url)

    columns = {column["name"] for column in sa.inspect(ledger.engine).get_columns("runs")}
    assert "progress" in columns
    assert "state" in {column["name"] for column in sa.inspect(ledger.engine).get_columns("results")}
    ledger.save_progress("old-run", {"published": 3})
    with ledger.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT progress FROM runs WHERE id = 'old-run'")).scalar() == '{"published": 3}'


def test_postgresql_ledger(catalog):
    try:
        ledger = Ledger(POSTGRES_URL)
    except sa.exc.OperationalError as error:
        message = f"no PostgreSQL at {POSTGRES_URL}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    target = f"test-{uuid.uuid4().hex[:8]}"  # keeps this test's rows apart in a shared database

    try:
        run_id = record(ledger, "daily", "published", target=target)
        record(ledger, "annual", "invalid", target=target)
        numbers = progress_numbers(catalog, ledger, target)
        ledger.save_progress(run_id, snapshot(numbers))

        assert numbers["published"] == 1
        assert numbers["datasets"]["annual"]["state"] == "schema defined"
        assert history(ledger, target)[0]["published"] == 1
        assert ledger.latest_results(target)["annual"]["state"] == "schema defined"
    finally:
        with ledger.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM results WHERE target = :t"), {"t": target})
            connection.execute(sa.text("DELETE FROM runs WHERE target = :t"), {"t": target})
