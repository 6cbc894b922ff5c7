"""Runs of the Prefect-free pipeline for tests: settings in a temporary folder and a local portal."""

from __future__ import annotations

from pathlib import Path

from opendata_sofia.pipeline import RunContext
from opendata_sofia.publishing.local import LocalFolderTarget
from opendata_sofia.settings import Settings

REPO = Path(__file__).resolve().parents[1]
RUN_ID = "test-run"


def run_context(tmp_path: Path, inbox: Path) -> RunContext:
    """Return a run context whose work folder, portal and ledger live in `tmp_path`."""
    workdir = tmp_path / "var"
    settings = Settings(
        home=REPO,
        catalog=REPO / "datapackages",
        schemas=REPO / "schemas",
        inbox=inbox,
        workdir=workdir,
        portal=tmp_path / "portal",
        ledger_url=f"sqlite:///{workdir / 'ledger.sqlite'}",
    )
    return RunContext(settings=settings, run_id=RUN_ID)


def local_target(context: RunContext) -> LocalFolderTarget:
    return LocalFolderTarget(context.settings.portal)


def published_names(target: LocalFolderTarget) -> list[str]:
    """Return the names of the datasets in the local portal."""
    return [package["name"] for package in target.published_packages()]
