"""File names that come from a source (an HTTP header, a URL, an inbox file) made safe to use.

A source chooses the name a downloaded file is saved under in the work folder, so a name such as
`../../etc/cron.d/x`, `..`, `C:\\x`, a name with control characters, or one longer than the file
system allows must not reach `Path`. Cyrillic letters, spaces and commas stay, because real
exports are named `Райони-код,реф.номера.csv`. The suffix is kept, because readers pick the
format by it.
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_NAME = "download"
MAX_NAME_BYTES = 200  # below the 255-byte limit of common file systems, with room for a prefix
UNSAFE = re.compile(r"[^\w.,() +-]")


def safe_file_name(name: str | None, default: str = DEFAULT_NAME) -> str:
    """Return the last path component of `name`, with unsafe characters replaced by `_`."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(char for char in text if unicodedata.category(char)[0] != "C")

    # Both separators: a Windows path from a Content-Disposition header is still a path
    text = re.split(r"[/\\]", text)[-1]
    text = UNSAFE.sub("_", text).strip(" .")
    if not text or set(text) <= {".", "_"}:
        return default
    return _shorten(text)


def _shorten(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = name, ""
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8")) - 1
    stem = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return f"{stem}.{suffix}" if suffix else stem
