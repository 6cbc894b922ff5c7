"""Publishing through a loopback proxy that fails selected requests: the portal stays readable and converges."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from tests.ckan_fixtures import CkanInstance, make_output
from tests.fault_proxy import BAD_GATEWAY, DROP, DROP_AFTER, Rule, action, start_proxy, upload_number
from tests.test_ckan_datastore import SCHEMA, csv_bytes, ROWS, table_resource
from tests.test_ckan_target import dataset
from opendata_sofia.catalog import Organization
from opendata_sofia.errors import PublishError
from opendata_sofia.publishing.base import Publication
from opendata_sofia.publishing.ckan import CkanTarget

KEYS = ["districts.csv", "districts.json", "validation-report.json"]


def versioned_publication(name: str, organization: Organization, folder: Path, version: int) -> Publication:
    """Version 1 has rows 00357 and 00400; version 2 changes 00357, drops 00400 and adds 01000."""
    folder.mkdir(parents=True, exist_ok=True)
    if version == 1:
        rows = [ROWS["00357"], ROWS["00400"]]
    else:
        rows = [ROWS["00357"].replace("31000", "31500"), ROWS["01000"]]
    codes = [row.split(",")[0] for row in rows]
    files = [
        make_output(folder, "districts.csv", "districts", csv_bytes(*rows), "CSV", "text/csv"),
        make_output(folder, "districts.json", "districts", json.dumps(codes).encode(), "JSON", "application/json"),
        make_output(folder, "validation-report.json", "validation-report",
                    json.dumps({"version": version}).encode(), "JSON", "application/json"),
    ]
    spec = dataset(name, organization, folder, resources=[table_resource(SCHEMA)])
    return Publication(dataset=spec, files=files, provenance={"run_id": f"run-{version}"})


@pytest.fixture
def proxy(ckan: CkanInstance):
    state, server = start_proxy(ckan.url)
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def editor_token(ckan: CkanInstance) -> str:
    if not ckan.editor_token:
        pytest.skip("no editor token: run scripts/ckan/ckan-up.sh, which creates pipeline-editor")
    return ckan.editor_token


def downloaded(resource: dict) -> bytes:
    return requests.get(resource["url"], timeout=10).content


def assert_converged(ckan: CkanInstance, name: str, expected_rows: list[str]) -> dict:
    """Check one dataset, one resource per key, and one DataStore table, on the CSV only."""
    api = ckan.admin()
    package = api.action.package_show(id=name)
    keys = [resource["sofia_key"] for resource in package["resources"]]
    tables = {row["name"] for row in api.action.datastore_search(resource_id="_table_metadata", limit=32000)["records"]}
    by_key = {resource["sofia_key"]: resource for resource in package["resources"]}

    assert [found for found in api.action.package_list() if found == name] == [name]
    assert keys == KEYS
    assert [key for key in KEYS if by_key[key]["id"] in tables] == ["districts.csv"]
    assert by_key["districts.csv"]["datastore_active"] is True
    records = api.action.datastore_search(resource_id=by_key["districts.csv"]["id"], sort="code")["records"]
    assert [record["code"] for record in records] == expected_rows
    return by_key


# Faults


@pytest.mark.ckan
def test_failed_upload_keeps_old_version(ckan, editor_token, proxy, org, dataset_name, tmp_path, caplog):
    target = CkanTarget(proxy.url, editor_token, attempts=2, retry_delay=0.01)
    target.publish(versioned_publication(dataset_name, org, tmp_path / "v1", 1))
    old = {r["sofia_key"]: r for r in ckan.admin().action.package_show(id=dataset_name)["resources"]}
    old_json = downloaded(old["districts.json"])
    uploads_before = len(proxy.uploads())

    # the second upload of this run, and every retry of it, gets HTTP 502
    proxy.rules.append(Rule(upload_number(uploads_before + 2), BAD_GATEWAY))
    with caplog.at_level(logging.INFO, logger="opendata_sofia"):
        with pytest.raises(PublishError) as raised:
            target.publish(versioned_publication(dataset_name, org, tmp_path / "v2", 2))
    during = {r["sofia_key"]: r for r in ckan.admin().action.package_show(id=dataset_name)["resources"]}

    assert raised.value.key == "ckan.server_error"
    assert raised.value.params["status"] == 502
    assert raised.value.params["attempts"] == 2
    assert any("retry 1/1" in record.getMessage() for record in caplog.records)
    assert during["districts.json"]["id"] == old["districts.json"]["id"]
    assert downloaded(during["districts.json"]) == old_json
    assert [fault for fault in (request.fault for request in proxy.uploads()) if fault] == [BAD_GATEWAY, BAD_GATEWAY]

    proxy.rules.clear()
    result = target.publish(versioned_publication(dataset_name, org, tmp_path / "v2", 2))
    after = assert_converged(ckan, dataset_name, ["00357", "01000"])

    assert result.status == "published"
    assert result.details["uploaded"] == ["districts.json", "validation-report.json"]
    assert result.details["datastore"]["districts.csv"]["status"] == "unchanged"
    assert downloaded(after["districts.json"]) == json.dumps(["00357", "01000"]).encode()
    assert {key: r["id"] for key, r in after.items()} == {key: r["id"] for key, r in old.items()}


@pytest.mark.ckan
def test_failed_datastore_load_is_redone(ckan, editor_token, proxy, org, dataset_name, tmp_path):
    target = CkanTarget(proxy.url, editor_token, attempts=2, retry_delay=0.01)
    target.publish(versioned_publication(dataset_name, org, tmp_path / "v1", 1))

    proxy.rules.append(Rule(action("datastore_upsert"), DROP))
    with pytest.raises(PublishError) as raised:
        target.publish(versioned_publication(dataset_name, org, tmp_path / "v2", 2))
    csv_resource = {r["sofia_key"]: r for r in ckan.admin().action.package_show(id=dataset_name)["resources"]}["districts.csv"]
    readable = ckan.admin().action.datastore_search(resource_id=csv_resource["id"], sort="code")["records"]

    assert raised.value.key == "ckan.unreachable"
    assert [record["code"] for record in readable] == ["00357", "00400"]

    proxy.rules.clear()
    result = target.publish(versioned_publication(dataset_name, org, tmp_path / "v2", 2))
    assert_converged(ckan, dataset_name, ["00357", "01000"])

    assert result.details["uploaded"] == ["districts.json", "validation-report.json"]
    assert result.details["datastore"]["districts.csv"] == {"status": "updated", "rows": 2, "deleted": 1}


@pytest.mark.ckan
def test_lost_create_responses_make_no_copies(ckan, editor_token, proxy, org, dataset_name, tmp_path):
    # CKAN creates the dataset and the first resource, but their responses never arrive
    proxy.rules.append(Rule(action("package_create"), DROP_AFTER, times=1))
    proxy.rules.append(Rule(action("resource_create"), DROP_AFTER, times=1))
    target = CkanTarget(proxy.url, editor_token, attempts=3, retry_delay=0.01)

    result = target.publish(versioned_publication(dataset_name, org, tmp_path / "v1", 1))
    assert_converged(ckan, dataset_name, ["00357", "00400"])

    assert result.status == "published"
    assert proxy.action_calls("package_create") == ["package_create"]
    assert proxy.action_calls("resource_create") == ["resource_create"] * 3


@pytest.mark.ckan
@pytest.mark.parametrize("flag_lost", [False, True], ids=["flag-set", "flag-lost"])
def test_duplicates_from_older_runs_removed(ckan, editor_token, org, dataset_name, tmp_path, flag_lost):
    target = CkanTarget(ckan.url, editor_token, attempts=2, retry_delay=0.01)
    target.publish(versioned_publication(dataset_name, org, tmp_path / "v1", 1))
    api = ckan.admin()
    package = api.action.package_show(id=dataset_name)
    original = next(r for r in package["resources"] if r["sofia_key"] == "districts.csv")
    with open(tmp_path / "v1" / "districts.csv", "rb") as upload:
        duplicate = api.action.resource_create(
            package_id=package["id"], name=original["name"], sofia_key="districts.csv", hash=original["hash"], upload=upload
        )
    api.action.datastore_create(resource_id=duplicate["id"], force=True, fields=[{"id": "code", "type": "text"}])
    if flag_lost:
        # the state CKAN 2.11 can leave: a table whose resource shows datastore_active False
        api.action.resource_patch(id=duplicate["id"], datastore_active=False)

    target.publish(versioned_publication(dataset_name, org, tmp_path / "v2", 2))
    after = assert_converged(ckan, dataset_name, ["00357", "01000"])
    tables = {row["name"] for row in api.action.datastore_search(resource_id="_table_metadata", limit=32000)["records"]}

    assert after["districts.csv"]["id"] == original["id"]
    assert duplicate["id"] not in tables
