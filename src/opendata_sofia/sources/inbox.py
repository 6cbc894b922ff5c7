"""Drop folder: a directorate exports a file into the inbox, the pipeline picks it up.

The configured `path` is relative to the inbox and may be a glob (`budget/*.xlsx`): the newest
match by modification time wins, so an export that is re-delivered under a new name replaces
the old one. Matches must stay inside the inbox, whatever the pattern or symlinks point to.
"""

from __future__ import annotations

from pathlib import Path

from opendata_sofia.errors import SourceError, SourceNotFound
from opendata_sofia.rawstore import RawStore
from opendata_sofia.sources import Pull


def fetch_from_inbox(source: dict, *, inbox: Path, store: RawStore) -> Pull:
    pattern = source["path"]
    path = find_in_inbox(inbox, pattern)
    blob = store.put_file(path)
    return Pull(blob=blob, name=path.name, location=str(path.relative_to(inbox.resolve())))


def find_in_inbox(inbox: Path, pattern: str) -> Path:
    """Return the newest file in `inbox` matching `pattern`, refusing matches outside it."""
    root = inbox.resolve()
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise SourceError("source.inbox_escape", source=pattern, inbox=str(root))

    matches = [path.resolve() for path in root.glob(pattern) if path.is_file()]
    inside = [path for path in matches if path.is_relative_to(root)]
    if len(inside) < len(matches):
        raise SourceError("source.inbox_escape", source=pattern, inbox=str(root))
    if not inside:
        raise SourceNotFound(source=f"{root}/{pattern}")

    return max(inside, key=lambda path: (path.stat().st_mtime, path.name))
