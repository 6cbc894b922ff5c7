"""The header of a table: which rows it spans, the labels built from them, and title metadata."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from opendata_sofia.errors import ReadError
from opendata_sofia.reading.model import RawRow

BOM = "\ufeff"

# "Към дата 19.07.2024 г." is how РУО and municipal reports state the as-of date in their titles.
_AS_OF = re.compile(r"към\s+дата\s*:?\s*(\d{1,2})\.(\d{1,2})\.(\d{4})", re.IGNORECASE)


@dataclass
class Header:
    """The labels of a table, the rows they came from, and the metadata found in its title."""

    labels: list[str]
    rows: list[int]
    preamble_rows: list[int] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    trimmed_columns: int = 0


def is_blank(cells: list[str | None]) -> bool:
    """Tell whether every cell is empty or only whitespace."""
    return all(cell is None or not cell.strip() for cell in cells)


def clean_label(text: str | None) -> str:
    """Return a label without BOMs, with inner whitespace collapsed and the ends stripped."""
    if text is None:
        return ""
    return " ".join(text.replace(BOM, "").split())


def split_header(rows: Iterator[RawRow], header_rows: list[int] | None, file: Path) -> Header:
    """Consume the rows up to the last header row and build the header from them.

    Without `header_rows` the first non-blank row is the header. Rows above the header are the
    preamble: they are ignored, except for an as-of date in a title.
    """
    requested = set(header_rows or ())
    last = max(requested) if requested else None
    preamble: list[RawRow] = []
    found: list[RawRow] = []

    for row in rows:
        if last is None:
            if is_blank(row.cells):
                continue
            found.append(row)
            break
        if row.number in requested:
            found.append(row)
        elif row.number < last:
            preamble.append(row)
        if row.number >= last:
            break

    if not found or (last is not None and found[-1].number != last):
        raise ReadError("read.header_missing", file=file.name, row=last or 1)

    if all(_is_merged_title(row) for row in found):
        raise ReadError("read.header_is_title", file=file.name, row=found[0].number)

    labels, trimmed = build_labels(found)
    return Header(
        labels=labels,
        rows=[row.number for row in found],
        preamble_rows=[row.number for row in preamble if not is_blank(row.cells)],
        metadata=title_metadata(preamble),
        trimmed_columns=trimmed,
    )


def _is_merged_title(row: RawRow) -> bool:
    """Tell whether a row contains one text in a cell merged across columns, as a title does."""
    filled = [index for index, cell in enumerate(row.cells) if clean_label(cell)]
    return len(filled) == 1 and bool(row.spanned) and filled[0] + 1 in row.spanned


def build_labels(header: list[RawRow]) -> tuple[list[str], int]:
    """Join the header rows into one label per column; return the labels and the trimmed count.

    An upper header row that came from merged cells has its value only in the first column of
    each group. Excel records which columns a merge covers, and those are filled from the left.
    A CSV file has lost that, so every blank upper cell is filled from the cell to its left.
    Columns after the last non-blank header cell are dropped: they are the trailing empty
    fields of lines that end with a delimiter.
    """
    full_width = max(len(row.cells) for row in header)
    width = max((_last_column(row) + 1 for row in header), default=0)
    grid = [_filled(row, width, is_last=(index == len(header) - 1)) for index, row in enumerate(header)]

    labels = []
    for column in range(width):
        parts: list[str] = []
        for line in grid:
            part = clean_label(line[column])
            # A value repeated down a vertically merged header must not be doubled.
            if part and (not parts or parts[-1] != part):
                parts.append(part)
        labels.append(" ".join(parts))

    if labels:
        labels[0] = _strip_stray_quotes(labels[0], header)
    return labels, full_width - width


def _last_column(row: RawRow) -> int:
    """Return the index of the last column with a label or under a merged label, or -1."""
    last = max((index for index, cell in enumerate(row.cells) if clean_label(cell)), default=-1)
    if row.spanned and last >= 0:
        last = max([last, *(column for column in row.spanned if column < len(row.cells))])
    return last


def _filled(row: RawRow, width: int, is_last: bool) -> list[str | None]:
    cells = (list(row.cells) + [None] * width)[:width]
    for column in range(1, width):
        if row.spanned is not None:
            fill = column in row.spanned
        else:
            fill = not is_last and not clean_label(cells[column])
        if fill:
            cells[column] = cells[column - 1]
    return cells


def _strip_stray_quotes(label: str, header: list[RawRow]) -> str:
    """Remove the quotes left around the first label when BOMs were written inside its quoting."""
    first = header[0].cells[0] if header[0].cells else None
    if first and BOM in first:
        return label.strip('"').strip()
    return label


def title_metadata(preamble: list[RawRow]) -> dict[str, str]:
    """Return metadata stated in title rows: `asOf` (ISO date) from "Към дата dd.mm.yyyy"."""
    for row in preamble:
        for cell in row.cells:
            found = _AS_OF.search(cell or "")
            if found:
                day, month, year = (int(part) for part in found.groups())
                try:
                    return {"asOf": dt.date(year, month, day).isoformat()}
                except ValueError:
                    continue
    return {}
