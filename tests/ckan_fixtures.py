"""Fixtures for tests against a real CKAN on the loopback interface.

The instance comes from `CKAN_URL` and the token variables, or else from the env file that
`scripts/ckan/ckan-up.sh` writes (`$CKAN_BASE/ckan.env`, by default
`~/.cache/ckan-dev/ckan.env`). Without a reachable CKAN the tests are skipped, except with
`CI=true`, where they fail.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, NotFound

from opendata_sofia.catalog import Organization
from opendata_sofia.publishing.ckan import CkanTarget

__all__ = ["CkanInstance", "ckan", "ckan_cleanup", "dataset_name", "make_output", "org", "organization", "purge", "run_suffix"]

START_COMMAND = "sudo bash scripts/ckan/ckan-up.sh"


@dataclass
class CkanInstance:
    """A running CKAN and the tokens of its sysadmin and of the pipeline's editor user."""

    url: str
    admin_token: str = field(repr=False)
    editor_token: str | None = field(default=None, repr=False)
    editor_user: str | None = None

    def admin(self) -> RemoteCKAN:
        return RemoteCKAN(self.url, apikey=self.admin_token, user_agent="opendata-sofia-tests")


@pytest.fixture(scope="session")
def run_suffix() -> str:
    """A random suffix that keeps this run's dataset and organization names apart from others."""
    return secrets.token_hex(4)


@pytest.fixture(scope="session")
def ckan() -> CkanInstance:
    """The test CKAN, checked with `status_show`; skipped (failed with CI=true) when missing."""
    settings = _settings()
    url = (settings.get("CKAN_URL") or "").rstrip("/")
    if not url:
        _unavailable(f"CKAN_URL is not set and {_env_file()} does not exist")
    if not _is_loopback(url):
        _unavailable(f"CKAN_URL {url} is not a loopback address; the tests purge what they create")

    admin_token = _token(settings, "CKAN_API_TOKEN")
    if not admin_token:
        _unavailable("no sysadmin token: set CKAN_API_TOKEN or CKAN_API_TOKEN_FILE")

    try:
        response = requests.get(f"{url}/api/3/action/status_show", timeout=5)
        response.raise_for_status()
        version = response.json()["result"]["ckan_version"]
    except (requests.RequestException, ValueError, KeyError) as error:
        _unavailable(f"CKAN at {url} does not answer status_show ({type(error).__name__}: {error})")

    instance = CkanInstance(
        url=url,
        admin_token=admin_token,
        editor_token=_token(settings, "CKAN_EDITOR_TOKEN"),
        editor_user=settings.get("CKAN_EDITOR_USER"),
    )
    print(f"CKAN {version} at {url}")
    return instance


@pytest.fixture
def ckan_cleanup(ckan: CkanInstance):
    """Collect dataset and organization names; purge them after the test."""
    created: dict[str, list[str]] = {"datasets": [], "organizations": []}
    yield created

    api = ckan.admin()
    for name in created["datasets"]:
        purge(api, "dataset_purge", name)
    for name in created["organizations"]:
        purge(api, "organization_purge", name)


def organization(name: str) -> Organization:
    """Return a test organization called `name` with bilingual titles."""
    return Organization(
        name=name,
        title={"bg": "Дирекция „Тестове“", "en": "Tests Directorate"},
        description={"bg": "Организация за тестове", "en": "Organization for tests"},
    )


@pytest.fixture
def org(ckan: CkanInstance, ckan_cleanup, run_suffix) -> Organization:
    """An organization created with the sysadmin token, with the pipeline's editor as editor."""
    created = organization(f"test-org-{run_suffix}-{os.urandom(2).hex()}")
    editors = [ckan.editor_user] if ckan.editor_user else []
    CkanTarget(ckan.url, ckan.admin_token, admin_token=ckan.admin_token).ensure_organizations([created], editors=editors)
    ckan_cleanup["organizations"].append(created.name)
    return created


@pytest.fixture
def dataset_name(ckan_cleanup, run_suffix) -> str:
    name = f"test-districts-{run_suffix}-{os.urandom(2).hex()}"
    ckan_cleanup["datasets"].append(name)
    return name


def make_output(folder: Path, key: str, resource: str, content: bytes, format: str, media_type: str):
    """Write `content` to `folder/key` and return it as an `OutputFile`."""
    from opendata_sofia.publishing.base import OutputFile

    path = folder / key
    path.write_bytes(content)
    return OutputFile(
        key=key,
        resource=resource,
        format=format,
        path=path,
        sha256=hashlib.sha256(content).hexdigest(),
        bytes=len(content),
        media_type=media_type,
    )


def _settings() -> dict[str, str]:
    settings = {}
    env_file = _env_file()
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, separator, value = line.partition("=")
            if separator and not line.lstrip().startswith("#"):
                settings[key.strip()] = value.strip()

    # the environment wins over the file, variable by variable
    for key in ("CKAN_URL", "CKAN_API_TOKEN", "CKAN_API_TOKEN_FILE", "CKAN_EDITOR_TOKEN", "CKAN_EDITOR_TOKEN_FILE", "CKAN_EDITOR_USER"):
        if os.environ.get(key):
            settings[key] = os.environ[key]
    return settings


def _env_file() -> Path:
    # the same default as scripts/ckan/ckan-up.sh
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    base = os.environ.get("CKAN_BASE") or str(Path(cache) / "ckan-dev")
    return Path(base) / "ckan.env"


def _token(settings: dict[str, str], variable: str) -> str | None:
    if settings.get(variable):
        return settings[variable].strip()
    token_file = settings.get(f"{variable}_FILE")
    if token_file and Path(token_file).is_file():
        return Path(token_file).read_text(encoding="utf-8").strip() or None
    return None


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _unavailable(reason: str):
    message = f"no test CKAN: {reason}. Start one with: {START_COMMAND}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def purge(api: RemoteCKAN, action: str, name: str, attempts: int = 3) -> None:
    """Purge `name`, ignoring a missing one; PostgreSQL may abort a purge as a deadlock victim
    when another test process purges at the same moment, so a failed purge is tried again."""
    for attempt in range(1, attempts + 1):
        try:
            api.call_action(action, {"id": name})
            return
        except NotFound:
            return
        except CKANAPIError:
            if attempt == attempts:
                raise
            time.sleep(0.5 * attempt)
