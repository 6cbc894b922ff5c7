"""A file in the wrong encoding never reaches publication, and its raw bytes are kept.

The Prefect-free pipeline runs with a local folder portal. The operator sees a message that
names the file and the value to set in `sofia.read.encoding`.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from opendata_sofia import i18n
from opendata_sofia.pipeline import process_dataset
from tests.factories import make_dataset, make_resource
from tests.runs import local_target, published_names, run_context
from tests.shared import shared_path

pytestmark = pytest.mark.shared

SCHEMAS = {
    "kindergartens_cp1251.csv": {
        "fields": [
            {"name": "district", "type": "string", "title": "Район"},
            {"name": "kindergarten", "type": "string", "title": "Детска градина"},
            {"name": "address", "type": "string", "title": "Адрес"},
            {"name": "places", "type": "integer", "title": "Места"},
            {"name": "updated", "type": "string", "title": "Актуализация"},
        ]
    },
    "class_codes.csv": {
        "fields": [
            {"name": "class_code", "type": "string", "title": "код_паралелка"},
            {"name": "ekatte", "type": "string", "title": "екатте"},
            {"name": "district_code", "type": "string", "title": "район_код"},
            {"name": "name", "type": "string", "title": "име"},
        ]
    },
    "districts_blank_rows.csv": {
        "fields": [
            {"name": "district", "type": "string", "title": "Район"},
            {"name": "code", "type": "string", "title": "Код"},
            {"name": "residents", "type": "integer", "title": "Брой жители"},
        ]
    },
}

# (case folder, file, declared encoding, the encoding the message proposes to set)
WRONG = [
    pytest.param("01-cp1251-encoding-detection", "kindergartens_cp1251.csv", "utf-8", "windows-1251", id="cp1251-as-utf8"),
    pytest.param("09-leading-zero-codes", "class_codes.csv", "windows-1251", "utf-8", id="utf8-as-cp1251-bad-byte"),
    pytest.param("08-blank-rows", "districts_blank_rows.csv", "windows-1251", "utf-8", id="utf8-as-cp1251-mojibake"),
]


@pytest.fixture(autouse=True)
def _bulgarian(monkeypatch):
    monkeypatch.setattr(i18n, "_language", None)
    monkeypatch.setenv("OPENDATA_SOFIA_LANG", "bg")


def dataset_for(file_name: str, encoding: str):
    resource = make_resource(
        "table",
        schema=SCHEMAS[file_name],
        source={"kind": "inbox", "path": file_name},
        read={"format": "csv", "encoding": encoding},
    )
    return make_dataset("sofia-wrong-encoding", resources=[resource])


@pytest.mark.parametrize(("case", "file_name", "declared", "correct"), WRONG)
def test_wrong_encoding_is_invalid(case, file_name, declared, correct, tmp_path):
    source = shared_path("cases", case, file_name)
    context = run_context(tmp_path, source.parent)
    target = local_target(context)

    result = process_dataset(dataset_for(file_name, declared), context, target)

    assert result.status == "invalid"
    assert result.message.startswith(f"Файлът {file_name}")
    assert f"кодировка {declared}" in result.message
    assert result.message.endswith(f'задайте "encoding": "{correct}" в sofia.read на ресурса.')
    assert result.rows is None


@pytest.mark.parametrize(("case", "file_name", "declared", "correct"), WRONG)
def test_wrong_encoding_message_in_english(case, file_name, declared, correct, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENDATA_SOFIA_LANG", "en")
    source = shared_path("cases", case, file_name)
    context = run_context(tmp_path, source.parent)

    result = process_dataset(dataset_for(file_name, declared), context, local_target(context))

    assert result.message.startswith(f"File {file_name}")
    assert declared in result.message
    assert result.message.endswith(f"set \"encoding\": \"{correct}\" in the resource's sofia.read.")


@pytest.mark.parametrize(("case", "file_name", "declared", "correct"), WRONG)
def test_wrong_encoding_publishes_nothing(case, file_name, declared, correct, tmp_path):
    source = shared_path("cases", case, file_name)
    context = run_context(tmp_path, source.parent)
    target = local_target(context)
    dataset = dataset_for(file_name, declared)

    process_dataset(dataset, context, target)

    assert published_names(target) == []
    assert not (context.settings.portal / dataset.name).exists()
    assert not (context.settings.workdir / "outputs" / dataset.name).exists()


@pytest.mark.parametrize(("case", "file_name", "declared", "correct"), WRONG)
def test_wrong_encoding_raw_bytes_kept(case, file_name, declared, correct, tmp_path):
    source = shared_path("cases", case, file_name)
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    context = run_context(tmp_path, source.parent)

    result = process_dataset(dataset_for(file_name, declared), context, local_target(context))
    blob = context.store.get(sha256)
    pulls = (context.settings.workdir / "raw" / "pulls.jsonl").read_text(encoding="utf-8").splitlines()

    assert result.source_sha256 == {"table": sha256}
    assert blob is not None
    assert blob.path.read_bytes() == source.read_bytes()
    assert [(entry["name"], entry["sha256"]) for entry in map(json.loads, pulls)] == [(file_name, sha256)]


def test_wrong_encoding_keeps_previous_version(tmp_path):
    """A valid export is published; the next one arrives in windows-1251 and changes nothing."""
    source = shared_path("cases", "08-blank-rows", "districts_blank_rows.csv")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(source, inbox / source.name)
    context = run_context(tmp_path, inbox)
    target = local_target(context)
    dataset = dataset_for(source.name, "utf-8")
    folder = context.settings.portal / dataset.name

    first = process_dataset(dataset, context, target)
    published = {path.name: path.read_bytes() for path in folder.iterdir()}
    recoded = source.read_text(encoding="utf-8").encode("windows-1251")
    (inbox / source.name).write_bytes(recoded)
    second = process_dataset(dataset, context, target)

    assert first.status == "published"
    assert second.status == "invalid"
    assert 'задайте "encoding": "windows-1251"' in second.message
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == published
    assert context.store.get(hashlib.sha256(recoded).hexdigest()) is not None
