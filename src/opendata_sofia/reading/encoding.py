"""The encoding of a source file: taken from the options or detected, and always verified.

Detection tries only UTF-8 (with or without BOM) and windows-1251, the two encodings the
municipality's systems and Excel produce. Statistical detectors (chardet, charset-normalizer)
mistake short windows-1251 files for KOI8-U, MacCyrillic or cp932, so they are not used.
Whichever encoding is chosen, the whole file is decoded once before any row is read, and the
decoded text must pass the mojibake guard in `mojibake`.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from opendata_sofia.errors import EncodingError, ReadError
from opendata_sofia.reading.mojibake import LetterStats

CHUNK_BYTES = 1 << 20
UTF8_BOM = codecs.BOM_UTF8

# Encodings proposed to the operator when the text decodes to mojibake; detection itself
# stays limited to UTF-8 and windows-1251.
SUGGESTED_ENCODINGS = ("utf-8", "windows-1251", "koi8-r", "koi8-u", "mac-cyrillic", "cp866", "iso8859-5")

_DISPLAY_NAMES = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp1251": "windows-1251", "cp1252": "windows-1252"}


def display_name(encoding: str) -> str:
    """Return the name an operator writes in `sofia.read.encoding` for a Python codec name."""
    codec = codecs.lookup(encoding).name
    return _DISPLAY_NAMES.get(codec, codec)


def resolve_encoding(path: Path, configured: str | None) -> str:
    """Return the encoding to read `path` with, after decoding the whole file with it.

    Raises EncodingError when the configured encoding does not decode the file or gives
    mojibake, and when neither UTF-8 nor windows-1251 gives readable text.
    """
    if configured:
        return _verify_configured(path, configured)
    return _detect(path)


def _verify_configured(path: Path, configured: str) -> str:
    try:
        codec = codecs.lookup(configured).name
    except LookupError:
        raise ReadError("read.encoding_unknown_name", file=path.name, encoding=configured) from None

    try:
        stats = _decode_all(path, codec)
    except UndecodableBytes as exc:
        raise _undecodable_error(path, display_name(configured), exc) from None

    # Single-byte code pages decode any bytes, so a UTF-8 file read as windows-1251 must be
    # caught by checking the bytes themselves.
    if _is_single_byte(codec) and _is_utf8_text(path):
        raise _mojibake_error(path, display_name(configured), ("utf8", stats.samples.get("non_ascii", "")))
    return _checked(path, codec, stats)


def _detect(path: Path) -> str:
    with path.open("rb") as stream:
        has_bom = stream.read(len(UTF8_BOM)) == UTF8_BOM

    # A BOM settles the encoding: invalid bytes after it are an error, not a hint to try another.
    if has_bom:
        try:
            return _checked(path, "utf-8-sig", _decode_all(path, "utf-8-sig"))
        except UndecodableBytes as exc:
            raise _undecodable_error(path, "utf-8-sig", exc) from None

    for encoding in ("utf-8", "windows-1251"):
        try:
            stats = _decode_all(path, encoding)
        except UndecodableBytes:
            continue
        return _checked(path, encoding, stats)

    raise _with_suggestion(
        "read.encoding_undetected",
        path,
        exclude=("utf-8", "windows-1251"),
        encoding="utf-8, windows-1251",
    )


def _checked(path: Path, encoding: str, stats: LetterStats) -> str:
    problem = stats.problem()
    if problem:
        raise _mojibake_error(path, display_name(encoding), problem)
    return display_name(encoding)


def _decode_all(path: Path, codec: str) -> LetterStats:
    """Decode the whole file with `codec` and gather letter statistics on the way."""
    stats = LetterStats()
    for text in iter_text(path, codec):
        stats.feed(text)
    return stats


class UndecodableBytes(ValueError):
    """Raised by `iter_text` at the first byte sequence the codec cannot decode."""

    def __init__(self, line: int, value: bytes):
        self.line = line
        self.value = value
        super().__init__(f"line {line}: {value.hex(' ')}")


def iter_text(path: Path, codec: str) -> Iterator[str]:
    """Yield the decoded text of `path` in chunks that end at a line break."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    newlines_before = 0
    carry = ""
    with path.open("rb") as stream:
        while True:
            data = stream.read(CHUNK_BYTES)
            final = not data
            try:
                text = carry + decoder.decode(data, final=final)
            except UnicodeDecodeError as exc:
                line = newlines_before + bytes(exc.object[: exc.start]).count(b"\n") + 1
                raise UndecodableBytes(line, bytes(exc.object[exc.start : exc.end])) from None

            if final:
                if text:
                    yield text
                return

            newlines_before += data.count(b"\n")
            cut = text.rfind("\n") + 1
            carry = text[cut:]
            if cut:
                yield text[:cut]


def _undecodable_error(path: Path, encoding: str, exc: UndecodableBytes) -> EncodingError:
    return _with_suggestion(
        "read.encoding_invalid_bytes",
        path,
        exclude=(encoding,),
        encoding=display_name(encoding),
        row=exc.line,
        value=exc.value.hex(" "),
    )


def _mojibake_error(path: Path, encoding: str, problem: tuple[str, str]) -> EncodingError:
    kind, sample = problem
    return _with_suggestion(
        "read.encoding_mojibake", path, exclude=(encoding,), encoding=encoding, value=sample, kind=kind
    )


def _with_suggestion(key: str, path: Path, exclude: tuple[str, ...], **params: object) -> EncodingError:
    """Build the error with the encoding to configure, or the `_no_fix` message when none reads well."""
    suggested = _suggest(path, exclude)
    if suggested is None:
        return EncodingError(f"{key}_no_fix", file=path.name, **params)
    return EncodingError(key, file=path.name, suggested=suggested, **params)


def _suggest(path: Path, exclude: tuple[str, ...]) -> str | None:
    """Return the encoding under which the file reads most like Bulgarian, if any reads well."""
    excluded = {codecs.lookup(name).name.replace("utf-8-sig", "utf-8") for name in exclude}

    # Valid UTF-8 with non-ASCII text is UTF-8: single-byte code pages would decode it too.
    if _is_utf8_text(path):
        return None if "utf-8" in excluded else "utf-8"

    best: tuple[float, str] | None = None
    for encoding in SUGGESTED_ENCODINGS:
        if codecs.lookup(encoding).name in excluded:
            continue
        try:
            stats = _decode_all(path, encoding)
        except UndecodableBytes:
            continue
        if stats.problem() is not None:
            continue

        # windows-1251 is what the municipality's systems write. MacCyrillic shares its lower-case
        # letters, so on a short file it can score higher while turning every capital into a symbol.
        if encoding == "windows-1251":
            return encoding

        score = stats.frequent_share()
        if best is None or score > best[0]:
            best = (score, encoding)
    return best[1] if best else None


def _is_single_byte(codec: str) -> bool:
    return not codecs.lookup(codec).name.startswith(("utf", "utf_"))


def _is_utf8_text(path: Path) -> bool:
    """Tell whether the file is valid UTF-8 with at least one non-ASCII character."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    non_ascii = False
    with path.open("rb") as stream:
        while data := stream.read(CHUNK_BYTES):
            try:
                decoder.decode(data)
            except UnicodeDecodeError:
                return False
            non_ascii = non_ascii or not data.isascii()
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return non_ascii
