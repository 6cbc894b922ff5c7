"""Sources: where a resource's bytes come from. One module per kind of source.

`fetch(resource, ...)` returns a `Pull`: the raw bytes are in the raw store by then, and the
pull records whether they are the same bytes as the last pull of that source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opendata_sofia.catalog import ResourceSpec
from opendata_sofia.rawstore import RawBlob, RawStore


@dataclass(frozen=True)
class Pull:
    """The bytes of one resource's source, kept in the raw store."""

    blob: RawBlob
    name: str  # the file name the source gave, used in messages and to pick the reader
    location: str  # what the operator configured: a path in the inbox or a URL
    not_modified: bool = False  # an HTTP source returned 304: the stored bytes are current


def fetch(resource: ResourceSpec, *, dataset: str, inbox: Path, store: RawStore, state_dir: Path) -> Pull:
    """Fetch the source of `resource` into `store`, by its kind."""
    kind = resource.source["kind"]
    if kind == "inbox":
        from opendata_sofia.sources.inbox import fetch_from_inbox

        pull = fetch_from_inbox(resource.source, inbox=inbox, store=store)
    elif kind == "http":
        from opendata_sofia.sources.http import fetch_over_http

        pull = fetch_over_http(resource.source, store=store, state_dir=state_dir)
    else:  # the catalog check rejects other kinds
        raise ValueError(f"unknown source kind {kind!r}")

    store.record_pull(pull.blob, dataset=dataset, resource=resource.name, source=pull.location, name=pull.name)
    return pull
