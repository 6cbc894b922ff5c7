"""The indicator dataset: progress toward the target as open data of its own.

After every run the flow computes `progress_report.progress_numbers` from the ledger, stores
the snapshot with the run, and writes four CSV tables into an inbox of their own under
`<workdir>/indicators/`. The dataset `indikatori-za-otvoreni-danni` reads them from there, so
they pass the same validation, conversion and publishing as every other dataset. Its numbers
equal those of `opendata-sofia status --json` at the time of the run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opendata_sofia.catalog import Catalog, DatasetSpec
from opendata_sofia.i18n import message
from opendata_sofia.ledger import Ledger
from opendata_sofia.pipeline import RunContext
from opendata_sofia.reporting.progress import INDICATOR_DATASET, STATES, history, progress_numbers, snapshot
from opendata_sofia.settings import Settings

# Indicators with a value in `progress_numbers`, in the order of the table.
TOTALS = ("target", "in_plan", "published", "stale", "published_with_stale")


@dataclass
class IndicatorRun:
    """The indicator dataset and the context to publish it in, with the numbers it holds."""

    dataset: DatasetSpec
    context: RunContext
    numbers: dict[str, Any]


def prepare_indicators(catalog: Catalog, ledger: Ledger, settings: Settings, run_id: str) -> IndicatorRun | None:
    """Store this run's progress snapshot and write the indicator tables.

    Return None when the catalog has no indicator dataset.
    """
    numbers = progress_numbers(catalog, ledger, settings.target)
    ledger.save_progress(run_id, snapshot(numbers))

    dataset = catalog.datasets.get(INDICATOR_DATASET)
    if dataset is None:  # a catalog without the indicator dataset, such as a test catalog
        return None

    inbox = settings.workdir / "indicators" / settings.target
    write_tables(numbers, history(ledger, settings.target), inbox / INDICATOR_DATASET)
    context = RunContext(settings=settings.with_changes(inbox=inbox), run_id=run_id)
    return IndicatorRun(dataset=dataset, context=context, numbers=numbers)


def write_tables(numbers: dict[str, Any], days: list[dict[str, Any]], folder: Path) -> None:
    """Write indicators.csv, organizations.csv, datasets.csv and history.csv into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    as_of = numbers["as_of"][:10]

    _write(folder / "indicators.csv", ["indicator", "title_bg", "title_en", "value", "target", "as_of"],
           indicator_rows(numbers, as_of))
    _write(folder / "organizations.csv",
           ["organization", "title_bg", "title_en", "in_plan", "published", "stale", "planned", "as_of"],
           [_organization_row(organization, as_of) for organization in numbers["organizations"]])
    _write(folder / "datasets.csv",
           ["dataset", "source_id", "title_bg", "title_en", "organization", "frequency", "hvd_category",
            "planned_date", "state", "counts_toward_target", "first_published_at", "last_updated_at", "as_of"],
           [_dataset_row(name, entry, as_of) for name, entry in numbers["datasets"].items()])
    _write(folder / "history.csv", ["date", "published", "stale", "planned", "in_plan", "target"],
           [[day["date"], day["published"], day["stale"], day["planned"], day["in_plan"], day["target"]] for day in days])


def indicator_rows(numbers: dict[str, Any], as_of: str) -> list[list[Any]]:
    """Return one row per indicator: the totals, then the number of datasets in each state."""
    rows = []
    for key in TOTALS:
        target = numbers["target"] if key in ("published", "published_with_stale") else ""
        rows.append([key, *_titles(f"indicator.{key}"), numbers[key], target, as_of])
    for state in STATES:
        code = "state_" + state.replace(" ", "_")
        rows.append([code, *_titles(f"state.{state.replace(' ', '_')}"), numbers["states"][state], "", as_of])
    return rows


def _organization_row(organization: dict[str, Any], as_of: str) -> list[Any]:
    return [
        organization["name"], organization["title"]["bg"], organization["title"]["en"], organization["in_plan"],
        organization["published"], organization["stale"], organization["planned"], as_of,
    ]


def _dataset_row(name: str, entry: dict[str, Any], as_of: str) -> list[Any]:
    return [
        name, entry["id"], entry["title"]["bg"], entry["title"]["en"], entry["organization"], entry["frequency"],
        entry["hvd"] or "", entry["planned_date"] or "", entry["state"], "true" if entry["counts"] else "false",
        entry["first_published_at"] or "", entry["last_updated_at"] or "", as_of,
    ]


def _titles(key: str) -> tuple[str, str]:
    return message(key, lang="bg"), message(key, lang="en")


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
