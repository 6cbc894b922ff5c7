"""Encoding detection and the mojibake guard."""

from __future__ import annotations

import pytest

from opendata_sofia.errors import EncodingError, ReadError
from opendata_sofia.reading import ReadOptions, read_table
from opendata_sofia.reading.encoding import resolve_encoding
from opendata_sofia.reading.mojibake import MAX_SAMPLE_CHARS, LetterStats
from tests.reading_helpers import cells, read_all, write
from tests.shared import shared_path

CP1251_CASE = ("cases", "01-cp1251-encoding-detection")


def test_cp1251_mixed_case_detected():
    table, rows = read_all(shared_path(*CP1251_CASE, "kindergartens_cp1251.csv"))

    assert table.info.encoding == "windows-1251"
    assert table.info.delimiter == ";"
    assert table.labels == ["Район", "Детска градина", "Адрес", "Места", "Актуализация"]
    assert cells(rows) == [
        ["Средец", "ДГ № 12 „Слънчице“", "ул. „Примерна“ № 1", "96", "15.03.2024"],
        ["Лозенец", "ДГ № 40 „Щурче“", "бул. „Тестов“ № 22", "120", "15.03.2024"],
        ["Люлин", "ДГ № 7 „Жар-птица“", "ж.к. Люлин, бл. 000", "144", "16.03.2024"],
        ["Възраждане", "ДГ № 3 „Юнаци“", "ул. „Въображаема“ № 5", "72", "16.03.2024"],
        ["Оборище", "ДГ № 25 „Ябълчица“", "пл. „Условен“ № 9", "88", "17.03.2024"],
    ]
    assert [row.number for row in rows] == [2, 3, 4, 5, 6]
    assert ("read.notice.encoding_detected", {"encoding": "windows-1251"}) in table.info.notices


def test_cp1251_all_caps_detected():
    table, rows = read_all(shared_path(*CP1251_CASE, "settlements_caps_cp1251.csv"))

    assert table.info.encoding == "windows-1251"
    assert table.labels == ["ОБЛАСТ", "ОБЩИНА", "НАСЕЛЕНО МЯСТО", "ПОСТОЯНЕН АДРЕС"]
    assert cells(rows) == [
        ["СОФИЯ", "СТОЛИЧНА", "ГР.СОФИЯ", "1304772"],
        ["СОФИЯ", "СТОЛИЧНА", "С.БИСТРИЦА", "3541"],
        ["СОФИЯ", "СТОЛИЧНА", "ГР.БАНКЯ", "11870"],
        ["СОФИЯ", "СТОЛИЧНА", "С.ЛОЗЕН", "3276"],
    ]


def test_cp1251_configured_reads_same():
    table, rows = read_all(shared_path(*CP1251_CASE, "settlements_caps_cp1251.csv"), encoding="windows-1251")

    assert table.info.encoding == "windows-1251"
    assert table.labels[0] == "ОБЛАСТ"
    assert len(rows) == 4
    assert ("read.notice.encoding_detected", {"encoding": "windows-1251"}) not in table.info.notices


@pytest.mark.parametrize("file_name", ["kindergartens_cp1251.csv", "settlements_caps_cp1251.csv"])
@pytest.mark.parametrize("wrong", ["koi8-u", "koi8-r", "cp1252", "latin-1", "mac-cyrillic"])
def test_cp1251_wrong_encoding_raises(file_name, wrong):
    path = shared_path(*CP1251_CASE, file_name)

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding=wrong))

    assert raised.value.key == "read.encoding_mojibake"
    assert raised.value.params["file"] == file_name
    assert raised.value.params["suggested"] == "windows-1251"
    assert raised.value.params["value"]


def test_koi8_mixed_case_sample_word():
    path = shared_path(*CP1251_CASE, "kindergartens_cp1251.csv")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding="koi8-u"))

    assert raised.value.params["kind"] == "inverted"
    assert raised.value.params["value"] == "пЮИНМ"


def test_koi8_all_caps_sample_word():
    path = shared_path(*CP1251_CASE, "settlements_caps_cp1251.csv")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding="koi8-u"))

    assert raised.value.params["kind"] == "frequency"
    assert raised.value.params["value"] == "накюяр"


def test_cp1252_sample_word():
    path = shared_path(*CP1251_CASE, "kindergartens_cp1251.csv")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding="cp1252"))

    assert raised.value.params["kind"] == "latin"
    assert raised.value.params["value"] == "Ðàéîí"
    assert raised.value.params["encoding"] == "windows-1252"


def test_mojibake_message_names_fix():
    path = shared_path(*CP1251_CASE, "kindergartens_cp1251.csv")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding="koi8-u"))

    assert raised.value.render("bg") == (
        "Файлът kindergartens_cp1251.csv, прочетен в кодировка koi8-u, дава неразбираем текст "
        "(например „пЮИНМ“). Файлът се чете правилно като windows-1251: задайте "
        '"encoding": "windows-1251" в sofia.read на ресурса.'
    )


def test_utf8_configured_as_cp1251_raises(tmp_path):
    path = write(tmp_path, "stations.csv", "Станция;Код\nДружба;01\nНадежда;02\n")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding="windows-1251"))

    assert raised.value.key == "read.encoding_mojibake"
    assert raised.value.params["kind"] == "utf8"
    assert raised.value.params["suggested"] == "utf-8"


def test_cp1251_configured_as_utf8_names_line(tmp_path):
    text = "Район;Код\nSredets;01\nЛозенец;02\n"
    path = write(tmp_path, "districts.csv", text, encoding="cp1251")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding="utf-8"))

    assert raised.value.key == "read.encoding_invalid_bytes"
    assert raised.value.params["row"] == 1
    assert raised.value.params["value"] == "d0"
    assert raised.value.params["suggested"] == "windows-1251"


def test_short_cp1251_not_suggested_as_mac(tmp_path):
    # MacCyrillic decodes the lower-case letters of these bytes the same way and used to score higher.
    text = "\nРайон,Код,Брой жители\nСредец,68134-01,73939\nКрасно село,68134-02,90495\nВъзраждане,68134-03,49906\n"
    path = write(tmp_path, "districts.csv", text, encoding="cp1251")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding="utf-8"))

    assert raised.value.params["suggested"] == "windows-1251"


def test_invalid_byte_line_number(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes("код,име\n1,София\n2,Перник\n".encode() + b"3,\xff\xfe\n")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(encoding="utf-8"))

    assert raised.value.params["row"] == 4
    assert raised.value.params["value"] == "ff"


def test_undetected_encoding_raises(tmp_path):
    # 0x98 is undefined in windows-1251 and invalid as a UTF-8 start byte.
    path = tmp_path / "neither.csv"
    path.write_bytes(b"a;b\n\x98\x98;1\n")

    with pytest.raises(EncodingError) as raised:
        read_table(path, ReadOptions(format="csv"))

    assert raised.value.key.startswith("read.encoding_undetected")
    assert raised.value.params["file"] == "neither.csv"


def test_koi8_file_not_guessed(tmp_path):
    text = "Район;Детска градина\nСредец;Слънчице\nЛозенец;Щурче\nЛюлин;Жар-птица\n" * 3
    path = write(tmp_path, "koi8.csv", text, encoding="koi8-r")

    with pytest.raises(EncodingError) as raised:
        read_table(path)

    assert raised.value.key == "read.encoding_mojibake"
    assert raised.value.params["encoding"] == "windows-1251"
    assert raised.value.params["suggested"] == "koi8-r"


def test_detection_reads_past_sample(tmp_path):
    # Two megabytes of ASCII first: a detector that trusts a sample would call this UTF-8.
    ascii_part = "code;name\n" + "0001;Sredets\n" * 160_000
    path = tmp_path / "late_cyrillic.csv"
    path.write_bytes(ascii_part.encode("ascii") + "0002;Лозенец\n0003;Люлин\n".encode("cp1251"))

    table, rows = read_all(path)

    assert table.info.encoding == "windows-1251"
    assert rows[-2].cells == ["0002", "Лозенец"]
    assert rows[-1].cells == ["0003", "Люлин"]
    assert rows[-1].number == 160_003


def test_mixed_encodings_raise(tmp_path):
    utf8_part = ("Район;Код\n" + "Средец;01\n" * 120_000).encode("utf-8")
    path = tmp_path / "mixed.csv"
    path.write_bytes(utf8_part + "Лозенец;02\n".encode("cp1251"))

    with pytest.raises(EncodingError) as raised:
        read_table(path)

    assert raised.value.params["file"] == "mixed.csv"


def test_unknown_encoding_name(tmp_path):
    path = write(tmp_path, "a.csv", "a,b\n1,2\n")

    with pytest.raises(ReadError) as raised:
        read_table(path, ReadOptions(encoding="cp-bulgarian"))

    assert raised.value.key == "read.encoding_unknown_name"
    assert raised.value.params == {"file": "a.csv", "encoding": "cp-bulgarian"}


def test_latin_text_not_mojibake(tmp_path):
    path = write(tmp_path, "stations.csv", "station,note\nNadezhda,Café près de l'école\nDruzhba,ok\n")

    table, rows = read_all(path)

    assert table.info.encoding == "utf-8"
    assert cells(rows)[0] == ["Nadezhda", "Café près de l'école"]


def test_ascii_file_is_utf8(tmp_path):
    table, _ = read_all(write(tmp_path, "a.csv", "a,b\n1,2\n"))

    assert table.info.encoding == "utf-8"


# The mojibake guard once searched these inputs in quadratic time: 40,000 Cyrillic letters in
# one word took 9 s and an 80,000-character hex cell 37 s, so the inputs below took hours.
LONG_WORD = "оаеитнрсвлбгд" * 160_000
HEX_CELL = "0123456789abcdef" * 65_536


def test_letter_stats_long_word():
    stats = LetterStats()
    stats.feed(LONG_WORD)

    assert len(LONG_WORD) > 2_000_000
    assert stats.problem() is None
    assert stats.samples["frequency"] == LONG_WORD[:MAX_SAMPLE_CHARS]
    assert stats.samples["non_ascii"] == LONG_WORD[:MAX_SAMPLE_CHARS]
    assert "foreign" not in stats.samples
    assert stats.inverted_words == 0


def test_letter_stats_hex_cell():
    stats = LetterStats()
    stats.feed(f"{HEX_CELL},Район\n")

    assert stats.problem() is None
    assert stats.samples["non_ascii"] == "Район"
    assert stats.samples["frequency"] == "Район"
    assert stats.capitalised_words == 1


def test_configured_cp1251_long_word(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(f"район,бележка\nЛозенец,{LONG_WORD}\n".encode("cp1251"))

    assert resolve_encoding(path, "windows-1251") == "windows-1251"


def test_configured_utf8_hex_cell(tmp_path):
    path = write(tmp_path, "hex.csv", f"район,хеш\nЛозенец,{HEX_CELL}\n")

    assert resolve_encoding(path, "utf-8") == "utf-8"
    assert read_all(path)[0].info.encoding == "utf-8"
