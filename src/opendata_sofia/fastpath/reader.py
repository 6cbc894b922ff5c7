"""Read the work CSV as Arrow record batches of text, a fixed number of rows at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

# Bytes the CSV reader parses at a time (pyarrow's default). With 4 MiB blocks, reading a
# 150 MB work CSV alone peaked 130 MB higher (pyarrow 26), for no measurable gain.
BLOCK_SIZE = 1 << 20


def work_batches(path: Path, names: list[str], batch_size: int, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """Yield the rows of the work CSV at `path` in batches of exactly `batch_size` rows (the last may be shorter).

    Every column is read as text with no nulls: identifiers keep their leading zeros, and
    which texts are missing values is decided by the schema, as frictionless does.
    """
    read_options = pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=BLOCK_SIZE)
    # The work CSV is written by Python's csv module, which quotes cells with line breaks.
    parse_options = pacsv.ParseOptions(newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        include_columns=columns,
    )
    reader = pacsv.open_csv(path, read_options=read_options, parse_options=parse_options, convert_options=convert_options)
    yield from rebatch(reader, batch_size)


def rebatch(batches, batch_size: int) -> Iterator[pa.RecordBatch]:
    """Cut a stream of record batches of any size into batches of `batch_size` rows.

    The Parquet output must get the same batches as `conversion.convert` gives it, because
    the chunks a row group is written from decide its pages.
    """
    pending = pa.Table.from_batches([], schema=batches.schema)
    for batch in batches:
        pending = pa.concat_tables([pending, pa.Table.from_batches([batch])])
        while pending.num_rows >= batch_size:
            yield _one_batch(pending.slice(0, batch_size))
            pending = pending.slice(batch_size)

    if pending.num_rows:
        yield _one_batch(pending)


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    """Return `table` as one record batch, copying only a slice that spans two read blocks."""
    batches = table.to_batches()
    if len(batches) == 1:
        return batches[0]
    return table.combine_chunks().to_batches()[0]
