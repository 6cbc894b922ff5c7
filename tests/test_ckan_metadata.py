"""Catalog metadata as CKAN fields: tags, licences, extras."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from opendata_sofia.publishing.ckan_metadata import clean_tag, license_id, merged_extras
from tests import ckan_fixtures


@pytest.mark.parametrize(
    ("keyword", "tag"),
    [
        ("райони", "райони"),
        ("ЕКАТТЕ/код", "ЕКАТТЕ код"),
        ("  два   интервала ", "два интервала"),
        ("air-quality_2024.v1", "air-quality_2024.v1"),
        ("„кавички“ и (скоби)", "кавички и скоби"),
        ("x", None),
        ("!!", None),
        ("а" * 120, "а" * 100),
    ],
)
def test_clean_tag(keyword, tag):
    assert clean_tag(keyword) == tag


@pytest.mark.parametrize(
    ("licence", "ckan_id"),
    [
        ({"name": "CC-BY-4.0"}, "cc-by"),
        ({"name": "ODbL-1.0"}, "odc-odbl"),
        ({"name": "ODbL"}, "odc-odbl"),
        ({"name": "CC0-1.0"}, "cc-zero"),
        ({"name": "cc-by-sa"}, "cc-by-sa"),
        ({"name": "custom-licence"}, "custom-licence"),
    ],
)
def test_license_id(licence, ckan_id):
    assert license_id(SimpleNamespace(licenses=[licence, {"name": "ODbL"}])) == ckan_id


def test_merged_extras_keeps_foreign_keys():
    current = {"extras": [
        {"key": "Актуален към", "value": "2026-01-01"},
        {"key": "hvd_category", "value": "statistics"},
        {"key": "run_id", "value": "old"},
    ]}
    desired = {"extras": [{"key": "run_id", "value": "new"}, {"key": "title_en", "value": "Districts"}]}

    assert merged_extras(current, desired) == [
        {"key": "run_id", "value": "new"},
        {"key": "title_en", "value": "Districts"},
        {"key": "Актуален към", "value": "2026-01-01"},
    ]


def test_missing_ckan_fails_on_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception) as raised:
        ckan_fixtures._unavailable("CKAN at http://127.0.0.1:9 does not answer status_show")

    assert "scripts/ckan/ckan-up.sh" in str(raised.value)


def test_missing_ckan_skips_elsewhere(monkeypatch):
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception) as raised:
        ckan_fixtures._unavailable("CKAN at http://127.0.0.1:9 does not answer status_show")

    assert "sudo bash scripts/ckan/ckan-up.sh" in str(raised.value)
