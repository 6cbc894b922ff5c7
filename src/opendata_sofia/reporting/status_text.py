"""`opendata-sofia status` in the terminal: the progress bar, the directorates, the stale list."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from opendata_sofia.i18n import get_language, message

BAR_WIDTH = 30


def print_progress(console: Console, numbers: dict[str, Any]) -> None:
    """Print the numbers of `progress_report.progress_numbers` in the language in force."""
    lang = get_language()
    target = numbers["target"]

    console.print(message("progress.headline", published=numbers["published"], target=target)
                  + f" ({numbers['percent']}%)")
    console.print(progress_bar(numbers["published"], numbers["stale"], target))
    console.print(message("progress.with_stale", count=numbers["published_with_stale"], target=target))
    console.print(message("progress.plan_line", in_plan=numbers["in_plan"], planned=numbers["states"]["planned"]))

    console.print(_organization_table(numbers, lang))
    console.print(_state_table(numbers))

    stale = numbers["stale_datasets"]
    console.print(f"[yellow]{message('progress.stale_list')}[/yellow] {', '.join(stale) or message('progress.none')}")
    if numbers["last_run_failed"]:
        console.print(f"[red]{message('progress.last_run_failed')}[/red] {', '.join(numbers['last_run_failed'])}")
    if numbers["not_counted"]:
        console.print(message("progress.not_counted", names=", ".join(numbers["not_counted"])), markup=False)


def progress_bar(published: int, stale: int, target: int) -> str:
    """Return a rich-markup bar: green for published, yellow for stale, grey for the rest."""
    green = min(BAR_WIDTH, round(BAR_WIDTH * published / target))
    yellow = min(BAR_WIDTH - green, round(BAR_WIDTH * stale / target))
    rest = BAR_WIDTH - green - yellow
    return f"[green]{'█' * green}[/green][yellow]{'▓' * yellow}[/yellow]{'░' * rest}"


def _organization_table(numbers: dict[str, Any], lang: str) -> Table:
    table = Table(title=message("dashboard.by_organization"))
    table.add_column(message("progress.col_organization"))
    for key in ("progress.col_published", "progress.col_stale", "progress.col_planned", "progress.col_in_plan"):
        table.add_column(message(key), justify="right")
    for organization in numbers["organizations"]:
        table.add_row(
            organization["title"][lang],
            str(organization["published"]),
            str(organization["stale"]),
            str(organization["planned"]),
            str(organization["in_plan"]),
        )
    return table


def _state_table(numbers: dict[str, Any]) -> Table:
    table = Table(title=message("dashboard.by_state"))
    table.add_column(message("progress.col_state"))
    table.add_column(message("progress.col_count"), justify="right")
    for state, count in numbers["states"].items():
        table.add_row(message("state." + state.replace(" ", "_")), str(count))
    return table
