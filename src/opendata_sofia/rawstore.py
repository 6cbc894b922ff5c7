"""Raw bytes of every pull, kept by content address so that any run can be replayed.

Layout: `<root>/<first two hex digits>/<sha256>` contains the bytes; `<root>/pulls.jsonl` appends
one line per pull (when, which dataset and resource, original name and source). Writing the same
bytes twice stores them once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

CHUNK = 1 << 20


@dataclass(frozen=True)
class RawBlob:
    """Bytes kept in the store: their sha256, size and location."""

    sha256: str
    bytes: int
    path: Path


class RawStore:
    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def get(self, sha256: str) -> RawBlob | None:
        """Return the blob with this sha256, or None when it was never stored or was removed."""
        path = self.path_for(sha256)
        if not path.is_file():
            return None
        return RawBlob(sha256=sha256, bytes=path.stat().st_size, path=path)

    def put_file(self, source: Path) -> RawBlob:
        """Copy a file into the store, hashing it on the way."""
        with source.open("rb") as stream:
            return self.put_stream(iter(lambda: stream.read(CHUNK), b""))

    def put_stream(self, chunks: Iterable[bytes]) -> RawBlob:
        """Write chunks to a temporary file, then move it to its content address."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha256 = digest.hexdigest()
            target = self.path_for(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                os.unlink(temporary)
            else:
                os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return RawBlob(sha256=sha256, bytes=size, path=target)

    def record_pull(self, blob: RawBlob, *, dataset: str, resource: str, source: str, name: str) -> None:
        """Append one line to the pull log, so a failed run can be traced back to its bytes."""
        entry = {
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "dataset": dataset,
            "resource": resource,
            "source": source,
            "name": name,
            **{key: value for key, value in asdict(blob).items() if key != "path"},
        }
        with (self.root / "pulls.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry, ensure_ascii=False) + "\n")
