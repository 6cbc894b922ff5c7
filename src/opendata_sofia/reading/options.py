"""How to read one resource: the `sofia.read` object of its descriptor."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from opendata_sofia.errors import CatalogError

FORMATS = ("csv", "xlsx", "xls", "json", "geojson")
SNIFFED_DELIMITERS = (",", ";", "\t", "|")

# Descriptor key (camelCase, as in Frictionless descriptors) -> ReadOptions field.
DESCRIPTOR_KEYS = {
    "format": "format",
    "encoding": "encoding",
    "delimiter": "delimiter",
    "quoteChar": "quote_char",
    "headerRows": "header_rows",
    "sheet": "sheet",
    "stopAt": "stop_at",
    "recordPath": "record_path",
    "columns": "columns",
}


@dataclass
class ReadOptions:
    """Options of `read_table`; every None means "detect" or "use the format's default"."""

    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    quote_char: str = '"'
    header_rows: list[int] | None = None
    sheet: str | int | None = None
    stop_at: str | None = None
    record_path: str | None = None
    columns: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self._check()

    @classmethod
    def from_descriptor(cls, read: Mapping[str, Any] | None) -> ReadOptions:
        """Build options from a resource's `sofia.read` object (camelCase keys)."""
        values: dict[str, Any] = {}
        for key, value in (read or {}).items():
            if key not in DESCRIPTOR_KEYS:
                raise CatalogError("read.option_unknown", option=key, allowed=", ".join(DESCRIPTOR_KEYS))
            values[DESCRIPTOR_KEYS[key]] = value
        return cls(**values)

    def _check(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            self._invalid("format", self.format)
        if self.delimiter is not None and (not isinstance(self.delimiter, str) or len(self.delimiter) != 1):
            self._invalid("delimiter", self.delimiter)
        if not isinstance(self.quote_char, str) or len(self.quote_char) != 1:
            self._invalid("quoteChar", self.quote_char)
        if self.header_rows is not None:
            self._check_header_rows()
        if self.sheet is not None and (isinstance(self.sheet, bool) or not isinstance(self.sheet, (str, int))):
            self._invalid("sheet", self.sheet)
        if isinstance(self.sheet, int) and self.sheet < 1:
            self._invalid("sheet", self.sheet)
        if self.stop_at is not None:
            self._check_stop_at()
        if self.record_path is not None and not isinstance(self.record_path, str):
            self._invalid("recordPath", self.record_path)
        if self.columns is not None and not _is_text_mapping(self.columns):
            self._invalid("columns", self.columns)

    def _check_header_rows(self) -> None:
        rows = self.header_rows
        valid = (
            isinstance(rows, (list, tuple))
            and len(rows) > 0
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in rows)
            and list(rows) == sorted(set(rows))
        )
        if not valid:
            self._invalid("headerRows", rows)
        self.header_rows = list(rows)

    def _check_stop_at(self) -> None:
        if not isinstance(self.stop_at, str):
            self._invalid("stopAt", self.stop_at)
        try:
            re.compile(self.stop_at)
        except re.error:
            self._invalid("stopAt", self.stop_at)

    @staticmethod
    def _invalid(option: str, value: Any) -> None:
        raise CatalogError("read.option_invalid", option=option, value=repr(value))

    def describe(self) -> dict[str, Any]:
        """Return the options that are set, with descriptor keys, for logs and reports."""
        names = {field_name: key for key, field_name in DESCRIPTOR_KEYS.items()}
        return {names[f.name]: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def _is_text_mapping(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
