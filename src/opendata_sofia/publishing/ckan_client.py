"""One CKAN action call at a time, with retries and errors mapped to `PublishError`."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable

import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import NotFound

from opendata_sofia import __version__
from opendata_sofia.errors import PublishError
from opendata_sofia.publishing.ckan_errors import (
    CKAN_ERRORS,
    RETRYABLE,
    raise_for_server_error,
    redact,
    to_publish_error,
)

log = logging.getLogger(__name__)


class CkanClient:
    """Call CKAN actions as one user (one API token).

    Connection errors, timeouts and HTTP 5xx are retried `attempts` times in all, waiting
    `retry_delay`, then twice as long, and so on. Every other failure is raised at once.
    """

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 60.0,
        attempts: int = 4,
        retry_delay: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.retry_delay = retry_delay
        self._sleep = sleep

        session = requests.Session()
        session.hooks["response"].append(raise_for_server_error)
        self._remote = RemoteCKAN(
            self.url, apikey=token, user_agent=f"opendata-sofia/{__version__}", session=session
        )

    @property
    def token(self) -> str | None:
        return self._token

    def __repr__(self) -> str:
        # the token stays out of reprs, which end up in logs and tracebacks
        return f"CkanClient({self.url!r})"

    def call(
        self,
        action: str,
        data: dict[str, Any] | None = None,
        *,
        dataset: str = "-",
        upload: Path | None = None,
        upload_name: str | None = None,
        missing_ok: bool = False,
        recover: Callable[[], Any] | None = None,
    ) -> Any:
        """Run `action` and return its result; None for NotFound when `missing_ok`.

        `upload` sends the file as the multipart field `upload`, named `upload_name` on CKAN.
        `recover` is called before each retry of an action that creates something: when the
        failed attempt did reach CKAN (only the response was lost), it returns what was created,
        and that is returned instead of creating a second copy.
        """
        for attempt in range(1, self.attempts + 1):
            if attempt > 1 and recover is not None:
                recovered = self._recover(recover, action, dataset)
                if recovered is not None:
                    return recovered
            try:
                return self._call_once(action, data or {}, upload, upload_name)
            except NotFound as error:
                if missing_ok:
                    return None
                raise self._error(error, action, dataset, attempt) from error
            except RETRYABLE as error:
                if attempt == self.attempts:
                    raise self._error(error, action, dataset, attempt) from error
                self._wait(error, action, dataset, attempt)
            except CKAN_ERRORS as error:
                raise self._error(error, action, dataset, attempt) from error
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _recover(self, recover: Callable[[], Any], action: str, dataset: str) -> Any:
        try:
            found = recover()
        except PublishError as error:
            log.info("CKAN: could not check whether %s for %s took effect (%s)", action, dataset, error.key)
            return None
        if found is not None:
            log.info("CKAN: %s for %s took effect before its response was lost; not sent again", action, dataset)
        return found

    def _call_once(self, action: str, data: dict[str, Any], upload: Path | None, upload_name: str | None) -> Any:
        request = {"timeout": self.timeout}
        if upload is None:
            return self._remote.call_action(action, data, requests_kwargs=request)

        # opened per attempt, so that a retry sends the file from its start
        with open(upload, "rb") as stream:
            files = {"upload": (upload_name or upload.name, stream)}
            return self._remote.call_action(action, data, files=files, requests_kwargs=request)

    def _wait(self, error: BaseException, action: str, dataset: str, attempt: int) -> None:
        delay = self.retry_delay * 2 ** (attempt - 1)
        log.info(
            "CKAN %s for %s failed (%s), retry %d/%d in %.1f s",
            action,
            dataset,
            redact(str(error), [self._token or ""]),
            attempt,
            self.attempts - 1,
            delay,
        )
        self._sleep(delay)

    def _error(self, error: BaseException, action: str, dataset: str, attempt: int):
        return to_publish_error(
            error, url=self.url, action=action, dataset=dataset, attempts=attempt, secrets=[self._token or ""]
        )
