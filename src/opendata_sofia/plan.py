"""The plan of changes: what publishing a built dataset would change on a target, without writing.

For each dataset the plan lists

- metadata fields whose published value differs (old → new): titles, descriptions, the
  organization, licence, tags and the content extras, the same fields that make a target
  write (provenance such as `run_id` never does);
- resources to create, re-upload (another sha256), update (metadata only) or delete, and on
  CKAN the DataStore tables to load;
- rows added, removed and changed in each CSV, matched by the Table Schema's primary key. The
  published CSV is read from the portal folder (local target) or downloaded from the resource
  URL (CKAN), which is the file the DataStore table was loaded from. A table without a primary
  key is compared as a multiset of whole rows, so a changed row counts as removed plus added.

Nothing is written to the target. Building the publication writes work files and reports
under the work directory, as `validate` does.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from opendata_sofia.i18n import message
from opendata_sofia.publishing.base import OutputFile, Publication
from opendata_sofia.publishing.ckan_metadata import CONTENT_EXTRAS

EXAMPLE_KEYS = 5  # row keys shown per kind of change
COMPARED_FIELDS = ("title", "notes", "organization", "license_id", "tags") + CONTENT_EXTRAS


@dataclass
class FieldChange:
    """A metadata field whose published value differs from the new one."""

    field: str
    old: str | None
    new: str | None


@dataclass
class ResourceChange:
    """The action publishing takes on one resource: create, upload, update, load, delete or unchanged."""

    key: str
    action: str


@dataclass
class RowChanges:
    """Rows of one CSV added, removed and changed, with a few of their keys as examples."""

    key: str
    primary_key: list[str]
    added: int = 0
    removed: int = 0
    changed: int = 0
    examples: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class DatasetPlan:
    """The plan for one dataset on one target; `status` is `new`, `changed` or `unchanged`."""

    dataset: str
    target: str
    status: str
    metadata: list[FieldChange] = field(default_factory=list)
    resources: list[ResourceChange] = field(default_factory=list)
    rows: list[RowChanges] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Snapshot:
    """The published state of one dataset on a target, as the plan compares it.

    `package` is CKAN-shaped (`package_show` on CKAN, `ckan.json` in the local portal);
    `fetch_file(resource, destination)` copies a published file to `destination`.
    """

    package: dict[str, Any] | None
    desired: dict[str, Any]
    fetch_file: Callable[[dict[str, Any], Path], None]


# Planning one dataset


def plan_publication(publication: Publication, target: Any) -> DatasetPlan:
    """Compare `publication` with what `target` has published; write nothing."""
    snapshot = target.snapshot(publication) if hasattr(target, "snapshot") else local_snapshot(target, publication)
    name = publication.dataset.name
    if snapshot.package is None:
        return DatasetPlan(
            dataset=name,
            target=target.name,
            status="new",
            metadata=[FieldChange(key, None, value) for key, value in flatten(snapshot.desired).items() if value],
            resources=[ResourceChange(output.key, "create") for output in publication.files],
            rows=[_all_added(output, publication) for output in publication.files if output.format == "CSV"],
        )

    metadata = metadata_changes(snapshot.package, snapshot.desired)
    published = _published_resources(snapshot.package)
    resources, rows = [], []
    for output in publication.files:
        current = published.pop(output.key, None)
        resources.append(ResourceChange(output.key, _resource_action(current, output, snapshot.desired)))
        if output.format != "CSV":
            continue
        if current is None:
            rows.append(_all_added(output, publication))
        elif current.get("hash") != output.sha256:
            rows.append(_compare_published(current, output, publication, snapshot))
    resources.extend(ResourceChange(key, "delete") for key in published)

    changed = metadata or any(change.action != "unchanged" for change in resources)
    return DatasetPlan(
        dataset=name,
        target=target.name,
        status="changed" if changed else "unchanged",
        metadata=metadata,
        resources=resources,
        rows=rows,
    )


def local_snapshot(target: Any, publication: Publication) -> Snapshot:
    """Read what the local folder portal has published for the dataset (its `ckan.json` and files)."""
    from opendata_sofia.publishing.local import PACKAGE_FILE
    from opendata_sofia.publishing.ckan_metadata import resource_fields
    from opendata_sofia.publishing.metadata import ckan_package

    folder = Path(target.root) / publication.dataset.name
    package_file = folder / PACKAGE_FILE
    package = json.loads(package_file.read_text(encoding="utf-8")) if package_file.is_file() else None

    desired = ckan_package(publication, resource_url=lambda output: output.key)
    desired["resource_fields"] = {
        output.key: {
            key: value
            for key, value in resource_fields(output, publication.dataset).items()
            if key in ("name", "name_en", "description", "description_en", "format")
        }
        for output in publication.files
    }

    def copy_published(resource: dict[str, Any], destination: Path) -> None:
        shutil.copyfile(folder / resource["sofia_key"], destination)

    return Snapshot(package=package, desired=desired, fetch_file=copy_published)


def flatten(package: dict[str, Any]) -> dict[str, str | None]:
    """Return the compared metadata of a CKAN-shaped package as text, one entry per field."""
    extras = {extra["key"]: extra["value"] for extra in package.get("extras") or []}
    organization = package.get("organization") or {}
    values = {
        "title": package.get("title"),
        "notes": package.get("notes"),
        "organization": organization.get("name") or package.get("owner_org"),
        "license_id": package.get("license_id"),
        "tags": ", ".join(sorted(tag["name"] for tag in package.get("tags") or [])),
    }
    values.update({key: extras.get(key) for key in CONTENT_EXTRAS})
    return {key: (values.get(key) or None) for key in COMPARED_FIELDS}


def metadata_changes(current: dict[str, Any], desired: dict[str, Any]) -> list[FieldChange]:
    """Return the compared fields whose value differs, in `COMPARED_FIELDS` order."""
    old, new = flatten(current), flatten(desired)
    changes = [FieldChange(key, old[key], new[key]) for key in COMPARED_FIELDS if old[key] != new[key]]
    if current.get("state", "active") != "active":
        changes.append(FieldChange("state", current.get("state"), "active"))
    return changes


def _published_resources(package: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = {}
    for resource in package.get("resources") or []:
        key = resource.get("sofia_key")
        if key and key not in resources:
            resources[key] = resource
    return resources


def _resource_action(current: dict[str, Any] | None, output: OutputFile, desired: dict[str, Any]) -> str:
    if current is None:
        return "create"
    if current.get("hash") != output.sha256:
        return "upload"

    expected_fields = (desired.get("resource_fields") or {}).get(output.key)
    if expected_fields and any(str(current.get(k) or "") != str(v or "") for k, v in expected_fields.items()):
        return "update"
    expected_load = (desired.get("datastore") or {}).get(output.key)
    # publishing also reloads a table whose resource is not flagged datastore_active
    if expected_load and (current.get("datastore_hash") != expected_load or not current.get("datastore_active")):
        return "load"
    return "unchanged"


# Rows


def _all_added(output: OutputFile, publication: Publication) -> RowChanges:
    """Count the rows of a CSV that has no published version."""
    primary_key = _primary_key(output, publication)
    changes = RowChanges(key=output.key, primary_key=primary_key)
    for row in _rows(output.path):
        changes.added += 1
        _example(changes, "added", _key_of(row, primary_key))
    return changes


def _compare_published(current: dict[str, Any], output: OutputFile, publication: Publication, snapshot: Snapshot) -> RowChanges:
    with tempfile.TemporaryDirectory(prefix="opendata-sofia-plan-") as folder:
        old_path = Path(folder) / "published.csv"
        snapshot.fetch_file(current, old_path)
        return diff_rows(old_path, output.path, _primary_key(output, publication), key=output.key)


def diff_rows(old_path: Path, new_path: Path, primary_key: list[str], *, key: str = "") -> RowChanges:
    """Compare two CSVs with headers row by row, by `primary_key` (column names).

    The old file is held as one key and one 8-byte digest per row; the new file is streamed.
    """
    changes = RowChanges(key=key, primary_key=primary_key)
    if not primary_key:
        return _diff_whole_rows(old_path, new_path, changes)

    # NOTE: memory grows with the published table: an estimated 150 bytes per row for short keys.
    old: dict[tuple[str, ...], int] = {}
    for row in _rows(old_path):
        old[_key_of(row, primary_key)] = _digest(row)

    for row in _rows(new_path):
        row_key = _key_of(row, primary_key)
        digest = old.pop(row_key, None)
        if digest is None:
            changes.added += 1
            _example(changes, "added", row_key)
        elif digest != _digest(row):
            changes.changed += 1
            _example(changes, "changed", row_key)

    changes.removed = len(old)
    for row_key in list(old)[:EXAMPLE_KEYS]:
        _example(changes, "removed", row_key)
    return changes


def _diff_whole_rows(old_path: Path, new_path: Path, changes: RowChanges) -> RowChanges:
    counts: dict[int, int] = {}
    for row in _rows(old_path):
        digest = _digest(row)
        counts[digest] = counts.get(digest, 0) + 1
    for row in _rows(new_path):
        digest = _digest(row)
        if counts.get(digest):
            counts[digest] -= 1
        else:
            changes.added += 1
    changes.removed = sum(counts.values())
    return changes


def _primary_key(output: OutputFile, publication: Publication) -> list[str]:
    spec = next((spec for spec in publication.dataset.resources if spec.name == output.resource), None)
    key = (spec.schema.get("primaryKey") if spec else None) or []
    return [key] if isinstance(key, str) else list(key)


def _rows(path: Path):
    with path.open(encoding="utf-8-sig", newline="") as stream:
        yield from csv.DictReader(stream)


def _key_of(row: dict[str, str], primary_key: list[str]) -> tuple[str, ...]:
    return tuple(row.get(name) or "" for name in primary_key)


def _digest(row: dict[str, str]) -> int:
    data = json.dumps(sorted(row.items()), ensure_ascii=False).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _example(changes: RowChanges, kind: str, row_key: tuple[str, ...]) -> None:
    if len(changes.examples[kind]) < EXAMPLE_KEYS:
        changes.examples[kind].append(" / ".join(row_key) if row_key else "")


# Text


def render_plan(plan: DatasetPlan, lang: str | None = None) -> list[str]:
    """Return the plan of one dataset as lines of text for the operator."""
    say = lambda message_key, **params: message(message_key, lang=lang, **params)  # noqa: E731
    lines = [say(f"plan.dataset_{plan.status}", dataset=plan.dataset, target=plan.target)]

    for change in plan.metadata:
        lines.append("  " + say("plan.field", field=change.field, old=_shown(change.old, lang), new=_shown(change.new, lang)))
    for change in plan.resources:
        if change.action != "unchanged":
            lines.append("  " + say(f"plan.resource_{change.action}", resource=change.key))
    for rows in plan.rows:
        if not rows.any:
            continue
        lines.append("  " + say("plan.rows", resource=rows.key, added=rows.added, removed=rows.removed, changed=rows.changed))
        for kind in ("added", "removed", "changed"):
            if rows.examples[kind]:
                lines.append("    " + say(f"plan.rows_{kind}", keys=", ".join(rows.examples[kind])))
    return lines


def _shown(value: str | None, lang: str | None) -> str:
    if value is None:
        return message("plan.empty", lang=lang)
    return value if len(value) <= 80 else value[:77] + "..."


# The catalog


def plan_catalog(names: list[str] | None, settings: Any) -> dict[str, Any]:
    """Build the named datasets (all when None) and plan each against the target in `settings`.

    Returns a summary like the run's: `datasets` contains one plan per built dataset, or its
    status (`skipped`, `invalid`, `failed`) and message; `needs_attention` lists those that
    are invalid or failed.
    """
    from opendata_sofia import pipeline
    from opendata_sofia.catalog import require_catalog
    from opendata_sofia.errors import PipelineError, ReadError, SourceNotFound, ValidationFailed

    catalog = require_catalog(settings.catalog, settings.schemas)
    selected = pipeline.runnable(catalog.select(names))
    target = pipeline.make_target(settings)
    context = pipeline.RunContext(settings=settings, run_id="plan")

    entries: list[dict[str, Any]] = []
    for dataset in selected:
        try:
            built = pipeline.build_dataset(dataset, pipeline.fetch_dataset(dataset, context), context)
            entries.append(plan_publication(built.publication, target).to_dict())
        except SourceNotFound as error:
            entries.append({"dataset": dataset.name, "status": "skipped", "message": error.render()})
        except (ValidationFailed, ReadError) as error:
            entries.append({"dataset": dataset.name, "status": "invalid", "message": error.render()})
        except PipelineError as error:
            entries.append({"dataset": dataset.name, "status": "failed", "message": error.render()})

    counts = {status: 0 for status in ("new", "changed", "unchanged", "skipped", "invalid", "failed")}
    for entry in entries:
        counts[entry["status"]] += 1
    return {
        "target": settings.target,
        "counts": counts,
        "needs_attention": [entry["dataset"] for entry in entries if entry["status"] in ("invalid", "failed")],
        "datasets": entries,
    }


def render_catalog_plan(summary: dict[str, Any], lang: str | None = None) -> list[str]:
    """Return the lines of text of a `plan_catalog` summary."""
    lines = [message("plan.title", lang=lang, target=summary["target"])]
    for entry in summary["datasets"]:
        if entry["status"] in ("new", "changed", "unchanged"):
            lines.extend(render_plan(_from_dict(entry), lang))
        else:
            status = message(f"status.{entry['status']}", lang=lang)
            lines.append(message("plan.dataset_not_built", lang=lang, dataset=entry["dataset"], status=status, message=entry["message"]))

    counts = summary["counts"]
    failed = counts["invalid"] + counts["failed"]
    lines.append(
        message(
            "plan.summary", lang=lang, new=counts["new"], changed=counts["changed"], unchanged=counts["unchanged"],
            skipped=counts["skipped"], failed=failed,
        )
    )
    return lines


def _from_dict(entry: dict[str, Any]) -> DatasetPlan:
    return DatasetPlan(
        dataset=entry["dataset"],
        target=entry["target"],
        status=entry["status"],
        metadata=[FieldChange(**change) for change in entry["metadata"]],
        resources=[ResourceChange(**change) for change in entry["resources"]],
        rows=[RowChanges(**rows) for rows in entry["rows"]],
    )
