"""CkanTarget against the real test CKAN (scripts/ckan/ckan-up.sh) and against failing servers."""

from __future__ import annotations

import io
import json
import socket
import traceback
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from tests.ckan_fixtures import CkanInstance, make_output, organization
from tests.loopback import QuietHandler, serve
from tests.shared import shared_path
from opendata_sofia.catalog import DatasetSpec, Organization, ResourceSpec
from opendata_sofia.errors import PublishError
from opendata_sofia.publishing.base import Publication
from opendata_sofia.publishing.ckan import CkanTarget

DISTRICTS_CSV = "код,име\n01,Средец\n02,Красно село\n".encode()
DISTRICTS_JSON = json.dumps([{"код": "01", "име": "Средец"}], ensure_ascii=False).encode()


# Building publications


def resource(name: str, title_bg: str, title_en: str) -> ResourceSpec:
    return ResourceSpec(
        name=name,
        title={"bg": title_bg, "en": title_en},
        description={"bg": f"{title_bg} — описание", "en": f"{title_en} — description"},
        schema={"fields": []},
        schema_name=name,
        source={"kind": "inbox", "path": f"{name}.csv"},
        read={"format": "csv"},
    )


def dataset(name: str, org: Organization, folder: Path, **changes) -> DatasetSpec:
    fields = dict(
        name=name,
        folder=folder,
        descriptor={},
        id="SO-TEST-0001",
        title={"bg": "Райони на Столична община", "en": "Districts of Sofia Municipality"},
        description={"bg": "Списък на районите.", "en": "List of the districts."},
        keywords={"bg": ["райони", "ЕКАТТЕ/код", "x"], "en": ["districts", "EKATTE code"]},
        organization=org,
        frequency="annual",
        licenses=[{"name": "CC-BY-4.0"}],
        resources=[resource("districts", "Райони", "Districts")],
        hvd="statistics",
        planned="2026-06-30",
    )
    fields.update(changes)
    return DatasetSpec(**fields)


def districts_publication(name: str, org: Organization, folder: Path, run_id: str = "run-1") -> Publication:
    files = [
        make_output(folder, "districts.csv", "districts", DISTRICTS_CSV, "CSV", "text/csv"),
        make_output(folder, "districts.json", "districts", DISTRICTS_JSON, "JSON", "application/json"),
    ]
    return Publication(
        dataset=dataset(name, org, folder),
        files=files,
        provenance={"run_id": run_id, "pipeline_version": "0.1.0", "source_sha256": {"districts": "ab12"}},
    )


@pytest.fixture
def target(ckan: CkanInstance) -> CkanTarget:
    return CkanTarget(ckan.url, ckan.admin_token, attempts=2, retry_delay=0.01)


def extras(package: dict) -> dict[str, str]:
    return {extra["key"]: extra["value"] for extra in package["extras"]}


def by_key(package: dict) -> dict[str, dict]:
    return {resource["sofia_key"]: resource for resource in package["resources"]}


# Creating


@pytest.mark.ckan
def test_create_sets_bilingual_metadata(ckan, target, org, dataset_name, tmp_path):
    result = target.publish(districts_publication(dataset_name, org, tmp_path))
    package = ckan.admin().action.package_show(id=dataset_name)

    assert result.status == "published"
    assert result.url == f"{ckan.url}/dataset/{dataset_name}"
    assert result.details["dataset_id"] == package["id"]
    assert package["title"] == "Райони на Столична община"
    assert package["notes"] == "Списък на районите."
    assert package["organization"]["name"] == org.name
    assert package["license_id"] == "cc-by"
    assert sorted(tag["name"] for tag in package["tags"]) == sorted(
        ["райони", "ЕКАТТЕ код", "districts", "EKATTE code"]
    )
    assert extras(package) == {
        "title_en": "Districts of Sofia Municipality",
        "notes_en": "List of the districts.",
        "source_id": "SO-TEST-0001",
        "frequency": "annual",
        "hvd_category": "statistics",
        "planned": "2026-06-30",
        "pipeline_version": "0.1.0",
        "run_id": "run-1",
        "source_sha256": '{"districts":"ab12"}',
    }


@pytest.mark.ckan
def test_organization_has_english_extras(ckan, org):
    shown = ckan.admin().action.organization_show(id=org.name, include_users=True)

    assert shown["title"] == "Дирекция „Тестове“"
    assert shown["description"] == "Организация за тестове"
    assert extras(shown) == {"title_en": "Tests Directorate", "description_en": "Organization for tests"}
    if ckan.editor_user:
        roles = {user["name"]: user["capacity"] for user in shown["users"]}
        assert roles[ckan.editor_user] == "editor"


@pytest.mark.ckan
def test_resources_match_local_files(ckan, target, org, dataset_name, tmp_path):
    publication = districts_publication(dataset_name, org, tmp_path)
    result = target.publish(publication)
    package = ckan.admin().action.package_show(id=dataset_name)
    resources = by_key(package)

    assert [resource["sofia_key"] for resource in package["resources"]] == ["districts.csv", "districts.json"]
    assert result.details["resource_ids"] == {key: resources[key]["id"] for key in resources}
    assert result.details["uploaded"] == ["districts.csv", "districts.json"]
    for output in publication.files:
        uploaded = resources[output.key]
        assert uploaded["hash"] == output.sha256
        assert uploaded["format"] == output.format
        assert uploaded["mimetype"] == output.media_type
        assert int(uploaded["size"]) == output.bytes
        assert uploaded["url_type"] == "upload"
        assert uploaded["name"] == f"Райони ({output.format})"
        assert uploaded["name_en"] == f"Districts ({output.format})"
        assert uploaded["description"] == "Райони — описание"
        assert uploaded["description_en"] == "Districts — description"
        assert requests.get(uploaded["url"], timeout=10).content == output.path.read_bytes()


# Publishing again


@pytest.mark.ckan
def test_same_content_is_unchanged(ckan, target, org, dataset_name, tmp_path):
    first = target.publish(districts_publication(dataset_name, org, tmp_path, run_id="run-1"))
    before = ckan.admin().action.package_show(id=dataset_name)

    second = target.publish(districts_publication(dataset_name, org, tmp_path, run_id="run-2"))
    after = ckan.admin().action.package_show(id=dataset_name)

    assert second.status == "unchanged"
    assert second.changed == []
    assert second.details["uploaded"] == []
    assert second.details["dataset_id"] == first.details["dataset_id"]
    assert second.details["resource_ids"] == first.details["resource_ids"]
    assert after["metadata_modified"] == before["metadata_modified"]
    assert [r["metadata_modified"] for r in after["resources"]] == [r["metadata_modified"] for r in before["resources"]]
    assert extras(after)["run_id"] == "run-1"


@pytest.mark.ckan
def test_changed_file_is_reuploaded_alone(ckan, target, org, dataset_name, tmp_path):
    first = target.publish(districts_publication(dataset_name, org, tmp_path))
    before = by_key(ckan.admin().action.package_show(id=dataset_name))

    publication = districts_publication(dataset_name, org, tmp_path, run_id="run-2")
    new_csv = DISTRICTS_CSV + "03,Възраждане\n".encode()
    publication.files[0] = make_output(tmp_path, "districts.csv", "districts", new_csv, "CSV", "text/csv")
    second = target.publish(publication)
    package = ckan.admin().action.package_show(id=dataset_name)
    after = by_key(package)

    assert second.status == "published"
    assert second.changed == ["districts.csv"]
    assert second.details["uploaded"] == ["districts.csv"]
    assert second.details["resource_ids"] == first.details["resource_ids"]
    assert after["districts.csv"]["hash"] == publication.files[0].sha256
    assert int(after["districts.csv"]["size"]) == len(new_csv)
    assert requests.get(after["districts.csv"]["url"], timeout=10).content == new_csv
    assert after["districts.json"]["last_modified"] == before["districts.json"]["last_modified"]
    assert extras(package)["run_id"] == "run-2"


@pytest.mark.ckan
def test_new_and_removed_keys(ckan, target, org, dataset_name, tmp_path):
    target.publish(districts_publication(dataset_name, org, tmp_path))

    publication = districts_publication(dataset_name, org, tmp_path, run_id="run-2")
    parquet = make_output(tmp_path, "districts.parquet", "districts", b"PAR1 test PAR1", "Parquet", "application/vnd.apache.parquet")
    publication.files = [parquet, publication.files[0]]
    result = target.publish(publication)
    package = ckan.admin().action.package_show(id=dataset_name)

    assert result.status == "published"
    assert sorted(result.changed) == ["districts.json", "districts.parquet"]
    assert result.details["uploaded"] == ["districts.parquet"]
    assert [resource["sofia_key"] for resource in package["resources"]] == ["districts.parquet", "districts.csv"]


@pytest.mark.ckan
def test_metadata_change_patches_in_place(ckan, target, org, dataset_name, tmp_path):
    first = target.publish(districts_publication(dataset_name, org, tmp_path))

    publication = districts_publication(dataset_name, org, tmp_path, run_id="run-2")
    publication.dataset.description = {"bg": "Нов текст.", "en": "New text."}
    publication.dataset.hvd = None
    second = target.publish(publication)
    package = ckan.admin().action.package_show(id=dataset_name)

    assert second.status == "published"
    assert second.details["metadata_changed"] is True
    assert second.details["uploaded"] == []
    assert second.details["resource_ids"] == first.details["resource_ids"]
    assert package["notes"] == "Нов текст."
    assert extras(package)["notes_en"] == "New text."
    assert "hvd_category" not in extras(package)
    assert extras(package)["run_id"] == "run-2"


@pytest.mark.ckan
def test_foreign_extras_survive_patch(ckan, target, org, dataset_name, tmp_path):
    target.publish(districts_publication(dataset_name, org, tmp_path))
    package = ckan.admin().action.package_show(id=dataset_name)
    ckan.admin().action.package_patch(
        id=package["id"], extras=package["extras"] + [{"key": "Актуален към", "value": "2026-01-01"}]
    )

    publication = districts_publication(dataset_name, org, tmp_path, run_id="run-2")
    publication.dataset.title = {"bg": "Райони (ново заглавие)", "en": "Districts (new title)"}
    target.publish(publication)
    patched = ckan.admin().action.package_show(id=dataset_name)

    assert patched["title"] == "Райони (ново заглавие)"
    assert extras(patched)["Актуален към"] == "2026-01-01"
    assert extras(patched)["title_en"] == "Districts (new title)"


# Re-publishing creates no duplicates


def republish_case() -> tuple[dict, dict]:
    """Return the two runs of the case: the same dataset published twice, only `notes` changed."""
    case = shared_path("cases", "12-republish-duplicates")
    runs = [json.loads((case / f"package_run{n}.json").read_text(encoding="utf-8")) for n in (1, 2)]
    return runs[0], runs[1]


def case_publication(package: dict, name: str, org: Organization, folder: Path) -> Publication:
    """Model one run of the republish case as a Publication with files written to `folder`."""
    source_id = next(extra["value"] for extra in package["extras"] if extra["key"] == "source_id")
    table = pa.table({"код": ["0001", "0002"], "име": ["ДГ № 1", "ДГ № 2"]})
    csv_bytes = "код,име\n0001,ДГ № 1\n0002,ДГ № 2\n".encode()
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    contents = {"CSV": (csv_bytes, "text/csv"), "Parquet": (buffer.getvalue(), "application/vnd.apache.parquet")}

    files = []
    for entry in package["resources"]:
        content, media_type = contents[entry["format"]]
        files.append(make_output(folder, entry["extras_source_key"], "kindergartens", content, entry["format"], media_type))

    title_bg = package["resources"][0]["name"].rsplit(" (", 1)[0]
    spec = dataset(
        name,
        org,
        folder,
        id=source_id,
        title={"bg": package["title"], "en": "Kindergartens in Sofia Municipality"},
        description={"bg": package.get("notes", ""), "en": package.get("notes", "")},
        resources=[resource("kindergartens", title_bg, "Kindergartens")],
    )
    return Publication(dataset=spec, files=files, provenance={"run_id": package.get("notes", "run-1")})


@pytest.mark.ckan
@pytest.mark.shared
def test_republish_keeps_one_dataset(ckan, target, ckan_cleanup, run_suffix, tmp_path):
    run1, run2 = republish_case()
    name = f"{run1['name']}-{run_suffix}"
    ckan_cleanup["datasets"].append(name)
    org = organization(f"{run1['owner_org']}-{run_suffix}")
    ckan_cleanup["organizations"].append(org.name)
    target.ensure_organizations([org])

    first = target.publish(case_publication(run1, name, org, tmp_path))
    second = target.publish(case_publication(run2, name, org, tmp_path))
    api = ckan.admin()
    package = api.action.package_show(id=name)

    assert [found for found in api.action.package_list() if found.startswith(run1["name"]) and run_suffix in found] == [name]
    assert len(package["resources"]) == 2
    assert [resource["sofia_key"] for resource in package["resources"]] == ["kindergartens.csv", "kindergartens.parquet"]
    assert second.details["dataset_id"] == first.details["dataset_id"]
    assert second.details["resource_ids"] == first.details["resource_ids"]
    assert second.details["uploaded"] == []
    assert second.status == "published"
    assert package["notes"] == run2["notes"]
    assert extras(package)["source_id"] == "SO-DIR-EDU-0007"


# Tokens and permissions


@pytest.mark.ckan
def test_editor_token_publishes(ckan, org, dataset_name, tmp_path):
    if not ckan.editor_token or not ckan.editor_user:
        pytest.skip("no editor token: run scripts/ckan/ckan-up.sh, which creates pipeline-editor")

    target = CkanTarget(ckan.url, ckan.editor_token, attempts=2, retry_delay=0.01)
    result = target.publish(districts_publication(dataset_name, org, tmp_path))
    package = ckan.admin().action.package_show(id=dataset_name)
    editor = ckan.admin().action.user_show(id=ckan.editor_user)

    assert result.status == "published"
    assert package["creator_user_id"] == editor["id"]
    assert len(package["resources"]) == 2
    assert target.publish(districts_publication(dataset_name, org, tmp_path, run_id="run-2")).status == "unchanged"


@pytest.mark.ckan
def test_missing_organization_needs_admin(ckan, ckan_cleanup, dataset_name, run_suffix, tmp_path):
    if not ckan.editor_token:
        pytest.skip("no editor token: run scripts/ckan/ckan-up.sh, which creates pipeline-editor")
    missing = organization(f"missing-org-{run_suffix}")
    ckan_cleanup["organizations"].append(missing.name)

    target = CkanTarget(ckan.url, ckan.editor_token, attempts=2, retry_delay=0.01)
    with pytest.raises(PublishError) as raised:
        target.publish(districts_publication(dataset_name, missing, tmp_path))

    assert raised.value.key == "ckan.organization_missing"
    assert raised.value.render("bg") == (
        f"Организацията {missing.name} не съществува в CKAN на {ckan.url}, а API токенът няма право да я "
        "създаде. Системен администратор на портала трябва да изпълни: opendata-sofia ckan create-organizations"
    )
    assert ckan.editor_token not in "".join(traceback.format_exception(raised.value))
    assert missing.name not in ckan.admin().action.organization_list()


@pytest.mark.ckan
def test_admin_token_creates_missing_organization(ckan, ckan_cleanup, dataset_name, run_suffix, tmp_path):
    if not ckan.editor_token or not ckan.editor_user:
        pytest.skip("no editor token: run scripts/ckan/ckan-up.sh, which creates pipeline-editor")
    new = organization(f"new-org-{run_suffix}")
    ckan_cleanup["organizations"].append(new.name)

    target = CkanTarget(ckan.url, ckan.editor_token, admin_token=ckan.admin_token, attempts=2, retry_delay=0.01)
    result = target.publish(districts_publication(dataset_name, new, tmp_path))
    shown = ckan.admin().action.organization_show(id=new.name, include_users=True)

    assert result.status == "published"
    assert {user["name"]: user["capacity"] for user in shown["users"]}[ckan.editor_user] == "editor"


@pytest.mark.ckan
def test_invalid_dataset_keeps_error_dict(ckan, target, org, tmp_path):
    publication = districts_publication("test-districts-invalid", org, tmp_path)
    publication.dataset.title = {"bg": "", "en": ""}
    publication.dataset.name = "Невалидно Име"

    with pytest.raises(PublishError) as raised:
        target.publish(publication)

    assert raised.value.key == "ckan.invalid"
    assert "name" in raised.value.params["error_dict"]
    assert ckan.admin_token not in "".join(traceback.format_exception(raised.value))


@pytest.mark.ckan
def test_wrong_token_is_not_authorized(ckan, org, dataset_name, tmp_path):
    wrong_token = "wrong-" + ckan.admin_token[::-1]
    target = CkanTarget(ckan.url, wrong_token, attempts=1)

    with pytest.raises(PublishError) as raised:
        target.publish(districts_publication(dataset_name, org, tmp_path))

    text = "".join(traceback.format_exception(raised.value)) + raised.value.render("bg") + repr(target)
    assert raised.value.key == "ckan.not_authorized"
    assert wrong_token not in text


# Failing servers (no CKAN needed)


class FailingHandler(QuietHandler):
    """A CKAN that returns HTTP 503 to every request and counts the requests."""

    requests_seen = 0

    def do_POST(self):
        type(self).requests_seen += 1
        self.reply(503, b"<html>Service Unavailable</html>")


@pytest.fixture
def failing_server():
    FailingHandler.requests_seen = 0
    with serve(FailingHandler) as url:
        yield url


def test_server_error_is_retried(failing_server, tmp_path):
    token = "secret-token-for-a-failing-server"
    target = CkanTarget(failing_server, token, attempts=3, retry_delay=0.001)

    with pytest.raises(PublishError) as raised:
        target.publish(districts_publication("test-districts", organization("test-org"), tmp_path))

    assert raised.value.key == "ckan.server_error"
    assert raised.value.params["status"] == 503
    assert raised.value.params["attempts"] == 3
    assert FailingHandler.requests_seen == 3
    assert token not in "".join(traceback.format_exception(raised.value))


def test_unreachable_ckan_is_retried(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    token = "secret-token-for-a-closed-port"
    target = CkanTarget(f"http://127.0.0.1:{closed_port}", token, attempts=2, retry_delay=0.001)

    with pytest.raises(PublishError) as raised:
        target.publish(districts_publication("test-districts", organization("test-org"), tmp_path))

    text = "".join(traceback.format_exception(raised.value)) + raised.value.render("bg") + raised.value.render("en")
    assert raised.value.key == "ckan.unreachable"
    assert raised.value.params["attempts"] == 2
    assert raised.value.render("bg").startswith(f"CKAN на http://127.0.0.1:{closed_port} не отговаря при organization_show")
    assert token not in text


def test_repeated_output_key_rejected(tmp_path):
    publication = districts_publication("test-districts", organization("test-org"), tmp_path)
    publication.files.append(publication.files[0])
    target = CkanTarget("http://127.0.0.1:9", "unused-token", attempts=1)

    with pytest.raises(ValueError, match="output keys of test-districts repeat"):
        target.publish(publication)
