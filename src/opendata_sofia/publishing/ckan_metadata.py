"""Catalog metadata as CKAN fields, and the comparison that decides whether to write.

CKAN core has no translated fields, so the pipeline stores both languages this way:

| catalog | CKAN |
|---|---|
| organization title / description (bg) | organization `title` / `description` |
| organization title / description (en) | organization extras `title_en` / `description_en` |
| dataset title / description (bg) | dataset `title` / `notes` |
| dataset title / description (en) | dataset extras `title_en` / `notes_en` |
| keywords (bg and en) | `tags`, cleaned to CKAN's tag rules |
| `sofia.id`, `frequency`, `hvd`, `planned` | extras `source_id`, `frequency`, `hvd_category`, `planned` |
| resource title / description (bg) | resource `name` ("title (FORMAT)") / `description` |
| resource title / description (en) | resource fields `name_en` / `description_en` |
| output key, sha256 | resource fields `sofia_key`, `hash` |
| sha256 and structure of the CSV in the DataStore | resource fields `datastore_hash`, `datastore_structure` |

Provenance (`pipeline_version`, `run_id`, `source_sha256`) is kept in extras too, and the
validation report is a resource of its own (`validation-report.json`).

Change rule: a dataset is patched only when a content field differs from CKAN (title, notes,
owner_org, license_id, tags, the content extras above, or the dataset is deleted) or when a
resource file is created, re-uploaded or deleted. Provenance alone never triggers a patch:
`run_id` differs on every run, and a source whose canonical outputs did not change leaves
the portal, and its `metadata_modified`, as they were.
"""

from __future__ import annotations

import json
import re
from typing import Any

from opendata_sofia.catalog import DatasetSpec, Organization, ResourceSpec
from opendata_sofia.publishing.base import OutputFile, Publication

# SPDX / Open Definition ids as written in Data Package `licenses`, lower-cased, to the ids of
# CKAN's default licence list. A name not listed here is sent to CKAN as written.
LICENSE_IDS = {
    "cc-by-4.0": "cc-by",
    "cc-by": "cc-by",
    "cc-by-sa-4.0": "cc-by-sa",
    "cc-by-sa": "cc-by-sa",
    "cc0-1.0": "cc-zero",
    "cc0": "cc-zero",
    "cc-by-nc-4.0": "cc-nc",
    "odbl-1.0": "odc-odbl",
    "odbl": "odc-odbl",
    "odc-odbl": "odc-odbl",
    "odc-by-1.0": "odc-by",
    "odc-by": "odc-by",
    "pddl-1.0": "odc-pddl",
    "pddl": "odc-pddl",
    "odc-pddl": "odc-pddl",
    "ogl-uk-3.0": "uk-ogl",
    "gfdl-1.3": "gfdl",
}

CONTENT_EXTRAS = ("title_en", "notes_en", "source_id", "frequency", "hvd_category", "planned")
PROVENANCE_EXTRAS = ("pipeline_version", "run_id", "source_sha256")
MANAGED_EXTRAS = CONTENT_EXTRAS + PROVENANCE_EXTRAS
RESOURCE_FIELDS = ("name", "name_en", "description", "description_en", "format", "mimetype", "size", "hash")
KEY_FIELD = "sofia_key"
# Titles of outputs that describe the dataset instead of holding one of its tables
AUXILIARY_TITLES = {"validation-report": {"bg": "Отчет от валидирането", "en": "Validation report"}}

# CKAN's tag_name_validator: 2 to 100 characters, word characters (any script), space, - _ .
TAG_MIN, TAG_MAX = 2, 100
TAG_FORBIDDEN = re.compile(r"[^\w \-.]+")


# Organizations


def organization_fields(organization: Organization) -> dict[str, Any]:
    """Return the CKAN fields of an organization (Bulgarian in core fields, English in extras)."""
    return {
        "name": organization.name,
        "title": organization.title.get("bg", organization.name),
        "description": organization.description.get("bg", ""),
        "extras": [
            {"key": "title_en", "value": organization.title.get("en", "")},
            {"key": "description_en", "value": organization.description.get("en", "")},
        ],
    }


def organization_differs(current: dict[str, Any], organization: Organization) -> bool:
    """Return True when CKAN's organization has another title, description or English text."""
    desired = organization_fields(organization)
    if (current.get("title"), current.get("description") or "") != (desired["title"], desired["description"]):
        return True

    current_extras = _extras(current)
    return any(current_extras.get(key) != value for key, value in _extras(desired).items())


# Datasets


def dataset_fields(publication: Publication, owner_org: str) -> dict[str, Any]:
    """Return the CKAN fields of the dataset: content and provenance, without resources."""
    dataset = publication.dataset
    return {
        "name": dataset.name,
        "title": dataset.title["bg"],
        "notes": dataset.description["bg"],
        "owner_org": owner_org,
        "license_id": license_id(dataset),
        "tags": [{"name": tag} for tag in tags(dataset)],
        "extras": [{"key": key, "value": value} for key, value in _dataset_extras(publication).items()],
    }


def content_differs(current: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Return True when a content field differs; provenance extras are not compared."""
    for field in ("title", "notes", "owner_org", "license_id"):
        if (current.get(field) or "") != (desired.get(field) or ""):
            return True
    if current.get("state", "active") != "active":
        return True

    if sorted(tag["name"] for tag in current.get("tags", [])) != sorted(tag["name"] for tag in desired["tags"]):
        return True

    current_extras, desired_extras = _extras(current), _extras(desired)
    return any(current_extras.get(key) != desired_extras.get(key) for key in CONTENT_EXTRAS)


def merged_extras(current: dict[str, Any], desired: dict[str, Any]) -> list[dict[str, str]]:
    """Return the full extras list for `package_patch`, which replaces the list it is given.

    Extras set by someone else on the portal are kept; managed keys the publication no longer
    has (an `hvd_category` removed from the catalog) are dropped.
    """
    extras = {key: value for key, value in _extras(current).items() if key not in MANAGED_EXTRAS}
    extras.update(_extras(desired))
    return [{"key": key, "value": value} for key, value in sorted(extras.items())]


def license_id(dataset: DatasetSpec) -> str:
    """Return the CKAN licence id of the dataset's first licence."""
    name = str(dataset.licenses[0].get("name") or dataset.licenses[0].get("path") or "notspecified")
    return LICENSE_IDS.get(name.lower(), name)


def tags(dataset: DatasetSpec) -> list[str]:
    """Return the Bulgarian, then the English keywords as valid CKAN tags, without repeats."""
    result: list[str] = []
    for keyword in dataset.keywords.get("bg", []) + dataset.keywords.get("en", []):
        tag = clean_tag(keyword)
        if tag and tag not in result:
            result.append(tag)
    return result


def clean_tag(keyword: str) -> str | None:
    """Return `keyword` as a CKAN tag (forbidden characters become spaces), or None if too short."""
    tag = " ".join(TAG_FORBIDDEN.sub(" ", keyword).split())[:TAG_MAX].strip()
    return tag if len(tag) >= TAG_MIN else None


def _dataset_extras(publication: Publication) -> dict[str, str]:
    dataset = publication.dataset
    extras = {
        "title_en": dataset.title.get("en", ""),
        "notes_en": dataset.description.get("en", ""),
        "source_id": dataset.id,
        "frequency": dataset.frequency,
        "hvd_category": dataset.hvd,
        "planned": dataset.planned,
    }
    for key in PROVENANCE_EXTRAS:
        extras[key] = _as_text(publication.provenance.get(key))
    return {key: value for key, value in extras.items() if value}


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _extras(entity: dict[str, Any]) -> dict[str, str]:
    return {extra["key"]: extra["value"] for extra in entity.get("extras") or []}


# Resources


def resource_fields(output: OutputFile, dataset: DatasetSpec) -> dict[str, Any]:
    """Return the CKAN fields of one output file's resource, without the upload itself."""
    spec = _resource_spec(output, dataset)
    title = spec.title if spec else AUXILIARY_TITLES.get(output.resource, dataset.title)
    description = spec.description if spec else {"bg": "", "en": ""}
    return {
        KEY_FIELD: output.key,
        "name": f"{title['bg']} ({output.format})",
        "name_en": f"{title.get('en') or title['bg']} ({output.format})",
        "description": description.get("bg", ""),
        "description_en": description.get("en", ""),
        "format": output.format,
        "mimetype": output.media_type,
        "size": output.bytes,
        "hash": output.sha256,
    }


def resource_differs(current: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Return True when a resource's metadata (not its file) differs from CKAN."""
    return any(str(current.get(field) or "") != str(desired.get(field) or "") for field in RESOURCE_FIELDS)


def _resource_spec(output: OutputFile, dataset: DatasetSpec) -> ResourceSpec | None:
    for spec in dataset.resources:
        if spec.name == output.resource:
            return spec
    return None
