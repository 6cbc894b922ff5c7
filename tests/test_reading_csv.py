"""Delimited text: BOMs, dialect sniffing, header rows, blank rows, row width, stop_at."""

from __future__ import annotations

import pytest

from opendata_sofia.errors import ReadError
from opendata_sofia.reading import ReadOptions, read_table
from tests.reading_helpers import cells, numbers, read_all, write
from tests.shared import shared_path


# Cases


@pytest.mark.parametrize("file_name", ["schools_bom.csv", "schools_triple_bom.csv"])
def test_bom_removed_from_first_label(file_name):
    table, rows = read_all(shared_path("cases", "03-bom-in-header", file_name))

    assert table.labels == ["Код", "Училище", "Брой", "Среден успех"]
    assert table.info.encoding == "utf-8-sig"
    assert table.info.delimiter == ","
    assert cells(rows) == [
        ["2200001", "СУ „Примерно“", "38", "4,05"],
        ["2200002", "ОУ „Условно“", "17", "3,70"],
    ]
    assert numbers(rows) == [2, 3]


def test_semicolon_sniffed():
    table, rows = read_all(shared_path("cases", "04-semicolon-delimiter-sniffing", "air_quality_semicolon.csv"))

    assert table.info.delimiter == ";"
    assert ("read.notice.delimiter_sniffed", {"delimiter": ";"}) in table.info.notices
    assert table.labels == ["Станция", "Показател", "Дата и час", "Стойност", "Мерна единица"]
    assert cells(rows) == [
        ["Дружба", "ФПЧ10", "15.01.2024 08:00", "41,27", "µg/m³"],
        ["Надежда", "ФПЧ10", "15.01.2024 08:00", "38,9", "µg/m³"],
        ["Павлово", "NO2", "15.01.2024 08:00", "27,35", "µg/m³"],
        ["Копитото", "O3", "15.01.2024 08:00", "55,02", "µg/m³"],
        ["Младост", "ФПЧ2,5", "15.01.2024 08:00", "22,1", "µg/m³"],
    ]


def test_blank_rows_skipped_and_counted():
    table, rows = read_all(shared_path("cases", "08-blank-rows", "districts_blank_rows.csv"))

    assert table.labels == ["Район", "Код", "Брой жители"]
    assert table.info.header_rows == [2]
    assert cells(rows) == [
        ["Средец", "68134-01", "73939"],
        ["Красно село", "68134-02", "90495"],
        ["Възраждане", "68134-03", "49906"],
    ]
    assert numbers(rows) == [3, 5, 6]
    # ",," on line 4, " , , " on line 7, ",," on lines 8 and 9, the empty line 10.
    assert table.info.skipped_blank_rows == 5
    assert table.info.dropped_rows == []


def test_leading_zero_codes_kept():
    table, rows = read_all(shared_path("cases", "09-leading-zero-codes", "class_codes.csv"))

    assert table.labels == ["код_паралелка", "екатте", "район_код", "име"]
    assert cells(rows) == [
        ["0563", "00357", "68134-21", "Декорация"],
        ["2277", "02511", "68134-21", "Математика"],
        ["0568", "07106", "68134-14", "Кетъринг"],
        ["1213", "68134", "68134-01", "Информатика"],
        ["0164А", "68134", "68134-01", "Изкуство"],
    ]


# Real files


def test_regions_so_labels_stripped_values_kept():
    table, rows = read_all(shared_path("data", "real", "sofia-districts", "Regions_SO.csv"))

    assert table.labels == ["name", "code", "city_area_code"]
    assert table.info.encoding == "utf-8"
    assert len(rows) == 24
    assert rows[0].cells == ["Средец       ", "68134-01", "1"]
    assert rows[0].number == 2
    assert rows[23].cells == ["Банкя        ", "68134-24", "24"]
    assert rows[23].number == 25


def test_district_reference_codes():
    table, rows = read_all(shared_path("data", "real", "sofia-districts", "Райони-код,реф.номера.csv"))

    assert table.labels == ["РАЙОН", "region_id", "Код за референтни номера"]
    assert len(rows) == 24
    assert rows[0].cells == ["Възраждане", "3", "РВЕ"]
    assert rows[-1].cells == ["Студентски", "16", "РСТ"]
    assert [row.number for row in rows] == list(range(2, 26))


def test_nvo_2022_bom_semicolon():
    table, rows = read_all(shared_path("data", "real", "mon-nvo-dzi", "nvo-7-2022-sofia.csv"))

    assert table.info.encoding == "utf-8-sig"
    assert table.info.delimiter == ";"
    assert table.labels == ["ОБЛАСТ", "ОБЩИНА", "НАСЕЛЕНО МЯСТО", "УЧИЛИЩЕ", "КОД", "БЕЛ-УЧ", "БЕЛ", "МАТ-УЧ", "МАТ"]
    assert len(rows) == 207
    assert rows[0].cells == [
        "СОФИЯ-ГРАД", "СТОЛИЧНА", "ГР.СОФИЯ", 'Софийска математическа гимназия "Паисий Хилендарски"',
        "2216306", "159", "91,02", "159", "97,33",
    ]  # fmt: skip
    assert rows[-1].number == 208
    assert rows[-1].cells[3] == '136 ОСНОВНО УЧИЛИЩЕ "ЛЮБЕН КАРАВЕЛОВ"'


def test_nvo_2023_preamble_and_two_row_header():
    table, rows = read_all(shared_path("data", "real", "mon-nvo-dzi", "nvo-7-2023.csv"), headerRows=[5, 6])

    assert table.labels == [
        "Област", "Община", "Населено място", "Училище", "Код по Админ",
        "БЕЛ Явили се", "БЕЛ Ср. успех в точки", "МАТ Явили се", "МАТ Ср. успех в точки",
    ]  # fmt: skip
    assert table.info.header_rows == [5, 6]
    assert ("read.notice.preamble_ignored", {"rows": "1-4"}) in table.info.notices
    assert len(rows) == 1735
    assert rows[0].number == 7
    assert rows[0].cells == [
        "БЛАГОЕВГРАД", "БАНСКО", "ГР.БАНСКО", 'Средно училище "Неофит Рилски"', "105201", "78", "52.4", "77", "30.37",
    ]  # fmt: skip
    assert rows[-1].number == 1741


def test_nsi_population_three_header_rows():
    path = shared_path("data", "real", "nsi-population", "raw-nsi-population-report-02.06.2018.csv")

    table, rows = read_all(path, headerRows=[1, 2, 3])

    assert table.info.delimiter == ";"
    assert table.labels == [""] + [f"брой {year} Общо" for year in range(2002, 2018)]
    assert ("read.notice.empty_columns_dropped", {"count": 1}) in table.info.notices
    assert len(rows) == 5649
    assert rows[0].number == 4
    assert rows[0].cells[:3] == ["BG Общо за страната", "7845841", "7801273"]
    assert all(len(row.cells) == 17 for row in rows)
    assert "03616 гр. Белоградчик" in [row.cells[0] for row in rows[:10]]


def test_gtfs_stops():
    table, rows = read_all(shared_path("data", "real", "sofia-transit", "gtfs_stops.txt"), format="csv")

    assert table.labels == ["stop_id", "stop_name", "stop_lat", "stop_lon"]
    assert len(rows) == 2870
    assert rows[0].cells == ["2", "102-РО ОУ", "42.7357", "23.30533"]
    assert rows[-1].cells == ["6798", "НОВАТА ГОРА - БАНКЯ", "42.69498", "23.1059"]


def test_air_quality_sample():
    table, rows = read_all(shared_path("data", "real", "sofia-air-quality", "sample.csv"))

    assert table.labels == [
        "timest", "station", "param", "level", "station_name", "longitude", "latitude", "param_name",
    ]  # fmt: skip
    assert len(rows) == 5000
    assert rows[0].cells == ["2017-11-17 05:00:00", "2", "7", "86.3", "Nadezhda", "23.310972", "42.732292", "Humidity"]
    assert rows[-1].cells[3] == "-0.11"


# Dialect sniffing


@pytest.mark.parametrize(
    ("delimiter", "text"),
    [
        (",", "a,b,c\n1,2,3\n4,5,6\n"),
        (";", "a;b;c\n1,5;2;3\n4;5,25;6\n"),
        ("\t", "a\tb\tc\n1, 2\t2\t3\n4\t5\t6\n"),
        ("|", "a|b|c\n1|2|3\n4|5|6\n"),
        (",", 'име,адрес,брой\n"Средец","ул. А; бл. 1",3\n"Лозенец","ул. Б; бл. 2",4\n'),
        (";", "Справка за районите\nрайон;код;брой\nСредец;01;1,5\nЛозенец;02;2,5\nЛюлин;03;3\n"),
    ],
)
def test_delimiter_sniffed(tmp_path, delimiter, text):
    table = read_table(write(tmp_path, "t.csv", text))

    assert table.info.delimiter == delimiter


def test_sniffed_quoted_delimiter_kept_in_value(tmp_path):
    path = write(tmp_path, "t.csv", 'име;бележка\n"Средец";"a;b"\n"Лозенец";"c;d"\n')

    table, rows = read_all(path)

    assert table.info.delimiter == ";"
    assert cells(rows) == [["Средец", "a;b"], ["Лозенец", "c;d"]]


def test_single_column_needs_delimiter(tmp_path):
    path = write(tmp_path, "one.csv", "име\nСредец\nЛозенец\n")

    with pytest.raises(ReadError) as raised:
        read_table(path)
    assert raised.value.key == "read.delimiter_not_found"
    assert raised.value.params == {"file": "one.csv"}

    table, rows = read_all(path, delimiter=",")
    assert table.labels == ["име"]
    assert cells(rows) == [["Средец"], ["Лозенец"]]


def test_excel_sep_line(tmp_path):
    path = write(tmp_path, "sep.csv", "sep=|\r\nа|б\r\n1|2\r\n")

    table, rows = read_all(path)

    assert table.info.delimiter == "|"
    assert table.labels == ["а", "б"]
    assert table.info.header_rows == [2]
    assert cells(rows) == [["1", "2"]]
    assert numbers(rows) == [3]


def test_configured_delimiter_not_sniffed(tmp_path):
    path = write(tmp_path, "t.csv", "a;b\n1;2\n")

    table, rows = read_all(path, delimiter=",")

    assert table.info.delimiter == ","
    assert table.labels == ["a;b"]
    assert not any(key == "read.notice.delimiter_sniffed" for key, _ in table.info.notices)


# Quoting and records


def test_doubled_quotes_and_multiline_value(tmp_path):
    path = write(tmp_path, "q.csv", 'код,име\r\n1,"СУ ""Иван Вазов"""\r\n2,"ред едно\r\nред две"\r\n3,край\r\n')

    table, rows = read_all(path)

    assert cells(rows) == [["1", 'СУ "Иван Вазов"'], ["2", "ред едно\r\nред две"], ["3", "край"]]
    # Numbers count records, not lines: the quoted line break stays inside record 3.
    assert numbers(rows) == [2, 3, 4]


def test_unclosed_quote_raises(tmp_path):
    path = write(tmp_path, "q.csv", 'код,име\n1,"Средец\n2,Лозенец\n')

    with pytest.raises(ReadError) as raised:
        read_all(path)

    assert raised.value.key == "read.csv_unclosed_quote"
    assert raised.value.params == {"file": "q.csv", "row": 2}


def test_text_after_quote_raises(tmp_path):
    path = write(tmp_path, "q.csv", 'код,име\n1,"Средец" център\n', encoding="utf-8")

    with pytest.raises(ReadError) as raised:
        read_all(path, delimiter=",")

    assert raised.value.key == "read.csv_text_after_quote"
    assert raised.value.params["row"] == 2


def test_quote_char_option(tmp_path):
    path = write(tmp_path, "q.csv", "код;име\n1;'Средец; център'\n")

    _, rows = read_all(path, delimiter=";", quoteChar="'")

    assert cells(rows) == [["1", "Средец; център"]]


# Row width


def test_short_rows_padded_and_empty_is_none(tmp_path):
    path = write(tmp_path, "w.csv", "а,б,в\n1,,3\n4\n7,8,9\n")

    table, rows = read_all(path)

    assert cells(rows) == [["1", None, "3"], ["4", None, None], ["7", "8", "9"]]


def test_trailing_empty_cells_dropped(tmp_path):
    path = write(tmp_path, "w.csv", "а;б;\n1;2;\n3;4;;;\n")

    table, rows = read_all(path)

    assert table.labels == ["а", "б"]
    assert cells(rows) == [["1", "2"], ["3", "4"]]


def test_extra_cells_raise(tmp_path):
    path = write(tmp_path, "w.csv", "а,б\n1,2\n3,4,5\n")

    with pytest.raises(ReadError) as raised:
        read_all(path)

    assert raised.value.key == "read.extra_cells"
    assert raised.value.params == {"file": "w.csv", "row": 3, "count": 3, "labels": 2, "value": "5"}
    assert raised.value.render("en") == (
        'In w.csv row 3 has 3 cells but the header has 2 columns (extra value "5"). '
        "Check the delimiter (sofia.read.delimiter) and the header rows (sofia.read.headerRows)."
    )


def test_whitespace_cells_kept_as_written(tmp_path):
    path = write(tmp_path, "w.csv", "  а  , б\n 1 ,\u00a0\n")

    table, rows = read_all(path)

    assert table.labels == ["а", "б"]
    assert cells(rows) == [[" 1 ", "\u00a0"]]


# Header rows


def test_header_fill_from_left(tmp_path):
    text = 'Заглавие\n\nРайон,БЕЛ,"",МАТ,""\n"",Явили се,Ср. успех,Явили се,Ср. успех\nСредец,10,50.5,9,40\n'
    path = write(tmp_path, "h.csv", text)

    table, rows = read_all(path, headerRows=[3, 4])

    assert table.labels == ["Район", "БЕЛ Явили се", "БЕЛ Ср. успех", "МАТ Явили се", "МАТ Ср. успех"]
    assert cells(rows) == [["Средец", "10", "50.5", "9", "40"]]
    assert table.info.notices[-1] == ("read.notice.preamble_ignored", {"rows": "1"})


def test_header_labels_cleaned(tmp_path):
    path = write(tmp_path, "h.csv", '"Име на\r\nучилище",  Брой   ученици ,\u00a0Код\u00a0,\n1,2,3\n')

    table, _ = read_all(path)

    assert table.labels == ["Име на училище", "Брой ученици", "Код"]


def test_header_repeated_value_not_doubled(tmp_path):
    path = write(tmp_path, "h.csv", "№,Училище,Училище\n№,Код,Име\n1,22,СУ\n")

    table, _ = read_all(path, headerRows=[1, 2])

    assert table.labels == ["№", "Училище Код", "Училище Име"]


def test_blank_label_kept_empty(tmp_path):
    path = write(tmp_path, "h.csv", "код,,име\n1,x,Средец\n")

    table, rows = read_all(path)

    assert table.labels == ["код", "", "име"]
    assert cells(rows) == [["1", "x", "Средец"]]


def test_header_beyond_file_raises(tmp_path):
    path = write(tmp_path, "h.csv", "а,б\n1,2\n")

    with pytest.raises(ReadError) as raised:
        read_table(path, ReadOptions(header_rows=[5]))

    assert raised.value.key == "read.header_missing"
    assert raised.value.params == {"file": "h.csv", "row": 5}


def test_as_of_date_from_title(tmp_path):
    path = write(tmp_path, "t.csv", "Справка за децата към дата 01.02.2025 г.;;\nрайон;брой;код\nСредец;1;01\n")

    table, rows = read_all(path, headerRows=[2])

    assert table.info.metadata == {"asOf": "2025-02-01"}
    assert cells(rows) == [["Средец", "1", "01"]]


# stop_at, notes and totals


def test_stop_at_drops_rest(tmp_path):
    text = "район;брой;код\nСредец;1;01\nЛозенец;2;02\nОБЩО;3;\n\nЗабележка: данните са примерни;;\nЛюлин;4;03\n"
    path = write(tmp_path, "s.csv", text)

    table, rows = read_all(path, stopAt="^ОБЩО")

    assert cells(rows) == [["Средец", "1", "01"], ["Лозенец", "2", "02"]]
    assert table.info.dropped_rows == [
        (4, "read.dropped.stop_at", "ОБЩО | 3"),
        (6, "read.dropped.after_stop_at", "Забележка: данните са примерни"),
        (7, "read.dropped.after_stop_at", "Люлин | 4 | 03"),
    ]


def test_stop_at_matches_first_nonempty_cell(tmp_path):
    path = write(tmp_path, "s.csv", "а,б,в\n1,2,3\n,  Забележка: край,\n")

    table, rows = read_all(path, stopAt="^(ОБЩО|Забележка)")

    assert cells(rows) == [["1", "2", "3"]]
    assert table.info.dropped_rows == [(3, "read.dropped.stop_at", "Забележка: край")]


def test_total_row_at_end_dropped(tmp_path):
    path = write(tmp_path, "t.csv", "район,брой,код\nСредец,1,01\nЛозенец,2,02\nОбщо,3,\n")

    table, rows = read_all(path)

    assert cells(rows) == [["Средец", "1", "01"], ["Лозенец", "2", "02"]]
    assert table.info.dropped_rows == [(4, "read.dropped.total", "Общо | 3")]


def test_total_like_row_inside_data_kept(tmp_path):
    path = write(tmp_path, "t.csv", "вид,брой,код\nОбщо основание,1,01\nКвота,2,02\n")

    table, rows = read_all(path)

    assert cells(rows) == [["Общо основание", "1", "01"], ["Квота", "2", "02"]]
    assert table.info.dropped_rows == []


def test_long_note_at_end_dropped(tmp_path):
    note = "Забележка: данните са събрани от районните администрации през март"
    path = write(tmp_path, "n.csv", f"район,брой,код\nСредец,1,01\n,,\n{note},,\n")

    table, rows = read_all(path)

    assert cells(rows) == [["Средец", "1", "01"]]
    assert table.info.dropped_rows == [(4, "read.dropped.note", note)]
    assert table.info.skipped_blank_rows == 1


# Streaming


def test_batches_sized_and_rereadable(tmp_path):
    lines = "".join(f"{n},{n * 2}\n" for n in range(1, 26))
    path = write(tmp_path, "b.csv", "a,b\n" + lines)
    table = read_table(path)

    first = [len(batch) for batch in table.batches(size=10)]
    second = [row.cells for batch in table.batches(size=7) for row in batch]

    assert first == [10, 10, 5]
    assert len(second) == 25
    assert second[0] == ["1", "2"]
    assert second[-1] == ["25", "50"]


def test_counts_reset_on_reread(tmp_path):
    path = write(tmp_path, "b.csv", "a,b\n1,2\n,\n3,4\n")
    table = read_table(path)

    for _ in range(2):
        list(table.batches())
        assert table.info.skipped_blank_rows == 1


def test_missing_file_raises(tmp_path):
    with pytest.raises(ReadError) as raised:
        read_table(tmp_path / "nowhere.csv")

    assert raised.value.key == "read.file_missing"
    assert raised.value.params["file"] == "nowhere.csv"


def test_unknown_suffix_needs_format(tmp_path):
    path = write(tmp_path, "export.dat", "a,b\n1,2\n")

    with pytest.raises(ReadError) as raised:
        read_table(path)
    assert raised.value.key == "read.format_unknown"

    table, rows = read_all(path, format="csv")
    assert cells(rows) == [["1", "2"]]


@pytest.mark.parametrize("text", ["", "\n\n", "\r\n  \r\n\t\n", "\ufeff\n\n"])
@pytest.mark.parametrize("options", [ReadOptions(), ReadOptions(delimiter=";", encoding="utf-8")])
def test_empty_file_raises(tmp_path, text, options):
    path = write(tmp_path, "empty.csv", text)

    with pytest.raises(ReadError) as raised:
        read_table(path, options)

    assert raised.value.key == "read.file_empty"
    assert raised.value.params == {"file": "empty.csv"}
    assert raised.value.render("bg").startswith("Файлът empty.csv е празен")
