"""Excel workbooks: .xlsx through openpyxl, legacy .xls (BIFF) through xlrd.

Both give rows of rendered cell text plus, per row, the columns hidden under a merged cell. The
header joins merged groups with them, and the row rules recognise a merged note below the data.
"""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opendata_sofia.errors import ReadError
from opendata_sofia.reading.model import RawRow, ReadInfo, TableRead
from opendata_sofia.reading.options import ReadOptions
from opendata_sofia.reading.rows import RowRules, tabulate
from opendata_sofia.reading.signature import workbook_format

# Formatted but empty rows at the end of a sheet are layout, not blank data rows: not counted.
EXCEL_RULES = RowRules(footer=True, count_trailing_blank=False)
# openpyxl cell types of text; "str" is a formula's text result.
_TEXT_TYPES = ("s", "str", "inlineStr")


def render(value: Any) -> str | None:
    """Return a cell value as text: numbers without locale, dates in ISO 8601, empty as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel stores every number as a float: 2277.0 is the integer 2277 a person typed.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def read_xlsx(path: Path, options: ReadOptions) -> TableRead:
    """Read one sheet of an .xlsx workbook as a table (see `read_table`)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # data_only: the values Excel computed and stored, not the formulas.
        # NOTE: openpyxl's read-only mode has no merged-cell ranges, so the whole workbook is
        # loaded into memory. That suits municipal workbooks but not a sheet of a million rows.
        book = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # A ZIP signature with a broken archive is a truncated or damaged workbook, not a
        # wrong sofia.read.format.
        if workbook_format(path) == "xlsx":
            raise ReadError("read.excel_damaged", file=path.name, value=str(exc)) from None
        raise ReadError("read.excel_invalid", file=path.name, format="xlsx", value=str(exc)) from None
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ReadError("read.excel_invalid", file=path.name, format="xlsx", value=str(exc)) from None

    sheet = _pick(path, book.sheetnames, options.sheet)
    values = book[sheet]
    formulas = _uncached_formulas(path, sheet, values)
    spanned = _spanned_xlsx(values)
    info = ReadInfo(format="xlsx", sheet=sheet)

    def raw_rows() -> Iterator[RawRow]:
        for cells in values.iter_rows():
            number = cells[0].row
            yield RawRow(
                number,
                [render(cell.value) for cell in cells],
                spanned=spanned.get(number, frozenset()),
                uncached=formulas.get(number, {}),
            )

    return tabulate(path, info, raw_rows, options.header_rows, options.stop_at, EXCEL_RULES)


def _uncached_formulas(path: Path, sheet: str, values: Any) -> dict[int, dict[int, str]]:
    """Map row -> column -> formula for formula cells that have no stored value.

    openpyxl reads either the formulas or the stored values, so a second, read-only pass
    finds the formulas. A formula with no value was never computed (the file was written by a
    program, not saved by Excel), unless its stored type is text: that is a formula whose result
    is the empty string, such as `=IF(A2="","",A2*2)`.
    """
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    found: dict[int, dict[int, str]] = {}
    try:
        for row in book[sheet].iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) != "f":
                    continue
                stored = values.cell(row=cell.row, column=cell.column)
                if stored.value is None and stored.data_type not in _TEXT_TYPES:
                    found.setdefault(cell.row, {})[cell.column - 1] = str(cell.value)
    finally:
        book.close()
    return found


def _spanned_xlsx(sheet: Any) -> dict[int, frozenset[int]]:
    spanned: dict[int, set[int]] = {}
    for merged in sheet.merged_cells.ranges:
        if merged.max_col == merged.min_col:
            continue
        for row in range(merged.min_row, merged.max_row + 1):
            spanned.setdefault(row, set()).update(range(merged.min_col, merged.max_col))
    return {row: frozenset(columns) for row, columns in spanned.items()}


def read_xls(path: Path, options: ReadOptions) -> TableRead:
    """Read one sheet of a legacy .xls workbook as a table (see `read_table`)."""
    import xlrd

    try:
        # formatting_info: without it xlrd reports no merged cells.
        book = xlrd.open_workbook(str(path), formatting_info=True)
    except (xlrd.XLRDError, OSError, ValueError, AssertionError) as exc:
        raise ReadError("read.excel_invalid", file=path.name, format="xls", value=str(exc)) from None

    sheet_name = _pick(path, book.sheet_names(), options.sheet)
    sheet = book.sheet_by_name(sheet_name)
    spanned = _spanned_xls(sheet)
    info = ReadInfo(format="xls", sheet=sheet_name)

    def raw_rows() -> Iterator[RawRow]:
        for index in range(sheet.nrows):
            cells = [_render_xls(cell, book.datemode) for cell in sheet.row(index)]
            yield RawRow(index + 1, cells, spanned=spanned.get(index + 1, frozenset()))

    return tabulate(path, info, raw_rows, options.header_rows, options.stop_at, EXCEL_RULES)


def _render_xls(cell: Any, datemode: int) -> str | None:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        return render(xlrd.xldate.xldate_as_datetime(cell.value, datemode))
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return render(bool(cell.value))
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    return render(cell.value)


def _spanned_xls(sheet: Any) -> dict[int, frozenset[int]]:
    spanned: dict[int, set[int]] = {}
    # xlrd gives 0-based, end-exclusive (first_row, last_row, first_col, last_col).
    for first_row, last_row, first_col, last_col in sheet.merged_cells:
        if last_col - first_col < 2:
            continue
        for row in range(first_row + 1, last_row + 1):
            spanned.setdefault(row, set()).update(range(first_col + 1, last_col))
    return {row: frozenset(columns) for row, columns in spanned.items()}


def _pick(path: Path, names: list[str], requested: str | int | None) -> str:
    """Return the sheet name for `sofia.read.sheet`: a name, a 1-based index, or the first sheet."""
    if requested is None:
        return names[0]
    if isinstance(requested, int) and 1 <= requested <= len(names):
        return names[requested - 1]
    if isinstance(requested, str) and requested in names:
        return requested
    raise ReadError("read.sheet_not_found", file=path.name, sheet=requested, available=", ".join(names))
