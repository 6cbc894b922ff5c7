"""The catalog: dataset descriptors in `datapackages/`, Table Schemas in `schemas/`.

`load_catalog` returns the datasets and every problem found, all at once, so that
`opendata-sofia catalog check` can list them in one pass. `require_catalog` raises when there
is any problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from frictionless import Package, Schema

from opendata_sofia.errors import CatalogError
from opendata_sofia.i18n import message
from opendata_sofia.onboarding.placeholders import find_placeholders
from opendata_sofia.reading.options import ReadOptions

DATASET_NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
RESOURCE_NAME = re.compile(r"^[a-z0-9._-]+$")
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "annual", "irregular", "never")
SOURCE_KINDS = ("inbox", "http")
READ_FORMATS = ("csv", "xlsx", "xls", "json", "geojson")
ORGANIZATIONS_FILE = "organizations.json"

# The keys the pipeline reads from each `sofia` object. Any other key is a typo that the run
# would silently ignore, e.g. "raed" in place of "read".
DATASET_SOFIA_KEYS = ("id", "en", "organization", "frequency", "hvd", "planned")
RESOURCE_SOFIA_KEYS = ("en", "source", "read", "labels", "locale", "cleanup", "checks", "pii")
# Read by sources/http.py, sources/inbox.py and security/spreadsheet_guard.py.
SOURCE_KEYS = (
    "kind", "path", "url", "auth", "timeout", "deadline", "maxBytes", "maxRedirects",
    "maxUncompressedBytes", "maxCells", "maxRows", "maxXlsBytes",
)  # fmt: skip


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
    """One problem in the catalog: which file, which dataset and resource, and a message key.

    The text is rendered on demand from `locales/catalog.json`, so the same problem shows in
    the operator's language and `key` with `params` stays stable for machine-readable output.
    """

    path: str
    dataset: str | None
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    resource: str | None = None

    def detail(self, lang: str | None = None) -> str:
        """Render what is wrong, without the file, dataset and resource."""
        return message(self.key, lang=lang, **self.params)

    def render(self, lang: str | None = None) -> str:
        """Render the whole problem in `lang` (default: the language in force)."""
        where = [self.path]
        if self.dataset:
            where.append(self.dataset)
        if self.resource:
            where.append(message("catalog.problem.in_resource", lang=lang, resource=self.resource))
        return ": ".join([*where, self.detail(lang)])

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """Return the problem for `catalog check --json`: key and params, plus the rendered text."""
        return {
            "path": self.path,
            "dataset": self.dataset,
            "resource": self.resource,
            "key": self.key,
            "params": self.params,
            "message": self.render(lang),
        }

    def __str__(self) -> str:
        return self.render()


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
            twice = _problem(descriptor_path, dataset.name, "catalog.problem.dataset_name_twice", name=dataset.name)
            problems.append(twice)
            continue
        if dataset.id in seen_ids:
            other = seen_ids[dataset.id]
            problems.append(_problem(descriptor_path, dataset.name, "catalog.problem.id_twice", id=dataset.id, other=other))
        seen_ids[dataset.id] = dataset.name
        datasets[dataset.name] = dataset

    if not datasets and not problems:
        problems.append(_problem(catalog_dir, None, "catalog.problem.no_descriptors"))
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
            problems.append(_problem(path, None, "catalog.problem.organization_title", organization=name))
        if not DATASET_NAME.match(name):
            pattern = DATASET_NAME.pattern
            problems.append(_problem(path, None, "catalog.problem.organization_name", organization=name, pattern=pattern))
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

    def report(key: str, resource: str | None = None, **params: Any) -> None:
        problems.append(_problem(path, name, key, resource=resource, **params))

    # Placeholders left by `opendata-sofia describe`
    for where, text in find_placeholders(descriptor):
        report("catalog.problem.placeholder", where=where, text=text)

    # Identity
    if not DATASET_NAME.match(name):
        report("catalog.problem.dataset_name", name=name, pattern=DATASET_NAME.pattern)
    if name != path.parent.name:
        report("catalog.problem.name_not_folder", name=name, folder=path.parent.name)
    sofia = descriptor.get("sofia") or {}
    if not isinstance(sofia, dict):
        report("catalog.problem.sofia_not_object")
        sofia = {}
    _check_keys(sofia, DATASET_SOFIA_KEYS, "sofia", report)
    english = sofia.get("en") or {}

    # Bilingual metadata
    for prop in ("title", "description", "keywords"):
        if not descriptor.get(prop):
            report("catalog.problem.missing_bg", property=prop)
        if not english.get(prop):
            report("catalog.problem.missing_en", property=f"sofia.en.{prop}")
    if not descriptor.get("licenses"):
        report("catalog.problem.licenses_missing")

    # Ownership and schedule
    if not sofia.get("id"):
        report("catalog.problem.id_missing")
    organization = organizations.get(sofia.get("organization", ""))
    if not sofia.get("organization"):
        report("catalog.problem.organization_missing", file=ORGANIZATIONS_FILE)
    elif organization is None:
        report("catalog.problem.organization_unknown", organization=sofia["organization"], file=ORGANIZATIONS_FILE)
    frequency = sofia.get("frequency")
    if not frequency:
        report("catalog.problem.frequency_missing", allowed=", ".join(FREQUENCIES))
    elif frequency not in FREQUENCIES:
        report("catalog.problem.frequency_invalid", frequency=frequency, allowed=", ".join(FREQUENCIES))

    # Resources
    resources = []
    raw_resources = descriptor.get("resources") or []
    if not raw_resources:
        report("catalog.problem.no_resources")
    seen = set()
    for index, raw in enumerate(raw_resources):
        resource = _load_resource(raw, index, path, schemas_dir, report)
        if resource is None:
            continue
        if resource.name in seen:
            report("catalog.problem.resource_name_twice", name=resource.name)
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
    name = raw.get("name")
    if not name:
        report("catalog.problem.resource_name_missing", index=index)
        return None
    if not RESOURCE_NAME.match(name):
        report("catalog.problem.resource_name", index=index, name=name, pattern=RESOURCE_NAME.pattern)
        return None
    report = partial(report, resource=name)
    sofia = raw.get("sofia") or {}
    _check_keys(sofia, RESOURCE_SOFIA_KEYS, "sofia", report)
    english = sofia.get("en") or {}

    schema, schema_name = _resolve_schema(raw.get("schema"), path.parent, schemas_dir, report)
    for field_path, text in find_placeholders(schema or {}):
        report("catalog.problem.schema_placeholder", schema=schema_name, where=field_path, text=text)

    # A resource without a source is planned: described and checked, but not fetched yet
    source = sofia.get("source") or {}
    if "source" in sofia:
        _check_source(source, report)

    read = sofia.get("read") or {}
    if read.get("format", "csv") not in READ_FORMATS:
        report("catalog.problem.read_format", format=read.get("format"), allowed=", ".join(READ_FORMATS))
    else:
        _check_read(read, report)

    labels = sofia.get("labels") or {}
    locale = sofia.get("locale") or {}
    cleanup = sofia.get("cleanup") or []
    checks = sofia.get("checks") or []
    _check_checks(checks, report)
    if schema is not None:
        field_names = {f["name"] for f in schema.get("fields", [])}
        _check_field_references(field_names, schema_name, labels, locale, cleanup, checks, report)
        from opendata_sofia.security.pii import allow_problems  # pii imports validation, which imports this module

        for key, params in allow_problems(sofia.get("pii"), field_names):
            report(key, **params)

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


def _check_keys(obj: dict[str, Any], allowed: tuple[str, ...], where: str, report) -> None:
    for key in obj:
        if key not in allowed:
            report("catalog.problem.key_unknown", name=f"{where}.{key}", allowed=", ".join(allowed))


def _check_read(read: dict[str, Any], report) -> None:
    """Report what `ReadOptions` would raise at run time: unknown keys and invalid values."""
    try:
        ReadOptions.from_descriptor(read)
    except CatalogError as exc:
        report(exc.key, **exc.params)


def _check_source(source: dict[str, Any], report) -> None:
    _check_keys(source, SOURCE_KEYS, "sofia.source", report)
    kind = source.get("kind")
    if not kind:
        report("catalog.problem.source_kind_missing", allowed=", ".join(SOURCE_KINDS))
    elif kind not in SOURCE_KINDS:
        report("catalog.problem.source_kind", kind=kind, allowed=", ".join(SOURCE_KINDS))
    elif kind == "inbox" and not source.get("path"):
        report("catalog.problem.inbox_path")
    elif kind == "inbox" and _leaves_inbox(str(source["path"])):
        report("catalog.problem.inbox_path_outside", value=source["path"])
    elif kind == "http" and not str(source.get("url", "")).startswith(("http://", "https://")):
        report("catalog.problem.http_url")


def _leaves_inbox(pattern: str) -> bool:
    # The same rule as sources.inbox.find_in_inbox, which rejects such a path at run time.
    return Path(pattern).is_absolute() or ".." in Path(pattern).parts


def _check_checks(checks: list[dict[str, Any]], report) -> None:
    for check in checks:
        if check.get("type") != "row-constraint" or not isinstance(check.get("formula"), str):
            report("catalog.problem.check_shape")
        hint = check.get("hint")
        if hint is not None and not (isinstance(hint, dict) and hint.get("bg") and hint.get("en")):
            report("catalog.problem.check_hint")


def _check_field_references(
    field_names: set[str],
    schema_name: str,
    labels: dict[str, str],
    locale: dict[str, Any],
    cleanup: list[dict[str, Any]],
    checks: list[dict[str, Any]],
    report,
) -> None:
    """Report labels, locale entries, clean-up rules and checks that name a field the schema lacks."""
    for label, target in labels.items():
        if target not in field_names:
            report("catalog.problem.label_field", label=label, field=target, schema=schema_name)
    for field_name in (locale.get("fields") or {}):
        if field_name not in field_names:
            report("catalog.problem.locale_field", field=field_name)
    for rule in cleanup:
        for field_name in rule.get("fields", []):
            if field_name not in field_names:
                report("catalog.problem.cleanup_field", field=field_name)
    for check in checks:
        if check.get("field") and check["field"] not in field_names:
            report("catalog.problem.check_field", field=check["field"])


def _resolve_schema(reference, folder: Path, schemas_dir: Path, report):
    if not isinstance(reference, str):
        report("catalog.problem.schema_not_path", folder=schemas_dir.name)
        return None, ""

    path = (folder / reference).resolve()
    if path.parent != schemas_dir.resolve():
        report("catalog.problem.schema_outside", schema=reference, folder=str(schemas_dir))
        return None, ""
    if not path.is_file():
        report("catalog.problem.schema_not_found", schema=reference)
        return None, ""

    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        report("catalog.problem.schema_json", schema=path.name, error=str(error))
        return None, ""

    # Frictionless' own messages stay English: they name the specification's properties
    metadata_errors = Schema.validate_descriptor(schema).errors
    for error in metadata_errors:
        report("catalog.problem.schema_invalid", schema=path.name, detail=error.message)
    if metadata_errors:
        return None, ""
    return schema, path.stem


def _check_with_frictionless(dataset: DatasetSpec, report) -> None:
    """Check the descriptor against the Data Package profile, with the schemas inlined."""
    descriptor = package_descriptor(dataset)
    for resource in descriptor["resources"]:
        resource.setdefault("path", f"{resource['name']}.csv")
    for error in Package.validate_descriptor(descriptor).errors:
        report("catalog.problem.package_invalid", detail=error.message)


def _read_json(path: Path, dataset: str | None, problems: list[CatalogProblem]) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(_problem(path, dataset, "catalog.problem.file_not_found"))
        return None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.append(_problem(path, dataset, "catalog.problem.json_invalid", error=str(error)))
        return None
    if not isinstance(data, dict):
        problems.append(_problem(path, dataset, "catalog.problem.json_not_object"))
        return None
    return data


def _problem(path: Path, dataset: str | None, key: str, resource: str | None = None, **params: Any) -> CatalogProblem:
    return CatalogProblem(path=str(path), dataset=dataset, key=key, params=params, resource=resource)
