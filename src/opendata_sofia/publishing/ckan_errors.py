"""CKAN and transport failures mapped to `PublishError`, in one place.

    ckanapi NotAuthorized            -> ckan.not_authorized
    ckanapi NotFound                 -> ckan.not_found
    ckanapi ValidationError          -> ckan.invalid (`error_dict` kept in the error's params)
    requests ConnectionError/Timeout -> ckan.unreachable   (retried first)
    HTTP 5xx (CkanServerError)       -> ckan.server_error  (retried first)
    any other CKANAPIError           -> ckan.api_error

API tokens never reach a message: every text taken from an exception passes through `redact`.
"""

from __future__ import annotations

from typing import Any, Iterable

import requests
from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ServerIncompatibleError, ValidationError

from opendata_sofia.errors import PublishError

DETAIL_LIMIT = 500


class CkanServerError(Exception):
    """Raised when CKAN returns HTTP 5xx, which ckanapi reports as a generic CKANAPIError."""

    def __init__(self, status: int, body: str):
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}")


# failures that may pass on a later attempt
RETRYABLE = (requests.ConnectionError, requests.Timeout, CkanServerError)
CKAN_ERRORS = (NotAuthorized, NotFound, ValidationError, CKANAPIError, ServerIncompatibleError)


def raise_for_server_error(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Raise `CkanServerError` for HTTP 5xx: a requests response hook."""
    if response.status_code >= 500:
        raise CkanServerError(response.status_code, response.text[:DETAIL_LIMIT])


def to_publish_error(
    error: BaseException,
    *,
    url: str,
    action: str,
    dataset: str,
    attempts: int = 1,
    secrets: Iterable[str] = (),
) -> PublishError:
    """Translate a ckanapi or requests exception into a `PublishError` with a message key."""
    secrets = [secret for secret in secrets if secret]
    where = {"url": url, "action": action, "dataset": dataset, "target": "ckan"}

    if isinstance(error, NotAuthorized):
        return PublishError("ckan.not_authorized", **where, detail=redact(_text(error), secrets))
    if isinstance(error, NotFound):
        return PublishError("ckan.not_found", **where, detail=redact(_text(error), secrets))
    if isinstance(error, ValidationError):
        error_dict = _error_dict(error)
        return PublishError(
            "ckan.invalid",
            **where,
            detail=redact(_format_error_dict(error_dict), secrets),
            error_dict=error_dict,
        )
    if isinstance(error, CkanServerError):
        return PublishError(
            "ckan.server_error", **where, status=error.status, attempts=attempts, detail=redact(error.body, secrets)
        )
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        detail = f"{type(error).__name__}: {_text(error)}"
        return PublishError("ckan.unreachable", **where, attempts=attempts, detail=redact(detail, secrets))
    return PublishError("ckan.api_error", **where, detail=redact(_text(error), secrets))


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in `text` with `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _error_dict(error: ValidationError) -> dict[str, Any]:
    # ckanapi passes CKAN's whole error object: drop the `__type` marker it carries
    error_dict = dict(getattr(error, "error_dict", None) or {})
    error_dict.pop("__type", None)
    return error_dict


def _format_error_dict(error_dict: dict[str, Any]) -> str:
    parts = []
    for field, problems in error_dict.items():
        if isinstance(problems, list):
            problems = "; ".join(str(problem) for problem in problems)
        parts.append(f"{field}: {problems}")
    return ", ".join(parts) or "-"


def _text(error: BaseException) -> str:
    return str(error)[:DETAIL_LIMIT] or type(error).__name__
