"""Bulgarian transliteration and CKAN dataset names.

`transliterate` follows the table of the Bulgarian Transliteration Act (Закон за
транслитерацията, 2009): щ→sht, ъ→a, ю→yu, я→ya, ц→ts, й→y, and "ия" at the end of a word →
"ia". Russian-style tables (щ→shch, ъ→"", я→ia), as python-slugify applies, give names that
Bulgarian readers do not recognise.
"""

from __future__ import annotations

import re
import unicodedata

NAME_PATTERN = re.compile(r"^[a-z0-9_-]{2,100}$")
NAME_MAX_LENGTH = 100

_LETTERS = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sht",
    "ъ": "a", "ь": "y", "ю": "yu", "я": "ya", "ѝ": "i",
}  # fmt: skip

# "ия" closing a word is written "ia" (София → Sofia), before the letter-by-letter table.
_FINAL_IA = re.compile(r"(и)(я)(?![^\W\d_])", re.IGNORECASE)


def transliterate(text: str) -> str:
    """Write Bulgarian Cyrillic text in Latin letters; other characters stay as they are.

    Case follows the source: "Щ" before a lower-case letter gives "Sht", inside an all-caps
    word "SHT".
    """
    text = _FINAL_IA.sub(_final_ia, text)

    result: list[str] = []
    for index, char in enumerate(text):
        latin = _LETTERS.get(char.lower())
        if latin is None:
            result.append(char)
        elif char.islower():
            result.append(latin)
        elif _in_capitals(text, index):
            result.append(latin.upper())
        else:
            result.append(latin.capitalize())
    return "".join(result)


def _final_ia(found: re.Match[str]) -> str:
    latin = "I" if found.group(1).isupper() else "i"
    latin += "A" if found.group(2).isupper() else "a"
    return latin


def _in_capitals(text: str, index: int) -> bool:
    """Tell whether the capital at `index` belongs to an all-caps word (its neighbours are capitals)."""
    neighbours = [text[i] for i in (index - 1, index + 1) if 0 <= i < len(text) and text[i].isalpha()]
    return bool(neighbours) and all(char.isupper() for char in neighbours)


def slugify(text: str, max_length: int = NAME_MAX_LENGTH) -> str:
    """Return a CKAN-valid name (`^[a-z0-9_-]{2,100}$`) for a Bulgarian or English title.

    Letters are transliterated and lower-cased, and accents are dropped. Every run of other
    characters becomes one "-". A name longer than `max_length` is cut at the last "-" that
    fits. Raises ValueError when fewer than two letters or digits remain.
    """
    latin = transliterate(text)
    # Accents go; any other non-ASCII character (an en dash, a non-Bulgarian letter) separates words
    kept = []
    for char in unicodedata.normalize("NFKD", latin):
        if char.isascii():
            kept.append(char)
        elif not unicodedata.combining(char):
            kept.append("-")
    ascii_text = "".join(kept)
    name = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")

    if len(name) > max_length:
        cut = name[: max_length + 1].rfind("-")
        name = name[:cut] if cut >= 2 else name[:max_length]
        name = name.strip("-")

    if not NAME_PATTERN.match(name) or len(name) > max_length:
        raise ValueError(f"cannot make a dataset name of 2 or more letters or digits from {text!r}")
    return name


def unique_name(base: str, taken: dict[str, str], source_id: str) -> str:
    """Return `base`, or `base-2`, `base-3`… : the first name free or already owned by `source_id`.

    `taken` maps each name in use to the source id that owns it, so re-running with the same
    catalog gives every dataset the name it had before.
    """
    suffix = 1
    name = base
    while name in taken and taken[name] != source_id:
        suffix += 1
        tail = f"-{suffix}"
        name = base[: NAME_MAX_LENGTH - len(tail)].rstrip("-") + tail
    return name
