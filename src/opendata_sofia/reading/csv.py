"""Delimited text (CSV, TSV, GTFS .txt): dialect, records and their numbers."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from opendata_sofia.errors import ReadError
from opendata_sofia.reading.encoding import resolve_encoding
from opendata_sofia.reading.labels import BOM
from opendata_sofia.reading.model import RawRow, ReadInfo, TableRead
from opendata_sofia.reading.options import SNIFFED_DELIMITERS, ReadOptions
from opendata_sofia.reading.rows import RowRules, tabulate

SNIFF_SAMPLE_CHARS = 1 << 16
SNIFF_RECORDS = 50
# A delimiter within this share of the most consistent one still wins if it gives more columns:
# a preamble line or two must not hand the choice to a delimiter that splits fewer fields.
SNIFF_CONSISTENCY_MARGIN = 0.1

# Excel writes and honours a first line "sep=;" that names the delimiter.
_EXCEL_SEP_LINE = re.compile(r"^sep=(.)\r?\n?$")

_CSV_ERRORS = (
    ("unexpected end of data", "read.csv_unclosed_quote"),
    ("expected after", "read.csv_text_after_quote"),
    ("field larger than field limit", "read.csv_field_too_large"),
)


def read_csv(path: Path, options: ReadOptions) -> TableRead:
    """Read a delimited text file as a table (see `read_table`)."""
    info = ReadInfo(format="csv")
    info.encoding = resolve_encoding(path, options.encoding)
    if options.encoding is None:
        info.notices.append(("read.notice.encoding_detected", {"encoding": info.encoding}))
    if _is_blank(path, info.encoding):
        raise ReadError("read.file_empty", file=path.name)

    sep_line = _excel_sep_line(path, info.encoding)
    delimiter = options.delimiter or sep_line
    if delimiter is None:
        delimiter = sniff_delimiter(path, info.encoding, options.quote_char)
        info.notices.append(("read.notice.delimiter_sniffed", {"delimiter": delimiter}))
    info.delimiter = delimiter

    def raw_rows() -> Iterator[RawRow]:
        rows = _records(path, info.encoding, delimiter, options.quote_char)
        if sep_line is not None:
            next(rows, None)
        return rows

    return tabulate(path, info, raw_rows, options.header_rows, options.stop_at, RowRules())


def _lines(path: Path, encoding: str) -> Iterator[str]:
    """Yield the lines of the file with every BOM at its start removed (Excel may write several)."""
    with path.open("r", encoding=encoding, newline="") as stream:
        first = stream.readline()
        yield first.lstrip(BOM)
        yield from stream


def _is_blank(path: Path, encoding: str) -> bool:
    """Tell whether every line is whitespace; reading stops at the first line with text."""
    return all(not line.strip() for line in _lines(path, encoding))


def _records(path: Path, encoding: str, delimiter: str, quote_char: str) -> Iterator[RawRow]:
    # strict: an unclosed quote would otherwise swallow the rest of the file into one cell.
    reader = csv.reader(
        _lines(path, encoding), delimiter=delimiter, quotechar=quote_char, doublequote=True, strict=True
    )
    number = 0
    while True:
        number += 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(path, number, exc) from None
        yield RawRow(number, [field if field != "" else None for field in fields])


def _csv_error(path: Path, number: int, exc: csv.Error) -> ReadError:
    text = str(exc)
    for fragment, key in _CSV_ERRORS:
        if fragment in text:
            return ReadError(key, file=path.name, row=number)
    return ReadError("read.csv_invalid", file=path.name, row=number, value=text)


def _excel_sep_line(path: Path, encoding: str) -> str | None:
    with path.open("r", encoding=encoding, newline="") as stream:
        first = stream.readline().lstrip(BOM)
    found = _EXCEL_SEP_LINE.match(first)
    return found.group(1) if found else None


def sniff_delimiter(path: Path, encoding: str, quote_char: str = '"') -> str:
    """Choose among `, ; TAB |` the delimiter that splits the first records most consistently.

    Each candidate parses the first non-blank records with quotes respected. The candidate
    whose most common field count covers the largest share of records wins. Candidates within
    `SNIFF_CONSISTENCY_MARGIN` of that share compete on the number of fields. One field
    everywhere is no evidence, so a file where no candidate splits anything raises ReadError.
    """
    with path.open("r", encoding=encoding, newline="") as stream:
        sample = stream.read(SNIFF_SAMPLE_CHARS)
        truncated = bool(stream.read(1))
    sample = sample.lstrip(BOM)

    scores: list[tuple[float, int, str]] = []
    for delimiter in SNIFFED_DELIMITERS:
        counts = _field_counts(sample, delimiter, quote_char, truncated)
        if not counts:
            continue
        fields, records = Counter(counts).most_common(1)[0]
        if fields >= 2:
            scores.append((records / len(counts), fields, delimiter))

    if not scores:
        raise ReadError("read.delimiter_not_found", file=path.name)

    best_consistency = max(consistency for consistency, _, _ in scores)
    close = [score for score in scores if score[0] >= best_consistency - SNIFF_CONSISTENCY_MARGIN]
    return max(close, key=lambda score: (score[1], score[0]))[2]


def _field_counts(sample: str, delimiter: str, quote_char: str, truncated: bool) -> list[int]:
    reader = csv.reader(sample.splitlines(keepends=True), delimiter=delimiter, quotechar=quote_char)
    records = []
    try:
        for fields in islice(reader, SNIFF_RECORDS * 4):
            if any(field.strip() for field in fields):
                records.append(len(fields))
            if len(records) > SNIFF_RECORDS:
                break
    except csv.Error:
        pass

    # The sample may end inside a record, so the last one counts only if the file ended there.
    if truncated and records:
        records.pop()
    return records[:SNIFF_RECORDS]
