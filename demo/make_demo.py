"""Build demo/inbox/action-plan/indicators.xlsx from the measures in measures.csv.

The workbook is laid out the way municipal reports come out of Excel, so that the demo run
exercises the Excel reader. It has a merged title row with the as-of date, a two-row header
with merged cells, numbers stored as numbers, and a source note under the data. Each indicator of
a measure becomes one row; where the plan states a minimum ("минимум 10", "поне 50"), it goes
into the target column.

Run from the repository root after changing measures.csv:

    python demo/make_demo.py
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

INBOX = Path(__file__).resolve().parent / "inbox" / "action-plan"
MEASURES = INBOX / "measures.csv"
WORKBOOK = INBOX / "indicators.xlsx"

TARGET = re.compile(r"\b(?:минимум|поне)\s+(\d+)\b")
TITLE = "Индикатори за изпълнение на мерките от плана за действие 2016\nКъм дата 28.01.2016 г."
NOTE = "Източник: План за действие 2016 към Иновативната стратегия за интелигентен растеж на София, приет с Решение № 138/28.01.2016 г. на СОС."


def indicator_rows(measures: Path) -> list[tuple[int, str, str, int | None]]:
    """Return (measure number, thematic area, indicator, target) for every indicator."""
    rows = []
    with measures.open(encoding="utf-8", newline="") as handle:
        for measure in csv.DictReader(handle):
            for indicator in measure["Индикатори за изпълнение"].split("; "):
                found = TARGET.search(indicator)
                target = int(found.group(1)) if found else None
                rows.append((int(measure["№"]), measure["Тематична област"], indicator, target))
    return rows


def build(measures: Path = MEASURES, workbook: Path = WORKBOOK) -> Path:
    """Write the indicators workbook and return its path."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Индикатори"

    # Title
    sheet["A1"] = TITLE
    sheet["A1"].font = Font(bold=True)
    sheet["A1"].alignment = Alignment(wrap_text=True)
    sheet.merge_cells("A1:D1")

    # Two-row header: "Мярка" spans the number and area columns, "Индикатор" spans both rows
    sheet["A3"], sheet["C3"], sheet["D3"] = "Мярка", "Индикатор", "Целева стойност"
    sheet["A4"], sheet["B4"], sheet["D4"] = "№", "Тематична област", "минимум"
    sheet.merge_cells("A3:B3")
    sheet.merge_cells("C3:C4")

    # Data, then a blank row and the source note
    for offset, row in enumerate(indicator_rows(measures)):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=5 + offset, column=column, value=value)
    note_row = sheet.max_row + 2
    sheet.cell(row=note_row, column=1, value=NOTE)
    sheet.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=4)

    book.save(workbook)
    return workbook


if __name__ == "__main__":
    print(build())
