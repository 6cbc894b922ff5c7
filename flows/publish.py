"""Prefect flows: publish one dataset, or the whole catalog (the nightly run).

Orchestration only: the steps are `opendata_sofia.pipeline` functions, wrapped as tasks here so
that Prefect adds retries with backoff to the network steps (fetch, publish), runs several
datasets at once, and records each run. Without a Prefect server configured, Prefect starts a
temporary local one for the run.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from opendata_sofia import __version__, events, pipeline
from opendata_sofia.catalog import load_catalog
from opendata_sofia.errors import (
    CatalogError,
    PipelineError,
    PublishError,
    ReadError,
    SourceError,
    SourceNotFound,
    ValidationFailed,
)
from opendata_sofia.i18n import message
from opendata_sofia.ledger import DatasetResult, Ledger
from opendata_sofia.reporting.progress import progress_numbers
from opendata_sofia.security.redaction import redact
from opendata_sofia_flows.secrets import resolve_ckan_token
from opendata_sofia.settings import Settings

RETRIES = 3
NEEDS_A_PERSON = ("invalid", "failed")


def _is_transient(task, task_run, state) -> bool:
    """Retry network failures only: a missing file or a rejected publication will not heal."""
    try:
        state.result()
    except SourceNotFound:
        return False
    except (SourceError, PublishError) as error:
        return getattr(error, "retryable", True)
    except Exception:
        return False
    return False


network_task = dict(
    retries=RETRIES,
    retry_delay_seconds=exponential_backoff(backoff_factor=5),
    retry_jitter_factor=0.5,
    retry_condition_fn=_is_transient,
    cache_policy=NO_CACHE,
)


@task(name="fetch-sources", **network_task)
def fetch_sources(dataset, context):
    try:
        return pipeline.fetch_dataset(dataset, context)
    except SourceNotFound as error:  # an export not delivered yet: the task itself did its job
        return error


@task(name="read-validate-convert", cache_policy=NO_CACHE)
def build(dataset, pulls, context):
    try:
        return pipeline.build_dataset(dataset, pulls, context)
    except (ValidationFailed, ReadError) as error:  # bad input is a result, reported once below
        return error


def _raising(step):
    """Call a task and raise the expected failure it returned, outside the task run."""

    def call(*args):
        outcome = step(*args)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return call


@task(name="publish", **network_task)
def publish(built, target):
    return pipeline.publish_built(built, target)


@task(name="process-dataset", cache_policy=NO_CACHE)
def process(dataset, context, target) -> DatasetResult:
    events.emit("dataset_started", dataset=dataset.name)
    result = pipeline.process_dataset(
        dataset, context, target, fetch_step=_raising(fetch_sources), build_step=_raising(build), publish_step=publish
    )
    _log_result(result)
    events.emit("dataset_finished", dataset=dataset.name, status=result.status)
    return result


@flow(name="publish-catalog", task_runner=ThreadPoolTaskRunner(max_workers=4))
def publish_catalog(
    datasets: list[str] | None = None,
    inbox: str | None = None,
    target: str | None = None,
    trigger: str = "manual",
) -> dict[str, Any]:
    """Publish the named datasets (all of the catalog when none) and return the run summary.

    One failing dataset does not stop the others; the summary lists those that need a person.
    """
    settings = _settings(inbox=inbox, target=target)
    catalog = load_catalog(settings.catalog, settings.schemas)
    # A dataset whose descriptor is broken needs a person; it does not stop the others
    broken = _broken_datasets(catalog, datasets)
    selected = catalog.select([name for name in datasets if name not in broken] if datasets else None)
    # Planned datasets have no source to fetch; the indicator dataset is built after the others
    planned = [dataset for dataset in selected if not dataset.connected]
    selected = pipeline.runnable(selected)
    ledger = Ledger(settings.ledger_url)
    run_id = ledger.start_run(target=settings.target, trigger=trigger, pipeline_version=__version__)
    context = pipeline.RunContext(settings=settings, run_id=run_id)
    try:
        results, numbers = _run_datasets(catalog, context, ledger, selected, broken, planned)
    except BaseException:
        # Close an interrupted run in the ledger, so that it does not look like one still going
        ledger.finish_run(run_id, {"interrupted": 1})
        raise

    summary = _summary(run_id, settings, results)
    summary["counts"]["planned"] = len(planned)
    summary["catalog_problems"] = [problem.render() for problem in catalog.problems if problem.dataset is None]
    if summary["catalog_problems"]:
        summary["needs_attention"].append("catalog")
    summary["progress"] = {key: numbers[key] for key in ("published", "target", "percent", "stale", "published_with_stale")}
    ledger.finish_run(run_id, summary["counts"])
    _save_summary(settings, run_id, summary)
    _publish_artifact(summary)
    events.emit("run_finished", run_id=run_id, counts=summary["counts"])
    return summary


def _run_datasets(catalog, context, ledger, selected, broken, planned) -> tuple[list[DatasetResult], dict]:
    """Process the selected datasets, record every result, then publish the indicators."""
    settings, run_id = context.settings, context.run_id
    publishing_target = pipeline.make_target(settings)
    events.emit("run_started", run_id=run_id, total=len(selected) + len(broken))

    # Run the datasets side by side, at most `settings.concurrency` at a time
    futures = [(dataset, process.submit(dataset, context, publishing_target)) for dataset in selected]
    results = []
    for dataset, future in futures:
        outcome = future.result(raise_on_failure=False)
        if not isinstance(outcome, DatasetResult):
            outcome = _crashed(dataset, future)
        ledger.record(run_id, settings.target, outcome)
        results.append(outcome)

    # Broken descriptors and planned datasets are recorded without being processed
    for result in broken.values():
        ledger.record(run_id, settings.target, result)
        results.append(result)
        events.emit("dataset_finished", dataset=result.dataset, status=result.status)
    for dataset in planned:
        ledger.record(run_id, settings.target, _planned(dataset))

    indicator_results, numbers = _publish_indicators(catalog, ledger, settings, run_id, publishing_target)
    return results + indicator_results, numbers


@flow(name="publish-dataset")
def publish_dataset(name: str, inbox: str | None = None, target: str | None = None) -> dict[str, Any]:
    """Publish one dataset of the catalog and return the run summary."""
    return publish_catalog(datasets=[name], inbox=inbox, target=target)


@flow(name="nightly")
def nightly() -> dict[str, Any]:
    """Publish the whole catalog on schedule, with the concurrency from settings."""
    return run_catalog(trigger="schedule")


def run_catalog(datasets=None, *, inbox=None, target=None, trigger="manual", concurrency=None) -> dict[str, Any]:
    """Run `publish_catalog` with the concurrency from settings (the CLI's entry point)."""
    workers = concurrency or Settings.from_env().concurrency
    configured = publish_catalog.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))
    return configured(datasets=datasets, inbox=inbox, target=target, trigger=trigger)


# Helpers


def _settings(*, inbox: str | None, target: str | None) -> Settings:
    settings = Settings.from_env()
    changes: dict[str, Any] = {}
    if inbox:
        from pathlib import Path

        changes["inbox"] = Path(inbox).expanduser().resolve()
    if target:
        changes["target"] = target
    settings = settings.with_changes(**changes)
    if settings.target == "ckan" and not settings.ckan_token:
        settings = settings.with_changes(ckan_token=resolve_ckan_token())
    return settings


def preflight(datasets: list[str] | None, *, inbox: str | None, target: str | None) -> None:
    """Check, before any flow run starts, what would make the whole run fail.

    Raises `CatalogError` for a dataset name the catalog does not know. Raises `PipelineError`
    for a target that is not configured or a work folder that cannot be written. The CLI then
    reports them in one sentence instead of a failed flow run.
    """
    settings = _settings(inbox=inbox, target=target)
    if datasets:
        catalog = load_catalog(settings.catalog, settings.schemas)
        known = set(catalog.datasets) | {problem.dataset for problem in catalog.problems if problem.dataset}
        unknown = [name for name in datasets if name not in known]
        if unknown:
            close = sorted({match for name in unknown for match in _similar_names(name, known)})
            raise CatalogError("catalog.unknown_dataset", names=", ".join(unknown), known=", ".join(close) or "—")
    pipeline.make_target(settings)
    try:
        settings.workdir.mkdir(parents=True, exist_ok=True)
        probe = settings.workdir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise PipelineError("settings.workdir_unusable", path=str(settings.workdir), detail=error.strerror) from error


def _similar_names(name: str, known: set[str], limit: int = 3) -> list[str]:
    """Return names that contain `name` (a shortened name), else the closest spellings."""
    containing = sorted(candidate for candidate in known if name in candidate)
    return containing[:limit] or difflib.get_close_matches(name, sorted(known), n=limit, cutoff=0.5)


def _broken_datasets(catalog, names: list[str] | None) -> dict[str, DatasetResult]:
    """Return a failed result for every requested dataset whose descriptor has problems."""
    problems: dict[str, list] = {}
    for problem in catalog.problems:
        if problem.dataset and (not names or problem.dataset in names):
            problems.setdefault(problem.dataset, []).append(problem)

    return {
        name: DatasetResult(
            dataset=name,
            organization="",
            status="invalid",
            message="\n".join(problem.render() for problem in found),
        )
        for name, found in problems.items()
    }


def _planned(dataset) -> DatasetResult:
    return DatasetResult(dataset=dataset.name, organization=dataset.organization.name, status="planned")


def _publish_indicators(catalog, ledger, settings, run_id, publishing_target) -> tuple[list[DatasetResult], dict]:
    """Store the run's progress, then publish the indicator dataset built from it (when in the catalog)."""
    from opendata_sofia.reporting.indicators import prepare_indicators

    prepared = prepare_indicators(catalog, ledger, settings, run_id)
    if prepared is None:
        return [], progress_numbers(catalog, ledger, settings.target)

    result = process(prepared.dataset, prepared.context, publishing_target)
    ledger.record(run_id, settings.target, result)
    return [result], prepared.numbers


def _crashed(dataset, future) -> DatasetResult:
    state = future.state
    return DatasetResult(
        dataset=dataset.name,
        organization=dataset.organization.name,
        status="failed",
        message=redact(f"{state.name}: {state.message}"),  # the text of an unexpected exception
    )


def _log_result(result: DatasetResult) -> None:
    logger = get_run_logger()
    if result.status in NEEDS_A_PERSON:
        logger.error("%s: %s — %s", result.dataset, result.status, result.message)
    elif result.status == "skipped":
        logger.info("%s: skipped — %s", result.dataset, result.message)
    else:
        logger.info("%s: %s (%s rows, %.1f s)", result.dataset, result.status, result.rows, result.duration_s)


def _summary(run_id: str, settings: Settings, results: list[DatasetResult]) -> dict[str, Any]:
    counts = {status: 0 for status in ("published", "unchanged", "invalid", "failed", "skipped")}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return {
        "run_id": run_id,
        "target": settings.target,
        "pipeline_version": __version__,
        "counts": counts,
        "needs_attention": [r.dataset for r in results if r.status in NEEDS_A_PERSON],
        "results": [result.to_dict() for result in results],
    }


def _save_summary(settings: Settings, run_id: str, summary: dict[str, Any]) -> None:
    folder = settings.workdir / "reports" / run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


def _publish_artifact(summary: dict[str, Any]) -> None:
    from opendata_sofia.reporting.run_summary import run_summary_markdown

    create_markdown_artifact(
        key="run-summary",
        markdown=run_summary_markdown(summary),
        description=f"opendata-sofia run {summary['run_id']}",
    )
    numbers = summary["progress"]
    create_progress_artifact(
        progress=min(100.0, numbers["percent"]),
        key="progress-toward-target",
        description=message("progress.artifact", published=numbers["published"], target=numbers["target"]),
    )
