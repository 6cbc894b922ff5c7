"""Personal data guard: find columns that hold personal data before a table is published.

The guard reads the work CSV (the validated table, with schema field names) in batches and
counts, per column, cells that hold one of these kinds:

| kind    | what matches                                                          | flagged when |
|---------|-----------------------------------------------------------------------|--------------|
| `egn`   | ЕГН: 10 digits, a valid birth date (month +20 for the 1800s, +40 for   | one match    |
|         | the 2000s, not in the future) and the mod-11 check digit              |              |
| `lnch`  | ЛНЧ: 10 digits with the mod-10 check digit, not a valid ЕГН             | 3 matches and 90% of the column's 10-digit numbers |
| `email` | an e-mail address outside the public-service domains and not a role   | one match    |
|         | mailbox (`info@`, `office@`, `kancelaria@`, …)                         |              |
| `phone` | a Bulgarian mobile number: `+359 87/88/89 …` or `087/088/089 …`        | one match    |
| `iban`  | a Bulgarian IBAN (`BG` + 2 check digits + 4 letters + 14) with mod 97 | one match    |

Landline numbers (`02 …`, `032 …`) are never flagged. In municipal registers they belong to
offices (the police-district layer lists `02/98-24160`), and the number alone cannot tell a
person's line from an institution's. One ЛНЧ-valid number is not enough because one in ten
random 10-digit codes passes the mod-10 check.

A flagged column blocks the dataset unless the resource's descriptor allows it with a reviewed
entry: `sofia.pii.allow: [{"field", "kind", "reason", "reviewedBy", "reviewedOn"}]`.

The public-service domains and role mailboxes are settings:

| variable | adds to |
|---|---|
| `OPENDATA_SOFIA_PII_PUBLIC_DOMAINS` | `PUBLIC_DOMAINS`, comma-separated; a domain also covers its subdomains |
| `OPENDATA_SOFIA_PII_ROLE_MAILBOXES` | `ROLE_MAILBOXES`, comma-separated local parts |
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from opendata_sofia.i18n import LANGUAGES, message

if TYPE_CHECKING:
    from opendata_sofia.catalog import DatasetSpec
    from opendata_sofia.normalise import WorkTable
    from opendata_sofia.validation import ReportError, ValidationReport

KINDS = ("egn", "lnch", "email", "phone", "iban")
ALLOW_KEYS = ("field", "kind", "reason", "reviewedBy", "reviewedOn")
ERROR_TYPE = "personal-data"

# Domains whose addresses belong to public bodies, not to persons. Each covers its subdomains
# (`edu.mon.bg`, `mh.government.bg`).
PUBLIC_DOMAINS = (
    "sofia.bg",
    "government.bg",
    "parliament.bg",
    "president.bg",
    "mon.bg",
    "mvr.bg",
    "nsi.bg",
    "bnb.bg",
    "egov.bg",
    "justice.bg",
    "prb.bg",
    "vss.bg",
    "nap.bg",
    "nssi.bg",
    "nhif.bg",
    "bg",  # only the bare domain: `x@bg` is no personal mailbox
    "europa.eu",
)
# Local parts of mailboxes that belong to a role (an office or a duty), not to a person.
ROLE_MAILBOXES = (
    "info", "office", "kancelaria", "kantselaria", "kanceliaria", "contact", "contacts", "secretary",
    "sekretar", "priemna", "press", "pr", "media", "admin", "webmaster", "postmaster", "noreply",
    "no-reply", "support", "help", "opendata", "data", "gdpr", "dpo", "obshtina", "delovodstvo",
)  # fmt: skip

# Minimum matching cells for a column to be flagged, per kind.
MIN_MATCHES = {"egn": 1, "lnch": 3, "email": 1, "phone": 1, "iban": 1}
LNCH_MIN_SHARE = 0.9
SAMPLE_ROWS = 5
SAMPLE_VALUES = 3

# A 10-digit number standing alone: not part of a longer number or of a decimal fraction
# (coordinates such as 23.3219876543 carry 10 fraction digits).
TEN_DIGITS = re.compile(r"(?<!\d)(?<!\d[.,])\d{10}(?!\d)(?![.,]\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# +359 / 00359 / 0, then 87, 88 or 89 and seven digits, with the usual separators.
MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)359[ \-/.]*\(?0?|\(?0)8[789](?:\)?[ \-/.]?\d){7}(?!\d)")
IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])BG\d{2}(?: ?[A-Za-z0-9]){18}(?![A-Za-z0-9])", re.IGNORECASE)
IBAN = re.compile(r"^BG\d{2}[A-Z]{4}\d{6}[A-Z0-9]{8}$")

EGN_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6)
LNCH_WEIGHTS = (21, 19, 17, 13, 11, 9, 7, 3, 1)


# Checks of one value


def is_valid_egn(digits: str, today: date | None = None) -> bool:
    """Return True for a 10-digit ЕГН with a real birth date, not in the future, and its check digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False

    year, month, day = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if 1 <= month <= 12:
        year += 1900
    elif 21 <= month <= 32:
        year, month = year + 1800, month - 20
    elif 41 <= month <= 52:
        year, month = year + 2000, month - 40
    else:
        return False
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    if born > (today or date.today()):
        return False

    return _check_digit(digits, EGN_WEIGHTS, 11) == int(digits[9])


def is_valid_lnch(digits: str) -> bool:
    """Return True for 10 digits whose last one is the ЛНЧ check digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    return _check_digit(digits, LNCH_WEIGHTS, 10) == int(digits[9])


def _check_digit(digits: str, weights: tuple[int, ...], modulus: int) -> int:
    remainder = sum(int(digit) * weight for digit, weight in zip(digits, weights)) % modulus
    return 0 if remainder == 10 else remainder


def is_valid_iban(text: str) -> bool:
    """Return True for a Bulgarian IBAN (spaces allowed) whose check digits pass mod 97."""
    compact = text.replace(" ", "").upper()
    if not IBAN.match(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def is_mobile_number(text: str) -> bool:
    """Return True when `text` contains a Bulgarian mobile number."""
    return MOBILE.search(text) is not None


@dataclass(frozen=True)
class PiiRules:
    """Rules of the guard: public e-mail domains, role mailboxes and the thresholds per kind."""

    public_domains: tuple[str, ...] = PUBLIC_DOMAINS
    role_mailboxes: tuple[str, ...] = ROLE_MAILBOXES
    min_matches: dict[str, int] = field(default_factory=lambda: dict(MIN_MATCHES))
    lnch_min_share: float = LNCH_MIN_SHARE

    @classmethod
    def from_env(cls) -> "PiiRules":
        """Add the domains and mailboxes of `OPENDATA_SOFIA_PII_*` to the built-in lists."""
        domains = _env_list("OPENDATA_SOFIA_PII_PUBLIC_DOMAINS")
        mailboxes = _env_list("OPENDATA_SOFIA_PII_ROLE_MAILBOXES")
        return cls(public_domains=PUBLIC_DOMAINS + domains, role_mailboxes=ROLE_MAILBOXES + mailboxes)

    def is_personal_email(self, address: str) -> bool:
        """Return True unless the domain is a public-service one or the mailbox is a role's."""
        local, _, domain = address.lower().rpartition("@")
        domain = domain.rstrip(".")
        for public in self.public_domains:
            public = public.lower().removeprefix("*.")
            if domain == public or (public != "bg" and domain.endswith("." + public)):
                return False

        # `info`, `info-2200123`, `office.sofia`: a role name followed by a separator or digits
        for role in self.role_mailboxes:
            if local == role or re.match(re.escape(role) + r"[-._+0-9]", local):
                return False
        return True


def _env_list(variable: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(variable, "").split(",") if item.strip())


# Matches in one cell


def cell_matches(text: str, rules: PiiRules) -> dict[str, list[str]]:
    """Return the personal values in one cell by kind; `lnch` lists ЛНЧ-valid numbers only.

    The key `ten_digits` lists every 10-digit number that is not a valid ЕГН, so that the
    column can tell a column of ЛНЧ from codes that pass the mod-10 check by chance.
    """
    found: dict[str, list[str]] = {}
    if any(char.isdigit() for char in text):
        for digits in TEN_DIGITS.findall(text):
            if is_valid_egn(digits):
                found.setdefault("egn", []).append(digits)
                continue
            found.setdefault("ten_digits", []).append(digits)
            if is_valid_lnch(digits):
                found.setdefault("lnch", []).append(digits)
        phones = [match.group(0) for match in MOBILE.finditer(text)]
        if phones:
            found["phone"] = phones
        ibans = [match.group(0) for match in IBAN_CANDIDATE.finditer(text) if is_valid_iban(match.group(0))]
        if ibans:
            found["iban"] = ibans
    if "@" in text:
        emails = [address for address in EMAIL.findall(text) if rules.is_personal_email(address)]
        if emails:
            found["email"] = emails
    return found


def mask(value: str) -> str:
    """Show the first two and last two characters only: `8501011234` becomes `85******34`."""
    compact = value.strip()
    if len(compact) <= 4:
        return "*" * len(compact)
    return compact[:2] + "*" * (len(compact) - 4) + compact[-2:]


# Columns


@dataclass
class ColumnTally:
    """Matches of one kind in one column, with the first source rows and masked values."""

    matches: int = 0
    rows: list[int] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)

    def add(self, row: int, values: list[str]) -> None:
        self.matches += 1
        if len(self.rows) < SAMPLE_ROWS:
            self.rows.append(row)
        for value in values:
            masked = mask(value)
            if len(self.samples) < SAMPLE_VALUES and masked not in self.samples:
                self.samples.append(masked)


@dataclass(frozen=True)
class PiiFinding:
    """A column flagged as holding personal data of one kind."""

    dataset: str
    resource: str
    field: str
    label: str | None
    kind: str
    matches: int
    cells: int  # non-empty cells of the column
    rows: list[int]  # source row numbers of the first matches
    samples: list[str]  # masked values

    def to_report_error(self) -> "ReportError":
        """Return the finding as a validation report error of type `personal-data`."""
        from opendata_sofia.validation import ReportError

        params = {
            "dataset": self.dataset,
            "resource": self.resource,
            "field": self.field,
            "label": self.label or self.field,
            "kind": self.kind,
            "matches": self.matches,
            "cells": self.cells,
            "rows": ", ".join(str(row) for row in self.rows),
            "samples": ", ".join(self.samples),
        }
        hint = {
            lang: message("pii.hint", lang=lang, kind_name=message(f"pii.kind.{self.kind}", lang=lang), **params)
            for lang in LANGUAGES
        }
        note = f"{self.matches} of {self.cells} cells hold {self.kind} values"
        return ReportError(
            self.dataset, self.resource, self.rows[0] if self.rows else None, self.field, self.label,
            ERROR_TYPE, ", ".join(self.samples), self.kind, note, hint,
        )  # fmt: skip


def work_rows(work: "WorkTable", batch_size: int = 10_000) -> Iterator[list[tuple[int, list[str]]]]:
    """Yield batches of `(source row number, cells)` from the work CSV, in file order."""
    with work.path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        batch: list[tuple[int, list[str]]] = []
        for index, cells in enumerate(reader):
            row = work.row_numbers[index] if index < len(work.row_numbers) else index + 2
            batch.append((row, cells))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def scan_work_table(
    work: "WorkTable",
    dataset: str,
    resource: str,
    rules: PiiRules | None = None,
    *,
    allowed: set[tuple[str, str]] = frozenset(),
) -> list[PiiFinding]:
    """Scan every column of the work CSV and return the flagged columns not in `allowed`.

    `allowed` contains `(field, kind)` pairs from reviewed `sofia.pii.allow` entries.
    """
    rules = rules or PiiRules.from_env()
    fields = work.canonical_schema.get("fields", [])
    names = [f["name"] for f in fields]
    titles = {f["name"]: f.get("title") for f in fields}

    tallies: dict[tuple[str, str], ColumnTally] = {}
    filled = dict.fromkeys(names, 0)
    for batch in work_rows(work):
        for row, cells in batch:
            for name, text in zip(names, cells):
                if not text:
                    continue
                filled[name] += 1
                for kind, values in cell_matches(text, rules).items():
                    tallies.setdefault((name, kind), ColumnTally()).add(row, values)

    findings = []
    for name in names:
        for kind in KINDS:
            tally = tallies.get((name, kind))
            if tally is None or (name, kind) in allowed or not _is_flagged(kind, tally, tallies.get((name, "ten_digits")), rules):
                continue
            findings.append(
                PiiFinding(dataset, resource, name, titles.get(name), kind, tally.matches, filled[name], tally.rows, tally.samples)
            )
    return findings


def _is_flagged(kind: str, tally: ColumnTally, ten_digits: ColumnTally | None, rules: PiiRules) -> bool:
    if tally.matches < rules.min_matches.get(kind, 1):
        return False
    if kind == "lnch":
        # Counted per cell: the share of cells with a 10-digit number whose numbers pass ЛНЧ.
        return ten_digits is not None and tally.matches >= rules.lnch_min_share * ten_digits.matches
    return True


# Reviewed exceptions in the descriptor


def allow_entries(dataset: "DatasetSpec", resource: str) -> list[dict[str, Any]]:
    """Return the resource's `sofia.pii.allow` entries from the dataset descriptor."""
    for raw in dataset.descriptor.get("resources", []):
        if raw.get("name") == resource:
            pii = (raw.get("sofia") or {}).get("pii") or {}
            return list(pii.get("allow") or []) if isinstance(pii, dict) else []
    return []


def allow_problems(pii: Any, field_names: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """Check a resource's `sofia.pii` object and return what is wrong, for the catalog check.

    Each problem is a message key from `locales/catalog.json` with its parameters. Every entry
    needs all of `ALLOW_KEYS`: the field and kind it allows, why, who reviewed it and when
    (YYYY-MM-DD), so no column is allowed without a reviewed reason.
    """
    if pii is None:
        return []
    if not isinstance(pii, dict) or not isinstance(pii.get("allow", []), list):
        return [("catalog.problem.pii_not_object", {})]

    problems: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(pii.get("allow", [])):
        if not isinstance(entry, dict):
            problems.append(("catalog.problem.pii_allow_not_object", {"index": index, "keys": ", ".join(ALLOW_KEYS)}))
            continue
        missing = [key for key in ALLOW_KEYS if not str(entry.get(key) or "").strip()]
        if missing:
            problems.append(("catalog.problem.pii_allow_incomplete", {"index": index, "missing": ", ".join(missing)}))
        if entry.get("field") and entry["field"] not in field_names:
            problems.append(("catalog.problem.pii_allow_field", {"index": index, "field": entry["field"]}))
        if entry.get("kind") and entry["kind"] not in KINDS:
            params = {"index": index, "kind": entry["kind"], "allowed": ", ".join(KINDS)}
            problems.append(("catalog.problem.pii_allow_kind", params))
        if entry.get("reviewedOn") and not _is_iso_date(str(entry["reviewedOn"])):
            problems.append(("catalog.problem.pii_allow_date", {"index": index, "value": entry["reviewedOn"]}))
    return problems


def _is_iso_date(text: str) -> bool:
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


# The step in the pipeline


def guard_personal_data(
    report: "ValidationReport", work: "WorkTable", dataset: "DatasetSpec", resource: str, rules: PiiRules | None = None
) -> list[PiiFinding]:
    """Scan a validated resource and add each flagged column to `report` as an error.

    An error makes the report invalid, so the pipeline publishes nothing of the dataset.
    """
    allowed = {(entry.get("field"), entry.get("kind")) for entry in allow_entries(dataset, resource)}
    findings = scan_work_table(work, dataset.name, resource, rules, allowed=allowed)
    if not findings:
        return findings

    report.errors.extend(finding.to_report_error() for finding in findings)
    report.valid = False
    report.stats["errors"] = len(report.errors)
    by_type = dict(report.stats.get("by_type", {}))
    by_type[ERROR_TYPE] = by_type.get(ERROR_TYPE, 0) + len(findings)
    report.stats["by_type"] = dict(sorted(by_type.items()))
    return findings
