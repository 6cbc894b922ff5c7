"""Progress after real runs: the indicator dataset on the target, the dashboard in headless Chromium.

The local run uses the demo inbox; the CKAN run publishes the real-data inbox to the test CKAN.
Chromium (Debian package `chromium`) renders the dashboard from `file://` with background
networking off. The test parses its DOM for the numbers and keeps a screenshot under
`test-artifacts/` (ignored by git).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.pipeline_fixtures import REPO, run_cli, summary_of
from tests.shared import real_inbox
from tests.test_main_job_ckan import real_catalog_on_ckan  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("prefect_server")

INDICATORS = "indikatori-za-otvoreni-danni"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        reason = "headless Chromium is missing: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def render(page: Path, profile: Path, screenshot: Path | None = None) -> str:
    """Return the DOM of `page` after Chromium rendered it; optionally save a screenshot."""
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    if screenshot is None:
        command += ["--dump-dom", page.as_uri()]
    else:
        command += [f"--screenshot={screenshot}", "--window-size=1280,2000", page.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


def dom_value(dom: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}" data-value="([^"]*)"', dom)
    assert match, f"no #{element_id} in the rendered page"
    return match.group(1)


def indicator_values(text: str) -> dict[str, int]:
    return {row["indicator"]: int(row["value"]) for row in csv.DictReader(io.StringIO(text))}


def assert_indicators_equal_status(indicators: dict[str, int], organizations: list[dict], numbers: dict) -> None:
    for key in ("target", "in_plan", "published", "stale", "published_with_stale"):
        assert indicators[key] == numbers[key], key
    for state, count in numbers["states"].items():
        assert indicators["state_" + state.replace(" ", "_")] == count, state
    assert {row["organization"]: int(row["published"]) for row in organizations} == {
        o["name"]: o["published"] for o in numbers["organizations"]
    }


def test_local_run_publishes_indicators(project):
    result = run_cli("run", "--json")
    summary = summary_of(result)
    numbers = json.loads(run_cli("status", "--json").stdout)

    folder = project / "portal" / INDICATORS
    indicators = indicator_values((folder / "indicators.csv").read_text(encoding="utf-8"))
    organizations = list(csv.DictReader(io.StringIO((folder / "organizations.csv").read_text(encoding="utf-8"))))
    assert_indicators_equal_status(indicators, organizations, numbers)
    assert summary["counts"]["planned"] == numbers["states"]["planned"] >= 40
    assert summary["progress"]["published"] == numbers["published"]
    assert {r["dataset"]: r["status"] for r in summary["results"]}[INDICATORS] == "published"
    assert numbers["in_plan"] >= 50
    # the demo datasets are published but do not count toward the target
    assert numbers["published"] == 0
    assert "merki-ot-plana-za-deystvie-za-inteligenten-rastezh-2016" in numbers["not_counted"]


def test_ckan_run_dashboard_and_indicators(ckan, real_catalog_on_ckan, project, tmp_path):  # noqa: F811
    run = run_cli("run", "--inbox", str(real_inbox()), "--target", "ckan", "--json")
    assert run.exit_code == 3  # the air-quality sample is invalid by design
    numbers = json.loads(run_cli("status", "--target", "ckan", "--json").stdout)
    assert numbers["published"] >= 8
    assert numbers["states"]["schema defined"] == 1  # air quality: checked, rejected
    assert numbers["states"]["planned"] >= 40

    # The indicator dataset on CKAN: bilingual, and the same numbers as status --json
    package = ckan.admin().call_action("package_show", {"id": INDICATORS})
    extras = {extra["key"]: extra["value"] for extra in package["extras"]}
    assert package["title"] == "Индикатори за отворени данни"
    assert extras["title_en"] == "Open data indicators"
    assert package["organization"]["name"] == "so-iot"
    resources = {resource["sofia_key"]: resource for resource in package["resources"]}
    assert {"indicators.csv", "indicators.json", "indicators.parquet", "history.csv"} <= set(resources)

    def download(key: str) -> str:
        response = requests.get(resources[key]["url"], timeout=30, headers={"Authorization": ckan.admin_token})
        assert response.status_code == 200, key
        return response.content.decode("utf-8")

    organizations = list(csv.DictReader(io.StringIO(download("organizations.csv"))))
    assert_indicators_equal_status(indicator_values(download("indicators.csv")), organizations, numbers)

    # The dashboard, rendered by headless Chromium
    folder = ARTIFACTS / "dashboard-ckan"
    shutil.rmtree(folder, ignore_errors=True)
    written = run_cli("dashboard", "--target", "ckan", "--out", str(folder))
    assert written.exit_code == 0, written.output

    bulgarian = render(folder / "index.html", tmp_path / "chromium")
    english = render(folder / "index.en.html", tmp_path / "chromium")
    for dom in (bulgarian, english):
        assert dom_value(dom, "published") == str(numbers["published"])
        assert dom_value(dom, "target") == "50"
        assert dom_value(dom, "stale") == str(numbers["stale"])
        assert dom_value(dom, "published-with-stale") == str(numbers["published_with_stale"])
        for state, count in numbers["states"].items():
            assert f'data-state="{state}" data-value="{count}"' in dom, state
        for organization in numbers["organizations"]:
            assert (f'data-organization="{organization["name"]}" data-published="{organization["published"]}" '
                    f'data-in-plan="{organization["in_plan"]}"') in dom
        assert 'class="history-point"' in dom
    assert f"Публикувани: <strong" in bulgarian
    assert "Published: <strong" in english

    screenshot = ARTIFACTS / "dashboard-ckan.png"
    render(folder / "index.html", tmp_path / "chromium", screenshot=screenshot)
    assert screenshot.stat().st_size > 10_000
    print(f"dashboard screenshot: {screenshot}")
