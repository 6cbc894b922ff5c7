"""The steps for one dataset, as plain functions: fetch, build (read, validate, convert), publish.

The Prefect flows in `flows/` call these steps as tasks; tests call them directly. Each step
leaves what the next needs on disk under the run's folder in the work directory:

    <workdir>/raw/                 raw bytes of every pull (sha256)
    <workdir>/runs/<run>/<name>/   work CSVs and outputs of one dataset in one run
    <workdir>/reports/<run>/       validation reports (JSON) of that run
    <workdir>/outputs/<name>/      the outputs of the last valid build of each dataset
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from opendata_sofia import __version__
from opendata_sofia.catalog import DatasetSpec, package_descriptor
from opendata_sofia.errors import PipelineError, ReadError, SourceNotFound, ValidationFailed
from opendata_sofia.security.filenames import safe_file_name
from opendata_sofia.ledger import DatasetResult
from opendata_sofia.publishing.base import OutputFile, Publication, PublishResult, Target
from opendata_sofia.rawstore import RawStore
from opendata_sofia.security.redaction import redact
from opendata_sofia.settings import Settings
from opendata_sofia.sources import Pull, fetch


@dataclass
class RunContext:
    """Settings, run id and folders shared by every step of one run."""

    settings: Settings
    run_id: str

    @property
    def store(self) -> RawStore:
        return RawStore(self.settings.workdir / "raw")

    def dataset_dir(self, dataset: str) -> Path:
        return self.settings.workdir / "runs" / self.run_id / dataset

    def report_path(self, dataset: str) -> Path:
        return self.settings.workdir / "reports" / self.run_id / f"{dataset}.json"


@dataclass
class Built:
    """A dataset that passed validation, with its outputs ready to publish."""

    publication: Publication
    report_path: Path
    rows: int


# Select


def runnable(datasets: list[DatasetSpec]) -> list[DatasetSpec]:
    """Return the datasets a run fetches: those with a source for every resource.

    The indicator dataset is left out too, because a run builds it from the ledger after the
    others.
    """
    from opendata_sofia.reporting.progress import INDICATOR_DATASET

    return [dataset for dataset in datasets if dataset.connected and dataset.name != INDICATOR_DATASET]


# Fetch


def fetch_dataset(dataset: DatasetSpec, context: RunContext) -> dict[str, Pull]:
    """Fetch every resource's source into the raw store; a planned dataset is reported as skipped."""
    if not dataset.connected:
        raise SourceNotFound("source.not_connected", dataset=dataset.name)
    return {
        resource.name: fetch(
            resource,
            dataset=dataset.name,
            inbox=context.settings.inbox,
            store=context.store,
            state_dir=context.settings.workdir / "state",
        )
        for resource in dataset.resources
    }


# Build


@dataclass
class Checked:
    """Every resource of a dataset read, normalised and validated."""

    works: dict[str, Any]
    reports: list[Any]
    report_path: Path

    @property
    def errors(self) -> int:
        return sum(len(report.errors) for report in self.reports)


def check_dataset(dataset: DatasetSpec, pulls: dict[str, Pull], context: RunContext) -> Checked:
    """Read, normalise and validate every resource, and save the validation report.

    The report is saved whether or not the dataset is valid; raising is left to the caller.
    """
    from opendata_sofia.security.formula_cells import warn_formula_cells
    from opendata_sofia.normalise import normalise
    from opendata_sofia.security.pii import guard_personal_data
    from opendata_sofia.reading import ReadOptions, format_of, read_table
    from opendata_sofia.security.spreadsheet_guard import SpreadsheetLimits, check_spreadsheet
    from opendata_sofia.validation import require_rows, validate

    folder = context.dataset_dir(dataset.name)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "work").mkdir(parents=True)

    works, reports = {}, []
    for resource in dataset.resources:
        pull = pulls[resource.name]
        options = ReadOptions.from_descriptor(resource.read)
        path = _named_copy(pull, folder / "work")
        check_spreadsheet(path, format_of(path, options), SpreadsheetLimits.from_source(resource.source))
        table = read_table(path, options)
        work = normalise(table, resource, dataset.name, folder / "work")
        report = validate(work, dataset.name, resource.name, checks=resource.checks)

        # A table without rows would replace the published data with nothing
        require_rows(report, work)

        # Personal data blocks publishing; formula-like text cells are only reported
        guard_personal_data(report, work, dataset, resource.name)
        warn_formula_cells(report, work)
        reports.append(report)
        works[resource.name] = work

    report_path = _save_reports(context.report_path(dataset.name), dataset, reports, pulls)
    return Checked(works=works, reports=reports, report_path=report_path)


def build_dataset(dataset: DatasetSpec, pulls: dict[str, Pull], context: RunContext) -> Built:
    """Check every resource, then convert; raise `ValidationFailed` if any resource is invalid.

    Outputs are made only when all resources are valid, so nothing of an invalid dataset
    reaches a target.
    """
    from opendata_sofia.conversion import convert

    checked = check_dataset(dataset, pulls, context)
    if checked.errors:
        raise ValidationFailed(
            checked.reports, dataset=dataset.name, errors=checked.errors, report_path=str(checked.report_path)
        )

    # Convert
    folder = context.dataset_dir(dataset.name)
    (folder / "out").mkdir(parents=True)
    files: list[OutputFile] = []
    row_counts: dict[str, int] = {}
    output_schemas: dict[str, dict] = {}
    for resource in dataset.resources:
        result = convert(checked.works[resource.name], resource, folder / "out")
        files.extend(result.files)
        row_counts[resource.name] = result.rows
        output_schemas[resource.name] = result.schema
    files.append(_write_datapackage(dataset, files, output_schemas, folder / "out"))
    # The report contains nothing run-specific (source locations and sha256, counts, errors), so
    # the same input gives the same bytes and targets skip it as unchanged. It is copied
    # beside the other outputs, which are kept together as the last valid build.
    report_copy = folder / "out" / "validation-report.json"
    shutil.copyfile(checked.report_path, report_copy)
    files.append(
        OutputFile.from_path(
            report_copy,
            key="validation-report.json",
            resource="validation-report",
            format="JSON",
            media_type="application/json",
        )
    )

    sources = {name: pull.blob.sha256 for name, pull in pulls.items()}
    publication = Publication(
        dataset=dataset,
        files=files,
        provenance={"source_sha256": sources, "run_id": context.run_id, "pipeline_version": __version__},
        row_counts=row_counts,
    )
    _keep_latest_outputs(folder / "out", context.settings.workdir / "outputs" / dataset.name)
    shutil.rmtree(folder / "work", ignore_errors=True)
    return Built(publication=publication, report_path=checked.report_path, rows=sum(row_counts.values()))


def _named_copy(pull: Pull, folder: Path) -> Path:
    """Link the raw blob under its source file name: readers pick a format by the suffix."""
    target = folder / safe_file_name(pull.name)
    try:
        target.hardlink_to(pull.blob.path)
    except OSError:
        shutil.copyfile(pull.blob.path, target)
    return target


def _save_reports(path: Path, dataset: DatasetSpec, reports: list, pulls: dict[str, Pull]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "dataset": dataset.name,
        "valid": all(not report.errors for report in reports),
        "sources": {
            name: {"location": pull.location, "sha256": pull.blob.sha256, "bytes": pull.blob.bytes}
            for name, pull in pulls.items()
        },
        "resources": [report.to_dict() for report in reports],
    }
    # The report is published with the dataset: mask secrets that a source URL or cell may carry
    text = redact(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    path.write_text(text, encoding="utf-8")
    return path


def _write_datapackage(
    dataset: DatasetSpec, files: list[OutputFile], schemas: dict[str, dict], folder: Path
) -> OutputFile:
    """Describe the outputs as a Data Package; nothing run-specific goes in, so it hashes stably.

    The CSV output of each table carries the schema of the canonical output (`.` decimal point,
    ISO dates); JSON, Parquet and GeoJSON are listed as further resources of the same data.
    """
    descriptor = package_descriptor(dataset)
    sofia = descriptor.pop("sofia", {})

    resources = []
    for output in files:
        resource = _public_resource(dataset, output)
        if output.format == "CSV":
            resource["schema"] = schemas[output.resource]
        resources.append(resource)
    descriptor["resources"] = resources
    descriptor["sofia"] = sofia

    path = folder / "datapackage.json"
    path.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return OutputFile.from_path(
        path, key="datapackage.json", resource="datapackage", format="datapackage", media_type="application/json"
    )


def _public_resource(dataset: DatasetSpec, output: OutputFile) -> dict[str, Any]:
    spec = next(resource for resource in dataset.resources if resource.name == output.resource)
    suffix = "" if output.format == "CSV" else f"-{output.format.lower()}"
    return {
        "name": f"{output.resource}{suffix}",
        "path": output.key,
        "title": spec.title["bg"],
        "format": output.format.lower(),
        "mediatype": output.media_type,
        "hash": f"sha256:{output.sha256}",
        "bytes": output.bytes,
        "sofia": {"en": {"title": spec.title["en"]}},
    }


def _keep_latest_outputs(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)


# Publish


def make_target(settings: Settings) -> Target:
    """Return the target chosen in settings: the local folder portal or CKAN."""
    if settings.target == "local":
        from opendata_sofia.publishing.local import LocalFolderTarget

        return LocalFolderTarget(settings.portal)
    if settings.target == "ckan":
        from opendata_sofia.publishing.ckan import CkanTarget

        if not settings.ckan_url or not settings.ckan_token:
            raise PipelineError("publish.ckan_not_configured")
        return CkanTarget(settings.ckan_url, settings.ckan_token)
    raise PipelineError("publish.unknown_target", target=settings.target)


def publish_built(built: Built, target: Target) -> PublishResult:
    return target.publish(built.publication)


# One dataset, start to end


def process_dataset(
    dataset: DatasetSpec,
    context: RunContext,
    target: Target,
    *,
    fetch_step: Callable = fetch_dataset,
    build_step: Callable = build_dataset,
    publish_step: Callable = publish_built,
) -> DatasetResult:
    """Run every step for one dataset and turn the outcome into a ledger result.

    Expected failures (missing source, invalid data, a target's error) become results; anything
    else is a bug and propagates. The flows pass the steps wrapped as Prefect tasks, which add
    retries to the network steps.
    """
    started = time.monotonic()
    result = DatasetResult(dataset=dataset.name, organization=dataset.organization.name, status="failed")
    try:
        pulls = fetch_step(dataset, context)
        result.source_sha256 = {name: pull.blob.sha256 for name, pull in pulls.items()}
        built = build_step(dataset, pulls, context)
        published = publish_step(built, target)
    except SourceNotFound as error:
        result.status, result.message = "skipped", error.render()
    except ValidationFailed as error:
        result.status, result.message = "invalid", error.render()
        result.errors = error.params["errors"]
        result.report = error.params["report_path"]
    except ReadError as error:  # a file that cannot be read is bad input, like an invalid one
        result.status, result.message = "invalid", error.render()
    except PipelineError as error:
        result.status, result.message = "failed", error.render()
    else:
        result.status = published.status
        result.rows = built.rows
        result.errors = 0
        result.report = str(built.report_path)
        result.url = published.url
        result.outputs = {f.key: {"sha256": f.sha256, "bytes": f.bytes} for f in built.publication.files}
    result.duration_s = round(time.monotonic() - started, 3)
    return result
