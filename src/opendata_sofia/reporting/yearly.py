"""The yearly open-data report in Bulgarian and English, as Markdown and HTML.

`opendata-sofia report --year 2026` writes `report-2026.bg.md`, `report-2026.en.md`,
`report-2026.bg.html` and `report-2026.en.html`: the target, the datasets first published
during the year, the numbers per directorate and per EU high-value category, the stale datasets
and the failed or invalid runs of the year.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from opendata_sofia.catalog import Catalog
from opendata_sofia.i18n import message
from opendata_sofia.ledger import Ledger
from opendata_sofia.reporting.progress import progress_numbers


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    title: str
    table: Table | None = None
    text: str | None = None


def write_yearly_report(catalog: Catalog, ledger: Ledger, target: str, year: int, folder: Path) -> list[Path]:
    """Write the report for `year` in both languages and both formats; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    end = datetime(year + 1, 1, 1, tzinfo=timezone.utc)
    # NOTE: states come from the whole ledger as of the earlier of now and the year's end, so a
    # dataset published after that year but before today is already counted as published.
    now = min(datetime.now(timezone.utc), end)
    numbers = progress_numbers(catalog, ledger, target, now=now)
    failures = Counter(
        row["dataset"] for row in ledger.results_between(target, start, end) if row["status"] in ("invalid", "failed")
    )

    paths = []
    for lang in ("bg", "en"):
        title = message("yearly.title", lang=lang, year=year)
        sections = report_sections(numbers, failures, year, lang)
        for suffix, render in (("md", render_markdown), ("html", render_html)):
            path = folder / f"report-{year}.{lang}.{suffix}"
            path.write_text(render(title, sections, lang), encoding="utf-8")
            paths.append(path)
    return paths


def report_sections(numbers: dict[str, Any], failures: Counter, year: int, lang: str) -> list[Section]:
    """Return the sections of the report in `lang`."""
    datasets = numbers["datasets"]
    first_in_year = {
        name: entry for name, entry in datasets.items()
        if (entry["first_published_at"] or "").startswith(str(year))
    }
    target_line = message(
        "yearly.target_line", lang=lang, target=numbers["target"], published=numbers["published"],
        percent=numbers["percent"], with_stale=numbers["published_with_stale"],
    )
    plan_line = message("progress.plan_line", lang=lang, in_plan=numbers["in_plan"], planned=numbers["states"]["planned"])

    return [
        Section(message("progress.title", lang=lang), text=f"{target_line} {plan_line}"),
        Section(message("yearly.published_in_year", lang=lang) + f" ({len(first_in_year)})", Table(
            [_h("report.col_dataset", lang), _h("progress.col_organization", lang), _h("yearly.col_first_published", lang)],
            [[entry["title"][lang], entry["organization"], entry["first_published_at"][:10]]
             for entry in sorted(first_in_year.values(), key=lambda e: e["first_published_at"])],
        )),
        Section(message("yearly.by_organization", lang=lang), Table(
            [_h("progress.col_organization", lang), _h("yearly.published_in_year", lang), _h("progress.col_published", lang),
             _h("progress.col_stale", lang), _h("progress.col_in_plan", lang)],
            [[o["title"][lang], str(sum(1 for e in first_in_year.values() if e["organization"] == o["name"])),
              str(o["published"]), str(o["stale"]), str(o["in_plan"])] for o in numbers["organizations"]],
        )),
        Section(message("yearly.by_hvd", lang=lang), Table(
            [_h("yearly.col_hvd", lang), _h("progress.col_published", lang), _h("progress.col_in_plan", lang)],
            [[message(f"hvd.{name}", lang=lang), str(entry["published"]), str(entry["in_plan"])]
             for name, entry in numbers["hvd"].items()],
        )),
        Section(message("yearly.stale", lang=lang) + f" ({numbers['stale']})", Table(
            [_h("report.col_dataset", lang), _h("progress.col_frequency", lang), _h("progress.col_last_updated", lang)],
            [[datasets[name]["title"][lang], message(f"frequency.{datasets[name]['frequency']}", lang=lang),
              (datasets[name]["last_updated_at"] or "")[:10]] for name in numbers["stale_datasets"]],
        )),
        Section(message("yearly.failures", lang=lang) + f" ({sum(failures.values())})", Table(
            [_h("report.col_dataset", lang), _h("yearly.col_runs", lang)],
            [[name, str(count)] for name, count in sorted(failures.items())],
        )),
    ]


def render_markdown(title: str, sections: list[Section], lang: str) -> str:
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.text:
            lines += [section.text, ""]
        if section.table is not None:
            lines += _markdown_table(section.table, lang)
    return "\n".join(lines)


def render_html(title: str, sections: list[Section], lang: str) -> str:
    parts = [f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
             "<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}</style></head><body>",
             f"<h1>{escape(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>{escape(section.title)}</h2>")
        if section.text:
            parts.append(f"<p>{escape(section.text)}</p>")
        if section.table is not None:
            parts.append(_html_table(section.table, lang))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _h(key: str, lang: str) -> str:
    return message(key, lang=lang)


def _markdown_table(table: Table, lang: str) -> list[str]:
    if not table.rows:
        return [f"_{message('progress.none', lang=lang)}_", ""]
    lines = ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table.rows]
    return lines + [""]


def _html_table(table: Table, lang: str) -> str:
    if not table.rows:
        return f"<p><em>{escape(message('progress.none', lang=lang))}</em></p>"
    head = "".join(f"<th>{escape(cell)}</th>" for cell in table.header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
