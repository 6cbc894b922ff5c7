"""Write CSV, JSON and Parquet from parsed columns, byte for byte as `conversion` writes them."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from opendata_sofia import conversion
from opendata_sofia.fastpath.columns import ParsedColumn
from opendata_sofia.fastpath.text import has_any_byte, text_bytes

# Characters that make Python's csv module (QUOTE_MINIMAL) quote a cell.
CSV_QUOTED = r'[,"\r\n]'
CSV_QUOTED_BYTES = b',"\r\n'


class _Writer:
    """One output file. After `close`, `sha256` and `bytes` describe it."""

    format = ""
    media_type = ""

    def __init__(self, path: Path, fields: list[dict]):
        self.path = path
        self.names = [f["name"] for f in fields]
        self.sha256 = ""
        self.bytes = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class _TextWriter(_Writer):
    """A text output, written and hashed on a second thread while the next batch is parsed.

    File writes and SHA-256 release the GIL. One buffer at a time is in flight, in order.
    """

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.handle = path.open("wb")
        self.digest = hashlib.sha256()
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.in_flight: Future | None = None

    def emit(self, data) -> None:
        self._wait()
        self.in_flight = self.executor.submit(self._write, data)

    def _write(self, data) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.bytes += len(data)

    def _wait(self) -> None:
        if self.in_flight is not None:
            self.in_flight.result()
            self.in_flight = None

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self.executor.shutdown()
            self.handle.close()
        self.sha256 = self.digest.hexdigest()


class CsvWriter(_TextWriter):
    """The CSV of `conversion.CsvOutput`: RFC 4180, CRLF, quoted only where needed."""

    format = conversion.CsvOutput.format
    media_type = conversion.CsvOutput.media_type

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        # Numbers, flags, dates and times are written without commas, quotes or line breaks.
        self.textual = [f.get("type", "string") == "string" for f in fields]
        header = [pa.array([name], pa.string()) for name in self.names]
        self.emit(self._lines(header, [True] * len(header)).to_pybytes() if header else b"\r\n")

    def write(self, columns: list[ParsedColumn]) -> None:
        if columns and len(columns[0].csv):
            self.emit(self._lines([column.csv for column in columns], self.textual))

    def _lines(self, cells: list[pa.Array], textual: list[bool]) -> pa.Buffer:
        quoted = [self._quote(column) if text else column for column, text in zip(cells, textual)]
        if len(quoted) == 1:
            # csv.writer writes a row of one empty cell as "" so that it is not a blank line.
            quoted[0] = pc.if_else(pc.equal(quoted[0], ""), '""', quoted[0])
            lines = pc.binary_join_element_wise(quoted[0], "\r\n", "")
        else:
            lines = pc.binary_join_element_wise(*quoted, ",")
            lines = pc.binary_join_element_wise(lines, "\r\n", "")
        return text_bytes(lines)

    @staticmethod
    def _quote(column: pa.Array) -> pa.Array:
        if not has_any_byte(column, CSV_QUOTED_BYTES):
            return column
        needed = pc.match_substring_regex(column, CSV_QUOTED)
        if not pc.any(needed).as_py():
            return column
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
        return pc.if_else(needed, quoted, column)

class JsonWriter(_TextWriter):
    """The JSON of `conversion.JsonOutput`: an array of objects, one per line."""

    format = conversion.JsonOutput.format
    media_type = conversion.JsonOutput.media_type

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.keys = [conversion.json_text(name) for name in self.names]
        self.first = True
        self.emit(b"[")

    def write(self, columns: list[ParsedColumn]) -> None:
        if not columns or not len(columns[0].json):
            return

        # Literal text between the values; a plain text column gets its quotes here.
        parts: list = []
        literal = ",\n{"
        for number, (key, column) in enumerate(zip(self.keys, columns)):
            literal += ("," if number else "") + key + ":"
            if column.json_quoted:
                parts += [literal + '"', column.json]
                literal = '"'
            else:
                parts += [literal, column.json]
                literal = ""
        parts.append(literal + "}")
        objects = pc.binary_join_element_wise(*parts, "")
        data = text_bytes(objects)
        # Every object starts with ",\n" except the first of the file, which starts with "\n".
        self.emit(data[1:] if self.first else data)
        self.first = False

    def close(self) -> None:
        self.emit(b"\n]\n")
        super().close()


class ParquetWriter(_Writer):
    """The Parquet of `conversion.ParquetOutput`: same schema, row groups and chunks."""

    format = conversion.ParquetOutput.format
    media_type = conversion.ParquetOutput.media_type

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.schema = conversion.arrow_schema(fields)
        self.buffer: list[pa.RecordBatch] = []
        self.buffered_rows = 0
        self.writer = pq.ParquetWriter(path, self.schema, compression=conversion.PARQUET_COMPRESSION)
        # Row groups are encoded on a second thread (pyarrow releases the GIL) while the
        # next batches are parsed. One row group at a time is in flight, in order.
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.in_flight: Future | None = None

    def write(self, columns: list[ParsedColumn]) -> None:
        if not columns or not len(columns[0].typed):
            return
        self.buffer.append(pa.RecordBatch.from_arrays([column.typed for column in columns], schema=self.schema))
        self.buffered_rows += len(columns[0].typed)
        # Read at run time, so a test can lower it as for `conversion.convert`.
        if self.buffered_rows >= conversion.PARQUET_ROW_GROUP_ROWS:
            self._flush()

    def close(self) -> None:
        try:
            self._flush()
            self._wait()
        finally:
            self.executor.shutdown()
            self.writer.close()
        self.sha256, self.bytes = _file_digest(self.path)

    def _flush(self) -> None:
        if self.buffer:
            table = pa.Table.from_batches(self.buffer, schema=self.schema)
            self._wait()
            self.in_flight = self.executor.submit(self.writer.write_table, table, row_group_size=max(self.buffered_rows, 1))
        self.buffer = []
        self.buffered_rows = 0

    def _wait(self) -> None:
        if self.in_flight is not None:
            self.in_flight.result()
            self.in_flight = None


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest(), path.stat().st_size
