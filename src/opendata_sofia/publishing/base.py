"""The publication every target receives and the result it returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from opendata_sofia.catalog import DatasetSpec


@dataclass(frozen=True)
class OutputFile:
    """One canonical output of a resource, ready to publish."""

    key: str  # stable key on the target, e.g. "districts.csv"
    resource: str  # the catalog resource it was made from
    format: str  # CSV, JSON, Parquet, GeoJSON, datapackage
    path: Path
    sha256: str
    bytes: int
    media_type: str

    @classmethod
    def from_path(cls, path: Path, *, key: str, resource: str, format: str, media_type: str) -> "OutputFile":
        """Describe a finished file, hashing it in chunks."""
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        return cls(
            key=key,
            resource=resource,
            format=format,
            path=path,
            sha256=digest.hexdigest(),
            bytes=path.stat().st_size,
            media_type=media_type,
        )


@dataclass
class Publication:
    """A validated dataset with its outputs and where they came from."""

    dataset: "DatasetSpec"
    files: list[OutputFile]
    provenance: dict[str, Any] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class PublishResult:
    """The outcome of one publication: `published` (something changed) or `unchanged`."""

    status: str
    changed: list[str] = field(default_factory=list)
    url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Target(Protocol):
    name: str

    def publish(self, publication: Publication) -> PublishResult: ...
