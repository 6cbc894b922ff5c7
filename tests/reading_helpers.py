"""Small helpers shared by the reading tests."""

from __future__ import annotations

from pathlib import Path

from opendata_sofia.reading import ReadOptions, SourceRow, TableRead, read_table


def read_all(path: Path, **options) -> tuple[TableRead, list[SourceRow]]:
    """Read `path` with descriptor-style options and return the table and all its rows."""
    table = read_table(path, ReadOptions.from_descriptor(options))
    rows = [row for batch in table.batches() for row in batch]
    return table, rows


def cells(rows: list[SourceRow]) -> list[list[str | None]]:
    return [row.cells for row in rows]


def numbers(rows: list[SourceRow]) -> list[int]:
    return [row.number for row in rows]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to a file in `tmp_path` with exact line endings."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path
