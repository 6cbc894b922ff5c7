"""Describe a new export: infer how to read it and a starting Table Schema, and write a catalog stub.

    description = describe_file(Path("nvo-7-2022-sofia.csv"))
    description.read      # {"format": "csv", "encoding": "utf-8-sig", "delimiter": ";", "headerRows": [1]}
    description.schema    # fields typed from every row, codes as strings with a pattern
    write_stub(description, catalog_dir, schemas_dir)

The encoding, delimiter and sheet come from the reader itself (its restricted detection), the
header rows from `header_detection` and the fields from `column_types`, which reads every value
of every column. The stub contains `TODO:` placeholders for what a file cannot tell (titles in
Bulgarian and English, owner, frequency, id) and for the constraints proposed from the data.
The catalog check rejects the stub until a person has replaced them all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opendata_sofia.catalog import DATASET_NAME
from opendata_sofia.onboarding.column_types import ColumnProfile, FieldProposal, propose_field
from opendata_sofia.errors import PipelineError
from opendata_sofia.onboarding.header_detection import find_header_rows
from opendata_sofia.i18n import message
from opendata_sofia.onboarding.placeholders import placeholder
from opendata_sofia.reading import ReadOptions, format_of, read_table
from opendata_sofia.reading.csv import sniff_delimiter
from opendata_sofia.reading.encoding import resolve_encoding
from opendata_sofia.slugs import slugify, unique_name

LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
FREQUENCY_CHOICES = "daily | weekly | monthly | quarterly | annual | irregular | never"
# A dataset being described has no id yet; no existing dataset can own this one.
NEW_SOURCE_ID = "<new>"


@dataclass
class Description:
    """The findings of `describe_file` on one export, and the catalog entry it proposes."""

    name: str
    resource: str
    file: str
    read: dict[str, Any]
    schema: dict[str, Any]
    locale: dict[str, Any]
    cleanup: list[dict[str, Any]]
    rows: int
    skipped_blank_rows: int
    dropped_rows: int
    proposed_constraints: dict[str, list[str]]
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def descriptor(self) -> dict[str, Any]:
        """Return the `datapackage.json` stub, with placeholders where a person must decide."""
        resource_sofia: dict[str, Any] = {
            "en": {"title": placeholder("resource title in English")},
            "source": {"kind": "inbox", "path": self.file},
            "read": self.read,
        }
        if self.labels:
            resource_sofia["labels"] = self.labels
        if self.locale:
            resource_sofia["locale"] = self.locale
        if self.cleanup:
            resource_sofia["cleanup"] = self.cleanup

        return {
            "name": self.name,
            "title": placeholder("заглавие на набора от данни"),
            "description": placeholder("описание на набора от данни"),
            "keywords": [placeholder("ключова дума")],
            "licenses": [LICENSE],
            "sofia": {
                "id": placeholder("SO-XXX-0000"),
                "en": {
                    "title": placeholder("dataset title in English"),
                    "description": placeholder("dataset description in English"),
                    "keywords": [placeholder("keyword")],
                },
                "organization": placeholder("организация от datapackages/organizations.json"),
                "frequency": placeholder(FREQUENCY_CHOICES),
            },
            "resources": [
                {
                    "name": self.resource,
                    "title": placeholder("заглавие на ресурса"),
                    "schema": f"../../schemas/{self.name}.json",
                    "sofia": resource_sofia,
                }
            ],
        }

    def summary(self, lang: str | None = None) -> str:
        """Return what was found, for the operator: how to read the file, the fields, what to review."""
        lines = [
            message("describe.summary.title", lang=lang, file=self.file, name=self.name, resource=self.resource),
            message("describe.summary.read", lang=lang, read=json.dumps(self.read, ensure_ascii=False)),
            message(
                "describe.summary.rows",
                lang=lang,
                rows=self.rows,
                skipped=self.skipped_blank_rows,
                dropped=self.dropped_rows,
            ),
            "",
            message("describe.summary.fields_heading", lang=lang),
        ]
        lines += [self._field_line(schema_field, lang) for schema_field in self.schema["fields"]]
        if self.notes:
            lines += ["", message("describe.summary.notes_heading", lang=lang)]
            lines += [f"  - {message(key, lang=lang, **params)}" for key, params in self.notes]
        return "\n".join(lines)

    def _field_line(self, schema_field: dict[str, Any], lang: str | None) -> str:
        name = schema_field["name"]
        details = []
        pattern = schema_field.get("constraints", {}).get("pattern")
        if pattern:
            details.append(f"pattern {pattern}")
        locale = self.locale.get("fields", {}).get(name)
        if locale:
            details.append(json.dumps(locale, ensure_ascii=False))
        details += [
            json.dumps({key: value for key, value in rule.items() if key != "fields"}, ensure_ascii=False)
            for rule in self.cleanup
            if name in rule["fields"]
        ]
        constraints = self.proposed_constraints.get(name)
        if constraints:
            details.append(message("describe.summary.constraints", lang=lang, constraints=", ".join(constraints)))

        extra = f": {'; '.join(details)}" if details else ""
        return message(
            "describe.summary.field", lang=lang, name=name, type=schema_field["type"], label=schema_field["title"], extra=extra
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the description as JSON-able data, for `describe --json`."""
        return {
            "name": self.name,
            "resource": self.resource,
            "file": self.file,
            "rows": self.rows,
            "skipped_blank_rows": self.skipped_blank_rows,
            "dropped_rows": self.dropped_rows,
            "read": self.read,
            "locale": self.locale,
            "cleanup": self.cleanup,
            "schema": self.schema,
            "proposed_constraints": self.proposed_constraints,
            "notes": [{"key": key, "params": params} for key, params in self.notes],
        }


def describe_file(
    path: Path,
    *,
    sheet: str | int | None = None,
    name: str | None = None,
    catalog_dir: Path | None = None,
    schemas_dir: Path | None = None,
) -> Description:
    """Read the whole export at `path` and propose how to read it and its Table Schema.

    `name` defaults to the transliterated file name, made unique against the dataset folders in
    `catalog_dir` and the schema files in `schemas_dir`. Raises `ReadError` when the reader
    cannot read the file, and `PipelineError` when `name` is not a valid dataset name.
    """
    path = Path(path)

    # How to read it
    options = _detected_options(path, sheet)
    header_rows = None if options.format in ("json", "geojson") else find_header_rows(path, options)
    if header_rows:
        options = replace(options, header_rows=header_rows)
    table = read_table(path, options)

    # Every value of every column
    profiles = [ColumnProfile(label) for label in table.labels]
    for row in table.rows():
        for profile, cell in zip(profiles, _padded(row.cells, len(profiles))):
            profile.feed(cell)

    # Fields
    names = field_names(table.labels)
    proposals = [propose_field(field_name, profile) for field_name, profile in zip(names, profiles)]
    read = _read_descriptor(options, table.info)
    dataset_name = _checked_name(name) if name else _dataset_name(path.stem, catalog_dir, schemas_dir)
    notes = [note for proposal in proposals for note in proposal.notes]
    if table.info.metadata.get("asOf"):
        notes.insert(0, ("describe.note.as_of", {"date": table.info.metadata["asOf"]}))

    return Description(
        name=dataset_name,
        resource=_resource_name(path),
        file=path.name,
        read=read,
        schema=_schema(proposals),
        locale=_locale(proposals),
        cleanup=[rule for proposal in proposals for rule in proposal.cleanup],
        rows=profiles[0].rows if profiles else 0,
        skipped_blank_rows=table.info.skipped_blank_rows,
        dropped_rows=len(table.info.dropped_rows),
        proposed_constraints={p.field["name"]: p.constraints for p in proposals if p.constraints},
        notes=notes,
        labels=positional_labels(table.labels, names),
    )


def write_stub(description: Description, catalog_dir: Path, schemas_dir: Path) -> tuple[Path, Path]:
    """Write `<catalog_dir>/<name>/datapackage.json` and `<schemas_dir>/<name>.json`; never overwrite."""
    descriptor_path = catalog_dir / description.name / "datapackage.json"
    schema_path = schemas_dir / f"{description.name}.json"
    for existing in (descriptor_path, schema_path):
        if existing.exists():
            raise PipelineError("describe.exists", path=str(existing))

    descriptor_path.parent.mkdir(parents=True, exist_ok=True)
    schemas_dir.mkdir(parents=True, exist_ok=True)
    _write_json(schema_path, description.schema)
    _write_json(descriptor_path, description.descriptor())
    return descriptor_path, schema_path


# Reading


def _detected_options(path: Path, sheet: str | int | None) -> ReadOptions:
    """Return options with the format, and for CSV the encoding and delimiter, fixed once.

    Fixing them keeps each trial read of `find_header_rows` from detecting them again.
    """
    options = ReadOptions(sheet=sheet)
    file_format = format_of(path, options)
    options = replace(options, format=file_format)
    if file_format != "csv":
        return options

    encoding = resolve_encoding(path, None)
    return replace(options, encoding=encoding, delimiter=sniff_delimiter(path, encoding))


def _read_descriptor(options: ReadOptions, info: Any) -> dict[str, Any]:
    read: dict[str, Any] = {"format": options.format}
    if options.format == "csv":
        read["encoding"] = info.encoding
        read["delimiter"] = info.delimiter
    if info.header_rows and options.format not in ("json", "geojson"):
        read["headerRows"] = list(info.header_rows)
    if info.sheet:
        read["sheet"] = info.sheet
    return read


def _padded(cells: list[str | None], width: int) -> list[str | None]:
    return list(cells) + [None] * (width - len(cells))


# Names


def positional_labels(labels: list[str], names: list[str]) -> dict[str, str]:
    """Map blank and repeated labels to their fields by column position (`"#4": "paralelka_2"`).

    A label matches a field by name or title, so two columns with the same header, or one with
    none, could not find their own fields without this.
    """
    keys = [" ".join((label or "").split()).casefold() for label in labels]
    return {
        f"#{position}": name
        for position, (key, name) in enumerate(zip(keys, names), start=1)
        if not key or keys.count(key) > 1
    }


def field_names(labels: list[str]) -> list[str]:
    """Return snake_case field names for the labels: transliterated, unique, `column_N` when blank."""
    names: list[str] = []
    for position, label in enumerate(labels, start=1):
        try:
            base = slugify(label).replace("-", "_")
        except ValueError:
            base = f"column_{position}"
        if not re.match(r"^[a-z]", base):
            base = f"field_{base}"

        name, suffix = base, 1
        while name in names:
            suffix += 1
            name = f"{base}_{suffix}"
        names.append(name)
    return names


def _dataset_name(title: str, catalog_dir: Path | None, schemas_dir: Path | None) -> str:
    """Return the slug of `title`, with `-2`, `-3`… when a dataset folder or schema file has that name."""
    try:
        base = slugify(title)
    except ValueError:
        raise PipelineError("describe.name_invalid", name=title, pattern=DATASET_NAME.pattern) from None

    taken: dict[str, str] = {}
    if catalog_dir is not None and catalog_dir.is_dir():
        taken.update({folder.name: folder.name for folder in catalog_dir.iterdir() if folder.is_dir()})
    if schemas_dir is not None and schemas_dir.is_dir():
        taken.update({schema.stem: schema.stem for schema in schemas_dir.glob("*.json")})
    return unique_name(base, taken, NEW_SOURCE_ID)


def _checked_name(name: str) -> str:
    """Return a name given by the operator as it is; it must already be a valid dataset name."""
    if not DATASET_NAME.match(name):
        raise PipelineError("describe.name_invalid", name=name, pattern=DATASET_NAME.pattern)
    return name


def _resource_name(path: Path) -> str:
    try:
        return slugify(path.stem)
    except ValueError:
        return "data"


# Schema and locale


def _schema(proposals: list[FieldProposal]) -> dict[str, Any]:
    fields = []
    for proposal in proposals:
        schema_field = dict(proposal.field)
        schema_field["description"] = placeholder("описание на полето")
        schema_field["sofia:en"] = {
            "title": placeholder("field title in English"),
            "description": placeholder("field description in English"),
        }
        if proposal.constraints:
            # The constraints hold for this file; the reviewer decides whether they are rules.
            schema_field["sofia:review"] = placeholder(
                "проверете ограниченията " + ", ".join(proposal.constraints) + " и изтрийте този ред"
            )
        fields.append(schema_field)
    return {"fields": fields}


def _locale(proposals: list[FieldProposal]) -> dict[str, Any]:
    per_field = {proposal.field["name"]: proposal.locale for proposal in proposals if proposal.locale}
    return {"fields": per_field} if per_field else {}


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
