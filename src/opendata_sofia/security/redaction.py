"""Keep secrets out of logs, reports, artifacts and error messages.

`redact(text)` replaces three things with `***`:

- the value of every known secret. These are the values passed to `register_secret` (the
  CKAN token from a Prefect Secret block, source credentials read at fetch time). They are also
  the values of environment variables whose names end in `TOKEN`, `SECRET`, `PASSWORD`,
  `PASSWD`, `API_KEY`, `APIKEY` or `CREDENTIALS`, `CKAN_API_TOKEN` among them;
- credentials in URLs: the password in `https://user:password@host/` and the value of query
  parameters such as `token=`, `api_key=`, `key=`, `password=`, `signature=`;
- the value of `Authorization:` headers quoted in a text.

`install_log_redaction()` wraps the log record factory, so every record is redacted when it is
created, whichever logger makes it. A filter on the `opendata_sofia` or `prefect.flow_runs`
logger would miss records of their child loggers, because Python applies a logger's filters
only to records logged on that logger itself.
"""

from __future__ import annotations

import logging
import os
import re
import threading

MASK = "***"
MIN_SECRET_LENGTH = 8  # shorter values ("1", "true") would mask ordinary words and numbers
SECRET_VARIABLE = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|CREDENTIALS)$", re.IGNORECASE)
QUERY_SECRET = re.compile(
    r"(?P<name>[?&;](?:access_token|api_key|apikey|auth|key|password|secret|sig|signature|token)=)[^&#\s\"'<>]+",
    re.IGNORECASE,
)
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://[^:/@\s\"']+:)[^@/\s\"']+(?=@)", re.IGNORECASE)
AUTHORIZATION = re.compile(r"(?P<name>authorization['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+|basic\s+|token\s+)?[^\s'\",}]+", re.IGNORECASE)

_registered: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Add `value` to the secrets that `redact` masks, for the life of the process."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def secret_values() -> list[str]:
    """Return every known secret value, longest first so that a secret inside another goes too."""
    from_env = {
        value for name, value in os.environ.items() if SECRET_VARIABLE.search(name) and len(value) >= MIN_SECRET_LENGTH
    }
    with _lock:
        values = _registered | from_env
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """Return `text` with secrets and credentials in URLs and headers replaced by `***`."""
    if not text:
        return text
    for secret in secret_values():
        if secret in text:
            text = text.replace(secret, MASK)
    text = QUERY_SECRET.sub(lambda match: match.group("name") + MASK, text)
    text = URL_PASSWORD.sub(lambda match: match.group("scheme") + MASK, text)
    return AUTHORIZATION.sub(lambda match: match.group("name") + MASK, text)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Render the record's message, redact it and drop the arguments it was made from."""
    try:
        text = record.getMessage()
    except Exception:  # a malformed %-format: let the handler report it as usual
        return record
    record.msg, record.args = redact(text), None

    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_log_redaction() -> None:
    """Redact every log record of the process from now on; calling it again changes nothing."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        make_record = logging.getLogRecordFactory()

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        return redact_record(make_record(*args, **kwargs))

    logging.setLogRecordFactory(redacting_factory)
