"""Messages for operators, Bulgarian first.

Every user-facing text lives in `locales/*.json`, one file per area, as
``{"key": {"bg": "…", "en": "…"}}`` with `str.format` placeholders. Code refers to texts by key
only. The language is `bg` unless `set_language("en")` was called or `OPENDATA_SOFIA_LANG=en`
is set.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("bg", "en")
_language: str | None = None


def set_language(lang: str) -> None:
    """Set the language of every message rendered after this call."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    global _language
    _language = lang


def get_language() -> str:
    """Return the language in force: `set_language`, then `OPENDATA_SOFIA_LANG`, then `bg`."""
    if _language:
        return _language
    lang = os.environ.get("OPENDATA_SOFIA_LANG", "bg")
    return lang if lang in LANGUAGES else "bg"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Load and merge every `locales/*.json` file; a key defined twice is a programming error."""
    merged: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files("opendata_sofia.locales").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        for key, texts in json.loads(entry.read_text(encoding="utf-8")).items():
            if key in merged:
                raise RuntimeError(f"message key {key!r} is defined twice (again in {entry.name})")
            merged[key] = texts
    return merged


def message(key: str, lang: str | None = None, **params: Any) -> str:
    """Render the message `key` in `lang` (default: the language in force) with `params`.

    An unknown key renders as the key and its parameters, so a missing translation shows up in
    output instead of hiding the error behind it.
    """
    texts = catalogue().get(key)
    if texts is None:
        detail = ", ".join(f"{name}={value!r}" for name, value in params.items())
        return f"{key}({detail})"

    template = texts.get(lang or get_language()) or texts["en"]
    return template.format(**params)


def both(key: str, **params: Any) -> dict[str, str]:
    """Render `key` in every language, for reports that keep both."""
    return {lang: message(key, lang=lang, **params) for lang in LANGUAGES}
