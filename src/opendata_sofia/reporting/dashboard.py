"""The progress dashboard: two static HTML pages (Bulgarian `index.html`, English `index.en.html`).

The charts are SVG drawn here and inlined in the page, with no script, font or style sheet
from elsewhere, so the dashboard works offline and from `file://`. Every number carries a
`data-value` attribute for machine checks.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from opendata_sofia.i18n import message

PAGES = {"bg": "index.html", "en": "index.en.html"}
COLOURS = {
    "published": "#2e7d32",
    "stale": "#f9a825",
    "rest": "#cfd8dc",
    "target": "#c62828",
    "planned": "#90a4ae",
    "source connected": "#64b5f6",
    "schema defined": "#ef6c00",
    "valid": "#7cb342",
    "failed": "#b71c1c",
}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #212121; }
header { display: flex; justify-content: space-between; align-items: baseline; }
.headline { font-size: 2.4rem; margin: .5rem 0; }
.muted { color: #616161; }
section { margin: 2rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e0e0e0; }
td.number { text-align: right; }
.legend span { display: inline-block; margin-right: 1rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; }
"""


def write_dashboard(numbers: dict[str, Any], days: list[dict[str, Any]], folder: Path) -> Path:
    """Write both language pages into `folder` and return the Bulgarian one."""
    folder.mkdir(parents=True, exist_ok=True)
    for lang, page in PAGES.items():
        (folder / page).write_text(render_page(numbers, days, lang), encoding="utf-8")
    return folder / PAGES["bg"]


def render_page(numbers: dict[str, Any], days: list[dict[str, Any]], lang: str) -> str:
    other = "en" if lang == "bg" else "bg"
    target = numbers["target"]
    headline = message("progress.headline", lang=lang, published=_value("published", numbers["published"]),
                       target=_value("target", target))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(message('dashboard.title', lang=lang))}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>{escape(message('dashboard.title', lang=lang))}</h1>"
        f'<a id="language-switch" href="{PAGES[other]}" hreflang="{other}">{message("dashboard.other_language", lang=lang)}</a></header>',
        f'<p class="muted">{escape(message("dashboard.as_of", lang=lang, as_of=numbers["as_of"], target_name=numbers["target_name"]))}</p>',
        f'<p class="headline">{headline} ({_value("percent", numbers["percent"])}%)</p>',
        _bar_svg([(numbers["published"], "published"), (numbers["stale"], "stale")], target, width=1000, height=28),
        f"<p>{_stale_line(numbers, lang)}</p>",
        f"<p>{escape(message('progress.plan_line', lang=lang, in_plan=numbers['in_plan'], planned=numbers['states']['planned']))}</p>",
        f'<p class="muted">{escape(message("dashboard.counting_rule", lang=lang))}</p>',
        _section(message("dashboard.over_time", lang=lang), _history_svg(days, target, lang), "history"),
        _section(message("dashboard.by_organization", lang=lang), _organizations(numbers, lang), "organizations"),
        _section(message("dashboard.by_state", lang=lang), _states(numbers, lang), "states"),
        _section(message("dashboard.datasets", lang=lang), _datasets(numbers, lang), "datasets"),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# Parts of the page


def _value(name: str, value: Any) -> str:
    return f'<strong id="{name}" data-value="{escape(str(value))}">{escape(str(value))}</strong>'


def _stale_line(numbers: dict[str, Any], lang: str) -> str:
    text = message("progress.with_stale", lang=lang, count="{count}", target=numbers["target"])
    count = f'<span id="published-with-stale" data-value="{numbers["published_with_stale"]}">{numbers["published_with_stale"]}</span>'
    stale = f'<span id="stale" data-value="{numbers["stale"]}">{numbers["stale"]}</span>'
    return escape(text).replace("{count}", count) + f" {escape(message('state.stale', lang=lang))}: {stale}"


def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="section-{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _legend(lang: str) -> str:
    entries = [("published", "dashboard.legend_published"), ("stale", "dashboard.legend_stale"),
               ("target", "dashboard.legend_target")]
    spans = "".join(
        f'<span><i class="swatch" style="background:{COLOURS[key]}"></i>{escape(message(label, lang=lang))}</span>'
        for key, label in entries
    )
    return f'<p class="legend">{spans}</p>'


def _organizations(numbers: dict[str, Any], lang: str) -> str:
    widest = max([o["in_plan"] for o in numbers["organizations"]] + [1])
    rows = []
    for organization in sorted(numbers["organizations"], key=lambda o: (-o["published"], -o["in_plan"], o["name"])):
        bar = _bar_svg([(organization["published"], "published"), (organization["stale"], "stale")],
                       organization["in_plan"], width=round(360 * organization["in_plan"] / widest) or 1, height=14)
        rows.append(
            f'<tr data-organization="{escape(organization["name"])}" data-published="{organization["published"]}" '
            f'data-in-plan="{organization["in_plan"]}"><td>{escape(organization["title"][lang])}</td>'
            f'<td class="number">{organization["published"]}</td><td class="number">{organization["stale"]}</td>'
            f'<td class="number">{organization["planned"]}</td><td class="number">{organization["in_plan"]}</td>'
            f"<td>{bar}</td></tr>"
        )
    head = "".join(f"<th>{escape(message(key, lang=lang))}</th>" for key in (
        "progress.col_organization", "progress.col_published", "progress.col_stale", "progress.col_planned",
        "progress.col_in_plan"))
    return _legend(lang) + f"<table><thead><tr>{head}<th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _states(numbers: dict[str, Any], lang: str) -> str:
    states = numbers["states"]
    widest = max(list(states.values()) + [1])
    row_height, label_width, bar_width = 26, 300, 600
    height = row_height * len(states) + 10
    shapes = []
    for index, (state, count) in enumerate(states.items()):
        y = 5 + index * row_height
        width = round(bar_width * count / widest)
        colour = COLOURS.get(state, COLOURS["published"])
        label = escape(message("state." + state.replace(" ", "_"), lang=lang))
        shapes.append(
            f'<text x="0" y="{y + 17}" font-size="14">{label}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="18" fill="{colour}"></rect>'
            f'<text class="state-count" data-state="{escape(state)}" data-value="{count}" x="{label_width + width + 6}" '
            f'y="{y + 17}" font-size="14">{count}</text>'
        )
    return (f'<svg role="img" width="{label_width + bar_width + 60}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>')


def _datasets(numbers: dict[str, Any], lang: str) -> str:
    head = "".join(f"<th>{escape(message(key, lang=lang))}</th>" for key in (
        "report.col_dataset", "progress.col_organization", "progress.col_frequency", "progress.col_state",
        "progress.col_last_updated"))
    rows = []
    for name, entry in numbers["datasets"].items():
        state = escape(message("state." + entry["state"].replace(" ", "_"), lang=lang))
        rows.append(
            f'<tr data-dataset="{escape(name)}" data-state="{escape(entry["state"])}">'
            f'<td>{escape(entry["title"][lang])}<br><small class="muted">{escape(name)}</small></td>'
            f'<td>{escape(entry["organization"])}</td>'
            f'<td>{escape(message("frequency." + entry["frequency"], lang=lang))}</td>'
            f"<td>{state}</td><td>{escape((entry['last_updated_at'] or '')[:10])}</td></tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


# Charts


def _bar_svg(parts: list[tuple[int, str]], total: int, *, width: int, height: int) -> str:
    """Return a stacked horizontal bar: each (count, colour key) part scaled to `total`."""
    shapes = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="{COLOURS["rest"]}"></rect>']
    x = 0.0
    for count, key in parts:
        part = min(width - x, width * count / max(total, 1))
        if part > 0:
            shapes.append(f'<rect x="{x:.1f}" y="0" width="{part:.1f}" height="{height}" fill="{COLOURS[key]}"></rect>')
        x += part
    return f'<svg role="img" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>'


def _history_svg(days: list[dict[str, Any]], target: int, lang: str) -> str:
    """Return a step chart of published and published-with-stale by day, with the target line."""
    if not days:
        return f'<p id="history-empty">{escape(message("dashboard.no_history", lang=lang))}</p>'

    width, height, left, bottom, top = 1000, 320, 50, 40, 20
    top_value = max([target] + [day["published"] + day["stale"] for day in days])
    step = (width - left - 20) / max(len(days), 1)

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - value / top_value)

    def line(values: list[int]) -> str:
        points = []
        for index, value in enumerate(values):
            points += [f"{left + index * step:.1f},{y(value):.1f}", f"{left + (index + 1) * step:.1f},{y(value):.1f}"]
        return " ".join(points)

    published = [day["published"] for day in days]
    with_stale = [day["published"] + day["stale"] for day in days]
    shapes = [
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 20}" y2="{y(0):.1f}" stroke="#9e9e9e"></line>',
        f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - 20}" y2="{y(target):.1f}" stroke="{COLOURS["target"]}" '
        f'stroke-dasharray="6 4"></line>',
        f'<text x="{left - 8}" y="{y(target) + 4:.1f}" font-size="12" text-anchor="end">{target}</text>',
        f'<text x="{left - 8}" y="{y(0) + 4:.1f}" font-size="12" text-anchor="end">0</text>',
        f'<polyline points="{line(with_stale)}" fill="none" stroke="{COLOURS["stale"]}" stroke-width="2"></polyline>',
        f'<polyline points="{line(published)}" fill="none" stroke="{COLOURS["published"]}" stroke-width="3"></polyline>',
    ]
    for index, day in enumerate(days):
        x = left + (index + 0.5) * step
        shapes.append(
            f'<circle class="history-point" data-date="{day["date"]}" data-value="{day["published"]}" cx="{x:.1f}" '
            f'cy="{y(day["published"]):.1f}" r="3" fill="{COLOURS["published"]}"></circle>'
        )
    labels = [days[0], days[-1]] if len(days) > 1 else days
    for index, day in ((0, labels[0]), (len(days) - 1, labels[-1])):
        shapes.append(f'<text x="{left + (index + 0.5) * step:.1f}" y="{height - 12}" font-size="12" '
                      f'text-anchor="middle">{day["date"]}</text>')
    svg = f'<svg role="img" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>'
    return _legend(lang) + svg
