"""The catalog: dataset descriptors in `datapackages/`, Table Schemas in `schemas/`.

`load_catalog` returns the datasets and every problem found, all at once, so that
`opendata-sofia catalog check` can list them in one pass. `require_catalog` raises when there
is any problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frictionless import Package, Schema

from opendata_sofia.errors import CatalogError
from opendata_sofia.placeholders import find_placeholders

DATASET_NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
RESOURCE_NAME = re.compile(r"^[a-z0-9._-]+$")
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "annual", "irregular", "never")
SOURCE_KINDS = ("inbox", "http")
READ_FORMATS = ("csv", "xlsx", "xls", "json", "geojson")
ORGANIZATIONS_FILE = "organizations.json"


@dataclass(frozen=True)
class Organization:
    """A directorate or municipal body that owns datasets; a CKAN organization."""

    name: str
    title: dict[str, str]
    description: dict[str, str]


@dataclass
class ResourceSpec:
    """One table of a dataset: its schema, its source and how to read it."""

    name: str
    title: dict[str, str]
    description: dict[str, str]
    schema: dict[str, Any]
    schema_name: str
    source: dict[str, Any]
    read: dict[str, Any]
    labels: dict[str, str] = field(default_factory=dict)
    locale: dict[str, Any] = field(default_factory=dict)
    cleanup: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def format(self) -> str:
        return self.read.get("format", "csv")

    @property
    def is_geo(self) -> bool:
        return self.format == "geojson"

    @property
    def connected(self) -> bool:
        """Whether a source is described; a resource without one is planned."""
        return bool(self.source)


@dataclass
class DatasetSpec:
    """One dataset of the catalog, as described in its `datapackage.json`."""

    name: str
    folder: Path
    descriptor: dict[str, Any]
    id: str
    title: dict[str, str]
    description: dict[str, str]
    keywords: dict[str, list[str]]
    organization: Organization
    frequency: str
    licenses: list[dict[str, Any]]
    resources: list[ResourceSpec]
    hvd: str | None = None
    planned: str | None = None

    @property
    def connected(self) -> bool:
        """Whether every resource has a source, so that a run can fetch the dataset."""
        return all(resource.connected for resource in self.resources)

    @property
    def state(self) -> str:
        """`connected`, or `planned` while a resource has no source yet (runs do not fetch it)."""
        return "connected" if self.connected else "planned"


@dataclass(frozen=True)
class CatalogProblem:
    """One problem in the catalog: which file, which dataset, what is wrong."""

    path: str
    dataset: str | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.dataset}: " if self.dataset else ""
        return f"{self.path}: {where}{self.detail}"


@dataclass
class Catalog:
    datasets: dict[str, DatasetSpec]
    organizations: dict[str, Organization]
    problems: list[CatalogProblem]

    def select(self, names: list[str] | None) -> list[DatasetSpec]:
        """Return the datasets called `names` (all when empty), raising for an unknown name."""
        if not names:
            return list(self.datasets.values())

        unknown = [name for name in names if name not in self.datasets]
        if unknown:
            raise CatalogError(
                "catalog.unknown_dataset",
                names=", ".join(unknown),
                known=", ".join(sorted(self.datasets)),
            )
        return [self.datasets[name] for name in names]


def load_catalog(catalog_dir: Path, schemas_dir: Path) -> Catalog:
    """Load every descriptor under `catalog_dir`, collecting problems instead of stopping."""
    problems: list[CatalogProblem] = []
    organizations = _load_organizations(catalog_dir / ORGANIZATIONS_FILE, problems)

    datasets: dict[str, DatasetSpec] = {}
    seen_ids: dict[str, str] = {}
    for descriptor_path in sorted(catalog_dir.glob("*/datapackage.json")):
        dataset = _load_dataset(descriptor_path, schemas_dir, organizations, problems)
        if dataset is None:
            continue

        if dataset.name in datasets:
            problems.append(_problem(descriptor_path, dataset.name, f"name {dataset.name!r} is used twice"))
            continue
        if dataset.id in seen_ids:
            problems.append(
                _problem(descriptor_path, dataset.name, f"id {dataset.id!r} is also used by {seen_ids[dataset.id]}")
            )
        seen_ids[dataset.id] = dataset.name
        datasets[dataset.name] = dataset

    if not datasets and not problems:
        problems.append(CatalogProblem(str(catalog_dir), None, "no datapackage.json found"))
    return Catalog(datasets=datasets, organizations=organizations, problems=problems)


def require_catalog(catalog_dir: Path, schemas_dir: Path) -> Catalog:
    """Load the catalog and raise `CatalogError` listing every problem, if there is one."""
    catalog = load_catalog(catalog_dir, schemas_dir)
    if catalog.problems:
        raise CatalogError(
            "catalog.problems",
            count=len(catalog.problems),
            problems="\n".join(f"  - {problem}" for problem in catalog.problems),
        )
    return catalog


def package_descriptor(dataset: DatasetSpec) -> dict[str, Any]:
    """Return the dataset's descriptor with each schema inlined, as a standalone Data Package."""
    descriptor = json.loads(json.dumps(dataset.descriptor))
    for resource, spec in zip(descriptor["resources"], dataset.resources):
        resource["schema"] = spec.schema
    return descriptor


# Loading


def _load_organizations(path: Path, problems: list[CatalogProblem]) -> dict[str, Organization]:
    data = _read_json(path, None, problems)
    if data is None:
        return {}

    organizations = {}
    for name, entry in data.items():
        title = entry.get("title", {})
        description = entry.get("description", {})
        if not (title.get("bg") and title.get("en")):
            problems.append(_problem(path, None, f"organization {name!r} needs a title in bg and en"))
        if not DATASET_NAME.match(name):
            problems.append(_problem(path, None, f"organization name {name!r} must match {DATASET_NAME.pattern}"))
        organizations[name] = Organization(name=name, title=title, description=description)
    return organizations


def _load_dataset(
    path: Path,
    schemas_dir: Path,
    organizations: dict[str, Organization],
    problems: list[CatalogProblem],
) -> DatasetSpec | None:
    descriptor = _read_json(path, None, problems)
    if descriptor is None:
        return None

    name = descriptor.get("name") or path.parent.name
    before = len(problems)

    def report(detail: str) -> None:
        problems.append(_problem(path, name, detail))

    # Placeholders left by `opendata-sofia describe`
    for where, text in find_placeholders(descriptor):
        report(f"{where} still holds the placeholder {text!r}: replace it with the real value")

    # Identity
    if not DATASET_NAME.match(name):
        report(f"name {name!r} must match {DATASET_NAME.pattern} (a CKAN dataset name)")
    if name != path.parent.name:
        report(f"name {name!r} differs from its folder {path.parent.name!r}")
    sofia = descriptor.get("sofia") or {}
    if not isinstance(sofia, dict):
        report("'sofia' must be an object")
        sofia = {}
    english = sofia.get("en") or {}

    # Bilingual metadata
    for prop in ("title", "description"):
        if not descriptor.get(prop):
            report(f"'{prop}' (Bulgarian) is missing")
        if not english.get(prop):
            report(f"'sofia.en.{prop}' (English) is missing")
    if not descriptor.get("keywords"):
        report("'keywords' (Bulgarian) is missing")
    if not english.get("keywords"):
        report("'sofia.en.keywords' (English) is missing")
    if not descriptor.get("licenses"):
        report("'licenses' is missing")

    # Ownership and schedule
    if not sofia.get("id"):
        report("'sofia.id' (stable source id, e.g. SO-IOT-0001) is missing")
    organization = organizations.get(sofia.get("organization", ""))
    if organization is None:
        report(f"'sofia.organization' {sofia.get('organization')!r} is not in {ORGANIZATIONS_FILE}")
    frequency = sofia.get("frequency")
    if frequency not in FREQUENCIES:
        report(f"'sofia.frequency' {frequency!r} must be one of {', '.join(FREQUENCIES)}")

    # Resources
    resources = []
    raw_resources = descriptor.get("resources") or []
    if not raw_resources:
        report("no resources")
    seen = set()
    for index, raw in enumerate(raw_resources):
        resource = _load_resource(raw, index, path, schemas_dir, report)
        if resource is None:
            continue
        if resource.name in seen:
            report(f"resource name {resource.name!r} is used twice")
        seen.add(resource.name)
        resources.append(resource)

    if len(problems) > before:
        return None

    dataset = DatasetSpec(
        name=name,
        folder=path.parent,
        descriptor=descriptor,
        id=sofia["id"],
        title={"bg": descriptor["title"], "en": english["title"]},
        description={"bg": descriptor["description"], "en": english["description"]},
        keywords={"bg": list(descriptor["keywords"]), "en": list(english["keywords"])},
        organization=organization,
        frequency=frequency,
        licenses=descriptor["licenses"],
        resources=resources,
        hvd=sofia.get("hvd"),
        planned=sofia.get("planned"),
    )
    _check_with_frictionless(dataset, report)
    return dataset


def _load_resource(raw: dict, index: int, path: Path, schemas_dir: Path, report) -> ResourceSpec | None:
    where = f"resources[{index}]"
    name = raw.get("name")
    if not name or not RESOURCE_NAME.match(name):
        report(f"{where}: name {name!r} must match {RESOURCE_NAME.pattern}")
        return None
    where = f"resource {name!r}"
    sofia = raw.get("sofia") or {}
    english = sofia.get("en") or {}

    schema, schema_name = _resolve_schema(raw.get("schema"), path.parent, schemas_dir, where, report)
    for field_path, text in find_placeholders(schema or {}):
        report(f"{where}: schema {schema_name} {field_path} still holds the placeholder {text!r}: replace it")

    # A resource without a source is planned: described and checked, but not fetched yet
    source = sofia.get("source") or {}
    kind = source.get("kind")
    if "source" in sofia and kind not in SOURCE_KINDS:
        report(f"{where}: 'sofia.source.kind' {kind!r} must be one of {', '.join(SOURCE_KINDS)}")
    elif kind == "inbox" and not source.get("path"):
        report(f"{where}: an inbox source needs 'path' (relative to the inbox folder)")
    elif kind == "http" and not str(source.get("url", "")).startswith(("http://", "https://")):
        report(f"{where}: an http source needs 'url' starting with http:// or https://")

    read = sofia.get("read") or {}
    if read.get("format", "csv") not in READ_FORMATS:
        report(f"{where}: 'sofia.read.format' {read.get('format')!r} must be one of {', '.join(READ_FORMATS)}")

    labels = sofia.get("labels") or {}
    locale = sofia.get("locale") or {}
    cleanup = sofia.get("cleanup") or []
    checks = sofia.get("checks") or []
    for check in checks:
        if check.get("type") != "row-constraint" or not isinstance(check.get("formula"), str):
            report(f"{where}: a check needs 'type': 'row-constraint' and a 'formula'")
        hint = check.get("hint")
        if hint is not None and not (isinstance(hint, dict) and hint.get("bg") and hint.get("en")):
            report(f"{where}: the hint of a check needs text in bg and en")
    if schema is not None:
        field_names = {f["name"] for f in schema.get("fields", [])}
        for label, target in labels.items():
            if target not in field_names:
                report(f"{where}: label {label!r} maps to {target!r}, which is not a field of {schema_name}")
        for field_name in (locale.get("fields") or {}):
            if field_name not in field_names:
                report(f"{where}: locale for unknown field {field_name!r}")
        for rule in cleanup:
            for field_name in rule.get("fields", []):
                if field_name not in field_names:
                    report(f"{where}: clean-up rule for unknown field {field_name!r}")
        for check in checks:
            if check.get("field") and check["field"] not in field_names:
                report(f"{where}: check names unknown field {check['field']!r}")
        from opendata_sofia.pii import allow_problems  # pii imports validation, which imports this module

        for problem in allow_problems(sofia.get("pii"), field_names):
            report(f"{where}: {problem}")

    if schema is None:
        return None
    return ResourceSpec(
        name=name,
        title={"bg": raw.get("title") or name, "en": english.get("title") or raw.get("title") or name},
        description={"bg": raw.get("description", ""), "en": english.get("description", "")},
        schema=schema,
        schema_name=schema_name,
        source=source,
        read=read,
        labels=labels,
        locale=locale,
        cleanup=cleanup,
        checks=checks,
    )


def _resolve_schema(reference, folder: Path, schemas_dir: Path, where: str, report):
    if not isinstance(reference, str):
        report(f"{where}: 'schema' must be a path to a file in {schemas_dir.name}/")
        return None, ""

    path = (folder / reference).resolve()
    if path.parent != schemas_dir.resolve():
        report(f"{where}: schema {reference!r} must be a file directly in {schemas_dir}")
        return None, ""
    if not path.is_file():
        report(f"{where}: schema file {reference!r} not found")
        return None, ""

    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        report(f"{where}: schema {path.name} is not valid JSON: {error}")
        return None, ""

    metadata_errors = Schema.validate_descriptor(schema).errors
    for error in metadata_errors:
        report(f"{where}: schema {path.name}: {error.message}")
    if metadata_errors:
        return None, ""
    return schema, path.stem


def _check_with_frictionless(dataset: DatasetSpec, report) -> None:
    """Check the descriptor against the Data Package profile, with the schemas inlined."""
    descriptor = package_descriptor(dataset)
    for resource in descriptor["resources"]:
        resource.setdefault("path", f"{resource['name']}.csv")
    for error in Package.validate_descriptor(descriptor).errors:
        report(f"Data Package profile: {error.message}")


def _read_json(path: Path, dataset: str | None, problems: list[CatalogProblem]) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(_problem(path, dataset, "file not found"))
        return None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.append(_problem(path, dataset, f"not valid UTF-8 JSON: {error}"))
        return None
    if not isinstance(data, dict):
        problems.append(_problem(path, dataset, "must hold a JSON object"))
        return None
    return data


def _problem(path: Path, dataset: str | None, detail: str) -> CatalogProblem:
    return CatalogProblem(path=str(path), dataset=dataset, detail=detail)
