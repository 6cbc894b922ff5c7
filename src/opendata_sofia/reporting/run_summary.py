"""Run summaries for people: Markdown for the Prefect artifact, in the operator's language."""

from __future__ import annotations

from typing import Any

from opendata_sofia.i18n import message
from opendata_sofia.security.redaction import redact

STATUS_KEYS = ("published", "unchanged", "invalid", "failed", "skipped", "planned")


def status_label(status: str, lang: str | None = None) -> str:
    return message(f"status.{status}", lang=lang)


def progress_line(numbers: dict[str, Any], lang: str | None = None) -> str:
    """Return "Публикувани: N от 50 (P%)" with the count that includes stale datasets."""
    headline = message("progress.headline", lang=lang, published=numbers["published"], target=numbers["target"])
    with_stale = message("progress.with_stale", lang=lang, count=numbers["published_with_stale"], target=numbers["target"])
    return f"**{headline}** ({numbers['percent']}%). {with_stale}"


def run_summary_markdown(summary: dict[str, Any], lang: str | None = None) -> str:
    """Render a run summary as a Markdown table, with the datasets that need a person first."""
    lines = [
        f"# {message('report.run_title', lang=lang, run_id=summary['run_id'], target=summary['target'])}",
        "",
        " · ".join(f"{status_label(key, lang)}: {summary['counts'].get(key, 0)}" for key in STATUS_KEYS),
        "",
    ]
    if summary.get("progress"):
        lines += [progress_line(summary["progress"], lang), ""]
    if summary["needs_attention"]:
        lines += [f"**{message('report.needs_attention', lang=lang)}** {', '.join(summary['needs_attention'])}", ""]

    lines += [
        f"| {message('report.col_dataset', lang=lang)} | {message('report.col_status', lang=lang)} "
        f"| {message('report.col_rows', lang=lang)} | {message('report.col_message', lang=lang)} |",
        "|---|---|---|---|",
    ]
    for result in summary["results"]:
        text = (result.get("message") or "").replace("\n", " ").replace("|", "\\|")
        lines.append(
            f"| {result['dataset']} | {status_label(result['status'], lang)} | {result.get('rows') or ''} | {text} |"
        )
    return redact("\n".join(lines) + "\n")
