"""Tables for tests: the reader's `TableRead` built from lists, and the case files read for real.

Building a `TableRead` from lists keeps the row numbers under the test's control, for example
to leave gaps where a reader skipped rows.
"""

from __future__ import annotations

from pathlib import Path

from opendata_sofia.reading import ReadInfo, ReadOptions, SourceRow, TableRead, read_table


def list_table(labels: list[str], rows: list[list[str | None]], numbers: list[int] | None = None) -> TableRead:
    """Build a table whose data rows are numbered 2, 3, … (after a one-line header) unless `numbers` gives others."""
    numbers = numbers or list(range(2, len(rows) + 2))
    source_rows = [SourceRow(number, cells) for number, cells in zip(numbers, rows)]
    info = ReadInfo(format="csv", encoding="utf-8", delimiter=",", header_rows=[1])
    return TableRead(labels, info, lambda _info: iter(source_rows))


def read_case_csv(path: Path, delimiter: str) -> TableRead:
    """Read a case CSV with the project's reader."""
    return read_table(path, ReadOptions(format="csv", encoding="utf-8", delimiter=delimiter))


def case_table(path: Path, delimiter: str, keep, extra_rows: list[SourceRow] = ()) -> TableRead:
    """Read a case CSV, keep the rows for which `keep(row)` is true and add `extra_rows`."""
    table = read_case_csv(path, delimiter)
    rows = [row for batch in table.batches(1000) for row in batch if keep(row)] + list(extra_rows)
    return TableRead(table.labels, table.info, lambda _info: iter(rows))
