"""The operator's command line: `opendata-sofia run | validate | status | catalog check | ckan …`.

Messages, help texts included, are Bulgarian unless `--lang en` is given (anywhere on the
command line) or `OPENDATA_SOFIA_LANG=en` is set. Exit codes: 0 everything published or
unchanged, 1 error, 2 usage error, 3 some datasets failed or were invalid.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from opendata_sofia import __version__
from opendata_sofia.errors import CatalogError, PipelineError
from opendata_sofia.i18n import message, set_language

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_DATASETS_FAILED = 0, 1, 2, 3


class _LocalisedHelp:
    """Mixin for commands and groups whose help texts are message keys from `locales/cli.json`.

    Typer builds the click commands anew on every `app(...)` call and in `CliRunner.invoke`,
    and the keys are rendered then. `main()` sets the language before that, so help follows
    `--lang` from anywhere on the command line.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.help = _render_help(self.help)
        self.short_help = _render_help(self.short_help)
        for param in self.params:
            param.help = _render_help(getattr(param, "help", None))

    def get_help_option(self, ctx):
        # Click's own text for --help is English only
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = message("cli.help.option.help")
        return option


class _LocalisedCommand(_LocalisedHelp, TyperCommand):
    pass


class _LocalisedGroup(_LocalisedHelp, TyperGroup):
    pass


def _render_help(key: str | None) -> str | None:
    return message(key) if key else key


app = typer.Typer(add_completion=False, no_args_is_help=True, help="cli.help.app", cls=_LocalisedGroup)
catalog_app = typer.Typer(no_args_is_help=True, help="cli.help.catalog", cls=_LocalisedGroup)
ckan_app = typer.Typer(no_args_is_help=True, help="cli.help.ckan", cls=_LocalisedGroup)
app.add_typer(catalog_app, name="catalog")
app.add_typer(ckan_app, name="ckan")

# Options shared by several commands, defined once (help texts are message keys)
DatasetsArgument = Annotated[Optional[list[str]], typer.Argument(help="cli.help.option.datasets")]
InboxOption = Annotated[Optional[Path], typer.Option("--inbox", help="cli.help.option.inbox")]
TargetOption = Annotated[Optional[str], typer.Option("--target", help="cli.help.option.target")]
JsonOption = Annotated[bool, typer.Option("--json", help="cli.help.option.json")]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def main() -> None:
    """Console-script entry point: take `--lang` from anywhere, then run the command."""
    from opendata_sofia.security.redaction import install_log_redaction

    install_log_redaction()
    args = _take_language(sys.argv[1:])
    try:
        app(args=args, prog_name="opendata-sofia")
    except PipelineError as error:  # raised outside a command's own handling
        err.print(f"[red]{error.render()}[/red]")
        sys.exit(EXIT_ERROR)


def _take_language(args: list[str]) -> list[str]:
    rest, index = [], 0
    while index < len(args):
        arg = args[index]
        if arg == "--lang" and index + 1 < len(args):
            _set_language_or_exit(args[index + 1])
            index += 2
            continue
        if arg.startswith("--lang="):
            _set_language_or_exit(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        index += 1
    return rest


def _set_language_or_exit(lang: str) -> None:
    try:
        set_language(lang)
    except ValueError as error:
        err.print(f"[red]{error}[/red]")
        sys.exit(EXIT_USAGE)


def _fail(error: PipelineError, as_json: bool = False, code: int = EXIT_ERROR) -> None:
    """Report `error` in one sentence (and as JSON on stdout with `--json`), then exit."""
    if as_json:
        out.print_json(json.dumps({"error": {"key": error.key, "message": error.render()}}, ensure_ascii=False))
    else:
        err.print(f"[red]{error.render()}[/red]")
    raise typer.Exit(code)


def _check_target_and_inbox(target: Optional[str], inbox: Optional[Path]) -> None:
    """Reject an unknown target or a missing inbox folder as a usage error (exit code 2)."""
    if target not in (None, "local", "ckan"):
        raise typer.BadParameter(message("cli.bad_target", target=target), param_hint="--target")
    if inbox is not None and not inbox.is_dir():
        raise typer.BadParameter(message("cli.inbox_missing", path=inbox), param_hint="--inbox")


def _settings(inbox: Optional[Path] = None, target: Optional[str] = None):
    from opendata_sofia.settings import Settings

    settings = Settings.from_env()
    if inbox is not None:
        settings = settings.with_changes(inbox=inbox.expanduser().resolve())
    if target is not None:
        settings = settings.with_changes(target=target)
    return settings


# run


@app.command(help="cli.help.run", cls=_LocalisedCommand)
def run(
    datasets: DatasetsArgument = None,
    inbox: InboxOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
    concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1, help="cli.help.option.concurrency"),
    verbose: bool = typer.Option(False, "--verbose", help="cli.help.option.verbose"),
    dry_run: bool = typer.Option(False, "--dry-run", help="cli.help.option.dry_run"),
) -> None:
    _check_target_and_inbox(target, inbox)
    if dry_run:
        _plan_and_exit(datasets, inbox, target, as_json)
    _quiet_prefect(verbose)

    from opendata_sofia_flows.publish import preflight, run_catalog

    try:
        preflight(datasets or None, inbox=str(inbox) if inbox else None, target=target)
    except CatalogError as error:  # an unknown dataset name is a usage error
        _fail(error, as_json, EXIT_USAGE)
    except PipelineError as error:
        _fail(error, as_json)

    try:
        with _progress_bar(enabled=not as_json):
            summary = run_catalog(
                datasets or None,
                inbox=str(inbox) if inbox else None,
                target=target,
                concurrency=concurrency,
            )
    except PipelineError as error:
        _fail(error, as_json)

    if as_json:
        out.print_json(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        _print_summary(summary)
    raise typer.Exit(EXIT_DATASETS_FAILED if summary["needs_attention"] else EXIT_OK)


def _quiet_prefect(verbose: bool) -> None:
    """Keep Prefect's own console log out of the operator's view unless `--verbose` is given.

    The run is still recorded on the Prefect server with its full log. The operator sees the
    progress bar, the summary table and the validation reports instead.
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        # Only the console handler is quieted; the records still reach the Prefect API
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")


class _progress_bar:
    """A rich progress bar on stderr fed by the pipeline's progress events."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and err.is_terminal

    def __enter__(self):
        if not self.enabled:
            return self
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from opendata_sofia import events

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=err, transient=True)
        self.task = None
        self.bar.start()
        self.unsubscribe = events.subscribe(self._on_event)
        return self

    def _on_event(self, event: str, data: dict[str, Any]) -> None:
        if event == "run_started":
            self.task = self.bar.add_task(message("cli.progress"), total=data["total"])
        elif event == "dataset_finished" and self.task is not None:
            # The indicator dataset is built after the counted ones, so the total may grow by one
            task = next(task for task in self.bar.tasks if task.id == self.task)
            if task.completed >= (task.total or 0):
                self.bar.update(self.task, total=task.completed + 1)
            self.bar.advance(self.task)
            self.bar.console.print(f"  {data['dataset']}: {message('status.' + data['status'])}")

    def __exit__(self, *exc_info):
        if self.enabled:
            self.unsubscribe()
            self.bar.stop()
        return False


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title=message("report.run_title", run_id=summary["run_id"], target=summary["target"]))
    # Dataset names are identifiers: wrap them whole rather than cut them with an ellipsis
    table.add_column(message("report.col_dataset"), overflow="fold", min_width=20)
    table.add_column(message("report.col_status"), no_wrap=True)
    table.add_column(message("report.col_rows"), justify="right")
    table.add_column(message("report.col_message"), overflow="fold")

    colours = {"published": "green", "unchanged": "cyan", "skipped": "yellow", "invalid": "red", "failed": "red"}
    for result in summary["results"]:
        status = result["status"]
        table.add_row(
            result["dataset"],
            f"[{colours.get(status, 'white')}]{message('status.' + status)}[/]",
            "" if result.get("rows") is None else str(result["rows"]),
            result.get("message") or "",
        )
    out.print(table)

    counts = ", ".join(f"{message('status.' + key)}: {value}" for key, value in summary["counts"].items())
    out.print(counts)
    for result in summary["results"]:
        if result["status"] == "invalid" and result.get("report"):
            _print_report_summary(Path(result["report"]))
    if summary.get("catalog_problems"):
        out.print(f"[red]{message('cli.catalog_problems_heading')}[/red]")
        for problem in summary["catalog_problems"]:
            out.print(f"  - {problem}")
    if summary["needs_attention"]:
        out.print(f"[red]{message('report.needs_attention')}[/red] {', '.join(summary['needs_attention'])}")


def _print_report_summary(report_path: Path) -> None:
    from opendata_sofia.validation import summarise_saved_report

    if report_path.is_file():
        out.print(summarise_saved_report(json.loads(report_path.read_text(encoding="utf-8"))))


# plan


@app.command(help="cli.help.plan", cls=_LocalisedCommand)
def plan(
    datasets: DatasetsArgument = None,
    inbox: InboxOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    _check_target_and_inbox(target, inbox)
    _plan_and_exit(datasets, inbox, target, as_json)


def _plan_and_exit(datasets: list[str] | None, inbox: Optional[Path], target: Optional[str], as_json: bool) -> None:
    """Print the plan of changes and exit as `run` would: 3 when a dataset is invalid or failed."""
    from opendata_sofia.plan import plan_catalog, render_catalog_plan

    try:
        summary = plan_catalog(datasets or None, _settings(inbox=inbox, target=target))
    except PipelineError as error:
        _fail(error, as_json)

    if as_json:
        out.print_json(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        for line in render_catalog_plan(summary):
            out.print(line, markup=False)
    raise typer.Exit(EXIT_DATASETS_FAILED if summary["needs_attention"] else EXIT_OK)


# validate


@app.command(help="cli.help.validate", cls=_LocalisedCommand)
def validate(
    datasets: DatasetsArgument = None,
    inbox: InboxOption = None,
    as_json: JsonOption = False,
) -> None:
    from opendata_sofia import pipeline
    from opendata_sofia.catalog import require_catalog
    from opendata_sofia.errors import SourceNotFound
    from opendata_sofia.validation import summarise_saved_report

    settings = _settings(inbox=inbox)
    try:
        catalog = require_catalog(settings.catalog, settings.schemas)
        selected = pipeline.runnable(catalog.select(datasets or None))
    except PipelineError as error:
        _fail(error)

    context = pipeline.RunContext(settings=settings, run_id="validate")
    results, failed = [], False
    for dataset in selected:
        entry: dict[str, Any] = {"dataset": dataset.name}
        try:
            checked = pipeline.check_dataset(dataset, pipeline.fetch_dataset(dataset, context), context)
        except SourceNotFound as error:
            entry.update(status="skipped", message=error.render())
        except PipelineError as error:
            entry.update(status="failed", message=error.render())
            failed = True
        else:
            entry.update(status="invalid" if checked.errors else "valid", errors=checked.errors,
                         report=str(checked.report_path))
            failed = failed or bool(checked.errors)
        results.append(entry)

        if not as_json:
            _print_validation_entry(entry, summarise_saved_report)

    if as_json:
        out.print_json(json.dumps(results, ensure_ascii=False))
    raise typer.Exit(EXIT_DATASETS_FAILED if failed else EXIT_OK)


def _print_validation_entry(entry: dict[str, Any], summarise) -> None:
    status = entry["status"]
    if status == "valid":
        out.print(f"[green]{message('cli.valid', dataset=entry['dataset'])}[/green]")
    elif status == "invalid":
        out.print(summarise(json.loads(Path(entry["report"]).read_text(encoding="utf-8"))))
    else:
        colour = "yellow" if status == "skipped" else "red"
        out.print(f"[{colour}]{entry['dataset']}: {entry['message']}[/]")


# status


@app.command(help="cli.help.status", cls=_LocalisedCommand)
def status(
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from opendata_sofia.catalog import require_catalog
    from opendata_sofia.ledger import Ledger
    from opendata_sofia.reporting.progress import progress_numbers

    settings = _settings(target=target)
    try:
        catalog = require_catalog(settings.catalog, settings.schemas)
    except PipelineError as error:
        _fail(error)
    numbers = progress_numbers(catalog, Ledger(settings.ledger_url), settings.target)

    if as_json:
        out.print_json(json.dumps(numbers, ensure_ascii=False))
        return
    _print_progress(numbers)


def _print_progress(numbers: dict[str, Any]) -> None:
    from opendata_sofia.reporting.status_text import print_progress

    print_progress(out, numbers)


def _progress_inputs(target: Optional[str]):
    """Return the settings, catalog and ledger that the progress reports read."""
    from opendata_sofia.catalog import require_catalog
    from opendata_sofia.ledger import Ledger

    settings = _settings(target=target)
    try:
        catalog = require_catalog(settings.catalog, settings.schemas)
    except PipelineError as error:
        _fail(error)
    return settings, catalog, Ledger(settings.ledger_url)


# dashboard


@app.command(help="cli.help.dashboard", cls=_LocalisedCommand)
def dashboard(
    out_dir: Optional[Path] = typer.Option(None, "--out", help="cli.help.option.out_dashboard"),
    target: TargetOption = None,
) -> None:
    from opendata_sofia.reporting.dashboard import write_dashboard
    from opendata_sofia.reporting.progress import history, progress_numbers

    settings, catalog, ledger = _progress_inputs(target)
    numbers = progress_numbers(catalog, ledger, settings.target)
    folder = out_dir or settings.workdir / "dashboard"
    page = write_dashboard(numbers, history(ledger, settings.target), folder)
    out.print(message("dashboard.written", path=page), markup=False)


# report


@app.command(help="cli.help.report", cls=_LocalisedCommand)
def report(
    year: int = typer.Option(..., "--year", min=2016, max=2100, help="cli.help.option.year"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="cli.help.option.out_report"),
    target: TargetOption = None,
) -> None:
    from opendata_sofia.reporting.yearly import write_yearly_report

    settings, catalog, ledger = _progress_inputs(target)
    paths = write_yearly_report(catalog, ledger, settings.target, year, out_dir or settings.workdir / "yearly")
    for path in paths:
        out.print(message("yearly.written", path=path), markup=False)


# describe


@app.command(help="cli.help.describe", cls=_LocalisedCommand)
def describe(
    file: Path = typer.Argument(..., help="cli.help.option.file"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="cli.help.option.out_describe"),
    name: Optional[str] = typer.Option(None, "--name", help="cli.help.option.name"),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="cli.help.option.sheet"),
    as_json: JsonOption = False,
) -> None:
    from opendata_sofia.onboarding.describe import describe_file, write_stub

    if not file.is_file():
        raise typer.BadParameter(message("describe.file_missing", path=file), param_hint="FILE")
    settings = _settings()
    catalog_dir = out_dir / "datapackages" if out_dir else settings.catalog
    schemas_dir = out_dir / "schemas" if out_dir else settings.schemas
    sheet_option = int(sheet) if sheet and sheet.isdigit() else sheet

    try:
        description = describe_file(file, sheet=sheet_option, name=name, catalog_dir=catalog_dir, schemas_dir=schemas_dir)
        descriptor_path, schema_path = write_stub(description, catalog_dir, schemas_dir)
    except PipelineError as error:
        _fail(error)

    if as_json:
        written = {"descriptor": str(descriptor_path), "schema": str(schema_path)}
        out.print_json(json.dumps({**description.to_dict(), "written": written}, ensure_ascii=False))
        return
    # Patterns such as [0-9]{4} would be read as rich markup.
    out.print(description.summary(), markup=False)
    out.print("")
    out.print(message("describe.summary.written", descriptor=descriptor_path, schema=schema_path), markup=False)


# catalog check


@catalog_app.command("check", help="cli.help.catalog_check", cls=_LocalisedCommand)
def catalog_check(
    as_json: JsonOption = False,
) -> None:
    from opendata_sofia.catalog import load_catalog

    settings = _settings()
    catalog = load_catalog(settings.catalog, settings.schemas)
    if as_json:
        out.print_json(json.dumps({
            "datasets": sorted(catalog.datasets),
            "problems": [problem.to_dict() for problem in catalog.problems],
        }, ensure_ascii=False))
    elif catalog.problems:
        out.print(f"[red]{message('catalog.problems', count=len(catalog.problems), problems='')}[/red]")
        for problem in catalog.problems:
            out.print(f"  - {problem}")
    else:
        out.print(f"[green]{message('cli.catalog_ok', count=len(catalog.datasets))}[/green]")
    raise typer.Exit(EXIT_ERROR if catalog.problems else EXIT_OK)


# ckan create-organizations


@ckan_app.command("create-organizations", help="cli.help.ckan_create_organizations", cls=_LocalisedCommand)
def ckan_create_organizations() -> None:
    from opendata_sofia.catalog import require_catalog
    from opendata_sofia.publishing.ckan import CkanTarget

    settings = _settings(target="ckan")
    admin_token = os.environ.get("CKAN_ADMIN_TOKEN") or None
    if not settings.ckan_url or not admin_token:
        _fail(PipelineError("ckan.admin_token_missing"))
    try:
        catalog = require_catalog(settings.catalog, settings.schemas)
        # the publishing user (CKAN_API_TOKEN) becomes an editor; without it only the organizations are made
        target = CkanTarget(settings.ckan_url, settings.ckan_token or admin_token, admin_token=admin_token)
        created = target.ensure_organizations(list(catalog.organizations.values()))
    except PipelineError as error:
        _fail(error)
    out.print(message("cli.organizations_created", count=len(created), names=", ".join(created) or "—"))


@app.command(help="cli.help.version", cls=_LocalisedCommand)
def version() -> None:
    out.print(__version__)


if __name__ == "__main__":
    main()
