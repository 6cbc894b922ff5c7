"""Outputs written while validating, kept beside the work CSV until conversion adopts them.

Validation reads and types every cell anyway, so it writes the outputs in the same pass.
Conversion then moves them into place instead of reading the work CSV again. It does so only
when a stamp shows that validation found no error. The stamp must also match the work CSV
(size and modification time), both schemas, and the batch and row group sizes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opendata_sofia import conversion
from opendata_sofia.normalise import WorkTable

EXTENSIONS = ("csv", "json", "parquet")


@dataclass(frozen=True)
class StagedOutputs:
    """The folder of outputs staged for one work CSV, and the stamp that must match to adopt them."""

    folder: Path
    stamp: dict[str, Any]

    @classmethod
    def of(cls, work: WorkTable, batch_size: int) -> "StagedOutputs":
        status = work.path.stat()
        stamp = {
            "work_bytes": status.st_size,
            "work_mtime_ns": status.st_mtime_ns,
            "schema": _digest(work.schema),
            "canonical_schema": _digest(work.canonical_schema),
            "batch_size": batch_size,
            "row_group_rows": conversion.PARQUET_ROW_GROUP_ROWS,
        }
        return cls(work.path.with_name(work.path.name + ".outputs"), stamp)

    def path(self, extension: str) -> Path:
        return self.folder / f"output.{extension}"

    def prepare(self) -> None:
        self.discard()
        self.folder.mkdir(parents=True)

    def seal(self, rows: int, files: dict[str, tuple[str, int]]) -> None:
        """Mark the outputs complete (every row written, no error found), with their SHA-256 and size per extension."""
        sealed = {**self.stamp, "rows": rows, "files": files}
        (self.folder / "stamp.json").write_text(json.dumps(sealed), encoding="utf-8")

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def adopt(self, resource: str, out_dir: Path) -> tuple[list[tuple[Path, str, int]], int] | None:
        """Move the outputs to `out_dir/<resource>.<extension>`; return (path, SHA-256, size) of each, and the row count.

        Returns None, and drops the folder, when the stamp is missing or does not match.
        """
        stamp_path = self.folder / "stamp.json"
        if not stamp_path.is_file():
            return None
        sealed = json.loads(stamp_path.read_text(encoding="utf-8"))
        rows, files = sealed.pop("rows"), sealed.pop("files")
        if sealed != self.stamp:
            self.discard()
            return None

        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for extension in EXTENSIONS:
            target = out_dir / f"{resource}.{extension}"
            os.replace(self.path(extension), target)
            sha256, size = files[extension]
            paths.append((target, sha256, size))
        self.discard()
        return paths, rows


def _digest(schema: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
