"""`catalog check` on a copy of a real descriptor with one mistake each: keys and inbox paths."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from opendata_sofia.catalog import load_catalog

REPO = Path(__file__).resolve().parents[1]
NAME = "rayoni-na-stolichna-obshtina"
DESCRIPTOR = json.loads((REPO / "datapackages" / NAME / "datapackage.json").read_text(encoding="utf-8"))
RESOURCE_KEYS = "en, source, read, labels, locale, cleanup, checks, pii"


def problems_of(tmp_path: Path, descriptor: dict) -> list[tuple[str, str | None, dict]]:
    # Descriptors name their schema as ../../schemas/<name>.json, so the copy keeps that layout.
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    catalog = tmp_path / "datapackages"
    (catalog / NAME).mkdir(parents=True)
    shutil.copy(REPO / "datapackages" / "organizations.json", catalog)
    text = json.dumps(descriptor, ensure_ascii=False)
    (catalog / NAME / "datapackage.json").write_text(text, encoding="utf-8")
    loaded = load_catalog(catalog, tmp_path / "schemas")
    return [(p.key, p.resource, p.params) for p in loaded.problems]


def resource_sofia(descriptor: dict) -> dict:
    return descriptor["resources"][0]["sofia"]


def test_unchanged_descriptor_passes(tmp_path):
    assert problems_of(tmp_path, DESCRIPTOR) == []


def test_resource_key_typo(tmp_path):
    descriptor = copy.deepcopy(DESCRIPTOR)
    resource_sofia(descriptor)["raed"] = resource_sofia(descriptor).pop("read")

    assert problems_of(tmp_path, descriptor) == [
        ("catalog.problem.key_unknown", "districts", {"name": "sofia.raed", "allowed": RESOURCE_KEYS})
    ]


def test_source_key_typo(tmp_path):
    descriptor = copy.deepcopy(DESCRIPTOR)
    resource_sofia(descriptor)["source"]["maxbytes"] = 10

    [(key, resource, params)] = problems_of(tmp_path, descriptor)

    assert key == "catalog.problem.key_unknown"
    assert resource == "districts"
    assert params["name"] == "sofia.source.maxbytes"
    assert params["allowed"].startswith("kind, path, url, auth, timeout")
    assert "maxBytes" in params["allowed"].split(", ")


def test_dataset_key_typo(tmp_path):
    descriptor = copy.deepcopy(DESCRIPTOR)
    descriptor["sofia"]["frequncy"] = "annual"

    assert problems_of(tmp_path, descriptor) == [
        (
            "catalog.problem.key_unknown",
            None,
            {"name": "sofia.frequncy", "allowed": "id, en, organization, frequency, hvd, planned"},
        )
    ]


def test_read_key_typo(tmp_path):
    descriptor = copy.deepcopy(DESCRIPTOR)
    resource_sofia(descriptor)["read"]["headerRow"] = [1]

    [(key, resource, params)] = problems_of(tmp_path, descriptor)

    assert key == "read.option_unknown"
    assert resource == "districts"
    assert params["option"] == "headerRow"
    assert "headerRows" in params["allowed"].split(", ")


def test_read_value_invalid(tmp_path):
    descriptor = copy.deepcopy(DESCRIPTOR)
    resource_sofia(descriptor)["read"]["delimiter"] = ";;"

    [(key, resource, params)] = problems_of(tmp_path, descriptor)

    assert key == "read.option_invalid"
    assert resource == "districts"
    assert params["option"] == "delimiter"


@pytest.mark.parametrize("path", ["/srv/inbox/Regions_SO.csv", "../secrets/Regions_SO.csv", "a/../../b.csv"])
def test_inbox_path_outside(tmp_path, path):
    descriptor = copy.deepcopy(DESCRIPTOR)
    resource_sofia(descriptor)["source"]["path"] = path

    assert problems_of(tmp_path, descriptor) == [
        ("catalog.problem.inbox_path_outside", "districts", {"value": path})
    ]
