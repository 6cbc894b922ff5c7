"""Paths and options, read from the environment with defaults that work inside a clone.

| variable | default | meaning |
|---|---|---|
| `OPENDATA_SOFIA_HOME` | current folder | project root holding `datapackages/` and `schemas/` |
| `OPENDATA_SOFIA_CATALOG` | `<home>/datapackages` | the dataset descriptors |
| `OPENDATA_SOFIA_SCHEMAS` | `<home>/schemas` | the Table Schemas |
| `OPENDATA_SOFIA_INBOX` | `<home>/demo/inbox` | the drop folder that directorates export into |
| `OPENDATA_SOFIA_WORKDIR` | `<home>/var` | raw store, work files, reports, ledger |
| `OPENDATA_SOFIA_PORTAL` | `<workdir>/portal` | the local folder portal |
| `OPENDATA_SOFIA_LEDGER_URL` | `sqlite:///<workdir>/ledger.sqlite` | SQLAlchemy URL of the run ledger |
| `OPENDATA_SOFIA_TARGET` | `local` | `local` or `ckan` |
| `OPENDATA_SOFIA_CONCURRENCY` | `4` | datasets processed at once by the nightly flow |
| `CKAN_URL`, `CKAN_API_TOKEN` | unset | the CKAN portal and its API token |
| `OPENDATA_SOFIA_ALLOW_HOSTS` | unset | host names, IP addresses or CIDR networks that HTTP sources may reach although they are not public (`netguard`) |
| `OPENDATA_SOFIA_PII_PUBLIC_DOMAINS` | unset | e-mail domains of public bodies, added to the built-in list; their addresses are not personal data (`pii`) |
| `OPENDATA_SOFIA_PII_ROLE_MAILBOXES` | unset | mailbox names of roles (`info`, `office`, …), added to the built-in list (`pii`) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _path(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    home: Path
    catalog: Path
    schemas: Path
    inbox: Path
    workdir: Path
    portal: Path
    ledger_url: str
    target: str = "local"
    concurrency: int = 4
    ckan_url: str | None = None
    ckan_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> "Settings":
        """Build settings from `OPENDATA_SOFIA_*` variables and `CKAN_URL` / `CKAN_API_TOKEN`."""
        home = _path("OPENDATA_SOFIA_HOME", Path.cwd().resolve())
        workdir = _path("OPENDATA_SOFIA_WORKDIR", home / "var")
        return cls(
            home=home,
            catalog=_path("OPENDATA_SOFIA_CATALOG", home / "datapackages"),
            schemas=_path("OPENDATA_SOFIA_SCHEMAS", home / "schemas"),
            inbox=_path("OPENDATA_SOFIA_INBOX", home / "demo" / "inbox"),
            workdir=workdir,
            portal=_path("OPENDATA_SOFIA_PORTAL", workdir / "portal"),
            ledger_url=os.environ.get("OPENDATA_SOFIA_LEDGER_URL")
            or f"sqlite:///{workdir / 'ledger.sqlite'}",
            target=os.environ.get("OPENDATA_SOFIA_TARGET", "local"),
            concurrency=int(os.environ.get("OPENDATA_SOFIA_CONCURRENCY", "4")),
            ckan_url=os.environ.get("CKAN_URL") or None,
            ckan_token=os.environ.get("CKAN_API_TOKEN") or None,
        )

    def with_changes(self, **changes) -> "Settings":
        """Return a copy with some values replaced (CLI options override the environment)."""
        return replace(self, **changes)
