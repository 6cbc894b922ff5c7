"""Convert a valid work table into the canonical outputs: CSV, JSON, Parquet and GeoJSON.

frictionless-py reads the work CSV once, typed by the localized schema, and every output is
written from the same batches, so memory stays bounded by the batch size. The outputs follow
the canonical schema: `.` as the decimal point with no grouping, ISO 8601 dates, codes kept as
the strings they are.

The same work table always gives byte-identical files: nothing in them depends on the time,
the machine or a random id. That lets publishing skip unchanged content by its sha256.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq
from frictionless import platform

from opendata_sofia.catalog import ResourceSpec
from opendata_sofia.errors import CatalogError, ValidationFailed
from opendata_sofia.normalise import WorkTable
from opendata_sofia.publishing.base import OutputFile

# Snappy is pyarrow's default and the most widely supported Parquet codec. zstd would give
# smaller files, but older readers may lack it.
PARQUET_COMPRESSION = "snappy"
# Row groups this large keep column statistics useful for readers while the buffer stays small
# (an estimate: 10-30 MB of Python values at ten columns).
PARQUET_ROW_GROUP_ROWS = 100_000
# RFC 4180 ends records with CRLF. Python's csv module does so by default, and it is set here so
# that the choice is visible.
CSV_LINE_TERMINATOR = "\r\n"
# Properties that describe how a source writes its values, not what the canonical outputs hold.
SOURCE_PROPERTIES = ("decimalChar", "groupChar", "bareNumber", "trueValues", "falseValues")


@dataclass(frozen=True)
class ConversionResult:
    """The outputs of one resource, the number of rows in each, and the schema they follow."""

    files: list[OutputFile]
    rows: int
    schema: dict[str, Any]


def convert(work: WorkTable, resource: ResourceSpec, out_dir: Path, *, batch_size: int = 10_000) -> ConversionResult:
    """Write `<resource>.csv`, `.json`, `.parquet` (and `.geojson` for a geo resource) into `out_dir`.

    Raises `ValidationFailed` at the first row that does not match the schema: a work table is
    converted only after its validation report is valid.
    """
    from opendata_sofia import fastpath

    # The fast path writes the same bytes; geo resources and schemas it does not cover are
    # converted from frictionless' typed rows.
    if not resource.is_geo and fastpath.supports(work.schema):
        return fastpath.convert(work, resource, out_dir, batch_size=batch_size)
    return frictionless_convert(work, resource, out_dir, batch_size=batch_size)


def frictionless_convert(work: WorkTable, resource: ResourceSpec, out_dir: Path, *, batch_size: int = 10_000) -> ConversionResult:
    """Write the outputs of `convert` from frictionless' typed rows, one Python value at a time."""
    fields = work.canonical_schema.get("fields", [])
    out_dir.mkdir(parents=True, exist_ok=True)
    kinds: list[tuple[type[_Output], str]] = [(CsvOutput, "csv"), (JsonOutput, "json"), (ParquetOutput, "parquet")]
    if resource.is_geo:
        kinds.append((GeoJsonOutput, "geojson"))

    rows = 0
    outputs: list[_Output] = []
    try:
        with ExitStack() as stack:
            for kind, extension in kinds:
                path = out_dir / f"{resource.name}.{extension}"
                outputs.append(stack.enter_context(kind(path, fields)))
            for batch in typed_batches(work, resource.name, batch_size):
                for output in outputs:
                    output.write(batch)
                rows += len(batch)
    except BaseException:
        # A half-written file must not be mistaken for an output by a later step.
        for output in outputs:
            output.path.unlink(missing_ok=True)
        raise

    files = [
        OutputFile.from_path(
            output.path, key=output.path.name, resource=resource.name, format=output.format, media_type=output.media_type
        )
        for output in outputs
    ]
    return ConversionResult(files=files, rows=rows, schema=output_schema(work.canonical_schema))


def typed_batches(work: WorkTable, resource: str, batch_size: int) -> Iterator[list[list[Any]]]:
    """Yield the rows of the work CSV as lists of typed values, in schema order, `batch_size` at a time."""
    names = [f["name"] for f in work.schema.get("fields", [])]
    batch: list[list[Any]] = []
    with work.frictionless_resource() as table:
        for row in table.row_stream:
            if not row.valid:
                source_row = work.source_row(row.row_number)
                raise ValidationFailed(None, key="conversion.invalid_row", resource=resource, row=source_row)
            batch.append([row[name] for name in names])
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Return the Table Schema that describes the canonical outputs.

    Source-specific reading rules are dropped (decimal comma, grouping, custom date formats),
    because the outputs use `.`, no grouping and ISO 8601.
    """
    canonical = json.loads(json.dumps(schema))
    for schema_field in canonical.get("fields", []):
        for key in SOURCE_PROPERTIES:
            schema_field.pop(key, None)
        if schema_field.get("type") in ("date", "datetime", "time"):
            schema_field.pop("format", None)
    return canonical


# Values


def decimal_text(value: Decimal | float | int) -> str:
    """Format a number with `.` and the source's digits, never in exponent form (`193135621.00`)."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, int):
        return str(value)
    return format(value, "f")


def json_text(value: Any) -> str:
    """Return compact JSON that keeps Cyrillic letters as they are."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _is_finite(value: Any) -> bool:
    return not isinstance(value, (Decimal, float)) or (value == value and abs(value) != float("inf"))


def _csv_encoder(field_type: str) -> Callable[[Any], str]:
    """Return how a typed value of `field_type` is written into a CSV cell (None is written empty)."""
    if field_type in ("number", "geopoint"):
        if field_type == "geopoint":
            return lambda value: f"{decimal_text(value.lon)},{decimal_text(value.lat)}"
        return decimal_text
    if field_type == "boolean":
        return lambda value: "true" if value else "false"
    if field_type in ("date", "datetime", "time"):
        return lambda value: value.isoformat()
    if field_type == "yearmonth":
        return lambda value: f"{value.year:04d}-{value.month:02d}"
    if field_type == "duration":
        return platform.isodate.duration_isoformat
    if field_type in ("object", "array", "geojson"):
        return json_text
    return str


def _json_encoder(field_type: str) -> Callable[[Any], str]:
    """Return how a typed value of `field_type` is written as a JSON value (None is written null)."""
    if field_type == "number":
        # JSON has no NaN or infinity, so such a number becomes null in JSON (CSV keeps its text).
        return lambda value: decimal_text(value) if _is_finite(value) else "null"
    if field_type in ("integer", "year"):
        return str
    if field_type == "boolean":
        return lambda value: "true" if value else "false"
    if field_type == "geopoint":
        return lambda value: f"[{decimal_text(value.lon)},{decimal_text(value.lat)}]"
    if field_type in ("object", "array", "geojson"):
        return json_text

    csv_encoder = _csv_encoder(field_type)
    return lambda value: json_text(csv_encoder(value))


# Outputs


class _Output:
    """One output file, written batch by batch. Subclasses set `format` and `media_type`."""

    format = ""
    media_type = ""

    def __init__(self, path: Path, fields: list[dict]):
        self.path = path
        self.fields = fields
        self.names = [f["name"] for f in fields]
        self.types = [f.get("type", "string") for f in fields]

    def __enter__(self) -> "_Output":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def write(self, batch: list[list[Any]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _TextOutput(_Output):
    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.handle: TextIO = path.open("w", encoding="utf-8", newline="")

    def close(self) -> None:
        self.handle.close()


class CsvOutput(_TextOutput):
    """RFC 4180 CSV in UTF-8 without a BOM, with the field names as header."""

    format = "CSV"
    media_type = "text/csv"

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.encoders = [_csv_encoder(field_type) for field_type in self.types]
        self.writer = csv.writer(self.handle, quoting=csv.QUOTE_MINIMAL, lineterminator=CSV_LINE_TERMINATOR)
        self.writer.writerow(self.names)

    def write(self, batch: list[list[Any]]) -> None:
        self.writer.writerows(
            ["" if value is None else encode(value) for value, encode in zip(row, self.encoders)] for row in batch
        )


class JsonOutput(_TextOutput):
    """A JSON array of objects, one object per line, keys in schema order."""

    format = "JSON"
    media_type = "application/json"

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.encoders = [_json_encoder(field_type) for field_type in self.types]
        self.keys = [json_text(name) for name in self.names]
        self.separator = "\n"
        self.handle.write("[")

    def write(self, batch: list[list[Any]]) -> None:
        for row in batch:
            self.handle.write(self.separator)
            self.handle.write(_json_object(self.keys, row, self.encoders))
            self.separator = ",\n"

    def close(self) -> None:
        self.handle.write("\n]\n")
        super().close()


class GeoJsonOutput(_TextOutput):
    """A GeoJSON FeatureCollection: geometry from the schema's geojson field, the other fields as properties."""

    format = "GeoJSON"
    media_type = "application/geo+json"

    def __init__(self, path: Path, fields: list[dict]):
        geometry_fields = [index for index, f in enumerate(fields) if f.get("type") == "geojson"]
        if not geometry_fields:
            raise CatalogError(detail=f"{path.stem!r} is read as GeoJSON but its schema has no field of type geojson")
        super().__init__(path, fields)
        self.geometry = geometry_fields[0]
        self.properties = [index for index in range(len(fields)) if index != self.geometry]
        self.keys = [json_text(self.names[index]) for index in self.properties]
        self.encoders = [_json_encoder(self.types[index]) for index in self.properties]
        self.separator = "\n"
        self.handle.write('{"type":"FeatureCollection","features":[')

    def write(self, batch: list[list[Any]]) -> None:
        for row in batch:
            geometry = row[self.geometry]
            # A source may hold whole Features in the geometry column: publish their geometry.
            if isinstance(geometry, dict) and geometry.get("type") == "Feature":
                geometry = geometry.get("geometry")
            properties = _json_object(self.keys, [row[index] for index in self.properties], self.encoders)
            self.handle.write(self.separator)
            self.handle.write(f'{{"type":"Feature","geometry":{json_text(geometry)},"properties":{properties}}}')
            self.separator = ",\n"

    def close(self) -> None:
        self.handle.write("\n]}\n")
        super().close()


class ParquetOutput(_Output):
    """Parquet typed from the Table Schema, buffered into row groups of PARQUET_ROW_GROUP_ROWS."""

    format = "Parquet"
    media_type = "application/vnd.apache.parquet"

    def __init__(self, path: Path, fields: list[dict]):
        super().__init__(path, fields)
        self.schema = arrow_schema(fields)
        self.converters = [_arrow_value(field_type) for field_type in self.types]
        self.buffer: list[pa.RecordBatch] = []
        self.buffered_rows = 0
        self.writer = pq.ParquetWriter(path, self.schema, compression=PARQUET_COMPRESSION)

    def write(self, batch: list[list[Any]]) -> None:
        columns = []
        for index, (arrow_field, convert) in enumerate(zip(self.schema, self.converters)):
            values = [None if row[index] is None else convert(row[index]) for row in batch]
            columns.append(pa.array(values, type=arrow_field.type))
        self.buffer.append(pa.RecordBatch.from_arrays(columns, schema=self.schema))
        self.buffered_rows += len(batch)
        if self.buffered_rows >= PARQUET_ROW_GROUP_ROWS:
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


def _json_object(keys: list[str], values: list[Any], encoders: list[Callable[[Any], str]]) -> str:
    members = [
        f"{key}:{'null' if value is None else encode(value)}" for key, value, encode in zip(keys, values, encoders)
    ]
    return "{" + ",".join(members) + "}"


# Arrow types


def arrow_schema(fields: list[dict]) -> pa.Schema:
    """Return the Arrow schema of the Parquet output, with titles and descriptions as field metadata.

    `number` becomes float64: a Table Schema gives no precision or scale, so a decimal128 type
    would need a guessed scale. float64 represents 15 significant digits exactly, which covers
    amounts in лева with two decimals up to 10^13.
    """
    arrow_fields = []
    for schema_field in fields:
        metadata = {key: schema_field[key] for key in ("title", "description") if schema_field.get(key)}
        arrow_type = _arrow_type(schema_field.get("type", "string"))
        arrow_fields.append(pa.field(schema_field["name"], arrow_type, metadata=metadata or None))
    return pa.schema(arrow_fields)


def _arrow_type(field_type: str) -> pa.DataType:
    types = {
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us"),
        "time": pa.time64("us"),
        "year": pa.int32(),
    }
    # Everything else (string, yearmonth, duration, geopoint, object, array, geojson, any) is text,
    # so identifiers such as `00357` keep their leading zeros.
    return types.get(field_type, pa.string())


def _arrow_value(field_type: str) -> Callable[[Any], Any]:
    """Return how a typed value becomes the Python value pyarrow stores in the column."""
    if field_type == "number":
        return float
    if field_type in ("integer", "year", "boolean", "date"):
        return lambda value: value
    if field_type == "datetime":
        return _naive_utc
    if field_type == "time":
        return lambda value: value.replace(tzinfo=None)
    return _csv_encoder(field_type)


def _naive_utc(value: datetime) -> datetime:
    # NOTE: Parquet datetimes are naive timestamps. An aware value is converted to UTC and its
    # offset is lost there (CSV and JSON keep it), because one column cannot mix both kinds.
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
