"""The results of a read: source rows, facts about the read, and the table that streams them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceRow:
    """One data row: its 1-based position in the source and one cell per label.

    `number` is the CSV record number, the Excel sheet row or the JSON record index. Cells hold
    the text as the source wrote it; an empty cell is None.
    """

    number: int
    cells: list[str | None]


@dataclass(frozen=True)
class RawRow:
    """A row as a format reader yields it, before header and data-row rules apply.

    `spanned` lists the 0-based columns hidden under a merged cell that starts further left
    (Excel only; None when the format has no merged cells). `uncached` maps a column to the
    formula of a cell whose value Excel never stored.
    """

    number: int
    cells: list[str | None]
    spanned: frozenset[int] | None = None
    uncached: dict[int, str] = field(default_factory=dict)


@dataclass
class ReadInfo:
    """Facts about one read, for the validation report and the run log.

    `skipped_blank_rows` and `dropped_rows` are filled while rows are produced, so they are
    complete once `TableRead.batches()` has been consumed to the end.
    """

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    header_rows: list[int] | None = None
    sheet: str | None = None
    skipped_blank_rows: int = 0
    dropped_rows: list[tuple[int, str, str]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    notices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class TableRead:
    """A source read as a text table: labels now, rows on demand."""

    def __init__(self, labels: list[str], info: ReadInfo, produce_rows: Callable[[ReadInfo], Iterator[SourceRow]]):
        self.labels = labels
        self.info = info
        self._produce_rows = produce_rows

    def rows(self) -> Iterator[SourceRow]:
        """Read the source again from the start and yield its data rows one by one."""
        self.info.skipped_blank_rows = 0
        self.info.dropped_rows = []
        return self._produce_rows(self.info)

    def batches(self, size: int = 10_000) -> Iterator[list[SourceRow]]:
        """Read the source again from the start and yield its data rows in lists of `size`."""
        if size < 1:
            raise ValueError(f"batch size must be at least 1, not {size}")

        batch: list[SourceRow] = []
        for row in self.rows():
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch
