"""Load a canonical CSV into CKAN's DataStore: typed columns, a data dictionary, upsert by key.

Column ids. CKAN 2.11 and 2.12 check that a field id has at most 63 characters, does not start
with `_` and contains no `"`, but PostgreSQL cuts identifiers at 63 *bytes*. A longer Cyrillic
header passes CKAN's check, then every record fails with `row "1" has extra keys`, and two
headers sharing their first 63 bytes end in HTTP 500 (seen on CKAN 2.12.0). So each column
gets an id from `field_ids`: the schema field name when it is a plain ASCII identifier,
otherwise its transliteration, cut to fit and made unique with a short hash of the original
name. The original name stays in the data dictionary as `label` when the field has no title.

Loading, per CSV resource (`DataStoreLoader.sync`):

- The sha256 of the loaded CSV and a hash of the table structure (ids, types, primary key)
  are kept in the resource fields `datastore_hash` and `datastore_structure`. They are
  written after the last record, so the next run loads an interrupted table again and skips
  an unchanged one without any DataStore call.
- Same structure and a primary key: records are upserted by the key, 5,000 per call, then the
  rows whose key left the CSV are deleted. Readers never see a table with fewer rows than both
  versions share.
- New table, changed structure or no primary key: the table is dropped and created again, and
  the records are inserted. CKAN 2.11 ignores a changed column type on an existing table, so
  recreating is the only way to change one. Readers see a table that fills up while it loads.

The resource's `datastore_active` flag is not trusted to say that no table exists. CKAN 2.11
sets it with a direct SQL update that leaves `metadata_modified` as it was, and reindexes the
dataset after its transaction has committed. While the search index still contains the document
from before, `package_show` and `resource_show` return that copy, so the flag reads False.
A `resource_patch` then copies this False back into the database. So a table is dropped
before it is created on every resource that existed before this run, whatever the flag shows.
The patch written after a load also sets `datastore_active` to True, which puts the flag right
in the database and the search index on CKAN 2.11 and 2.12 alike.

The CSV is read as a stream, so memory holds one chunk of records, plus 8 bytes of key digest
per row while upserting.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from opendata_sofia.publishing.base import OutputFile
from opendata_sofia.slugs import transliterate

log = logging.getLogger(__name__)

HASH_FIELD = "datastore_hash"
STRUCTURE_FIELD = "datastore_structure"
CHUNK_ROWS = 5_000
DELETE_CHUNK = 500

MAX_ID_BYTES = 63  # PostgreSQL's identifier limit (NAMEDATALEN - 1)
ID_HASH_CHARS = 8
PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
# PostgreSQL rejects these as column names ("conflicts with a system column name").
SYSTEM_COLUMNS = {"oid", "tableoid", "xmin", "xmax", "cmin", "cmax", "ctid"}

# Table Schema type -> PostgreSQL type as the DataStore names it. Integers are int8 because a
# count or an amount in a municipal table may pass int4's 2,147,483,647.
DATASTORE_TYPES = {
    "integer": "int8",
    "number": "numeric",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
    "boolean": "bool",
    "year": "int4",
    "object": "json",
    "array": "json",
    "geojson": "json",
}
DEFAULT_TYPE = "text"  # string, yearmonth, duration, geopoint, any


# Field ids


def field_ids(names: list[str]) -> list[str]:
    """Return one DataStore field id per name: unique, trimmed, at most 63 UTF-8 bytes, no leading `_` or `"`."""
    ids: list[str] = []
    used: set[str] = set()
    for name in names:
        base = _base_id(name)
        candidate = base
        attempt = 1
        while candidate in used or candidate in SYSTEM_COLUMNS:
            # the hash is of the original name, so `Паралелка ` and `Паралелка` get different ids
            salt = name if attempt == 1 else f"{name}\x00{attempt}"
            candidate = _with_hash(base, salt)
            attempt += 1
        used.add(candidate)
        ids.append(candidate)
    return ids


def _base_id(name: str) -> str:
    if PLAIN_ID.match(name) and len(name) <= MAX_ID_BYTES:
        return name

    latin = transliterate(name.strip())
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "field"
    if len(slug) > MAX_ID_BYTES:
        return _with_hash(slug, name)
    return slug


def _with_hash(base: str, salt: str) -> str:
    digest = hashlib.sha256(salt.encode("utf-8")).hexdigest()[:ID_HASH_CHARS]
    room = MAX_ID_BYTES - ID_HASH_CHARS - 1
    return f"{base[:room].rstrip('_')}_{digest}"


# Table definition


@dataclass(frozen=True)
class Column:
    """One CSV column as a DataStore field."""

    name: str  # the CSV header, which is the Table Schema field name for canonical outputs
    id: str
    type: str
    info: dict[str, str] = field(default_factory=dict)

    def as_field(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "info": self.info}


@dataclass(frozen=True)
class TableDefinition:
    """The DataStore table of one CSV: its columns in CSV order and its primary key (as ids)."""

    columns: list[Column]
    primary_key: list[str]

    @property
    def fields(self) -> list[dict[str, Any]]:
        return [column.as_field() for column in self.columns]

    @property
    def structure_hash(self) -> str:
        """Hash of what a load cannot change in place: ids, types and the primary key."""
        structure = {"fields": [[c.id, c.type] for c in self.columns], "primary_key": self.primary_key}
        return hashlib.sha256(json.dumps(structure).encode("utf-8")).hexdigest()[:16]


def table_definition(schema: dict[str, Any], header: list[str]) -> TableDefinition:
    """Describe the table of a CSV with `header`, typed by the Table Schema `schema`.

    A header without a schema field loads as text. The primary key is kept only when all of
    its fields are in the header; without one the table is reloaded whole on each change.
    """
    by_name = {schema_field["name"]: schema_field for schema_field in schema.get("fields", [])}
    ids = field_ids(header)
    columns = [
        Column(name=name, id=column_id, type=datastore_type(by_name.get(name, {})), info=_info(name, by_name.get(name)))
        for name, column_id in zip(header, ids)
    ]

    key = schema.get("primaryKey") or []
    key = [key] if isinstance(key, str) else list(key)
    id_of = dict(zip(header, ids))
    primary_key = [id_of[name] for name in key] if all(name in id_of for name in key) else []
    return TableDefinition(columns=columns, primary_key=primary_key)


def datastore_type(schema_field: dict[str, Any]) -> str:
    """Return the DataStore column type of a Table Schema field."""
    return DATASTORE_TYPES.get(schema_field.get("type", "string"), DEFAULT_TYPE)


def _info(name: str, schema_field: dict[str, Any] | None) -> dict[str, str]:
    """Return the data dictionary entry: Bulgarian in `label`/`notes`, English in `label_en`/`notes_en`.

    CKAN 2.11 and 2.12 store `info` as a JSON column comment and return every key in it.
    """
    schema_field = schema_field or {}
    english = schema_field.get("sofia:en") or {}
    info = {
        "label": schema_field.get("title") or name,
        "notes": schema_field.get("description") or "",
        "label_en": english.get("title") or "",
        "notes_en": english.get("description") or "",
    }
    return {key: value for key, value in info.items() if value}


def read_header(path: Path) -> list[str]:
    """Return the header row of a UTF-8 CSV."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return next(csv.reader(stream), [])


# Records


def record_chunks(path: Path, table: TableDefinition, size: int = CHUNK_ROWS) -> Iterator[list[dict[str, Any]]]:
    """Yield the CSV's rows as DataStore records keyed by field id, `size` at a time."""
    converters = [(column.id, _converter(column.type)) for column in table.columns]
    chunk: list[dict[str, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        next(reader, None)
        for row in reader:
            chunk.append({column_id: convert(cell) for (column_id, convert), cell in zip(converters, row)})
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _converter(column_type: str) -> Callable[[str], Any]:
    """Return how a canonical CSV cell becomes a record value; an empty cell is null."""
    if column_type in ("int8", "int4"):
        return lambda cell: int(cell) if cell != "" else None
    if column_type == "bool":
        return lambda cell: cell == "true" if cell != "" else None
    # numeric, dates, times and JSON go as text, which PostgreSQL casts without losing digits
    return lambda cell: cell if cell != "" else None


def key_text(value: Any, column_type: str) -> str:
    """Return a key value as text, the same for a CSV cell and for the value the DataStore returns."""
    if value is None or value == "":
        return ""
    if column_type in ("int8", "int4"):
        return str(int(value))
    if column_type == "numeric":
        try:
            return str(Decimal(str(value)).normalize())
        except InvalidOperation:
            return str(value)
    if column_type == "bool":
        return "true" if value in (True, "true") else "false"
    if column_type == "date":
        return str(value)[:10]
    return str(value)


def key_digest(values: list[str]) -> int:
    """Return a 64-bit digest of a key; for a million keys the odds of any collision are about 3e-8."""
    data = json.dumps(values, ensure_ascii=False).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


# Loading


@dataclass
class DataStoreLoad:
    """The outcome of `DataStoreLoader.sync` for one table: `created`, `updated` or `unchanged`."""

    status: str
    rows: int = 0
    deleted: int = 0


class DataStoreLoader:
    """Keep the DataStore table of a CSV resource equal to the CSV, through a `CkanClient`."""

    def __init__(self, client: Any, *, chunk_rows: int = CHUNK_ROWS):
        self._client = client
        self.chunk_rows = chunk_rows

    def sync(
        self, resource: dict[str, Any], output: OutputFile, table: TableDefinition, dataset: str, *, new: bool = False
    ) -> DataStoreLoad:
        """Load `output` into the table of `resource` unless the resource records it as loaded.

        `new` marks that the resource was created in this run, so it has no table yet.
        """
        structure = table.structure_hash
        active = bool(resource.get("datastore_active"))
        if active and resource.get(HASH_FIELD) == output.sha256 and resource.get(STRUCTURE_FIELD) == structure:
            return DataStoreLoad("unchanged")

        in_place = active and bool(table.primary_key) and resource.get(STRUCTURE_FIELD) == structure
        if in_place:
            load = self._upsert(resource["id"], output, table, dataset)
        else:
            load = self._recreate(resource["id"], output, table, dataset, drop=not new)

        # Written last: until here the resource has the old hash, so the next run loads again.
        # datastore_active is set here as well because CKAN 2.11 may leave it False (see the header).
        loaded = {"id": resource["id"], HASH_FIELD: output.sha256, STRUCTURE_FIELD: structure, "datastore_active": True}
        self._call("resource_patch", loaded, dataset)
        log.info(
            "CKAN: DataStore table of %s (%s) %s: %d rows written, %d deleted",
            output.key, resource["id"], load.status, load.rows, load.deleted,
        )
        return load

    def _recreate(self, resource_id: str, output: OutputFile, table: TableDefinition, dataset: str, *, drop: bool) -> DataStoreLoad:
        if drop:
            self.drop(resource_id, dataset)

        create = {"resource_id": resource_id, "force": True, "fields": table.fields}
        if table.primary_key:
            create["primary_key"] = table.primary_key
        self._call("datastore_create", create, dataset)

        rows = 0
        for chunk in record_chunks(output.path, table, self.chunk_rows):
            self._write(resource_id, chunk, "insert", dataset)
            rows += len(chunk)
        return DataStoreLoad("created", rows=rows)

    def drop(self, resource_id: str, dataset: str) -> None:
        """Delete the DataStore table of a resource; a resource without one is left as it is."""
        # NotFound means there was no table, whatever the resource's datastore_active flag showed
        delete = {"resource_id": resource_id, "force": True}
        self._client.call("datastore_delete", delete, dataset=dataset, missing_ok=True)

    def _upsert(self, resource_id: str, output: OutputFile, table: TableDefinition, dataset: str) -> DataStoreLoad:
        # refreshes the data dictionary; ids, types and key are the same, so no column changes
        create = {"resource_id": resource_id, "force": True, "fields": table.fields, "primary_key": table.primary_key}
        self._call("datastore_create", create, dataset)

        types = {column.id: column.type for column in table.columns}
        keys: set[int] = set()
        rows = 0
        for chunk in record_chunks(output.path, table, self.chunk_rows):
            self._write(resource_id, chunk, "upsert", dataset)
            rows += len(chunk)
            for record in chunk:
                keys.add(key_digest([key_text(record[k], types[k]) for k in table.primary_key]))

        deleted = self._delete_missing(resource_id, table, keys, dataset)
        return DataStoreLoad("updated", rows=rows, deleted=deleted)

    def _delete_missing(self, resource_id: str, table: TableDefinition, keys: set[int], dataset: str) -> int:
        """Delete the rows whose key is not in `keys`; return how many."""
        types = {column.id: column.type for column in table.columns}
        missing = [
            key
            for key in self.published_keys(resource_id, table.primary_key, dataset)
            if key_digest([key_text(value, types[k]) for k, value in zip(table.primary_key, key)]) not in keys
        ]

        # A single-column key is deleted with `IN (...)`; a composite key one row at a time.
        if len(table.primary_key) == 1:
            column = table.primary_key[0]
            for start in range(0, len(missing), DELETE_CHUNK):
                values = [key[0] for key in missing[start : start + DELETE_CHUNK]]
                self._delete_rows(resource_id, {column: values}, dataset)
        else:
            for key in missing:
                self._delete_rows(resource_id, dict(zip(table.primary_key, key)), dataset)
        return len(missing)

    def published_keys(self, resource_id: str, primary_key: list[str], dataset: str) -> Iterator[list[Any]]:
        """Yield the key of every row in the DataStore table, paging by `_id`."""
        offset = 0
        while True:
            page = self._call(
                "datastore_search",
                {
                    "resource_id": resource_id,
                    "fields": primary_key,
                    "sort": "_id",
                    "limit": self.chunk_rows,
                    "offset": offset,
                    "records_format": "lists",
                    "include_total": False,
                },
                dataset,
            )
            records = page.get("records") or []
            yield from records
            if len(records) < self.chunk_rows:
                return
            offset += len(records)

    def _delete_rows(self, resource_id: str, filters: dict[str, Any], dataset: str) -> None:
        # CKAN drops the filters on unknown fields and an empty filter deletes every row
        if not filters or any(value in ([], None) for value in filters.values()):
            raise ValueError(f"DataStore delete on {resource_id} rejected: its filters are empty, which deletes every row")
        self._call("datastore_delete", {"resource_id": resource_id, "force": True, "filters": filters}, dataset)

    def _write(self, resource_id: str, records: list[dict[str, Any]], method: str, dataset: str) -> None:
        data = {"resource_id": resource_id, "force": True, "method": method, "records": records}
        self._call("datastore_upsert", data, dataset)

    def _call(self, action: str, data: dict[str, Any], dataset: str) -> Any:
        return self._client.call(action, data, dataset=dataset)
