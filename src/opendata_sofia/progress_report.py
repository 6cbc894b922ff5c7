"""Progress toward the target of 50 published datasets, from the catalog and the run ledger.

A dataset counts as published on a target once a run has left a complete version there
(`published` or `unchanged`); a later invalid run does not remove that version, so it still
counts, and it is listed under `last_run_failed` so that someone looks at it.
"""

from __future__ import annotations

from typing import Any

from opendata_sofia.catalog import Catalog
from opendata_sofia.i18n import get_language
from opendata_sofia.ledger import Ledger

TARGET = 50  # datasets the action plan commits the municipality to publish


def progress_numbers(catalog: Catalog, ledger: Ledger, target: str) -> dict[str, Any]:
    """Return published counts in total and per organization, as plain JSON-able data."""
    published = ledger.last_published(target)
    latest = ledger.latest_results(target)
    lang = get_language()

    organizations = []
    for name, organization in sorted(catalog.organizations.items()):
        members = [d for d in catalog.datasets.values() if d.organization.name == name]
        if not members:
            continue
        organizations.append({
            "name": name,
            "title": organization.title.get(lang) or organization.title["bg"],
            "published": sum(1 for d in members if d.name in published),
            "in_catalog": len(members),
        })

    return {
        "target": TARGET,
        "target_name": target,
        "published": sum(1 for name in catalog.datasets if name in published),
        "in_catalog": len(catalog.datasets),
        "organizations": organizations,
        "datasets": {
            name: {
                "published": name in published,
                "last_status": latest.get(name, {}).get("status"),
                "last_published_at": _iso(published.get(name, {}).get("finished_at")),
            }
            for name in sorted(catalog.datasets)
        },
        "last_run_failed": sorted(
            name for name, row in latest.items() if name in catalog.datasets and row["status"] in ("invalid", "failed")
        ),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
