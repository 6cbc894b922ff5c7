"""Source bytes to a text table: encoding, dialect, header rows, sheets and JSON records.

    table = read_table(path, ReadOptions.from_descriptor(resource["sofia"]["read"]))
    table.labels                      # one label per column
    for batch in table.batches():     # lists of SourceRow(number, cells)
        ...
    table.info                        # ReadInfo: what was detected, skipped and dropped

Cells are the text the source wrote (Excel numbers without locale, dates in ISO 8601); the
normaliser decides what to trim or convert. Anything the reader cannot read without guessing
raises `ReadError` or `EncodingError` with the file, the row and what to set.
"""

from __future__ import annotations

from pathlib import Path

from opendata_sofia.errors import ReadError
from opendata_sofia.reading.model import ReadInfo, SourceRow, TableRead
from opendata_sofia.reading.options import FORMATS, ReadOptions
from opendata_sofia.reading.signature import workbook_format

__all__ = ["FORMATS", "ReadInfo", "ReadOptions", "SourceRow", "TableRead", "format_of", "read_table"]

_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".json": "json",
    ".geojson": "geojson",
}


def format_of(path: Path, options: ReadOptions) -> str:
    """Return the configured format, or the one the file name suffix implies."""
    if options.format:
        return options.format
    suffix = path.suffix.lower()
    if suffix not in _SUFFIX_FORMATS:
        raise ReadError("read.format_unknown", file=path.name, formats=", ".join(FORMATS))
    return _SUFFIX_FORMATS[suffix]


def read_table(path: Path, options: ReadOptions | None = None) -> TableRead:
    """Read `path` as a text table; rows are produced lazily by `TableRead.batches()`."""
    from opendata_sofia.reading import csv, excel, jsondoc

    path = Path(path)
    options = options or ReadOptions()
    if not path.is_file():
        raise ReadError("read.file_missing", file=path.name, path=str(path))

    if path.stat().st_size == 0:
        raise ReadError("read.file_empty", file=path.name)

    readers = {
        "csv": csv.read_csv,
        "xlsx": excel.read_xlsx,
        "xls": excel.read_xls,
        "json": jsondoc.read_json,
        "geojson": jsondoc.read_geojson,
    }
    file_format = format_of(path, options)
    _reject_workbook_as_text(path, file_format)
    return readers[file_format](path, options)


def _reject_workbook_as_text(path: Path, file_format: str) -> None:
    """Raise ReadError when a file read as text is an Excel workbook.

    Read as text, a workbook's bytes fail as an encoding error whose advice (save as UTF-8)
    does not help.
    """
    if file_format in ("xlsx", "xls"):
        return
    workbook = workbook_format(path)
    if workbook is not None:
        raise ReadError("read.file_is_workbook", file=path.name, format=file_format, workbook=workbook)
