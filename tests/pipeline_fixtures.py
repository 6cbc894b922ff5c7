"""Fixtures for tests that run the main job: a Prefect test server and a clean work folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

__all__ = ["prefect_server", "project", "run_cli"]


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for the whole session, instead of one per flow run."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Point the pipeline at the repository's catalog and a work folder of this test's own."""
    monkeypatch.setenv("OPENDATA_SOFIA_HOME", str(REPO))
    monkeypatch.setenv("OPENDATA_SOFIA_WORKDIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPENDATA_SOFIA_INBOX", str(REPO / "demo" / "inbox"))
    monkeypatch.setenv("OPENDATA_SOFIA_TARGET", "local")
    monkeypatch.delenv("OPENDATA_SOFIA_PORTAL", raising=False)
    monkeypatch.delenv("OPENDATA_SOFIA_LEDGER_URL", raising=False)
    monkeypatch.setenv("OPENDATA_SOFIA_LANG", "bg")
    return tmp_path / "var"


def run_cli(*args: str):
    """Run the CLI in this process (the Prefect test server is shared) and return the result."""
    from typer.testing import CliRunner

    from opendata_sofia import cli

    remaining = cli._take_language(list(args))
    return CliRunner().invoke(cli.app, remaining, catch_exceptions=False)


def copy_inbox(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def summary_of(result) -> dict:
    return json.loads(result.stdout)
