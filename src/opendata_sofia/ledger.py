"""The run ledger: what ran, when, on which target, and what happened to each dataset.

SQLAlchemy Core over SQLite by default (`<workdir>/ledger.sqlite`); any URL SQLAlchemy accepts,
such as PostgreSQL, works through `OPENDATA_SOFIA_LEDGER_URL`. Progress toward the target of 50
datasets is computed from here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("target", String(20), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("pipeline_version", String(40), nullable=False),
    Column("counts", JSON),
)

results = Table(
    "results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), nullable=False, index=True),
    Column("dataset", String(100), nullable=False, index=True),
    Column("organization", String(100), nullable=False),
    Column("target", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("rows", Integer),
    Column("errors", Integer),
    Column("source_sha256", JSON),
    Column("outputs", JSON),
    Column("url", Text),
    Column("report", Text),
    Column("message", Text),
)

# Results that leave a complete version on the target.
PUBLISHED_STATES = ("published", "unchanged")


@dataclass
class DatasetResult:
    """What one run did with one dataset."""

    dataset: str
    organization: str
    status: str  # published | unchanged | invalid | failed | skipped
    duration_s: float = 0.0
    rows: int | None = None
    errors: int | None = None
    source_sha256: dict[str, str] | None = None
    outputs: dict[str, Any] | None = None
    url: str | None = None
    report: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Ledger:
    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url)
        metadata.create_all(self.engine)

    def start_run(self, *, target: str, trigger: str, pipeline_version: str) -> str:
        """Record the start of a run and return its id."""
        run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
        with self.engine.begin() as connection:
            connection.execute(
                runs.insert().values(
                    id=run_id,
                    started_at=_now(),
                    target=target,
                    trigger=trigger,
                    pipeline_version=pipeline_version,
                )
            )
        return run_id

    def record(self, run_id: str, target: str, result: DatasetResult) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                results.insert().values(run_id=run_id, target=target, finished_at=_now(), **result.to_dict())
            )

    def finish_run(self, run_id: str, counts: dict[str, int]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                runs.update().where(runs.c.id == run_id).values(finished_at=_now(), counts=counts)
            )

    def latest_results(self, target: str) -> dict[str, dict[str, Any]]:
        """Return the newest result of each dataset on `target`."""
        newest = (
            select(results.c.dataset, func.max(results.c.id).label("id"))
            .where(results.c.target == target)
            .group_by(results.c.dataset)
            .subquery()
        )
        query = select(results).join(newest, results.c.id == newest.c.id)
        with self.engine.connect() as connection:
            return {row.dataset: dict(row._mapping) for row in connection.execute(query)}

    def last_published(self, target: str) -> dict[str, dict[str, Any]]:
        """Return, per dataset, the newest result that left a complete version on `target`."""
        newest = (
            select(results.c.dataset, func.max(results.c.id).label("id"))
            .where(results.c.target == target, results.c.status.in_(PUBLISHED_STATES))
            .group_by(results.c.dataset)
            .subquery()
        )
        query = select(results).join(newest, results.c.id == newest.c.id)
        with self.engine.connect() as connection:
            return {row.dataset: dict(row._mapping) for row in connection.execute(query)}

    def run_results(self, run_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(results).where(results.c.run_id == run_id).order_by(results.c.id))
            return [dict(row._mapping) for row in rows]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
