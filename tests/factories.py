"""Small catalog objects built in code, for tests that do not need the real catalog."""

from __future__ import annotations

from pathlib import Path

from opendata_sofia.catalog import DatasetSpec, Organization, ResourceSpec
from opendata_sofia.publishing.base import OutputFile, Publication

ORGANIZATION = Organization(
    name="so-iot",
    title={"bg": "Дирекция „Информационно обслужване и технологии“", "en": "Information Services and Technology Directorate"},
    description={"bg": "Отговаря за отворените данни.", "en": "Runs open data."},
)

SCHEMA = {
    "fields": [
        {"name": "code", "type": "string", "title": "Код"},
        {"name": "name", "type": "string", "title": "Име"},
        {"name": "population", "type": "integer", "title": "Население"},
    ],
    "primaryKey": ["code"],
}


def make_dataset(name: str = "test-rayoni", *, folder: Path = Path("."), resources=None, **sofia) -> DatasetSpec:
    resources = resources or [make_resource()]
    return DatasetSpec(
        name=name,
        folder=folder,
        descriptor={
            "name": name,
            "title": "Райони",
            "description": "Районите на София.",
            "keywords": ["райони"],
            "licenses": [{"name": "CC-BY-4.0"}],
            "sofia": {"id": "SO-TEST-0001", "en": {"title": "Districts"}, "organization": ORGANIZATION.name},
            "resources": [{"name": r.name, "title": r.title["bg"], "schema": "schema.json"} for r in resources],
        },
        id=sofia.get("id", "SO-TEST-0001"),
        title={"bg": "Райони", "en": "Districts"},
        description={"bg": "Районите на София.", "en": "The districts of Sofia."},
        keywords={"bg": ["райони"], "en": ["districts"]},
        organization=sofia.get("organization", ORGANIZATION),
        frequency=sofia.get("frequency", "annual"),
        licenses=[{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0"}],
        resources=resources,
    )


def make_resource(name: str = "districts", *, source=None, read=None, schema=None, **extra) -> ResourceSpec:
    return ResourceSpec(
        name=name,
        title={"bg": "Райони", "en": "Districts"},
        description={"bg": "Списък", "en": "List"},
        schema=schema or SCHEMA,
        schema_name="districts",
        source=source or {"kind": "inbox", "path": "districts.csv"},
        read=read or {"format": "csv"},
        **extra,
    )


def make_publication(tmp_path: Path, contents: dict[str, bytes], dataset: DatasetSpec | None = None) -> Publication:
    """Write each key's bytes to a file and describe them as one resource's outputs."""
    dataset = dataset or make_dataset()
    files = []
    for key, data in contents.items():
        path = tmp_path / key
        path.write_bytes(data)
        fmt = key.rsplit(".", 1)[-1].upper()
        files.append(OutputFile.from_path(path, key=key, resource=dataset.resources[0].name, format=fmt,
                                          media_type="text/csv" if fmt == "CSV" else "application/json"))
    return Publication(dataset=dataset, files=files, row_counts={dataset.resources[0].name: 2})
