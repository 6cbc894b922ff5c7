"""Placeholders that `describe` writes into a new descriptor for a person to replace.

Every placeholder is a string that starts with `TODO:`, so it is easy to search for, and the
catalog check rejects a descriptor or schema that still contains one.
"""

from __future__ import annotations

from typing import Any

MARKER = "TODO:"


def placeholder(text: str) -> str:
    """Return `text` marked as a placeholder."""
    return f"{MARKER} {text}"


def find_placeholders(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Return `(JSON path, text)` for every string in `value` that starts with the marker."""
    if isinstance(value, str):
        return [(path or "$", value)] if value.lstrip().startswith(MARKER) else []

    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(find_placeholders(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(find_placeholders(item, f"{path}[{index}]"))
    return found
