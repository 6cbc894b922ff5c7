"""The embedded default target: a portal in a local folder, no server needed.

Layout of the portal folder:

    index.html              the catalog page, Bulgarian first
    catalog.json            every dataset as a CKAN-shaped package dict
    catalog.dcat.jsonld     the same catalog as DCAT-AP (JSON-LD)
    <dataset>/              the dataset's files, its datapackage.json and ckan.json

A new version of a dataset is written to a staging folder and swapped in with two renames, so
a reader sees either the old complete version or the new one. Unchanged content is not written.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from opendata_sofia import __version__
from opendata_sofia.publishing.base import Publication, PublishResult
from opendata_sofia.publishing.metadata import ckan_package
from opendata_sofia.publishing.portal_index import write_index

PACKAGE_FILE = "ckan.json"

# The nightly flow publishes several datasets at once from threads; the catalog files are
# rebuilt from every dataset folder, so one rebuild at a time.
_index_lock = threading.Lock()


class LocalFolderTarget:
    name = "local"

    def __init__(self, root: Path):
        self.root = root

    def publish(self, publication: Publication) -> PublishResult:
        dataset = publication.dataset
        folder = self.root / dataset.name
        previous = _read_package(folder)
        package = ckan_package(publication, resource_url=lambda output: output.key)

        changed = _changed_keys(previous, package)
        if previous is not None and not changed and _same_metadata(previous, package):
            return PublishResult(status="unchanged", url=str(folder / "index.html"), details={"path": str(folder)})

        # Stage the new version beside the old one, then swap
        package["metadata_modified"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        package["pipeline_version"] = __version__
        staging = self.root / ".staging" / f"{dataset.name}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        for output in publication.files:
            shutil.copyfile(output.path, staging / output.key)
        (staging / PACKAGE_FILE).write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
        with _index_lock:
            _swap(staging, folder, self.root / ".trash")
            write_index(self.root)
        return PublishResult(
            status="published",
            changed=changed or ["metadata"],
            url=str(folder),
            details={"path": str(folder)},
        )

    def published_packages(self) -> list[dict]:
        """Return the CKAN-shaped package of every dataset in the portal."""
        return [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(self.root.glob(f"*/{PACKAGE_FILE}"))
        ]


def _read_package(folder: Path) -> dict | None:
    path = folder / PACKAGE_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _changed_keys(previous: dict | None, package: dict) -> list[str]:
    old = {r["sofia_key"]: r["hash"] for r in (previous or {}).get("resources", [])}
    new = {r["sofia_key"]: r["hash"] for r in package["resources"]}
    changed = [key for key, digest in new.items() if old.get(key) != digest]
    removed = [key for key in old if key not in new]
    return changed + removed


def _same_metadata(previous: dict, package: dict) -> bool:
    """Compare the published content, leaving out when and by which version it was written."""
    volatile = {"metadata_modified", "pipeline_version"}
    return {k: v for k, v in previous.items() if k not in volatile} == {
        k: v for k, v in package.items() if k not in volatile
    }


def _swap(staging: Path, folder: Path, trash_root: Path) -> None:
    trash_root.mkdir(parents=True, exist_ok=True)
    trash = trash_root / f"{folder.name}-{uuid.uuid4().hex[:8]}"
    if folder.exists():
        os.replace(folder, trash)
    os.replace(staging, folder)
    shutil.rmtree(trash, ignore_errors=True)
