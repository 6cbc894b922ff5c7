"""Rules for the rows below the header: blank rows, row width, notes and totals, `stop_at`.

Every row that is not returned is either counted (`skipped_blank_rows`) or listed with its
reason (`dropped_rows`), so nothing leaves the table without a trace in the read report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from opendata_sofia.errors import ReadError
from opendata_sofia.reading.labels import is_blank, split_header
from opendata_sofia.reading.model import RawRow, ReadInfo, SourceRow, TableRead

# A row whose first non-empty cell starts with one of these words sums up the rows above it.
TOTAL_ROW = re.compile(r"^(общо|всичко|total)\b", re.IGNORECASE)
# A single cell at least this long, alone in a row of a table with several columns, is a note.
NOTE_MIN_LENGTH = 40
NOTE_MIN_COLUMNS = 3
DROPPED_TEXT_LENGTH = 200

DROPPED_STOP_AT = "read.dropped.stop_at"
DROPPED_AFTER_STOP_AT = "read.dropped.after_stop_at"
DROPPED_NOTE = "read.dropped.note"
DROPPED_TOTAL = "read.dropped.total"


@dataclass(frozen=True)
class RowRules:
    """The data-row rules that apply to a format."""

    footer: bool = True
    count_trailing_blank: bool = True


def tabulate(
    path: Path,
    info: ReadInfo,
    raw_rows: Callable[[], Iterator[RawRow]],
    header_rows: list[int] | None,
    stop_at: str | None,
    rules: RowRules,
    labels: list[str] | None = None,
) -> TableRead:
    """Build the table of a source from a factory of its raw rows.

    Without `labels`, the header is read from the rows. Each call of the table's `batches()`
    calls `raw_rows` again and skips the header rows before applying the data-row rules.
    """
    header_end = 0
    if labels is None:
        rows = raw_rows()
        try:
            header = split_header(rows, header_rows, path)
        finally:
            # Close the file now instead of when the half-read generator is collected.
            close = getattr(rows, "close", None)
            if close:
                close()
        labels = header.labels
        header_end = header.rows[-1]
        info.header_rows = header.rows
        info.metadata.update(header.metadata)
        if header.preamble_rows:
            info.notices.append(("read.notice.preamble_ignored", {"rows": _ranges(header.preamble_rows)}))
        if header.trimmed_columns:
            info.notices.append(("read.notice.empty_columns_dropped", {"count": header.trimmed_columns}))

    shaper = _RowShaper(path, labels, stop_at, rules)

    def produce(read_info: ReadInfo) -> Iterator[SourceRow]:
        below_header = (row for row in raw_rows() if row.number > header_end)
        return shaper.rows(below_header, read_info)

    return TableRead(labels, info, produce)


class _Waiting:
    """Rows after the last data row so far: footer candidates and a count of blank rows."""

    def __init__(self) -> None:
        self.footers: list[tuple[RawRow, str]] = []
        self.blank_rows = 0
        self.trailing_blank_rows = 0

    def blank(self) -> None:
        self.blank_rows += 1
        self.trailing_blank_rows += 1

    def footer(self, row: RawRow, reason: str) -> None:
        self.footers.append((row, reason))
        self.trailing_blank_rows = 0


class _RowShaper:
    """Apply the data-row rules to the rows below the header."""

    def __init__(self, path: Path, labels: list[str], stop_at: str | None, rules: RowRules):
        self.path = path
        self.labels = labels
        self.stop_at = re.compile(stop_at) if stop_at else None
        self.rules = rules

    def rows(self, raw: Iterator[RawRow], info: ReadInfo) -> Iterator[SourceRow]:
        # Rows that look like notes or totals wait in `waiting` until a data row follows (they
        # were inside the data after all) or the source ends (they were the footer). Blank rows
        # are only counted, so a long run of them costs no memory.
        waiting = _Waiting()

        for row in raw:
            if is_blank(row.cells):
                waiting.blank()
                continue

            first = _first_text(row.cells)
            if self.stop_at and self.stop_at.search(first):
                self._close(waiting, info, at_end=False)
                self._drop(info, row, DROPPED_STOP_AT)
                self._drop_rest(raw, info)
                return

            reason = self._footer_reason(row, first)
            if reason:
                waiting.footer(row, reason)
                continue

            info.skipped_blank_rows += waiting.blank_rows
            for earlier, _ in waiting.footers:
                yield self._shape(earlier)
            waiting = _Waiting()
            yield self._shape(row)

        self._close(waiting, info, at_end=True)

    def _footer_reason(self, row: RawRow, first: str) -> str | None:
        if not self.rules.footer:
            return None
        if TOTAL_ROW.search(first):
            return DROPPED_TOTAL

        filled = [index for index, cell in enumerate(row.cells) if cell is not None and cell.strip()]
        if len(filled) != 1:
            return None
        spans_merge = row.spanned is not None and filled[0] + 1 in row.spanned
        long_text = len(first) >= NOTE_MIN_LENGTH and len(self.labels) >= NOTE_MIN_COLUMNS
        return DROPPED_NOTE if spans_merge or long_text else None

    def _close(self, waiting: _Waiting, info: ReadInfo, at_end: bool) -> None:
        """Settle the waiting rows once no data row follows them."""
        for row, reason in waiting.footers:
            self._drop(info, row, reason)

        info.skipped_blank_rows += waiting.blank_rows
        if at_end and not self.rules.count_trailing_blank:
            info.skipped_blank_rows -= waiting.trailing_blank_rows

    def _drop_rest(self, raw: Iterator[RawRow], info: ReadInfo) -> None:
        for row in raw:
            if not is_blank(row.cells):
                self._drop(info, row, DROPPED_AFTER_STOP_AT)

    def _drop(self, info: ReadInfo, row: RawRow, reason: str) -> None:
        text = " | ".join(cell.strip() for cell in row.cells if cell is not None and cell.strip())
        info.dropped_rows.append((row.number, reason, text[:DROPPED_TEXT_LENGTH]))

    def _shape(self, row: RawRow) -> SourceRow:
        """Fit a row to the labels: pad it, drop empty trailing cells, reject anything else."""
        width = len(self.labels)
        cells = list(row.cells)
        extra = [cell for cell in cells[width:] if cell is not None and cell.strip()]
        if extra:
            raise ReadError(
                "read.extra_cells",
                file=self.path.name,
                row=row.number,
                count=_last_filled(cells) + 1,
                labels=width,
                value=extra[0],
            )

        for column in row.uncached:
            if column < width:
                raise ReadError(
                    "read.formula_without_value",
                    file=self.path.name,
                    row=row.number,
                    column=self.labels[column] or _column_letter(column),
                    value=row.uncached[column],
                )

        cells = cells[:width] + [None] * (width - len(cells))
        return SourceRow(row.number, cells)


def _first_text(cells: list[str | None]) -> str:
    for cell in cells:
        if cell is not None and cell.strip():
            return cell.strip()
    return ""


def _last_filled(cells: list[str | None]) -> int:
    return max(index for index, cell in enumerate(cells) if cell is not None and cell.strip())


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _ranges(numbers: list[int]) -> str:
    """Format row numbers as ranges: [1, 2, 3, 5] -> "1-3, 5"."""
    parts: list[str] = []
    start = previous = numbers[0]
    for number in numbers[1:] + [None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ", ".join(parts)
