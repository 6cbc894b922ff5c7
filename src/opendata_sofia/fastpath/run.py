"""Validate and convert a work table with the fast path, streaming batch by batch."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from opendata_sofia.catalog import ResourceSpec
from opendata_sofia.conversion import ConversionResult, output_schema
from opendata_sofia.errors import ValidationFailed
from opendata_sofia.fastpath.checks import FastError, TableChecker
from opendata_sofia.fastpath.reader import work_batches
from opendata_sofia.fastpath.writers import CsvWriter, JsonWriter, ParquetWriter
from opendata_sofia.normalise import WorkTable

BATCH_SIZE = 10_000


def find_errors(work: WorkTable, *, limit_errors: int, batch_size: int = BATCH_SIZE) -> list[FastError]:
    """Return the errors frictionless-py would find in the work CSV, at most `limit_errors`.

    Like frictionless, reading stops at the row where the count reaches the limit, and the
    errors are cut to the limit.
    """
    checker = TableChecker(work.schema)
    names = [plan.name for plan in checker.plans]
    errors: list[FastError] = []
    last_row = 1
    for batch in work_batches(work.path, names, batch_size):
        checked = checker.check(batch, last_row + 1)
        last_row += batch.num_rows
        errors.extend(checked.errors)
        if len(errors) >= limit_errors:
            last_row = errors[limit_errors - 1].row_number
            break

    errors = [error for error in errors if error.row_number <= last_row]
    errors = checker.confirm(errors, lambda: work_batches(work.path, names, batch_size), last_row)
    # NOTE: when a 64-bit hash collision is dropped here, fewer than `limit_errors` errors
    # may remain, although frictionless would have read on and found more.
    return errors[:limit_errors]


def convert(work: WorkTable, resource: ResourceSpec, out_dir: Path, *, batch_size: int = BATCH_SIZE) -> ConversionResult:
    """Write `<resource>.csv`, `.json` and `.parquet` as `conversion.convert` does, with Arrow.

    Raises `ValidationFailed` at the first row with an error, and removes what was written.
    """
    fields = work.canonical_schema.get("fields", [])
    out_dir.mkdir(parents=True, exist_ok=True)
    checker = TableChecker(work.schema, outputs=True)
    names = [plan.name for plan in checker.plans]

    rows = 0
    writers = []
    try:
        with ExitStack() as stack:
            for kind, extension in ((CsvWriter, "csv"), (JsonWriter, "json"), (ParquetWriter, "parquet")):
                writers.append(stack.enter_context(kind(out_dir / f"{resource.name}.{extension}", fields)))
            for batch in work_batches(work.path, names, batch_size):
                checked = checker.check(batch, rows + 2)
                if checked.errors:
                    _raise_at_first_error(work, checker, checked.errors, names, batch_size, resource.name)
                for writer in writers:
                    writer.write(checked.columns)
                rows += batch.num_rows
    except BaseException:
        # A half-written file must not be mistaken for an output by a later step.
        for writer in writers:
            writer.path.unlink(missing_ok=True)
        raise

    files = [writer.output_file(resource.name) for writer in writers]
    return ConversionResult(files=files, rows=rows, schema=output_schema(work.canonical_schema))


def _raise_at_first_error(work, checker, errors, names, batch_size, resource) -> None:
    last_row = errors[-1].row_number
    errors = checker.confirm(errors, lambda: work_batches(work.path, names, batch_size), last_row)
    if errors:
        raise ValidationFailed(None, key="conversion.invalid_row", resource=resource, row=work.source_row(errors[0].row_number))
