"""Propose a Table Schema field for one column, from every value of the column.

`ColumnProfile` is fed each cell of a column, from the first row to the last, and keeps only
what the choice needs: counts per candidate reading, the shapes of code-like values and the
distinct values (for `unique`). `propose_field` turns the profile into a field, its locale and
clean-up rules, and notes for the person who reviews the proposal.

The choice, in order:

1. codes become strings with a `pattern`, because a number type would drop leading zeros.
   Codes are digit strings with a leading zero, digits under a label such as "код", digit
   strings of one width of 4 or more that repeat or number 20 or more, and values that mix
   digits with letters or `-` `/`. A column of years looks the same, so the reviewer may change
   it to `integer`;
2. whole numbers → `integer`;
3. `да`/`не`, `true`/`false`, `yes`/`no` → `boolean`;
4. dates and date-times in a known format → `date` / `datetime`;
5. numbers with a decimal comma or point and a group separator → `number`;
6. anything else → `string`.

A type other than string is proposed when more than half of the values read as it; the others
are listed in a note, because validation will report them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opendata_sofia.onboarding.code_patterns import Shape, code_pattern, shape_of

# Labels that name identifiers: their digit columns stay strings even without leading zeros.
CODE_LABEL = re.compile(r"код|code|екатте|ekatte|идентификатор|булстат|еик|\bid\b", re.IGNORECASE)
CODE_MIN_FIXED_WIDTH = 4
CODE_MIN_FIXED_WIDTH_VALUES = 20
CODE_VALUE = re.compile(r"^[0-9A-Za-zА-Яа-я]+(?:[-/][0-9A-Za-zА-Яа-я]+)*$")
INTEGER_VALUE = re.compile(r"^[-+]?[0-9]+$")
BOOLEAN_VALUES = ({"да", "не"}, {"true", "false"}, {"yes", "no"})
# Suffixes that Bulgarian exports write after a year ("19.07.2024 г.").
DATE_SUFFIXES = (" г.", " г", "г.")
DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d")
DATETIME_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
# Formats that frictionless reads without a `format` property.
ISO_FORMATS = {"%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"}
# (decimalChar, groupChar) pairs, in order of preference when several read every value.
NUMBER_LOCALES = (
    (".", ""), (",", ""), (",", " "), (",", "\u00a0"), (",", "."),
    (".", ","), (".", " "), (".", "\u00a0"), (",", "'"), (".", "'"),
)  # fmt: skip
NOTE_EXAMPLES = 5


@dataclass
class ColumnProfile:
    """Counts and shapes of the values of one column, gathered over the whole column.

    NOTE: `distinct` keeps every value of the column in memory, so a column of a million long
    unique values takes tens of megabytes while `unique` is being decided.
    """

    label: str
    rows: int = 0
    values: int = 0
    padded: int = 0
    distinct: set[str] = field(default_factory=set)
    shapes: set[Shape] = field(default_factory=set)
    digit_lengths: set[int] = field(default_factory=set)
    leading_zero: bool = False
    code_like: int = 0
    mixed_code: bool = False
    integers: int = 0
    non_negative: bool = True
    lowered: set[str] = field(default_factory=set)
    date_counts: dict[str, int] = field(default_factory=dict)
    suffixed: int = 0
    number_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    number_uses: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # The first values that each candidate format or locale cannot read, to show the reviewer.
    misses: dict[Any, list[str]] = field(default_factory=dict)

    def feed(self, cell: str | None) -> None:
        """Add one cell; an empty or whitespace-only cell counts as missing."""
        self.rows += 1
        if cell is None or not cell.strip():
            return

        value = cell.strip()
        self.values += 1
        self.padded += value != cell
        self.distinct.add(value)
        self._feed_code(value)
        self._feed_integer(value)
        if len(self.lowered) <= 2:
            self.lowered.add(value.casefold())
        self._feed_date(value)
        self._feed_number(value)

    def _feed_code(self, value: str) -> None:
        if not CODE_VALUE.match(value) or not any(char.isdigit() for char in value):
            return
        self.code_like += 1
        self.shapes.add(shape_of(value))
        if value.isdigit():
            self.digit_lengths.add(len(value))
            self.leading_zero = self.leading_zero or (len(value) > 1 and value.startswith("0"))
        else:
            self.mixed_code = True

    def _feed_integer(self, value: str) -> None:
        if INTEGER_VALUE.match(value):
            self.integers += 1
            self.non_negative = self.non_negative and not value.startswith("-")

    def _feed_date(self, value: str) -> None:
        text = value
        for suffix in DATE_SUFFIXES:
            if text.endswith(suffix):
                text = text[: -len(suffix)]
                self.suffixed += 1
                break
        for pattern in DATE_FORMATS + DATETIME_FORMATS:
            try:
                datetime.strptime(text, pattern)
            except ValueError:
                self._miss(pattern, value)
                continue
            self.date_counts[pattern] = self.date_counts.get(pattern, 0) + 1

    def _feed_number(self, value: str) -> None:
        for decimal_char, group_char in NUMBER_LOCALES:
            key = (decimal_char, group_char)
            used = _number_parts(value, decimal_char, group_char)
            if used is None:
                self._miss(key, value)
                continue
            self.number_counts[key] = self.number_counts.get(key, 0) + 1
            self.number_uses.setdefault(key, set()).update(used)
            if value.startswith("-"):
                self.non_negative = False

    def _miss(self, candidate: Any, value: str) -> None:
        examples = self.misses.setdefault(candidate, [])
        if len(examples) < NOTE_EXAMPLES:
            examples.append(value)


def _number_parts(value: str, decimal_char: str, group_char: str) -> set[str] | None:
    """Return which of the two separators `value` uses, or None when it is no number in this locale."""
    decimal = re.escape(decimal_char)
    if group_char:
        group = re.escape(group_char)
        pattern = rf"^[-+]?(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]+)(?:{decimal}[0-9]+)?$"
    else:
        pattern = rf"^[-+]?[0-9]+(?:{decimal}[0-9]+)?$"
    if not re.match(pattern, value):
        return None

    used = set()
    if decimal_char in value:
        used.add("decimalChar")
    if group_char and group_char in value:
        used.add("groupChar")
    return used


@dataclass
class FieldProposal:
    """A proposed schema field with what the source needs to be read as it."""

    field: dict[str, Any]
    locale: dict[str, Any] = field(default_factory=dict)
    cleanup: list[dict[str, Any]] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)  # proposed from the data, for review
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (message key, parameters)


def propose_field(name: str, profile: ColumnProfile) -> FieldProposal:
    """Return the field for the column of `profile`, named `name`, titled by its source label."""
    proposal = FieldProposal(field={"name": name, "type": "string", "title": profile.label})
    if profile.padded:
        proposal.cleanup.append({"fields": [name], "strip": True})

    if not profile.values:
        proposal.notes.append(("describe.note.empty_column", {"field": name}))
    elif _is_code(profile):
        _as_code(proposal, profile)
    elif profile.integers == profile.values:
        proposal.field["type"] = "integer"
    elif _boolean_values(profile):
        _as_boolean(proposal, _boolean_values(profile))
    elif _best_date(profile):
        _as_date(proposal, profile, *_best_date(profile))
    elif _best_number(profile):
        _as_number(proposal, profile, _best_number(profile))

    _propose_constraints(proposal, profile)
    return proposal


# Types


def _is_code(profile: ColumnProfile) -> bool:
    if profile.code_like != profile.values:
        return False
    if profile.mixed_code or profile.leading_zero:
        return True
    if CODE_LABEL.search(profile.label):
        return True

    # One width alone also fits a few counts (73939, 90495); codes repeat or come in numbers.
    fixed_width = len(profile.digit_lengths) == 1 and min(profile.digit_lengths) >= CODE_MIN_FIXED_WIDTH
    repeated = len(profile.distinct) < profile.values
    return fixed_width and (repeated or profile.values >= CODE_MIN_FIXED_WIDTH_VALUES)


def _as_code(proposal: FieldProposal, profile: ColumnProfile) -> None:
    # A code stays text: an integer type would turn 00357 into 357 in every output.
    proposal.field["constraints"] = {"pattern": code_pattern(profile.shapes)}
    proposal.notes.append(("describe.note.code", {"field": proposal.field["name"]}))


def _boolean_values(profile: ColumnProfile) -> set[str] | None:
    return next((values for values in BOOLEAN_VALUES if profile.lowered and profile.lowered <= values), None)


def _as_boolean(proposal: FieldProposal, values: set[str]) -> None:
    proposal.field["type"] = "boolean"
    true_value, false_value = sorted(values, key=lambda value: value in ("не", "false", "no"))
    if true_value != "true":
        proposal.locale = {
            "trueValues": [true_value, true_value.capitalize(), true_value.upper()],
            "falseValues": [false_value, false_value.capitalize(), false_value.upper()],
        }


def _best_date(profile: ColumnProfile) -> tuple[str, int] | None:
    if not profile.date_counts:
        return None
    pattern, count = max(profile.date_counts.items(), key=lambda item: item[1])
    return (pattern, count) if count * 2 > profile.values else None


def _as_date(proposal: FieldProposal, profile: ColumnProfile, pattern: str, count: int) -> None:
    name = proposal.field["name"]
    proposal.field["type"] = "datetime" if pattern in DATETIME_FORMATS else "date"
    if pattern not in ISO_FORMATS:
        proposal.locale = {"format": pattern}
    if profile.suffixed:
        proposal.cleanup.append({"fields": [name], "stripSuffix": " г."})
        proposal.notes.append(("describe.note.year_suffix", {"field": name, "count": profile.suffixed}))
    _note_unreadable(proposal, profile, count, pattern, pattern)


def _best_number(profile: ColumnProfile) -> tuple[str, str] | None:
    if not profile.number_counts:
        return None
    best = max(NUMBER_LOCALES, key=lambda key: profile.number_counts.get(key, 0))
    return best if profile.number_counts.get(best, 0) * 2 > profile.values else None


def _as_number(proposal: FieldProposal, profile: ColumnProfile, locale: tuple[str, str]) -> None:
    decimal_char, group_char = locale
    used = profile.number_uses.get(locale, set())
    proposal.field["type"] = "number"
    if "decimalChar" in used and decimal_char != ".":
        proposal.locale["decimalChar"] = decimal_char
    if "groupChar" in used:
        proposal.locale["groupChar"] = group_char
    _note_unreadable(proposal, profile, profile.number_counts[locale], locale, "number")


def _note_unreadable(proposal: FieldProposal, profile: ColumnProfile, readable: int, candidate: Any, form: str) -> None:
    """Note how many values will not validate as `form`, with the first of them."""
    unreadable = profile.values - readable
    if unreadable:
        examples = ", ".join(profile.misses.get(candidate, []))
        params = {"field": proposal.field["name"], "count": unreadable, "form": form, "examples": examples}
        proposal.notes.append(("describe.note.unreadable_values", params))


# Constraints


def _propose_constraints(proposal: FieldProposal, profile: ColumnProfile) -> None:
    """Propose only what every row shows; the reviewer decides whether it is a rule of the data."""
    constraints = proposal.field.setdefault("constraints", {})
    field_type = proposal.field["type"]

    if profile.rows and profile.values == profile.rows:
        constraints["required"] = True
        proposal.constraints.append("required")
    if field_type in ("string", "integer") and profile.rows >= 2 and len(profile.distinct) == profile.rows:
        constraints["unique"] = True
        proposal.constraints.append("unique")
    if field_type in ("integer", "number") and profile.values and profile.non_negative:
        constraints["minimum"] = 0
        proposal.constraints.append("minimum")

    if not constraints:
        del proposal.field["constraints"]
