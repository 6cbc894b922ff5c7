"""Exceptions raised by the library.

    PipelineError                 base of everything below; carries a message key and its arguments
    ├── CatalogError              a descriptor or schema is invalid or missing
    ├── SourceError               a source could not be fetched
    │   ├── SourceNotFound        a drop-folder file or HTTP resource does not exist
    │   └── BlockedAddress        a source or redirect leads to an address not allowed (`netguard`)
    ├── ReadError                 bytes could not be read as a table
    │   └── EncodingError         the text is not in the configured or detected encoding
    ├── ValidationFailed          the table breaks its Table Schema (the report is attached)
    └── PublishError              a target rejected or failed a publication

Each error renders itself through `opendata_sofia.i18n`, so the CLI and the reports show the
operator's language while the code only raises keys.
"""

from __future__ import annotations

from typing import Any


class PipelineError(Exception):
    """Base class: a failure with a message key from the catalogue in `i18n`."""

    key = "error.pipeline"

    def __init__(self, key: str | None = None, **params: Any):
        self.key = key or self.key
        self.params = params
        super().__init__(self.render("en"))

    def render(self, lang: str | None = None) -> str:
        """Render the message in `lang`, with secrets and URL credentials masked."""
        from opendata_sofia.i18n import message
        from opendata_sofia.security.redaction import redact

        return redact(message(self.key, lang=lang, **self.params))


class CatalogError(PipelineError):
    """Raised when a dataset descriptor, schema or organization entry is invalid or missing."""

    key = "catalog.invalid"


class SourceError(PipelineError):
    """Raised when a source could not be fetched."""

    key = "source.failed"


class SourceNotFound(SourceError):
    """Raised when the source file or URL does not exist."""

    key = "source.not_found"


class ReadError(PipelineError):
    """Raised when the bytes of a source cannot be read as a table."""

    key = "read.failed"


class EncodingError(ReadError):
    """Raised when text does not decode, or decodes to look-alike letters (mojibake)."""

    key = "read.encoding"


class ValidationFailed(PipelineError):
    """Raised when a table breaks its Table Schema; `reports` contains one report per resource."""

    key = "validation.failed"

    def __init__(self, reports: Any, **params: Any):
        self.reports = reports
        super().__init__(**params)


class PublishError(PipelineError):
    """Raised when a publishing target rejects or fails a publication."""

    key = "publish.failed"
