"""Text cells that a spreadsheet would run as a formula (CSV injection).

A published CSV opened in Excel or LibreOffice runs a cell that starts with `=`, `+`, `-` or
`@` as a formula, so `=HYPERLINK(...)` or a DDE call in a source reaches every reader. The
pipeline does not alter published values: it lists such cells as a warning in the validation
report, for a person to review. Only text fields are checked, because a number field's `-5`
is a number. A signed plain number or a lone dash ("-" for "no data") in a text field is not
listed either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opendata_sofia.i18n import both
from opendata_sofia.security.pii import work_rows

if TYPE_CHECKING:
    from opendata_sofia.normalise import WorkTable
    from opendata_sofia.validation import ValidationReport

FORMULA_PREFIXES = ("=", "+", "-", "@")
WARNING_KEY = "security.formula_cells"
SAMPLE_ROWS = 10
# "+359 2 981 1234" is a phone number, but a spreadsheet still reads it as a formula: listed.
HARMLESS = re.compile(r"^(?:[-+]?\d+(?:[.,]\d+)?|[-–—\s]+)$")


@dataclass
class FormulaCells:
    """Cells of one text field that start like a formula: how many and in which source rows."""

    field: str
    count: int = 0
    rows: list[int] = field(default_factory=list)


def looks_like_formula(text: str) -> bool:
    """Return True when a spreadsheet would read `text` as a formula."""
    return text.startswith(FORMULA_PREFIXES) and not HARMLESS.match(text.strip())


def find_formula_cells(work: "WorkTable") -> list[FormulaCells]:
    """Return the text fields of the work CSV with cells that start like a formula."""
    fields = work.canonical_schema.get("fields", [])
    text_fields = {f["name"] for f in fields if f.get("type", "string") == "string"}
    names = [f["name"] for f in fields]

    found: dict[str, FormulaCells] = {}
    for batch in work_rows(work):
        for row, cells in batch:
            for name, text in zip(names, cells):
                if name in text_fields and text and looks_like_formula(text):
                    entry = found.setdefault(name, FormulaCells(name))
                    entry.count += 1
                    if len(entry.rows) < SAMPLE_ROWS:
                        entry.rows.append(row)
    return [found[name] for name in names if name in found]


def warn_formula_cells(report: "ValidationReport", work: "WorkTable") -> list[FormulaCells]:
    """Add one warning per text field with formula-like cells to `report`; values stay as they are."""
    found = find_formula_cells(work)
    for entry in found:
        params = {"field": entry.field, "count": entry.count, "rows": ", ".join(str(row) for row in entry.rows)}
        report.warnings.append({"key": WARNING_KEY, "params": params, **both(WARNING_KEY, **params)})
    return found
