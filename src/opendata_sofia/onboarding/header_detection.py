"""Find the header rows of an export: title rows above them and a second header row below.

The reader takes the first non-blank row as the header unless `headerRows` is set.
Exports often start with a report title, a note or a table of maximum scores, and group labels
merged over two header rows. This module tries each row from the top as the header and keeps
the first one that reads like column names:

- at least two labels, covering at least half of the columns, none of them a number;
- the reader accepts it (no title in merged cells, no data row wider than it).

The row right below joins the header when it also reads like column names and the first row
has blank or repeated labels, the mark of group labels over sub-labels (`БЕЛ` over `Явили се`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import islice
from pathlib import Path

from opendata_sofia.errors import ReadError
from opendata_sofia.reading import ReadOptions, SourceRow, read_table

# Titles and notes above a header rarely take more rows than this.
MAX_HEADER_ROW = 20
NUMBER = re.compile(r"^[-+]?[0-9][0-9 .,\u00a0]*$")


def find_header_rows(path: Path, options: ReadOptions) -> list[int] | None:
    """Return the header rows to configure, or None to keep the reader's default (first non-blank row)."""
    for row in range(1, MAX_HEADER_ROW + 1):
        single = _try_header(path, replace(options, header_rows=[row]))
        if single is NOT_HEADER:
            continue

        # A sub-label row wider than the group row makes the reader stop at the first data row.
        double = _try_header(path, replace(options, header_rows=[row, row + 1]))
        if single is WIDER_ROWS:
            return [row, row + 1] if isinstance(double, tuple) else None

        labels, first = single
        below_is_header = first is not None and first.number == row + 1 and _is_group_header(labels, first.cells)
        if below_is_header and isinstance(double, tuple):
            return [row, row + 1]
        return [row]
    return None


NOT_HEADER = "not a header"
WIDER_ROWS = "data rows wider than the header"


def _try_header(path: Path, options: ReadOptions) -> tuple[list[str], SourceRow | None] | str:
    """Read with `options.header_rows`; return the labels and the first data row, or why they fail."""
    try:
        table = read_table(path, options)
    except ReadError:
        return NOT_HEADER
    if not is_label_row(table.labels):
        return NOT_HEADER

    try:
        first = next(islice(table.rows(), 1), None)
    except ReadError:
        return WIDER_ROWS
    return table.labels, first


def is_label_row(cells: list[str | None]) -> bool:
    """Tell whether a row reads like column names: enough of them, and no numbers."""
    filled = [cell.strip() for cell in cells if cell is not None and cell.strip()]
    if len(filled) < 2 or len(filled) * 2 < len(cells):
        return False
    return not any(NUMBER.match(cell) for cell in filled)


def _is_group_header(labels: list[str], below: list[str | None]) -> bool:
    has_gaps = any(not label for label in labels) or len(set(labels)) < len(labels)
    filled_below = [cell for cell in below if cell is not None and cell.strip()]
    numbers_below = any(NUMBER.match(cell.strip()) for cell in filled_below)
    return has_gaps and len(filled_below) >= 2 and not numbers_below
