"""The main job against the real test CKAN: the real-data inbox published with an editor's token."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from ckanapi.errors import NotFound

from opendata_sofia import i18n
from opendata_sofia.catalog import load_catalog
from opendata_sofia.publishing.ckan import CkanTarget
from tests.ckan_fixtures import purge
from tests.pipeline_fixtures import REPO, run_cli, summary_of
from tests.shared import real_inbox

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture
def real_catalog_on_ckan(ckan, project, monkeypatch):
    """The repository's catalog on a clean CKAN: organizations made by the sysadmin, no datasets."""
    if not ckan.editor_token:
        pytest.fail("the test CKAN has no editor token: run scripts/ckan/ckan-up.sh again")
    monkeypatch.setattr(i18n, "_language", None)
    catalog = load_catalog(REPO / "datapackages", REPO / "schemas")
    admin = ckan.admin()

    def purge_all():
        for name in catalog.datasets:
            purge(admin, "dataset_purge", name)

    purge_all()
    CkanTarget(ckan.url, ckan.editor_token, admin_token=ckan.admin_token).ensure_organizations(
        list(catalog.organizations.values()), editors=[ckan.editor_user] if ckan.editor_user else None
    )
    monkeypatch.setenv("CKAN_URL", ckan.url)
    monkeypatch.setenv("CKAN_API_TOKEN", ckan.editor_token)
    yield catalog
    purge_all()


def test_real_inbox_to_ckan_then_unchanged(ckan, real_catalog_on_ckan, project):
    first = run_cli("run", "--inbox", str(real_inbox()), "--target", "ckan", "--json")

    assert first.exit_code == 3  # the air-quality sample is invalid by design
    summary = summary_of(first)
    published = [r for r in summary["results"] if r["status"] == "published"]
    assert len(published) >= 8, summary["counts"]

    admin = ckan.admin()
    for entry in published:
        package = admin.call_action("package_show", {"id": entry["dataset"]})
        resources = {resource["sofia_key"]: resource for resource in package["resources"]}
        formats = {resource["format"] for resource in package["resources"]}
        assert {"CSV", "JSON", "Parquet"} <= formats, entry["dataset"]
        for key, output in entry["outputs"].items():
            local = (project / "outputs" / entry["dataset"] / key).read_bytes()
            assert hashlib.sha256(local).hexdigest() == output["sha256"] == resources[key]["hash"]
            downloaded = requests.get(resources[key]["url"], timeout=30,
                                      headers={"Authorization": ckan.admin_token})
            assert downloaded.status_code == 200
            assert downloaded.content == local, f"{entry['dataset']}/{key}"

    invalid = [r["dataset"] for r in summary["results"] if r["status"] == "invalid"]
    for name in invalid:
        with pytest.raises(NotFound):
            admin.call_action("package_show", {"id": name})

    before = {
        entry["dataset"]: admin.call_action("package_show", {"id": entry["dataset"]}) for entry in published
    }
    second = summary_of(run_cli("run", "--inbox", str(real_inbox()), "--target", "ckan", "--json"))

    statuses = {r["dataset"]: r["status"] for r in second["results"]}
    for name, package in before.items():
        assert statuses[name] == "unchanged", name
        after = admin.call_action("package_show", {"id": name})
        assert after["id"] == package["id"]
        assert after["metadata_modified"] == package["metadata_modified"]
        assert [(r["id"], r["hash"], r["last_modified"]) for r in after["resources"]] == [
            (r["id"], r["hash"], r["last_modified"]) for r in package["resources"]
        ]
    names = admin.call_action("package_list", {})
    assert len([name for name in names if name in before]) == len(before)


def test_ckan_run_without_token_says_what_to_set(project, monkeypatch):
    monkeypatch.setenv("CKAN_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("CKAN_API_TOKEN", raising=False)

    result = run_cli("run", "--target", "ckan")

    assert result.exit_code == 1
    assert "CKAN_API_TOKEN" in result.output


def test_token_is_not_in_run_outputs(ckan, real_catalog_on_ckan, project):
    result = run_cli("run", "--inbox", str(real_inbox()), "--target", "ckan", "--json")

    assert ckan.editor_token not in result.output
    for path in project.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".html", ".csv", ".sqlite"):
            assert ckan.editor_token.encode() not in path.read_bytes(), path
    summary = summary_of(result)
    assert ckan.editor_token not in json.dumps(summary)
