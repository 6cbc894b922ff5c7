"""Validate and convert a work table with the fast path, streaming batch by batch."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa

from opendata_sofia.catalog import ResourceSpec
from opendata_sofia.conversion import ConversionResult, output_schema
from opendata_sofia.errors import ValidationFailed
from opendata_sofia.fastpath.checks import FastError, TableChecker
from opendata_sofia.fastpath.reader import work_batches
from opendata_sofia.fastpath.staging import StagedOutputs
from opendata_sofia.fastpath.writers import CsvWriter, JsonWriter, ParquetWriter
from opendata_sofia.normalise import WorkTable
from opendata_sofia.publishing.base import OutputFile

BATCH_SIZE = 10_000
WRITERS = {"csv": CsvWriter, "json": JsonWriter, "parquet": ParquetWriter}


def find_errors(
    work: WorkTable, *, limit_errors: int, batch_size: int = BATCH_SIZE, stage_outputs: bool = False
) -> list[FastError]:
    """Return the errors frictionless-py would find in the work CSV, at most `limit_errors`.

    Like frictionless, reading stops at the row where the count reaches the limit, and the
    errors are cut to the limit. With `stage_outputs`, the outputs are written in the same
    pass, for `convert` to adopt when no error was found.
    """
    checker = TableChecker(work.schema, outputs=stage_outputs)
    names = [plan.name for plan in checker.plans]
    staged = StagedOutputs.of(work, batch_size) if stage_outputs else None
    errors: list[FastError] = []
    last_row = 1
    with ExitStack() as stack:
        writers = all_writers = _open_writers(stack, staged, work) if staged else []
        for batch in work_batches(work.path, names, batch_size):
            checked = _check_staging(checker, batch, last_row + 1)
            last_row += batch.num_rows
            errors.extend(checked.errors)
            if errors or not checker.outputs:
                writers = []  # outputs of an invalid table are never published
            for writer in writers:
                writer.write(checked.columns)
            if len(errors) >= limit_errors:
                last_row = errors[limit_errors - 1].row_number
                break

    if staged and (errors or not checker.outputs):
        staged.discard()
    elif staged:
        files = {extension: (writer.sha256, writer.bytes) for extension, writer in zip(WRITERS, all_writers)}
        staged.seal(rows=last_row - 1, files=files)

    errors = [error for error in errors if error.row_number <= last_row]
    errors = checker.confirm(errors, lambda: work_batches(work.path, names, batch_size), last_row)
    # NOTE: when a 64-bit hash collision is dropped here, fewer than `limit_errors` errors
    # may remain, although frictionless would have read on and found more.
    return errors[:limit_errors]


def _check_staging(checker: TableChecker, batch, first_row: int):
    """Check a batch; stop staging outputs when a valid value has no output type.

    An integer beyond int64 is valid in frictionless but fails in Parquet, and conversion
    raises on it. Validation must still report the errors, so it checks the batch again
    without outputs; parsing fails before any key is remembered, so nothing is counted twice.
    """
    try:
        return checker.check(batch, first_row)
    except (OverflowError, pa.ArrowInvalid):
        if not checker.outputs:
            raise
        checker.outputs = False
        return checker.check(batch, first_row)


def _open_writers(stack: ExitStack, staged: StagedOutputs, work: WorkTable) -> list:
    staged.prepare()
    fields = work.canonical_schema.get("fields", [])
    return [stack.enter_context(kind(staged.path(extension), fields)) for extension, kind in WRITERS.items()]


def convert(work: WorkTable, resource: ResourceSpec, out_dir: Path, *, batch_size: int = BATCH_SIZE) -> ConversionResult:
    """Write `<resource>.csv`, `.json` and `.parquet` as `conversion.convert` does, with Arrow.

    Adopts the outputs staged by `find_errors` when they match this work CSV. Otherwise
    raises `ValidationFailed` at the first row with an error, and removes what was written.
    """
    adopted = StagedOutputs.of(work, batch_size).adopt(resource.name, out_dir)
    if adopted:
        files, rows = adopted
        files = [_output_file(path, resource.name, sha256, size) for path, sha256, size in files]
        return ConversionResult(files=files, rows=rows, schema=output_schema(work.canonical_schema))

    fields = work.canonical_schema.get("fields", [])
    out_dir.mkdir(parents=True, exist_ok=True)
    checker = TableChecker(work.schema, outputs=True)
    names = [plan.name for plan in checker.plans]

    rows = 0
    writers = []
    try:
        with ExitStack() as stack:
            for extension, kind in WRITERS.items():
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

    files = [_output_file(writer.path, resource.name, writer.sha256, writer.bytes) for writer in writers]
    return ConversionResult(files=files, rows=rows, schema=output_schema(work.canonical_schema))


def _output_file(path: Path, resource: str, sha256: str, size: int) -> OutputFile:
    kind = WRITERS[path.suffix.lstrip(".")]
    return OutputFile(
        key=path.name, resource=resource, format=kind.format, path=path, sha256=sha256, bytes=size, media_type=kind.media_type
    )


def _raise_at_first_error(work, checker, errors, names, batch_size, resource) -> None:
    last_row = errors[-1].row_number
    errors = checker.confirm(errors, lambda: work_batches(work.path, names, batch_size), last_row)
    if errors:
        raise ValidationFailed(None, key="conversion.invalid_row", resource=resource, row=work.source_row(errors[0].row_number))
