"""Check an Excel file before it is read, so that a crafted workbook cannot exhaust memory.

The .xlsx reader loads the whole workbook into memory (openpyxl without read-only mode), and an
.xlsx file is a zip archive, so a small download can unpack to gigabytes. Before reading:

- .xlsx: the zip directory is checked (entry count, total uncompressed size, compression ratio
  of each large entry), then each worksheet is streamed to count its rows and cells, which also
  catches a `<dimension>` that understates the sheet. Streaming never unpacks more than the
  directory declares, because Python's zipfile stops at the declared size.
- .xls: the file size is checked (xlrd reads the whole file).

Limits come from the resource's `source` object when set there (`maxUncompressedBytes`,
`maxCells`, `maxRows`, `maxXlsBytes`), else from the defaults below.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from opendata_sofia.errors import ReadError

CHUNK = 1 << 16
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
TAG_OVERLAP = 8  # bytes kept between chunks, so that a tag split across two chunks is still found


@dataclass(frozen=True)
class SpreadsheetLimits:
    """Size limits on an Excel file, checked before the pipeline reads it."""

    max_entries: int = 10_000
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    max_ratio: float = 100.0  # uncompressed / compressed, for entries above `ratio_floor_bytes`
    ratio_floor_bytes: int = 1024 * 1024
    max_rows: int = 1_048_576  # the maximum number of rows of an Excel sheet
    max_cells: int = 5_000_000
    max_xls_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_source(cls, source: dict) -> "SpreadsheetLimits":
        """Return the defaults with the resource's `source` overrides applied."""
        defaults = cls()
        return cls(
            max_uncompressed_bytes=int(source.get("maxUncompressedBytes", defaults.max_uncompressed_bytes)),
            max_cells=int(source.get("maxCells", defaults.max_cells)),
            max_rows=int(source.get("maxRows", defaults.max_rows)),
            max_xls_bytes=int(source.get("maxXlsBytes", defaults.max_xls_bytes)),
        )


def check_spreadsheet(path: Path, file_format: str, limits: SpreadsheetLimits | None = None) -> None:
    """Raise `ReadError` when the Excel file at `path` is over a limit; other formats pass."""
    limits = limits or SpreadsheetLimits()
    if file_format == "xlsx":
        _check_xlsx(path, limits)
    elif file_format == "xls" and path.stat().st_size > limits.max_xls_bytes:
        raise ReadError("security.xls_too_large", file=path.name, bytes=path.stat().st_size, limit=limits.max_xls_bytes)


def _check_xlsx(path: Path, limits: SpreadsheetLimits) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ReadError("read.excel_invalid", file=path.name, format="xlsx", value=str(error)) from None

    with archive:
        entries = archive.infolist()

        # Zip directory
        if len(entries) > limits.max_entries:
            raise ReadError("security.zip_entries", file=path.name, count=len(entries), limit=limits.max_entries)
        total = sum(entry.file_size for entry in entries)
        if total > limits.max_uncompressed_bytes:
            raise ReadError("security.zip_too_large", file=path.name, bytes=total, limit=limits.max_uncompressed_bytes)
        for entry in entries:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if entry.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
                raise ReadError(
                    "security.zip_ratio", file=path.name, entry=entry.filename, ratio=round(ratio), limit=limits.max_ratio
                )

        # Worksheets
        for entry in entries:
            if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml"):
                _check_sheet(archive, entry, path.name, limits)


def _check_sheet(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, file_name: str, limits: SpreadsheetLimits) -> None:
    rows = cells = 0
    tail = b""
    declared_checked = False
    try:
        with archive.open(entry) as stream:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                data = tail + chunk
                if not declared_checked:
                    declared_checked = _check_dimension(data, entry.filename, file_name, limits)
                # A tag that ends inside the kept tail was counted with the previous chunk
                rows += sum(1 for match in ROW_TAG.finditer(data) if match.end() > len(tail))
                cells += sum(1 for match in CELL_TAG.finditer(data) if match.end() > len(tail))
                _check_counts(rows, cells, entry.filename, file_name, limits)
                tail = data[-TAG_OVERLAP:]
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ReadError("read.excel_invalid", file=file_name, format="xlsx", value=str(error)) from None


def _check_dimension(data: bytes, sheet: str, file_name: str, limits: SpreadsheetLimits) -> bool:
    """Check the sheet's declared `<dimension>`; return True once it was found or is surely absent."""
    match = DIMENSION.search(data)
    if match is None:
        return b"<sheetData" in data or len(data) > 4 * CHUNK
    first_column, first_row = match.group(1).decode("ascii"), int(match.group(2))
    last_column = (match.group(3) or match.group(1)).decode("ascii")
    last_row = int(match.group(4) or match.group(2))
    rows = last_row - first_row + 1
    columns = _column_number(last_column) - _column_number(first_column) + 1
    _check_counts(rows, rows * columns, sheet, file_name, limits, declared=True)
    return True


def _check_counts(rows: int, cells: int, sheet: str, file_name: str, limits: SpreadsheetLimits, declared=False) -> None:
    key = "security.sheet_declared_too_large" if declared else "security.sheet_too_large"
    if rows > limits.max_rows or cells > limits.max_cells:
        raise ReadError(
            key, file=file_name, sheet=sheet, rows=rows, cells=cells, max_rows=limits.max_rows, max_cells=limits.max_cells
        )


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
