"""Excel workbooks: sheets, merged multi-row headers, notes and totals, cell rendering."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pytest

from opendata_sofia.errors import ReadError
from opendata_sofia.reading import ReadOptions, read_table
from opendata_sofia.reading.excel import render
from tests.reading_helpers import cells, numbers, read_all
from tests.shared import shared_path

RANKING_LABELS = [
    "№", "Училище Код", "Училище Име", "Паралелка Код", "Паралелка Име",
    "Минимален бал Общо", "Минимален бал Мъже", "Минимален бал Жени",
]  # fmt: skip


# Cases and real files


def test_merged_multirow_header_case():
    path = shared_path("cases", "07-xlsx-merged-multirow-header", "ranking_merged_header.xlsx")

    table, rows = read_all(path, headerRows=[3, 4])

    assert table.labels == RANKING_LABELS
    assert table.info.format == "xlsx"
    assert table.info.sheet == "Sheet1"
    assert table.info.header_rows == [3, 4]
    assert table.info.metadata == {"asOf": "2024-07-19"}
    assert cells(rows) == [
        ["1", "2299901", "СУ „Примерно“", "2277", "Математика – АЕ", "484.25", "484.25", "485.5"],
        ["2", "2299902", "ПГ „Условна“", "0563", "Декорация – АЕ", "0", "0", "0"],
        ["3", "2299902", "ПГ „Условна“", "0568", "Кетъринг – АЕ", "30", "30", "0"],
        ["4", "2299903", "ОУ „Тестово“", "4445", "Предприемачески", "30", "30", "111"],
    ]
    assert numbers(rows) == [6, 7, 8, 9]
    # Row 5 under the header and row 10 above the note; rows 12-15 are only formatting.
    assert table.info.skipped_blank_rows == 2
    assert table.info.dropped_rows == [
        (11, "read.dropped.note", "Забележка: За паралелките с профил спорт се кандидатства в училището!"),
    ]
    assert ("read.notice.preamble_ignored", {"rows": "1-2"}) in table.info.notices


def test_title_as_header_raises():
    path = shared_path("cases", "07-xlsx-merged-multirow-header", "ranking_merged_header.xlsx")

    with pytest.raises(ReadError) as raised:
        read_table(path)

    assert raised.value.key == "read.header_is_title"
    assert raised.value.params == {"file": "ranking_merged_header.xlsx", "row": 1}


def test_ruo_minmax_workbook():
    path = shared_path("data", "real", "ruo-sofia-xlsx", "sofia-20240719-minmax.xlsx")

    table, rows = read_all(path, format="xlsx", headerRows=[3, 4])

    assert table.labels == RANKING_LABELS + ["Максимален бал Общо", "Максимален бал Мъже", "Максимален бал Жени"]
    assert table.info.metadata == {"asOf": "2024-07-19"}
    assert len(rows) == 392
    assert rows[0].number == 6
    assert rows[0].cells[:5] == [
        "1", "2216306", 'Софийска математическа гимназия "Паисий Хилендарски"', "2277",
        "Математически (математика и информатика) - АЕ (РИЧЕ)",
    ]  # fmt: skip
    assert rows[0].cells[5:] == ["484.25", "484.25", "485.5", "485.5", "485.5", "485.5"]
    assert rows[2].cells[3] == "0814"
    assert rows[-1].number == 397
    assert rows[-1].cells[3] == "0568"
    assert [(number, reason) for number, reason, _ in table.info.dropped_rows] == [(399, "read.dropped.note")]
    assert table.info.skipped_blank_rows == 2


def test_ruo_classes_total_and_notes_dropped():
    path = shared_path("data", "real", "ruo-sofia-xlsx", "sofia-20220627-classes.xlsx")

    table, rows = read_all(path, headerRows=[4])

    assert table.labels == [
        "№", "Район", "Училище", "Идентификатор / КОД", "Паралелка", "Тип", "Балообразуване",
        "Брой паралелки", "Общо основание", "Мъже", "Жени",
    ]  # fmt: skip
    assert len(rows) == 385
    assert rows[0].number == 5
    assert rows[0].cells[:4] == ["1", "Банкя", '78. Средно училище  "Христо Смирненски", ГР.БАНКЯ', "463"]
    assert rows[-1].number == 389
    assert table.info.dropped_rows[0] == (390, "read.dropped.total", "ОБЩО: | 417 | 9282 | 780 | 780")
    assert [(number, reason) for number, reason, _ in table.info.dropped_rows[1:]] == [
        (391, "read.dropped.note"),
        (392, "read.dropped.note"),
    ]
    assert table.info.skipped_blank_rows == 0


def test_ekatte_xls_codes_intact():
    table, rows = read_all(shared_path("data", "real", "nsi-ekatte-xls", "Sof_rai.xls"))

    assert table.info.format == "xls"
    assert table.info.sheet == "Sof_rai"
    assert table.labels == ["ekatte", "t_v_m", "name", "raion", "kind", "document"]
    assert len(rows) == 37
    assert rows[0].number == 2
    assert rows[0].cells == ["00357", "гр.", "Нови Искър", "68134-21", "1", "21"]
    assert rows[1].cells == ["02511", "с.", "Балша", "68134-21", "3", "21"]
    assert rows[-1].cells == ["87401", "с.", "Яна", "68134-22", "3", "21"]
    assert all(len(row.cells[0]) == 5 for row in rows)


# Synthetic workbooks


def _save(book: openpyxl.Workbook, tmp_path, name: str = "book.xlsx"):
    path = tmp_path / name
    book.save(path)
    return path


def test_formula_without_value_raises(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["район", "брой"])
    sheet.append(["Средец", 3])
    sheet.append(["Лозенец", "=B2*2"])
    path = _save(book, tmp_path)

    with pytest.raises(ReadError) as raised:
        read_all(path)

    assert raised.value.key == "read.formula_without_value"
    assert raised.value.params == {"file": "book.xlsx", "row": 3, "column": "брой", "value": "=B2*2"}
    assert "и го запишете отново" in raised.value.render("bg")


def test_formula_empty_text_result_read(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["код", "удвоен"])
    sheet.append([1, '=IF(A2=1,"",A2*2)'])
    written = _save(book, tmp_path, "written.xlsx")

    # Store the values the way Excel does after computing: text "" for B2.
    with zipfile.ZipFile(written) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml = xml.replace('<c r="B2"><f>IF(A2=1,"",A2*2)</f><v /></c>', '<c r="B2" t="str"><f>IF(A2=1,"",A2*2)</f><v></v></c>')
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    path = tmp_path / "computed.xlsx"
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)

    _, rows = read_all(path)

    assert 't="str"' in xml
    assert cells(rows) == [["1", None]]


def test_formula_in_dropped_total_ignored(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["район", "брой", "код"])
    sheet.append(["Средец", 3, "01"])
    sheet.append(["ОБЩО:", "=SUM(B2:B2)", None])
    path = _save(book, tmp_path)

    table, rows = read_all(path)

    assert cells(rows) == [["Средец", "3", "01"]]
    assert table.info.dropped_rows == [(3, "read.dropped.total", "ОБЩО:")]


def test_sheet_by_name_and_index(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Бележки"
    book.active.append(["нищо"])
    data = book.create_sheet("Данни")
    data.append(["код", "име"])
    data.append(["01", "Средец"])
    path = _save(book, tmp_path)

    by_name, rows_by_name = read_all(path, sheet="Данни")
    by_index, rows_by_index = read_all(path, sheet=2)

    assert by_name.info.sheet == "Данни"
    assert by_index.info.sheet == "Данни"
    assert by_name.labels == by_index.labels == ["код", "име"]
    assert cells(rows_by_name) == cells(rows_by_index) == [["01", "Средец"]]


def test_missing_sheet_lists_sheets(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Данни"
    path = _save(book, tmp_path)

    with pytest.raises(ReadError) as raised:
        read_table(path, ReadOptions(sheet="Лист2"))

    assert raised.value.key == "read.sheet_not_found"
    assert raised.value.params == {"file": "book.xlsx", "sheet": "Лист2", "available": "Данни"}


def test_cell_rendering(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["цяло", "дробно", "текст", "дата", "час", "логическо", "празно", "голямо"])
    sheet.append([2277.0, 0.1, "0563", dt.datetime(2024, 7, 19), dt.datetime(2024, 7, 19, 8, 30), True, "", 1e16])
    sheet.append([-3, 1 / 3, " 12 ", dt.date(2025, 1, 2), dt.time(8, 0), False, None, 12345678.5])
    path = _save(book, tmp_path)

    _, rows = read_all(path)

    assert cells(rows) == [
        ["2277", "0.1", "0563", "2024-07-19", "2024-07-19T08:30:00", "true", None, "10000000000000000"],
        ["-3", "0.3333333333333333", " 12 ", "2025-01-02", "08:00:00", "false", None, "12345678.5"],
    ]


def test_render_values():
    assert render(None) is None
    assert render("") is None
    assert render(484.25) == "484.25"
    assert render(30.0) == "30"
    assert render(True) == "true"
    assert render(dt.datetime(2024, 7, 19, 0, 0)) == "2024-07-19"


def test_merged_header_built_with_openpyxl(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Справка\nКъм дата 01.03.2025 г."
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["Район", "Деца", None, "Бележка", None])
    sheet.append([None, "Момчета", "Момичета", None, None])
    sheet.merge_cells("A3:A4")
    sheet.merge_cells("B3:C3")
    sheet.merge_cells("D3:E4")
    sheet.append(["Средец", 10, 12, "ok", None])
    sheet.append(["Лозенец", 8, 9, None, None])
    sheet.append([None, "Данните са предварителни и ще бъдат обновени", None, None, None])
    sheet.merge_cells("B7:E7")
    path = _save(book, tmp_path)

    table, rows = read_all(path, headerRows=[3, 4])

    assert table.labels == ["Район", "Деца Момчета", "Деца Момичета", "Бележка", "Бележка"]
    assert table.info.metadata == {"asOf": "2025-03-01"}
    assert cells(rows) == [["Средец", "10", "12", "ok", None], ["Лозенец", "8", "9", None, None]]
    assert table.info.dropped_rows == [(7, "read.dropped.note", "Данните са предварителни и ще бъдат обновени")]


def test_short_merged_text_inside_data_kept(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["район", "брой", "код"])
    sheet.append(["Средец", None, None])
    sheet.merge_cells("A2:C2")
    sheet.append(["Лозенец", 2, "02"])
    path = _save(book, tmp_path)

    table, rows = read_all(path)

    assert cells(rows) == [["Средец", None, None], ["Лозенец", "2", "02"]]
    assert table.info.dropped_rows == []


def test_stop_at_in_excel(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["район", "брой"])
    sheet.append(["Средец", 1])
    sheet.append(["Източник: ГРАО", None])
    sheet.append(["Лозенец", 2])
    path = _save(book, tmp_path)

    table, rows = read_all(path, stopAt="^Източник")

    assert cells(rows) == [["Средец", "1"]]
    assert table.info.dropped_rows == [
        (3, "read.dropped.stop_at", "Източник: ГРАО"),
        (4, "read.dropped.after_stop_at", "Лозенец | 2"),
    ]


def test_not_a_workbook_raises(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("a,b\n1,2\n")

    with pytest.raises(ReadError) as raised:
        read_table(path)

    assert raised.value.key == "read.excel_invalid"
    assert raised.value.params["format"] == "xlsx"


def test_xls_read_as_xlsx_raises():
    path = shared_path("data", "real", "nsi-ekatte-xls", "Sof_rai.xls")

    with pytest.raises(ReadError) as raised:
        read_table(path, ReadOptions(format="xlsx"))

    assert raised.value.key == "read.excel_invalid"
    assert raised.value.params["file"] == "Sof_rai.xls"


def test_xlsx_read_as_xls_raises():
    path = shared_path("cases", "07-xlsx-merged-multirow-header", "ranking_merged_header.xlsx")

    with pytest.raises(ReadError) as raised:
        read_table(path, ReadOptions(format="xls"))

    assert raised.value.key == "read.excel_invalid"
    assert raised.value.params["format"] == "xls"


MERGED_CASE = ("cases", "07-xlsx-merged-multirow-header", "ranking_merged_header.xlsx")


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_xlsx_damaged(tmp_path, keep):
    data = shared_path(*MERGED_CASE).read_bytes()
    path = tmp_path / "ranking.xlsx"
    path.write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(ReadError) as raised:
        read_table(path)

    assert raised.value.key == "read.excel_damaged"
    assert raised.value.params["file"] == "ranking.xlsx"
    assert raised.value.render("bg").startswith("Работната книга ranking.xlsx е повредена или непълна")


@pytest.mark.parametrize(
    ("source", "workbook"),
    [(MERGED_CASE, "xlsx"), (("data", "real", "nsi-ekatte-xls", "Sof_rai.xls"), "xls")],
)
def test_workbook_named_csv_raises(tmp_path, source, workbook):
    path = tmp_path / "export.csv"
    path.write_bytes(shared_path(*source).read_bytes())

    for options in (ReadOptions(), ReadOptions(format="csv"), ReadOptions(format="csv", encoding="utf-8")):
        with pytest.raises(ReadError) as raised:
            read_table(path, options)

        assert raised.value.key == "read.file_is_workbook"
        assert raised.value.params == {"file": "export.csv", "format": "csv", "workbook": workbook}


def test_workbook_named_csv_message(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(shared_path(*MERGED_CASE).read_bytes())

    with pytest.raises(ReadError) as raised:
        read_table(path)

    assert raised.value.render("bg") == (
        "Файлът export.csv е работна книга на Excel (xlsx), а не csv. Задайте \"format\": \"xlsx\" "
        "в sofia.read на ресурса или експортирайте листа като CSV."
    )
