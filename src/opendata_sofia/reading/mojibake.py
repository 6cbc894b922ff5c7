"""Letter statistics that tell Bulgarian text from text decoded with the wrong code page.

A single-byte file decodes without error in almost any single-byte code page, so a clean decode
proves nothing. What does show a wrong code page is how the letters look:

- KOI8-R/U read from windows-1251 bytes swaps case ("Район" becomes "пЮИНМ") and permutes the
  alphabet, so the most frequent Bulgarian letters (о а е и т н р с в л) lose their share.
- MacCyrillic read from windows-1251 bytes turns capitals into symbols and into Cyrillic letters
  that Bulgarian does not use (ј, ќ, Ћ, ў, ё).
- cp1252 / latin-1 read from any Cyrillic bytes gives runs of accented Latin letters ("Ðàéîí").

The thresholds below were set on the windows-1251 and UTF-8 Bulgarian exports that the reading
tests use (municipal, ministry and NSI files), each decoded rightly and wrongly. Rightly decoded, the ten frequent letters
make up 61–75 % of the Bulgarian letters, and letters Bulgarian does not use at most 0.2 % of
the Cyrillic ones. Wrongly decoded, the frequent letters drop to 0–42 % or the foreign letters
rise above 4 %.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

BULGARIAN_LETTERS = frozenset("абвгдежзийклмнопрстуфхцчшщъьюяѝ")
FREQUENT_LETTERS = frozenset("оаеитнрсвл")

# NOTE: the guard assumes Bulgarian text. Russian (ы, э) or Ukrainian (і, ї, є) text in a
# correct encoding can exceed MAX_FOREIGN_SHARE and be rejected, and no option turns it off.
MIN_LETTERS_FOR_FREQUENCY = 50
MIN_FREQUENT_SHARE = 0.5
MIN_CYRILLIC_FOR_FOREIGN = 20
MAX_FOREIGN_SHARE = 0.03
MIN_LATIN_LOOKALIKES = 10
MAX_LATIN_LOOKALIKE_SHARE = 0.15
MIN_INVERTED_WORDS = 3

_CYRILLIC = "\u0400-\u04ff"
# KOI8 turns a capitalised windows-1251 word into one that starts in lower case and continues
# in capitals. The opposite shape is an ordinary capitalised word.
_INVERTED_WORD = re.compile(rf"(?<![{_CYRILLIC}])[а-яѐ-џ][А-ЯЀ-Џ]{{2,}}(?![{_CYRILLIC}])")
_CAPITALISED_WORD = re.compile(rf"(?<![{_CYRILLIC}])[А-ЯЀ-Џ][а-яѐ-џ]{{2,}}(?![{_CYRILLIC}])")
_FOREIGN_LETTERS = "".join(
    char for char in map(chr, range(0x400, 0x500)) if char.isalpha() and char.lower() not in BULGARIAN_LETTERS
)
# A pattern that starts with a run like [...]* is tried only where a run starts. Tried at every
# position, each failed search rescans the rest of the run, so a long run without a match (a hex
# cell, one long word) takes quadratic time. The lookbehind keeps the leftmost match the same,
# because that match always starts where its run starts.
_FOREIGN_WORD = re.compile(rf"(?<![{_CYRILLIC}])[{_CYRILLIC}]*[{_FOREIGN_LETTERS}][{_CYRILLIC}]*")
# No leading \w*: it would make every search backtrack through every word of a clean file.
_LATIN_RUN = re.compile(r"[\u00c0-\u024f]{2,}\w*")
_CYRILLIC_WORD = re.compile(rf"[{_CYRILLIC}]{{4,}}")
_NON_ASCII_WORD = re.compile(r"(?<!\w)\w*[^\x00-\x7f]\w*")
# The sample word only illustrates the message, so a word of a million letters is cut short.
MAX_SAMPLE_CHARS = 40


def _is_latin_lookalike(char: str) -> bool:
    return "\u00c0" <= char <= "\u024f" and char.isalpha()


def _is_cyrillic(char: str) -> bool:
    return "\u0400" <= char <= "\u04ff"


@dataclass
class LetterStats:
    """Counts gathered over a whole decoded text, fed chunk by chunk."""

    characters: Counter = field(default_factory=Counter)
    inverted_words: int = 0
    capitalised_words: int = 0
    samples: dict[str, str] = field(default_factory=dict)

    def feed(self, text: str) -> None:
        """Add one chunk of decoded text; chunks should end at a line break so words stay whole."""
        self.characters.update(text)
        self.inverted_words += len(_INVERTED_WORD.findall(text))
        self.capitalised_words += len(_CAPITALISED_WORD.findall(text))

        # Keep one example word per kind of damage, for the message to the operator.
        for kind, pattern in (
            ("inverted", _INVERTED_WORD),
            ("foreign", _FOREIGN_WORD),
            ("latin", _LATIN_RUN),
            ("frequency", _CYRILLIC_WORD),
            ("non_ascii", _NON_ASCII_WORD),
        ):
            if kind not in self.samples:
                found = pattern.search(text)
                if found:
                    self.samples[kind] = found.group(0)[:MAX_SAMPLE_CHARS]

    def problem(self) -> tuple[str, str] | None:
        """Return (kind, example word) when the text reads as mojibake, else None."""
        letters = cyrillic = bulgarian = frequent = latin = 0
        for char, count in self.characters.items():
            if not char.isalpha():
                continue
            letters += count
            lower = char.lower()
            if _is_cyrillic(char):
                cyrillic += count
            if lower in BULGARIAN_LETTERS:
                bulgarian += count
            if lower in FREQUENT_LETTERS:
                frequent += count
            if _is_latin_lookalike(char):
                latin += count

        if latin >= MIN_LATIN_LOOKALIKES and latin / letters >= MAX_LATIN_LOOKALIKE_SHARE:
            return "latin", self.samples.get("latin", "")

        if cyrillic >= MIN_CYRILLIC_FOR_FOREIGN and (cyrillic - bulgarian) / cyrillic >= MAX_FOREIGN_SHARE:
            return "foreign", self.samples.get("foreign", "")

        if self.inverted_words >= MIN_INVERTED_WORDS and self.inverted_words > self.capitalised_words:
            return "inverted", self.samples.get("inverted", "")

        if bulgarian >= MIN_LETTERS_FOR_FREQUENCY and frequent / bulgarian < MIN_FREQUENT_SHARE:
            return "frequency", self.samples.get("frequency", "")

        return None

    def frequent_share(self) -> float:
        """Return the share of the ten most frequent Bulgarian letters among Bulgarian letters."""
        bulgarian = sum(n for ch, n in self.characters.items() if ch.lower() in BULGARIAN_LETTERS)
        frequent = sum(n for ch, n in self.characters.items() if ch.lower() in FREQUENT_LETTERS)
        return frequent / bulgarian if bulgarian else 0.0
