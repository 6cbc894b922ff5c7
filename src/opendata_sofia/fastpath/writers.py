"""Write CSV, JSON and Parquet from parsed columns, byte for byte as `conversion` writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from opendata_sofia import conversion
from opendata_sofia.fastpath.columns import ParsedColumn
from opendata_sofia.publishing.base import OutputFile

# Characters that make Python's csv module (QUOTE_MINIMAL) quote a cell.
CSV_QUOTED = r'[,"\r\n]'


def text_bytes(array: pa.Array) -> pa.Buffer:
    """Return the concatenated bytes of a string array without nulls, without copying."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32, count=len(array) + 1, offset=array.offset * 4)
    return array.buffers()[2][offsets[0] : offsets[-1]]


class _Writer:
    format = ""
    media_type = ""

    def __init__(self, path: Path, fields: list[dict]):
        self.path = path
        self.names = [f["name"] for f in fields]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def output_file(self, resource: str) -> OutputFile:
        return OutputFile.from_path(self.path, key=self.path.name, resource=resource, format=self.format, media_type=self.media_type)


class CsvWriter(_Writer):
    """The CSV of `conversion.CsvOutput`: RFC 4180, CRLF, quoted only where needed."""

    format = conversion.CsvOutput.format
    media_type = conversion.CsvOutput.media_type

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.handle = path.open("wb")
        # Numbers, flags, dates and times are written without commas, quotes or line breaks.
        self.textual = [f.get("type", "string") == "string" for f in fields]
        header = [pa.array([name], pa.string()) for name in self.names]
        self.handle.write(self._lines(header, [True] * len(header)).to_pybytes() if header else b"\r\n")

    def write(self, columns: list[ParsedColumn]) -> None:
        if columns and len(columns[0].csv):
            self.handle.write(self._lines([column.csv for column in columns], self.textual))

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
        needed = pc.match_substring_regex(column, CSV_QUOTED)
        if not pc.any(needed).as_py():
            return column
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
        return pc.if_else(needed, quoted, column)

    def close(self) -> None:
        self.handle.close()


class JsonWriter(_Writer):
    """The JSON of `conversion.JsonOutput`: an array of objects, one per line."""

    format = conversion.JsonOutput.format
    media_type = conversion.JsonOutput.media_type

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.handle = path.open("wb")
        self.keys = [conversion.json_text(name) for name in self.names]
        self.first = True
        self.handle.write(b"[")

    def write(self, columns: list[ParsedColumn]) -> None:
        if not columns or not len(columns[0].json):
            return

        parts: list = [",\n{"]
        for number, (key, column) in enumerate(zip(self.keys, columns)):
            parts.append(("," if number else "") + key + ":")
            parts.append(column.json)
        parts.append("}")
        objects = pc.binary_join_element_wise(*parts, "")
        data = text_bytes(objects)
        # Every object starts with ",\n" except the first of the file, which starts with "\n".
        self.handle.write(data[1:] if self.first else data)
        self.first = False

    def close(self) -> None:
        self.handle.write(b"\n]\n")
        self.handle.close()


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

    def write(self, columns: list[ParsedColumn]) -> None:
        if not columns or not len(columns[0].typed):
            return
        self.buffer.append(pa.RecordBatch.from_arrays([column.typed for column in columns], schema=self.schema))
        self.buffered_rows += len(columns[0].typed)
        # Read at run time, so a test can lower it as for `conversion.convert`.
        if self.buffered_rows >= conversion.PARQUET_ROW_GROUP_ROWS:
            self._flush()

    def close(self) -> None:
        self._flush()
        self.writer.close()

    def _flush(self) -> None:
        if self.buffer:
            table = pa.Table.from_batches(self.buffer, schema=self.schema)
            self.writer.write_table(table, row_group_size=max(self.buffered_rows, 1))
        self.buffer = []
        self.buffered_rows = 0
