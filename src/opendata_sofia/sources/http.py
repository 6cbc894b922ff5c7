"""HTTP(S) file sources, with time and size limits and conditional GET.

The validators of the last successful download (ETag, Last-Modified) and its sha256 are kept in
`<state_dir>/http-sources.json`. The next request sends them as If-None-Match /
If-Modified-Since; a 304 answer reuses the stored bytes without downloading them again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

from opendata_sofia import __version__
from opendata_sofia.errors import SourceError, SourceNotFound
from opendata_sofia.rawstore import RawStore
from opendata_sofia.sources import Pull

DEFAULT_TIMEOUT = 60.0  # seconds to connect and between bytes, not for the whole download
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
CHUNK = 1 << 16


def fetch_over_http(source: dict, *, store: RawStore, state_dir: Path, session: requests.Session | None = None) -> Pull:
    url = source["url"]
    if urlparse(url).scheme not in ("http", "https"):
        raise SourceError("source.http_scheme", source=url)
    timeout = float(source.get("timeout", DEFAULT_TIMEOUT))
    max_bytes = int(source.get("maxBytes", DEFAULT_MAX_BYTES))
    state = _load_state(state_dir)
    previous = state.get(url)

    # Ask only for what changed since the last download
    headers = {"User-Agent": f"opendata-sofia/{__version__}"}
    if previous and store.get(previous["sha256"]):
        if previous.get("etag"):
            headers["If-None-Match"] = previous["etag"]
        if previous.get("last_modified"):
            headers["If-Modified-Since"] = previous["last_modified"]

    http = session or requests.Session()
    try:
        response = http.get(url, headers=headers, timeout=timeout, stream=True)
    except requests.Timeout as error:
        raise SourceError("source.http_timeout", source=url, seconds=timeout) from error
    except requests.RequestException as error:
        raise SourceError(source=url, detail=type(error).__name__) from error

    with response:
        name = _file_name(url, response)
        if response.status_code == 304:
            blob = store.get(previous["sha256"])
            return Pull(blob=blob, name=previous.get("name", name), location=url, not_modified=True)
        if response.status_code == 404:
            raise SourceNotFound(source=url)
        if response.status_code >= 400:
            raise SourceError("source.http_status", source=url, status=response.status_code)

        declared = int(response.headers.get("Content-Length") or 0)
        if declared > max_bytes:
            raise SourceError("source.too_large", source=url, limit=max_bytes)
        blob = store.put_stream(_limited(response, url, max_bytes))

    state[url] = {
        "sha256": blob.sha256,
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
        "name": name,
    }
    _save_state(state_dir, state)
    return Pull(blob=blob, name=name, location=url)


def _limited(response: requests.Response, url: str, max_bytes: int):
    received = 0
    try:
        for chunk in response.iter_content(CHUNK):
            received += len(chunk)
            if received > max_bytes:
                raise SourceError("source.too_large", source=url, limit=max_bytes)
            yield chunk
    except requests.RequestException as error:
        raise SourceError(source=url, detail=type(error).__name__) from error


def _file_name(url: str, response: requests.Response) -> str:
    disposition = response.headers.get("Content-Disposition", "")
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename" and value:
            return Path(value.strip('"')).name
    return Path(unquote(urlparse(url).path)).name or "download"


def _load_state(state_dir: Path) -> dict:
    path = state_dir / "http-sources.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _save_state(state_dir: Path, state: dict) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "http-sources.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
