"""Progress toward the target of 50 published datasets, from the catalog and the run ledger.

The municipality committed to publish at least 50 datasets in machine-readable form. The
publication plan is every dataset of the catalog except the demo datasets (`SO-IOT-0000`,
`SO-IOT-09xx`) and the indicator dataset, which reports on the others and would otherwise
count its own publication.

A dataset of the plan is in one state (`STATES`):

| state | meaning |
|---|---|
| `planned` | described with a schema, but no source is connected, so runs do not fetch it |
| `source connected` | a source is described; it delivered nothing yet (no run, or skipped) |
| `schema defined` | data arrived and was checked against the schema, which rejected it |
| `valid` | validated and on the target, but a format or bilingual metadata is missing |
| `published` | on the target, complete, and updated within its update frequency |
| `stale` | on the target and complete, but its content is older than its update frequency |
| `failed` | nothing on the target, and the last run failed |

Only `published` counts toward the target. A stale dataset is still online, but it no longer
shows the register it describes, so it does not count. `published_with_stale` gives the number
with stale datasets included. "Complete" means: the last publication had no validation errors,
CSV, JSON and Parquet (and GeoJSON for a geographic resource) of every resource are on the
target, and the dataset, its resources and its organization have titles in Bulgarian and
English. A later invalid or failed run leaves the published version in place: the dataset keeps
its state and is listed under `last_run_failed`.

Staleness is measured from the last publication that changed content (status `published`); a
run that finds the same source bytes (`unchanged`) does not make the data newer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from opendata_sofia.catalog import Catalog, DatasetSpec
from opendata_sofia.ledger import RUN_STATES, Ledger

TARGET = 50  # datasets the municipality committed to publish in machine-readable form
INDICATOR_DATASET = "indikatori-za-otvoreni-danni"
DEMO_ID = re.compile(r"^SO-IOT-(0000|09[0-9]{2})$")
STATES = ("planned", "source connected", "schema defined", "valid", "published", "stale", "failed")

# Days after the last content change at which a dataset becomes stale. Datasets updated
# `irregular`ly or `never` do not become stale.
FREQUENCY_DAYS = {"daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "annual": 366}
FORMATS = ("csv", "json", "parquet")


@dataclass
class DatasetProgress:
    """The state of one dataset of the plan on a target."""

    name: str
    state: str
    last_status: str | None = None
    first_published_at: datetime | None = None
    last_updated_at: datetime | None = None
    missing: list[str] = field(default_factory=list)  # why a dataset on the target is not complete

    @property
    def counts(self) -> bool:
        return self.state == "published"


def plan_datasets(catalog: Catalog) -> list[DatasetSpec]:
    """Return the datasets of the publication plan, sorted by name."""
    return sorted(
        (dataset for dataset in catalog.datasets.values() if counts_toward_target(dataset)),
        key=lambda dataset: dataset.name,
    )


def counts_toward_target(dataset: DatasetSpec) -> bool:
    return dataset.name != INDICATOR_DATASET and not DEMO_ID.match(dataset.id)


def is_stale(frequency: str, last_updated_at: datetime, now: datetime) -> bool:
    days = FREQUENCY_DAYS.get(frequency)
    return days is not None and now - last_updated_at > timedelta(days=days)


def missing_requirements(dataset: DatasetSpec, publication: dict[str, Any]) -> list[str]:
    """Return what keeps a published version from counting: errors, formats, English metadata."""
    missing = []
    if publication.get("errors"):
        missing.append("validation")

    outputs = publication.get("outputs") or {}
    for resource in dataset.resources:
        extensions = FORMATS + (("geojson",) if resource.is_geo else ())
        missing += [f"{resource.name}.{ext}" for ext in extensions if f"{resource.name}.{ext}" not in outputs]

    texts = [dataset.title, dataset.description, dataset.organization.title]
    if not all(text.get("bg") and text.get("en") for text in texts):
        missing.append("metadata")
    if not all(dataset.keywords.get(lang) for lang in ("bg", "en")):
        missing.append("keywords")
    for raw in dataset.descriptor.get("resources", []):
        if not (raw.get("title") and ((raw.get("sofia") or {}).get("en") or {}).get("title")):
            missing.append(f"{raw.get('name')}.title")
    return missing


def dataset_progress(
    dataset: DatasetSpec, publications: list[dict[str, Any]], latest: dict[str, Any] | None, now: datetime
) -> DatasetProgress:
    """Return the state of one dataset from its publications (oldest first) and its latest result."""
    progress = DatasetProgress(name=dataset.name, state="source connected", last_status=(latest or {}).get("status"))
    if publications:
        changes = [row for row in publications if row["status"] == "published"]
        progress.first_published_at = _aware(publications[0]["finished_at"])
        progress.last_updated_at = _aware((changes or publications)[-1]["finished_at"])
        progress.missing = missing_requirements(dataset, publications[-1])
        if progress.missing:
            progress.state = "valid"
        elif is_stale(dataset.frequency, progress.last_updated_at, now):
            progress.state = "stale"
        else:
            progress.state = "published"
    elif not dataset.connected:
        progress.state = "planned"
    elif latest is not None:
        progress.state = latest.get("state") or RUN_STATES.get(latest["status"], "failed")
    return progress


def progress_numbers(catalog: Catalog, ledger: Ledger, target: str, now: datetime | None = None) -> dict[str, Any]:
    """Return the progress toward the target on `target`, as plain JSON-able data.

    `status --json`, the dashboard, the yearly report and the indicator dataset all show these
    numbers.
    """
    now = now or datetime.now(timezone.utc)
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for row in ledger.publications(target):
        by_dataset.setdefault(row["dataset"], []).append(row)
    latest = ledger.latest_results(target)

    plan = plan_datasets(catalog)
    states = {
        dataset.name: dataset_progress(dataset, by_dataset.get(dataset.name, []), latest.get(dataset.name), now)
        for dataset in plan
    }
    counted = sum(1 for progress in states.values() if progress.counts)
    stale = sorted(name for name, progress in states.items() if progress.state == "stale")

    return {
        "target": TARGET,
        "target_name": target,
        "as_of": now.isoformat(timespec="seconds"),
        "in_catalog": len(catalog.datasets),
        "in_plan": len(plan),
        "published": counted,
        "stale": len(stale),
        "published_with_stale": counted + len(stale),
        "percent": round(100 * counted / TARGET, 1),
        "states": {state: sum(1 for p in states.values() if p.state == state) for state in STATES},
        "organizations": _organizations(catalog, plan, states),
        "hvd": _hvd_categories(plan, states),
        "datasets": {dataset.name: _dataset_entry(dataset, states[dataset.name]) for dataset in plan},
        "stale_datasets": stale,
        "last_run_failed": sorted(
            name for name in states if latest.get(name, {}).get("status") in ("invalid", "failed")
        ),
        "not_counted": sorted(name for name in catalog.datasets if not counts_toward_target(catalog.datasets[name])),
    }


def snapshot(numbers: dict[str, Any]) -> dict[str, Any]:
    """Return the part of `progress_numbers` kept per run in the ledger, for the history."""
    keys = ("target", "in_plan", "published", "stale", "published_with_stale", "states")
    return {key: numbers[key] for key in keys} | {
        "dataset_states": {name: entry["state"] for name, entry in numbers["datasets"].items()}
    }


def history(ledger: Ledger, target: str) -> list[dict[str, Any]]:
    """Return progress by day (UTC): the last snapshot of each day on which the numbers changed."""
    by_day: dict[str, dict[str, Any]] = {}
    for run in ledger.progress_history(target):
        day = _aware(run["started_at"]).date().isoformat()
        progress = run["progress"]
        by_day[day] = {
            "date": day,
            "published": progress["published"],
            "stale": progress["stale"],
            "planned": progress["states"]["planned"],
            "in_plan": progress["in_plan"],
            "target": progress["target"],
        }

    changes: list[dict[str, Any]] = []
    for row in by_day.values():
        if not changes or _counts(changes[-1]) != _counts(row):
            changes.append(row)
    return changes


# Helpers


def _organizations(catalog: Catalog, plan: list[DatasetSpec], states: dict[str, DatasetProgress]) -> list[dict]:
    entries = []
    for name, organization in sorted(catalog.organizations.items()):
        members = [states[d.name] for d in plan if d.organization.name == name]
        if not members:
            continue
        entries.append({
            "name": name,
            "title": {"bg": organization.title.get("bg", name), "en": organization.title.get("en", name)},
            "in_plan": len(members),
            "published": sum(1 for p in members if p.counts),
            "stale": sum(1 for p in members if p.state == "stale"),
            "planned": sum(1 for p in members if p.state == "planned"),
        })
    return entries


def _hvd_categories(plan: list[DatasetSpec], states: dict[str, DatasetProgress]) -> dict[str, dict[str, int]]:
    categories: dict[str, dict[str, int]] = {}
    for dataset in plan:
        if dataset.hvd:
            entry = categories.setdefault(dataset.hvd, {"in_plan": 0, "published": 0})
            entry["in_plan"] += 1
            entry["published"] += int(states[dataset.name].counts)
    return dict(sorted(categories.items()))


def _dataset_entry(dataset: DatasetSpec, progress: DatasetProgress) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "title": dict(dataset.title),
        "organization": dataset.organization.name,
        "frequency": dataset.frequency,
        "hvd": dataset.hvd,
        "planned_date": dataset.planned,
        "state": progress.state,
        "counts": progress.counts,
        "published": progress.first_published_at is not None,
        "last_status": progress.last_status,
        "first_published_at": _iso(progress.first_published_at),
        "last_updated_at": _iso(progress.last_updated_at),
        "missing": progress.missing,
    }


def _counts(row: dict[str, Any]) -> tuple:
    return tuple(value for key, value in row.items() if key != "date")


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; the ledger writes UTC
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None
