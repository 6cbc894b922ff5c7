"""Regular expressions that describe a column of codes (`00357`, `68134-21`, `0164А`).

A value is split into runs of one character class: digits, Latin or Cyrillic capitals, Latin or
Cyrillic lower-case letters, or one other character taken literally. The runs of every value
are merged into one Table Schema `pattern`, so the schema states the shape of the codes.
"""

from __future__ import annotations

import re
from itertools import groupby

# Character class of each run kind, as written in the pattern.
CLASSES = {
    "digit": "0-9",
    "latin_upper": "A-Z",
    "latin_lower": "a-z",
    "cyrillic_upper": "А-Я",
    "cyrillic_lower": "а-я",
}

Shape = tuple[tuple[str, int], ...]


def shape_of(value: str) -> Shape:
    """Return the runs of `value` as `(kind, length)`; a kind outside CLASSES is the character itself."""
    return tuple((kind, len(list(run))) for kind, run in groupby(value, key=_kind))


def _kind(char: str) -> str:
    if "0" <= char <= "9":
        return "digit"
    if "A" <= char <= "Z":
        return "latin_upper"
    if "a" <= char <= "z":
        return "latin_lower"
    if "А" <= char <= "Я":
        return "cyrillic_upper"
    if "а" <= char <= "я":
        return "cyrillic_lower"
    return char


def code_pattern(shapes: set[Shape]) -> str:
    """Return one anchored pattern that matches every value whose shape is in `shapes`.

    Shapes with the same sequence of kinds merge their run lengths (`[0-9]{6,7}`). Shapes that
    differ only by one trailing run make that run optional (`[0-9]{4}[А-Я]?`). Anything else
    falls back to the set of characters seen and the range of lengths.
    """
    kinds = {tuple(kind for kind, _ in shape) for shape in shapes}

    if len(kinds) == 1:
        return "^" + _runs(shapes) + "$"

    shortest = min(kinds, key=len)
    longer = kinds - {shortest}
    if all(len(other) == len(shortest) + 1 and other[:-1] == shortest for other in longer) and len(
        {other[-1] for other in longer}
    ) == 1:
        base = {shape for shape in shapes if len(shape) == len(shortest)}
        tails = [shape[-1] for shape in shapes if len(shape) > len(shortest)]
        heads = {shape[:-1] for shape in shapes if len(shape) > len(shortest)}
        tail = _run(tails[0][0], [length for _, length in tails])
        optional = f"{tail}?" if tail.endswith("]") else f"(?:{tail})?"
        return "^" + _runs(base | heads) + optional + "$"

    return _fallback(shapes)


def _runs(shapes: set[Shape]) -> str:
    """Write shapes that share their sequence of kinds as one run per position."""
    columns = zip(*shapes)
    return "".join(_run(run[0][0], [length for _, length in run]) for run in columns)


def _run(kind: str, lengths: list[int]) -> str:
    low, high = min(lengths), max(lengths)
    atom = f"[{CLASSES[kind]}]" if kind in CLASSES else _literal(kind)
    if low == high == 1:
        return atom
    if low == high:
        return f"{atom}{{{low}}}"
    return f"{atom}{{{low},{high}}}"


def _literal(char: str) -> str:
    # "-" and "/" need no escape outside a character class, and codes read better without one.
    return char if char in "-/" else re.escape(char)


def _fallback(shapes: set[Shape]) -> str:
    kinds = sorted({kind for shape in shapes for kind, _ in shape})
    characters = "".join(CLASSES[kind] if kind in CLASSES else re.escape(kind) for kind in kinds)
    lengths = [sum(length for _, length in shape) for shape in shapes]
    return f"^[{characters}]{{{min(lengths)},{max(lengths)}}}$"
