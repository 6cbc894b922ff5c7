"""HTTP(S) file sources: address checks, redirects, time and size limits, conditional GET.

The validators of the last successful download (ETag, Last-Modified) and its sha256 are kept in
`<state_dir>/http-sources.json`. The next request sends them as If-None-Match /
If-Modified-Since, and a 304 response reuses the stored bytes without downloading them again.

A source is untrusted input: every hop, redirects included, is checked by
`netguard.AddressPolicy` before it is requested (see `sources.transport` for the check at
connection time). Redirects are followed here, at most `maxRedirects` of them. `timeout` bounds
each wait for bytes, `deadline` the whole download, `maxBytes` its size.

Credentials come from the environment at fetch time, never from the descriptor:

    "auth": {"headerEnv": "SOURCE_X_TOKEN", "header": "Authorization", "scheme": "Bearer"}
    "auth": {"queryEnv": "SOURCE_X_TOKEN", "param": "token"}

The header is sent only to the origin of the configured URL, the query parameter only in the
first request. Neither reaches the state file, the pull log, reports or messages, which all use
the configured URL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlencode, urljoin, urlsplit, urlunsplit

import requests

from opendata_sofia import __version__
from opendata_sofia.errors import SourceError, SourceNotFound
from opendata_sofia.security.filenames import safe_file_name
from opendata_sofia.security.netguard import AddressPolicy
from opendata_sofia.rawstore import RawStore
from opendata_sofia.security.redaction import redact, register_secret
from opendata_sofia.sources import Pull
from opendata_sofia.sources.transport import Deadline, guarded_session

DEFAULT_TIMEOUT = 60.0  # seconds to connect and between bytes, not for the whole download
DEFAULT_DEADLINE = 600.0  # seconds for the whole download, redirects included
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
CHUNK = 1 << 16


def fetch_over_http(
    source: dict, *, store: RawStore, state_dir: Path, policy: AddressPolicy | None = None
) -> Pull:
    """Download `source["url"]` into `store`, or reuse the stored bytes when the server returns 304."""
    url = source["url"]
    policy = policy or AddressPolicy.from_env()
    policy.check_url(url)
    max_bytes = int(source.get("maxBytes", DEFAULT_MAX_BYTES))
    state = _load_state(state_dir)
    location = redact(url)  # what the state file, pull log and reports show
    previous = state.get(location)

    # Ask only for what changed since the last download
    headers = {"User-Agent": f"opendata-sofia/{__version__}"}
    if previous and store.get(previous["sha256"]):
        if previous.get("etag"):
            headers["If-None-Match"] = previous["etag"]
        if previous.get("last_modified"):
            headers["If-Modified-Since"] = previous["last_modified"]
    request_url, auth_headers = _with_credentials(url, source.get("auth"))

    # Download
    with Deadline(float(source.get("deadline", DEFAULT_DEADLINE))) as deadline:
        session = guarded_session(policy, deadline)
        with session:
            response = _get(session, request_url, url, headers, auth_headers, source, policy, deadline)
            with response:
                name = _file_name(url, response)
                if response.status_code == 304 and previous and store.get(previous["sha256"]):
                    blob = store.get(previous["sha256"])
                    return Pull(blob=blob, name=previous.get("name", name), location=location, not_modified=True)
                if response.status_code == 404:
                    raise SourceNotFound(source=url)
                if response.status_code >= 400 or response.status_code == 304:
                    raise SourceError("source.http_status", source=url, status=response.status_code)

                declared = int(response.headers.get("Content-Length") or 0)
                if declared > max_bytes:
                    raise SourceError("source.too_large", source=url, limit=max_bytes)
                blob = store.put_stream(_limited(response, url, max_bytes, deadline))

    state[location] = {
        "sha256": blob.sha256,
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
        "name": name,
    }
    _save_state(state_dir, state)
    return Pull(blob=blob, name=name, location=location)


def _get(session, request_url, url, headers, auth_headers, source, policy, deadline) -> requests.Response:
    """GET `request_url`, following redirects here so that each hop is checked first."""
    timeout = float(source.get("timeout", DEFAULT_TIMEOUT))
    max_redirects = int(source.get("maxRedirects", DEFAULT_MAX_REDIRECTS))
    origin = _origin(url)
    current = request_url

    for _ in range(max_redirects + 1):
        policy.check_url(current, source=url)
        hop_headers = {**headers, **(auth_headers if _origin(current) == origin else {})}
        try:
            # Redirects off: requests would follow them without the address check
            response = session.get(current, headers=hop_headers, timeout=timeout, stream=True, allow_redirects=False)
        except requests.RequestException as error:
            raise _download_error(error, url, timeout, deadline) from None

        if not response.is_redirect:
            return response
        current = urljoin(current, response.headers["Location"])
        response.close()
    raise SourceError("security.too_many_redirects", source=url, limit=max_redirects)


def _limited(response: requests.Response, url: str, max_bytes: int, deadline: Deadline):
    received = 0
    try:
        for chunk in response.iter_content(CHUNK):
            received += len(chunk)
            if received > max_bytes:
                raise SourceError("source.too_large", source=url, limit=max_bytes)
            if deadline.check():
                break
            yield chunk
    except (requests.RequestException, OSError) as error:
        raise _download_error(error, url, None, deadline) from None

    # A socket closed by the deadline ends a body without a length as if it were complete
    if deadline.check():
        raise SourceError("security.http_deadline", source=url, seconds=f"{deadline.seconds:g}")


def _download_error(error: Exception, url: str, timeout: float | None, deadline: Deadline) -> SourceError:
    if deadline.check():
        return SourceError("security.http_deadline", source=url, seconds=f"{deadline.seconds:g}")
    if isinstance(error, requests.Timeout) and timeout is not None:
        return SourceError("source.http_timeout", source=url, seconds=timeout)
    return SourceError(source=url, detail=type(error).__name__)


def _with_credentials(url: str, auth: dict | None) -> tuple[str, dict[str, str]]:
    """Return the URL to request and the headers that carry the source's credential, if any."""
    if not auth:
        return url, {}

    variable = auth.get("headerEnv") or auth.get("queryEnv")
    value = os.environ.get(variable or "")
    if not value:
        raise SourceError("security.auth_missing", source=url, variable=variable or "?")
    register_secret(value)

    if auth.get("headerEnv"):
        scheme = auth.get("scheme", "Bearer" if auth.get("header", "Authorization") == "Authorization" else "")
        return url, {auth.get("header", "Authorization"): f"{scheme} {value}".strip()}
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode({auth.get("param", "token"): value})) if part)
    return urlunsplit(parts._replace(query=query)), {}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _file_name(url: str, response: requests.Response) -> str:
    """Return the file name from Content-Disposition, else from the URL path, made safe."""
    disposition = response.headers.get("Content-Disposition", "")
    names = {}
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        names[key.lower()] = value.strip().strip('"')
    if names.get("filename*"):
        # RFC 6266: charset''percent-encoded-name
        encoded = names["filename*"].split("''", 1)[-1]
        return safe_file_name(unquote(encoded, errors="replace"))
    if names.get("filename"):
        return safe_file_name(names["filename"])
    return safe_file_name(unquote(urlsplit(url).path).rsplit("/", 1)[-1])


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
