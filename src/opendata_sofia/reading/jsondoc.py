"""JSON arrays of records and GeoJSON feature collections as tables.

A record becomes a row; a label is a top-level key, or a dotted path chosen in
`sofia.read.columns` ("names.bg", "coords.0"). Numbers keep the exact text the file wrote, and
objects or arrays left in a cell are written as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from opendata_sofia.errors import ReadError
from opendata_sofia.reading.encoding import resolve_encoding
from opendata_sofia.reading.labels import BOM
from opendata_sofia.reading.model import RawRow, ReadInfo, TableRead
from opendata_sofia.reading.options import ReadOptions
from opendata_sofia.reading.rows import RowRules, tabulate

JSON_RULES = RowRules(footer=False, count_trailing_blank=True)
GEOMETRY_LABEL = "geometry"


class RawNumber:
    """A JSON number kept as the text the file wrote, so 1.10 and 00357-like text stay exact."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"RawNumber({self.text!r})"


def read_json(path: Path, options: ReadOptions) -> TableRead:
    """Read a JSON array of records (at `record_path`, default the top level) as a table."""
    info = ReadInfo(format="json")
    info.encoding = resolve_encoding(path, options.encoding)
    records = _records(path, info, options.record_path or "")
    return _table(path, info, options, lambda: _records(path, info, options.record_path or "", notice=False), records)


def read_geojson(path: Path, options: ReadOptions) -> TableRead:
    """Read a GeoJSON FeatureCollection: one row per feature, properties then `geometry`."""
    info = ReadInfo(format="geojson")
    info.encoding = resolve_encoding(path, options.encoding)

    def features(notice: bool = False) -> list[dict[str, Any]]:
        document = _load(path, info, notice)
        if not isinstance(document, dict) or not isinstance(document.get("features"), list):
            raise ReadError("read.geojson_not_features", file=path.name)
        found = _at_path(path, document, options.record_path or "features")
        return [_feature_record(path, number, feature) for number, feature in enumerate(_as_list(path, found, "features"), 1)]

    first = features(notice=True)
    return _table(path, info, options, features, first)


def _table(
    path: Path,
    info: ReadInfo,
    options: ReadOptions,
    load: Callable[[], list[dict[str, Any]]],
    first_records: list[dict[str, Any]],
) -> TableRead:
    if options.columns:
        labels = list(options.columns)
    else:
        labels = _union_of_keys(first_records, last=GEOMETRY_LABEL if info.format == "geojson" else None)
    paths = [options.columns[label] for label in labels] if options.columns else labels

    def raw_rows() -> Iterator[RawRow]:
        for number, record in enumerate(load(), 1):
            yield RawRow(number, [_cell(record, path_) for path_ in paths])

    return tabulate(path, info, raw_rows, None, options.stop_at, JSON_RULES, labels=labels)


def _load(path: Path, info: ReadInfo, notice: bool) -> Any:
    # NOTE: the standard library has no streaming JSON parser (ijson is not a dependency), so the
    # whole document is parsed into memory on every read.
    text = path.read_text(encoding=info.encoding).lstrip(BOM)
    if notice:
        info.notices.append(("read.notice.json_in_memory", {"size": path.stat().st_size}))
    try:
        return json.loads(text, parse_int=RawNumber, parse_float=RawNumber, parse_constant=RawNumber)
    except json.JSONDecodeError as exc:
        raise ReadError("read.json_invalid", file=path.name, row=exc.lineno, column=exc.colno, value=exc.msg) from None


def _records(path: Path, info: ReadInfo, record_path: str, notice: bool = True) -> list[dict[str, Any]]:
    found = _at_path(path, _load(path, info, notice), record_path)
    records = _as_list(path, found, record_path)
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise ReadError("read.json_record_not_object", file=path.name, row=number, value=_kind(record))
    return records


def _at_path(path: Path, document: Any, record_path: str) -> Any:
    if record_path == "":
        return document
    value = _lookup(document, record_path)
    if value is _MISSING:
        raise ReadError("read.json_path_not_found", file=path.name, path=record_path)
    return value


def _as_list(path: Path, value: Any, record_path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ReadError("read.json_not_records", file=path.name, path=record_path, value=_kind(value))
    return value


def _feature_record(path: Path, number: int, feature: Any) -> dict[str, Any]:
    if not isinstance(feature, dict):
        raise ReadError("read.json_record_not_object", file=path.name, row=number, value=_kind(feature))
    record = dict(feature.get("properties") or {})
    record[GEOMETRY_LABEL] = feature.get("geometry")
    return record


def _union_of_keys(records: list[dict[str, Any]], last: str | None) -> list[str]:
    """Return every key in order of first appearance, with `last` moved to the end."""
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    if last is not None and last in keys:
        keys.pop(last)
        keys[last] = None
    return list(keys)


_MISSING = object()


def _lookup(value: Any, dotted: str) -> Any:
    """Follow a dotted path through objects and arrays ("coords.0"); missing parts give _MISSING."""
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _cell(record: dict[str, Any], dotted: str) -> str | None:
    value = record.get(dotted, _MISSING) if dotted in record else _lookup(record, dotted)
    if value is _MISSING or value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    return compact_json(value)


def compact_json(value: Any) -> str:
    """Write a JSON value without spaces, keeping numbers as written and letters unescaped."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(compact_json(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (json.dumps(key, ensure_ascii=False) + ":" + compact_json(item) for key, item in value.items())
        return "{" + ",".join(items) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def _kind(value: Any) -> str:
    if isinstance(value, RawNumber):
        return "number"
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "value")
