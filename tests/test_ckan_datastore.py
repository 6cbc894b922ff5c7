"""DataStore loading: field ids, types, the data dictionary and upserts, against the real test CKAN."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ckan_fixtures import make_output
from tests.fault_proxy import start_proxy
from tests.shared import shared_path
from tests.test_ckan_target import by_key, dataset
from opendata_sofia.catalog import Organization, ResourceSpec
from opendata_sofia.publishing.base import OutputFile, Publication
from opendata_sofia.publishing.ckan import CkanTarget
from opendata_sofia.publishing.datastore import (
    HASH_FIELD,
    MAX_ID_BYTES,
    datastore_type,
    field_ids,
    read_header,
    record_chunks,
    table_definition,
)

SCHEMA = {
    "fields": [
        {"name": "code", "type": "string", "title": "Код", "description": "Код на района",
         "sofia:en": {"title": "Code", "description": "District code"}},
        {"name": "name", "type": "string", "title": "Име"},
        {"name": "population", "type": "integer", "title": "Население"},
        {"name": "area", "type": "number", "title": "Площ"},
        {"name": "counted_on", "type": "date", "title": "Дата"},
        {"name": "active", "type": "boolean", "title": "Действащ"},
    ],
    "primaryKey": ["code"],
}
HEADER = "code,name,population,area,counted_on,active\r\n"
ROWS = {
    "00357": "00357,Средец,31000,3.5,2024-01-01,true\r\n",
    "00400": "00400,\"Красно село, юг\",86000,,2024-01-01,false\r\n",
    "01000": "01000,Възраждане,47000,4.25,2024-01-02,\r\n",
}


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(rows)).encode()


def table_resource(schema: dict = SCHEMA, name: str = "districts") -> ResourceSpec:
    return ResourceSpec(
        name=name,
        title={"bg": "Райони", "en": "Districts"},
        description={"bg": "Районите", "en": "The districts"},
        schema=schema,
        schema_name=name,
        source={"kind": "inbox", "path": f"{name}.csv"},
        read={"format": "csv"},
    )


def table_publication(name: str, organization: Organization, folder: Path, content: bytes, schema: dict = SCHEMA) -> Publication:
    folder.mkdir(parents=True, exist_ok=True)
    output = make_output(folder, "districts.csv", "districts", content, "CSV", "text/csv")
    spec = dataset(name, organization, folder, resources=[table_resource(schema)])
    return Publication(dataset=spec, files=[output], provenance={"run_id": "run-1"})


def search(ckan, resource_id: str) -> dict:
    return ckan.admin().action.datastore_search(resource_id=resource_id, limit=1000, sort="_id")


def field_types(found: dict) -> dict[str, str]:
    return {f["id"]: f["type"] for f in found["fields"] if f["id"] != "_id"}


# Field ids and types (no CKAN needed)


def case_14_headers() -> list[str]:
    path = shared_path("cases", "14-datastore-cyrillic-header-keys", "register_long_headers.csv")
    return read_header(path)


@pytest.mark.shared
def test_field_ids_case_14_fit_postgres():
    headers = case_14_headers()
    ids = field_ids(headers)

    assert len(headers) == 6
    assert len(set(ids)) == 6
    for field_id in ids:
        assert len(field_id.encode("utf-8")) <= MAX_ID_BYTES
        assert field_id == field_id.strip()
        assert not field_id.startswith("_")
        assert '"' not in field_id
    # the two long headers share their first 63 bytes but not their ids
    assert headers[0].encode()[:63] == headers[1].encode()[:63]
    assert ids[0] != ids[1]
    assert ids[2] != ids[3]


def test_field_ids_keep_plain_names():
    assert field_ids(["code", "population_2024", "Name"]) == ["code", "population_2024", "Name"]


def test_field_ids_avoid_system_columns():
    ids = field_ids(["ctid", "oid"])

    assert ids[0].startswith("ctid_")
    assert ids[1].startswith("oid_")


def test_field_ids_are_stable():
    headers = ["Паралелка ", "Паралелка", "_id"]

    assert field_ids(headers) == field_ids(list(headers))
    assert field_ids(headers)[0] == "paralelka"
    assert field_ids(headers)[2] == "id"


@pytest.mark.parametrize(
    "schema_type, expected",
    [
        ("integer", "int8"), ("number", "numeric"), ("date", "date"), ("datetime", "timestamp"),
        ("time", "time"), ("boolean", "bool"), ("year", "int4"), ("string", "text"),
        ("object", "json"), ("array", "json"), ("geojson", "json"), ("yearmonth", "text"), ("duration", "text"),
    ],
)
def test_datastore_type_by_schema_type(schema_type, expected):
    assert datastore_type({"name": "x", "type": schema_type}) == expected


def test_data_dictionary_is_bilingual():
    table = table_definition(SCHEMA, HEADER.strip().split(","))

    assert table.fields[0]["info"] == {
        "label": "Код", "notes": "Код на района", "label_en": "Code", "notes_en": "District code",
    }
    assert table.primary_key == ["code"]


def test_record_chunks_stream_in_order(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes(*ROWS.values()))
    table = table_definition(SCHEMA, read_header(path))

    chunks = list(record_chunks(path, table, size=2))

    assert [len(chunk) for chunk in chunks] == [2, 1]
    assert chunks[0][0] == {
        "code": "00357", "name": "Средец", "population": 31000, "area": "3.5", "counted_on": "2024-01-01", "active": True,
    }
    assert chunks[0][1]["area"] is None
    assert chunks[1][0]["active"] is None


# Loading into the real CKAN


@pytest.mark.ckan
@pytest.mark.shared
def test_case_14_loads_six_columns(ckan, org, dataset_name, tmp_path):
    source = shared_path("cases", "14-datastore-cyrillic-header-keys", "register_long_headers.csv")
    headers = read_header(source)
    types = ["string", "string", "string", "string", "integer", "integer"]
    schema = {"fields": [{"name": h, "type": t} for h, t in zip(headers, types)], "primaryKey": [headers[1]]}
    shutil.copyfile(source, tmp_path / "register.csv")
    output = OutputFile.from_path(tmp_path / "register.csv", key="register.csv", resource="districts", format="CSV", media_type="text/csv")
    spec = dataset(dataset_name, org, tmp_path, resources=[table_resource(schema)])

    target = CkanTarget(ckan.url, ckan.editor_token or ckan.admin_token, attempts=2, retry_delay=0.01)
    result = target.publish(Publication(dataset=spec, files=[output]))
    found = search(ckan, result.details["resource_ids"]["register.csv"])
    ids = field_ids(headers)

    assert result.details["datastore"]["register.csv"] == {"status": "created", "rows": 2, "deleted": 0}
    assert [f["id"] for f in found["fields"] if f["id"] != "_id"] == ids
    assert [f["info"]["label"] for f in found["fields"] if f["id"] != "_id"] == headers
    assert found["total"] == 2
    assert found["records"][0][ids[1]] == "68134-01"
    assert found["records"][0][ids[4]] == 1
    assert found["records"][1][ids[5]] == 24
    assert field_types(found)[ids[5]] == "int8"


@pytest.mark.ckan
def test_typed_rows_keep_codes(ckan, org, dataset_name, tmp_path):
    target = CkanTarget(ckan.url, ckan.admin_token, attempts=2, retry_delay=0.01)
    result = target.publish(table_publication(dataset_name, org, tmp_path, csv_bytes(ROWS["00357"])))
    found = search(ckan, result.details["resource_ids"]["districts.csv"])
    record = found["records"][0]

    assert field_types(found) == {
        "code": "text", "name": "text", "population": "int8", "area": "numeric", "counted_on": "date", "active": "bool",
    }
    assert record["code"] == "00357"
    assert record["population"] == 31000
    assert float(record["area"]) == 3.5
    assert record["counted_on"].startswith("2024-01-01")
    assert record["active"] is True
    assert found["fields"][1]["info"]["label_en"] == "Code"


@pytest.mark.ckan
def test_unchanged_csv_makes_no_datastore_call(ckan, org, dataset_name, tmp_path):
    proxy, server = start_proxy(ckan.url)
    try:
        target = CkanTarget(proxy.url, ckan.admin_token, attempts=2, retry_delay=0.01)
        first = target.publish(table_publication(dataset_name, org, tmp_path / "1", csv_bytes(*ROWS.values())))
        resource_id = first.details["resource_ids"]["districts.csv"]
        before = ckan.admin().action.resource_show(id=resource_id)
        calls_after_first = len(proxy.action_calls())

        second = target.publish(table_publication(dataset_name, org, tmp_path / "2", csv_bytes(*ROWS.values())))
        after = ckan.admin().action.resource_show(id=resource_id)
        second_run = proxy.action_calls()[calls_after_first:]
    finally:
        server.shutdown()
        server.server_close()

    assert first.details["datastore"]["districts.csv"]["status"] == "created"
    assert second.status == "unchanged"
    assert second.details["datastore"]["districts.csv"] == {"status": "unchanged", "rows": 0, "deleted": 0}
    assert [call for call in second_run if call.startswith("datastore_")] == []
    assert second_run == ["organization_show", "package_show"]
    assert after[HASH_FIELD] == before[HASH_FIELD]
    assert after["metadata_modified"] == before["metadata_modified"]
    assert search(ckan, resource_id)["total"] == 3


@pytest.mark.ckan
def test_upsert_changes_adds_and_deletes_rows(ckan, org, dataset_name, tmp_path):
    # two records per call: several chunks and search pages with three rows
    target = CkanTarget(ckan.url, ckan.admin_token, attempts=2, retry_delay=0.01, datastore_chunk_rows=2)
    first = target.publish(table_publication(dataset_name, org, tmp_path / "1", csv_bytes(*ROWS.values())))
    resource_id = first.details["resource_ids"]["districts.csv"]
    ids_before = {record["code"]: record["_id"] for record in search(ckan, resource_id)["records"]}

    changed = ROWS["00357"].replace("31000", "32000")
    added = "02000,Оборище,33000,2.9,2024-01-03,true\r\n"
    second = target.publish(table_publication(dataset_name, org, tmp_path / "2", csv_bytes(changed, ROWS["01000"], added)))
    records = {record["code"]: record for record in search(ckan, resource_id)["records"]}

    assert second.details["datastore"]["districts.csv"] == {"status": "updated", "rows": 3, "deleted": 1}
    assert second.changed == ["districts.csv"]
    assert sorted(records) == ["00357", "01000", "02000"]
    assert records["00357"]["population"] == 32000
    assert records["00357"]["_id"] == ids_before["00357"]
    assert records["01000"]["_id"] == ids_before["01000"]
    assert records["02000"]["name"] == "Оборище"


@pytest.mark.ckan
def test_type_change_recreates_table(ckan, org, dataset_name, tmp_path):
    target = CkanTarget(ckan.url, ckan.admin_token, attempts=2, retry_delay=0.01)
    first = target.publish(table_publication(dataset_name, org, tmp_path / "1", csv_bytes(*ROWS.values())))
    resource_id = first.details["resource_ids"]["districts.csv"]

    schema = {**SCHEMA, "fields": [dict(f, type="number") if f["name"] == "population" else f for f in SCHEMA["fields"]]}
    second = target.publish(table_publication(dataset_name, org, tmp_path / "2", csv_bytes(*ROWS.values()), schema))
    found = search(ckan, resource_id)

    assert second.details["datastore"]["districts.csv"]["status"] == "created"
    assert field_types(found)["population"] == "numeric"
    assert found["total"] == 3


@pytest.mark.ckan
def test_table_without_key_is_replaced(ckan, org, dataset_name, tmp_path):
    schema = {"fields": SCHEMA["fields"]}
    target = CkanTarget(ckan.url, ckan.admin_token, attempts=2, retry_delay=0.01)
    first = target.publish(table_publication(dataset_name, org, tmp_path / "1", csv_bytes(*ROWS.values()), schema))
    resource_id = first.details["resource_ids"]["districts.csv"]

    second = target.publish(table_publication(dataset_name, org, tmp_path / "2", csv_bytes(ROWS["01000"]), schema))
    found = search(ckan, resource_id)

    assert second.details["datastore"]["districts.csv"] == {"status": "created", "rows": 1, "deleted": 0}
    assert [record["code"] for record in found["records"]] == ["01000"]


@pytest.mark.ckan
def test_table_with_lost_flag_is_reloaded(ckan, org, dataset_name, tmp_path):
    target = CkanTarget(ckan.url, ckan.admin_token, attempts=2, retry_delay=0.01)
    first = target.publish(table_publication(dataset_name, org, tmp_path / "1", csv_bytes(*ROWS.values())))
    resource_id = first.details["resource_ids"]["districts.csv"]
    # the state CKAN 2.11 can leave: the table exists, its resource shows datastore_active False
    ckan.admin().action.resource_patch(id=resource_id, datastore_active=False)

    second = target.publish(table_publication(dataset_name, org, tmp_path / "2", csv_bytes(*ROWS.values())))
    found = search(ckan, resource_id)

    assert second.details["datastore"]["districts.csv"] == {"status": "created", "rows": 3, "deleted": 0}
    assert [record["code"] for record in found["records"]] == ["00357", "00400", "01000"]
    assert ckan.admin().action.resource_show(id=resource_id)["datastore_active"] is True


@pytest.mark.ckan
def test_editor_token_loads_datastore(ckan, org, dataset_name, tmp_path):
    if not ckan.editor_token:
        pytest.skip("no editor token: run scripts/ckan/ckan-up.sh, which creates pipeline-editor")

    target = CkanTarget(ckan.url, ckan.editor_token, attempts=2, retry_delay=0.01)
    first = target.publish(table_publication(dataset_name, org, tmp_path / "1", csv_bytes(*ROWS.values())))
    second = target.publish(table_publication(dataset_name, org, tmp_path / "2", csv_bytes(ROWS["00357"])))
    package = ckan.admin().action.package_show(id=dataset_name)
    resource = by_key(package)["districts.csv"]

    assert first.details["datastore"]["districts.csv"]["status"] == "created"
    assert second.details["datastore"]["districts.csv"] == {"status": "updated", "rows": 1, "deleted": 2}
    assert resource["datastore_active"] is True
    assert [record["code"] for record in search(ckan, resource["id"])["records"]] == ["00357"]
