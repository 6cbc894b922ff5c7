"""Dataset metadata in CKAN's shape, shared by every target.

CKAN core has no translated fields, so the Bulgarian text goes into the standard fields
(`title`, `notes`, tags) and the English text into extras (`title_en`, `notes_en`) and resource
fields (`name_en`, `description_en`).
"""

from __future__ import annotations

import re
import uuid
from typing import Callable

from opendata_sofia.publishing.base import OutputFile, Publication

# Frictionless licence names (SPDX-like) to the licence ids of CKAN's default licence list.
CKAN_LICENSES = {
    "CC-BY-4.0": "cc-by",
    "CC-BY-SA-4.0": "cc-by-sa",
    "CC0-1.0": "cc-zero",
    "ODbL-1.0": "odc-odbl",
    "ODC-BY-1.0": "odc-by",
    "PDDL-1.0": "odc-pddl",
    "OGL-UK-3.0": "uk-ogl",
}
TAG_FORBIDDEN = re.compile(r"[^\w \-.]+")
# Resource ids in the local portal are derived from the dataset and resource key, so they stay
# the same from run to run, like CKAN's ids do.
RESOURCE_NAMESPACE = uuid.UUID("6f1b7c52-3b7e-4d55-9a0e-5d4f0c1e2a10")


def license_id(licenses: list[dict]) -> str:
    """Return CKAN's licence id for the first licence, or its name when CKAN has no such id."""
    if not licenses:
        return "notspecified"
    name = licenses[0].get("name", "")
    return CKAN_LICENSES.get(name, name.lower() or "notspecified")


def tags(keywords: dict[str, list[str]]) -> list[dict[str, str]]:
    """Return CKAN tags from the Bulgarian and English keywords, cleaned to CKAN's tag rules."""
    names: list[str] = []
    for keyword in keywords.get("bg", []) + keywords.get("en", []):
        name = TAG_FORBIDDEN.sub(" ", keyword).strip()[:100]
        if len(name) >= 2 and name not in names:
            names.append(name)
    return [{"name": name} for name in names]


def dataset_fields(publication: Publication) -> dict:
    """Return the package fields a target writes, without resources."""
    dataset = publication.dataset
    extras = {
        "source_id": dataset.id,
        "title_en": dataset.title["en"],
        "notes_en": dataset.description["en"],
        "frequency": dataset.frequency,
    }
    if dataset.hvd:
        extras["hvd_category"] = dataset.hvd
    if dataset.planned:
        extras["planned"] = dataset.planned
    return {
        "name": dataset.name,
        "title": dataset.title["bg"],
        "notes": dataset.description["bg"],
        "owner_org": dataset.organization.name,
        "license_id": license_id(dataset.licenses),
        "tags": tags(dataset.keywords),
        "extras": [{"key": key, "value": value} for key, value in sorted(extras.items())],
    }


def resource_fields(publication: Publication, output: OutputFile) -> dict:
    """Return the fields of the CKAN resource that carries `output`."""
    spec = next((r for r in publication.dataset.resources if r.name == output.resource), None)
    title = spec.title if spec else {"bg": output.resource, "en": output.resource}
    description = spec.description if spec else {"bg": "", "en": ""}
    return {
        "name": f"{title['bg']} ({output.format})",
        "name_en": f"{title['en']} ({output.format})",
        "description": description.get("bg", ""),
        "description_en": description.get("en", ""),
        "format": output.format,
        "mimetype": output.media_type,
        "hash": output.sha256,
        "size": output.bytes,
        "sofia_key": output.key,
    }


def ckan_package(publication: Publication, resource_url: Callable[[OutputFile], str]) -> dict:
    """Return the whole package dict, as CKAN's package_show would show it."""
    dataset = publication.dataset
    package = dataset_fields(publication)
    package["organization"] = {
        "name": dataset.organization.name,
        "title": dataset.organization.title["bg"],
        "title_en": dataset.organization.title["en"],
    }
    package["num_rows"] = dict(sorted(publication.row_counts.items()))
    package["resources"] = [
        {
            "id": str(uuid.uuid5(RESOURCE_NAMESPACE, f"{dataset.name}/{output.key}")),
            "url": resource_url(output),
            **resource_fields(publication, output),
        }
        for output in publication.files
    ]
    return package
