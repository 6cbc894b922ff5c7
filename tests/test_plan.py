"""The plan of changes against the local folder portal and the real test CKAN."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.ckan_fixtures import CkanInstance
from tests.pipeline_fixtures import run_cli
from opendata_sofia import i18n, pipeline
from opendata_sofia.catalog import require_catalog
from opendata_sofia.plan import diff_rows, plan_catalog, render_catalog_plan
from opendata_sofia.settings import Settings

SCHEMA = {
    "fields": [
        {"name": "code", "type": "string", "title": "Код"},
        {"name": "name", "type": "string", "title": "Район"},
        {"name": "population", "type": "integer", "title": "Население", "constraints": {"minimum": 0}},
    ],
    "primaryKey": ["code"],
}
ROWS = {"01": "01;Средец;31000\n", "02": "02;Красно село;80000\n", "03": "03;Възраждане;47000\n"}
HEADER = "Код;Район;Население\n"
ALL_OUTPUTS = ["districts.csv", "districts.json", "districts.parquet", "datapackage.json", "validation-report.json"]


@pytest.fixture(autouse=True)
def _bulgarian(monkeypatch):
    monkeypatch.setattr(i18n, "_language", None)


def write_catalog(root: Path, dataset: str, organization: str, title: str = "Райони (тест)") -> None:
    catalog, schemas = root / "datapackages", root / "schemas"
    (catalog / dataset).mkdir(parents=True, exist_ok=True)
    schemas.mkdir(exist_ok=True)
    (schemas / "test-districts.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (catalog / "organizations.json").write_text(json.dumps({
        organization: {"title": {"bg": "Дирекция ИОТ", "en": "IST Directorate"},
                       "description": {"bg": "Описание", "en": "Description"}},
    }), encoding="utf-8")
    (catalog / dataset / "datapackage.json").write_text(json.dumps({
        "name": dataset,
        "title": title,
        "description": "Тестов набор от данни.",
        "keywords": ["райони"],
        "licenses": [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0"}],
        "sofia": {"id": "SO-TEST-0001", "organization": organization, "frequency": "annual",
                  "en": {"title": "Districts (test)", "description": "A test dataset.", "keywords": ["districts"]}},
        "resources": [{
            "name": "districts",
            "title": "Райони",
            "schema": "../../schemas/test-districts.json",
            "sofia": {"source": {"kind": "inbox", "path": "districts.csv"},
                      "read": {"format": "csv", "encoding": "utf-8", "delimiter": ";"}},
        }],
    }, ensure_ascii=False), encoding="utf-8")


def write_source(root: Path, *codes: str, changed: dict[str, str] | None = None) -> None:
    rows = [(changed or {}).get(code, ROWS[code]) for code in codes]
    (root / "inbox").mkdir(exist_ok=True)
    (root / "inbox" / "districts.csv").write_text(HEADER + "".join(rows), encoding="utf-8")


@pytest.fixture
def project_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("OPENDATA_SOFIA_HOME", str(tmp_path))
    monkeypatch.setenv("OPENDATA_SOFIA_WORKDIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPENDATA_SOFIA_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("OPENDATA_SOFIA_TARGET", "local")
    monkeypatch.delenv("OPENDATA_SOFIA_PORTAL", raising=False)
    return tmp_path


def publish_all(settings: Settings) -> None:
    """Build and publish every dataset of the catalog directly through the pipeline steps."""
    catalog = require_catalog(settings.catalog, settings.schemas)
    target = pipeline.make_target(settings)
    context = pipeline.RunContext(settings=settings, run_id=f"test-{os.urandom(3).hex()}")
    for dataset in catalog.select(None):
        built = pipeline.build_dataset(dataset, pipeline.fetch_dataset(dataset, context), context)
        target.publish(built.publication)


def only_plan(summary: dict) -> dict:
    assert len(summary["datasets"]) == 1
    return summary["datasets"][0]


def actions(plan: dict) -> dict[str, str]:
    return {change["key"]: change["action"] for change in plan["resources"]}


def csv_rows(plan: dict) -> dict:
    [rows] = [rows for rows in plan["rows"] if rows["key"] == "districts.csv"]
    return rows


# Row comparison (no target)


def test_diff_rows_by_key(tmp_path):
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text("code,name\r\n01,a\r\n02,b\r\n03,c\r\n", encoding="utf-8")
    new.write_text("code,name\r\n01,a\r\n02,B\r\n04,d\r\n", encoding="utf-8")

    rows = diff_rows(old, new, ["code"])

    assert (rows.added, rows.removed, rows.changed) == (1, 1, 1)
    assert rows.examples == {"added": ["04"], "removed": ["03"], "changed": ["02"]}


def test_diff_rows_without_key(tmp_path):
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text("code,name\r\n01,a\r\n01,a\r\n02,b\r\n", encoding="utf-8")
    new.write_text("code,name\r\n01,a\r\n02,B\r\n", encoding="utf-8")

    rows = diff_rows(old, new, [])

    assert (rows.added, rows.removed, rows.changed) == (1, 2, 0)


# Local folder portal


def test_plan_local_lifecycle(project_root):
    write_catalog(project_root, "test-rayoni", "so-iot")
    write_source(project_root, "01", "02")
    settings = Settings.from_env()

    new = only_plan(plan_catalog(None, settings))
    assert new["status"] == "new"
    assert actions(new) == {key: "create" for key in ALL_OUTPUTS}
    assert csv_rows(new)["added"] == 2
    assert {change["field"]: change["new"] for change in new["metadata"]}["title"] == "Райони (тест)"
    assert not (settings.portal / "test-rayoni").exists()

    publish_all(settings)
    unchanged = only_plan(plan_catalog(None, settings))
    assert unchanged["status"] == "unchanged"
    assert unchanged["metadata"] == []
    assert set(actions(unchanged).values()) == {"unchanged"}
    assert unchanged["rows"] == []

    write_source(project_root, "01", "02", changed={"02": "02;Красно село;80001\n"})
    changed = only_plan(plan_catalog(None, settings))
    assert changed["status"] == "changed"
    assert actions(changed)["districts.csv"] == "upload"
    assert (csv_rows(changed)["added"], csv_rows(changed)["removed"], csv_rows(changed)["changed"]) == (0, 0, 1)
    assert csv_rows(changed)["examples"]["changed"] == ["02"]

    write_source(project_root, "01", "02", "03")
    added = csv_rows(only_plan(plan_catalog(None, settings)))
    assert (added["added"], added["removed"], added["changed"]) == (1, 0, 0)
    assert added["examples"]["added"] == ["03"]

    write_source(project_root, "01")
    removed = csv_rows(only_plan(plan_catalog(None, settings)))
    assert (removed["added"], removed["removed"], removed["changed"]) == (0, 1, 0)
    assert removed["examples"]["removed"] == ["02"]

    write_catalog(project_root, "test-rayoni", "so-iot", title="Райони (ново заглавие)")
    write_source(project_root, "01", "02")
    retitled = only_plan(plan_catalog(None, settings))
    assert retitled["metadata"] == [{"field": "title", "old": "Райони (тест)", "new": "Райони (ново заглавие)"}]


def test_plan_text_bulgarian_then_english(project_root):
    write_catalog(project_root, "test-rayoni", "so-iot")
    write_source(project_root, "01", "02")
    settings = Settings.from_env()
    publish_all(settings)
    write_source(project_root, "01", "03")
    summary = plan_catalog(None, settings)

    bulgarian = render_catalog_plan(summary, "bg")
    english = render_catalog_plan(summary, "en")

    assert bulgarian[0] == "План на промените за local (нищо не е публикувано)"
    assert "test-rayoni: ще бъде променен в local" in bulgarian
    assert "  ресурс districts.csv: ще бъде качен отново (ново съдържание)" in bulgarian
    assert "  редове в districts.csv: 1 добавени, 1 премахнати, 0 променени" in bulgarian
    assert "    добавени (ключ): 03" in bulgarian
    assert "  rows in districts.csv: 1 added, 1 removed, 0 changed" in english


def test_cli_dry_run_matches_plan(project_root):
    write_catalog(project_root, "test-rayoni", "so-iot")
    write_source(project_root, "01", "02")

    planned = run_cli("plan", "--json")
    dry_run = run_cli("run", "--dry-run", "--json")

    assert planned.exit_code == 0
    assert dry_run.exit_code == 0
    assert json.loads(dry_run.stdout) == json.loads(planned.stdout)
    assert json.loads(planned.stdout)["counts"]["new"] == 1
    assert not (project_root / "var" / "portal" / "test-rayoni").exists()
    assert not (project_root / "var" / "ledger.sqlite").exists()


def test_cli_plan_invalid_exits_3(project_root):
    write_catalog(project_root, "test-rayoni", "so-iot")
    write_source(project_root, "01", changed={"01": "01;Средец;-5\n"})

    result = run_cli("plan")

    assert result.exit_code == 3
    assert "test-rayoni: невалиден — " in result.stdout


# CKAN


@pytest.mark.ckan
def test_plan_ckan_lifecycle(ckan: CkanInstance, ckan_cleanup, run_suffix, project_root, monkeypatch):
    if not ckan.editor_token:
        pytest.skip("no editor token: run scripts/ckan/ckan-up.sh, which creates pipeline-editor")
    suffix = f"{run_suffix}-{os.urandom(2).hex()}"
    dataset, organization = f"test-plan-{suffix}", f"test-plan-org-{suffix}"
    ckan_cleanup["datasets"].append(dataset)
    ckan_cleanup["organizations"].append(organization)
    write_catalog(project_root, dataset, organization)
    write_source(project_root, "01", "02")
    monkeypatch.setenv("OPENDATA_SOFIA_TARGET", "ckan")
    monkeypatch.setenv("CKAN_URL", ckan.url)
    monkeypatch.setenv("CKAN_API_TOKEN", ckan.editor_token)
    settings = Settings.from_env()

    # the organization is the sysadmin's job; the plan and the runs use the editor's token
    from opendata_sofia.publishing.ckan import CkanTarget

    catalog = require_catalog(settings.catalog, settings.schemas)
    CkanTarget(ckan.url, ckan.editor_token, admin_token=ckan.admin_token).ensure_organizations(
        list(catalog.organizations.values())
    )

    new = only_plan(plan_catalog(None, settings))
    assert new["status"] == "new"
    assert csv_rows(new)["added"] == 2
    assert dataset not in ckan.admin().action.package_list()

    publish_all(settings)
    unchanged = only_plan(plan_catalog(None, settings))
    assert unchanged["status"] == "unchanged"
    assert set(actions(unchanged).values()) == {"unchanged"}

    # a table whose resource lost its datastore_active flag, as CKAN 2.11 can leave it, is loaded again
    api = ckan.admin()
    csv_id = next(r["id"] for r in api.action.package_show(id=dataset)["resources"] if r["sofia_key"] == "districts.csv")
    api.action.resource_patch(id=csv_id, datastore_active=False)
    assert actions(only_plan(plan_catalog(None, settings)))["districts.csv"] == "load"
    api.action.resource_patch(id=csv_id, datastore_active=True)

    write_source(project_root, "01", "02", changed={"02": "02;Красно село;80001\n"})
    changed = csv_rows(only_plan(plan_catalog(None, settings)))
    assert (changed["added"], changed["removed"], changed["changed"]) == (0, 0, 1)

    write_source(project_root, "01", "02", "03")
    added = csv_rows(only_plan(plan_catalog(None, settings)))
    assert (added["added"], added["removed"], added["changed"]) == (1, 0, 0)

    write_source(project_root, "01")
    plan = only_plan(plan_catalog(None, settings))
    removed = csv_rows(plan)
    assert (removed["added"], removed["removed"], removed["changed"]) == (0, 1, 0)
    assert removed["examples"]["removed"] == ["02"]
    assert actions(plan)["districts.csv"] == "upload"
    assert plan["metadata"] == []


@pytest.mark.ckan
def test_cli_create_organizations_makes_editor(ckan: CkanInstance, ckan_cleanup, run_suffix, project_root, monkeypatch):
    if not ckan.editor_token or not ckan.editor_user:
        pytest.skip("no editor token: run scripts/ckan/ckan-up.sh, which creates pipeline-editor")
    organization = f"test-cli-org-{run_suffix}-{os.urandom(2).hex()}"
    ckan_cleanup["organizations"].append(organization)
    write_catalog(project_root, "test-rayoni", organization)
    monkeypatch.setenv("CKAN_URL", ckan.url)
    monkeypatch.setenv("CKAN_API_TOKEN", ckan.editor_token)
    monkeypatch.delenv("CKAN_ADMIN_TOKEN", raising=False)

    rejected = run_cli("ckan", "create-organizations")
    monkeypatch.setenv("CKAN_ADMIN_TOKEN", ckan.admin_token)
    created = run_cli("ckan", "create-organizations")
    organization_shown = ckan.admin().action.organization_show(id=organization, include_users=True)

    assert rejected.exit_code == 1
    assert "CKAN_ADMIN_TOKEN" in rejected.stderr
    assert created.exit_code == 0
    assert organization in created.stdout
    assert {user["name"]: user["capacity"] for user in organization_shown["users"]}[ckan.editor_user] == "editor"
    assert organization_shown["title"] == "Дирекция ИОТ"
