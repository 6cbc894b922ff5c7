"""The run ledger: what ran, when, on which target, and what happened to each dataset.

SQLAlchemy Core over SQLite by default (`<workdir>/ledger.sqlite`); any URL SQLAlchemy accepts,
such as PostgreSQL (`postgresql+psycopg://…`), works through `OPENDATA_SOFIA_LEDGER_URL`. Progress
toward the target of 50 datasets is computed from here (`progress_report`).

Migration: opening a ledger creates missing tables and adds missing columns (`ALTER TABLE … ADD
COLUMN`, nullable), so a ledger written by an older version keeps its history. Columns are never
renamed or dropped; a change that needs that would need a real migration tool such as Alembic.
"""

from __future__ import annotations

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
    inspect,
    select,
    text,
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
    Column("progress", JSON),  # the progress snapshot after the run (`progress_report.snapshot`)
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
    Column("state", String(20)),  # the dataset's state after this run, see RUN_STATES
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

# The furthest state a dataset reached in one run, by the run's status. `stale` is not a run
# outcome: it depends on the date and is computed when progress is reported.
RUN_STATES = {
    "planned": "planned",  # no source described, so the run did not fetch it
    "skipped": "source connected",  # a source is described but delivered nothing
    "invalid": "schema defined",  # data arrived and was checked against its schema, with errors
    "failed": "failed",  # fetching, reading or publishing failed
    "published": "published",
    "unchanged": "published",
}


@dataclass
class DatasetResult:
    """The outcome of one run for one dataset."""

    dataset: str
    organization: str
    status: str  # published | unchanged | invalid | failed | skipped | planned
    duration_s: float = 0.0
    rows: int | None = None
    errors: int | None = None
    source_sha256: dict[str, str] | None = None
    outputs: dict[str, Any] | None = None
    url: str | None = None
    report: str | None = None
    message: str | None = None
    state: str | None = None  # RUN_STATES[status] unless set

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Ledger:
    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url)
        metadata.create_all(self.engine)
        _add_missing_columns(self.engine)

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
        values = result.to_dict()
        values["state"] = result.state or RUN_STATES.get(result.status, result.status)
        with self.engine.begin() as connection:
            connection.execute(results.insert().values(run_id=run_id, target=target, finished_at=_now(), **values))

    def save_progress(self, run_id: str, progress: dict[str, Any]) -> None:
        """Store the progress snapshot computed after the run, for the history of progress."""
        with self.engine.begin() as connection:
            connection.execute(runs.update().where(runs.c.id == run_id).values(progress=progress))

    def progress_history(self, target: str) -> list[dict[str, Any]]:
        """Return every run on `target` that has a progress snapshot, oldest first."""
        query = (
            select(runs.c.id, runs.c.started_at, runs.c.progress)
            .where(runs.c.target == target, runs.c.progress.is_not(None))
            .order_by(runs.c.started_at, runs.c.id)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def publications(self, target: str) -> list[dict[str, Any]]:
        """Return every result on `target` that left a complete version there, oldest first."""
        query = (
            select(results)
            .where(results.c.target == target, results.c.status.in_(PUBLISHED_STATES))
            .order_by(results.c.id)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def results_between(self, target: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Return the results on `target` that finished in [start, end), oldest first."""
        query = (
            select(results)
            .where(results.c.target == target, results.c.finished_at >= start, results.c.finished_at < end)
            .order_by(results.c.id)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

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


def _add_missing_columns(engine) -> None:
    """Add the columns a newer version declares to tables that an older version created."""
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            column_type = column.type.compile(dialect=engine.dialect)
            with engine.begin() as connection:
                connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {column_type}'))
