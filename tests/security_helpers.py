"""Generated personal numbers and a one-dataset pipeline run, for the security tests.

Every personal number here is computed from the published check-digit rules; none belongs to
a real person.
"""

from __future__ import annotations

import csv
from pathlib import Path

from opendata_sofia.pipeline import RunContext, process_dataset
from opendata_sofia.publishing.local import LocalFolderTarget
from opendata_sofia.settings import Settings
from tests.factories import make_dataset, make_resource

EGN_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6)
LNCH_WEIGHTS = (21, 19, 17, 13, 11, 9, 7, 3, 1)

TEXT_SCHEMA = {
    "fields": [
        {"name": "id", "type": "string", "title": "Номер"},
        {"name": "name", "type": "string", "title": "Име"},
        {"name": "contact", "type": "string", "title": "Контакт"},
        {"name": "amount", "type": "number", "title": "Сума"},
    ],
    "primaryKey": ["id"],
}


def make_egn(year: int, month: int, day: int, serial: int = 123, *, valid: bool = True) -> str:
    """Return an ЕГН for a birth date; `valid=False` gives it a wrong check digit."""
    offset = {18: 20, 19: 0, 20: 40}[year // 100]
    first9 = f"{year % 100:02d}{month + offset:02d}{day:02d}{serial:03d}"
    check = sum(int(d) * w for d, w in zip(first9, EGN_WEIGHTS)) % 11 % 10
    return first9 + str(check if valid else (check + 1) % 10)


def make_lnch(first9: str, *, valid: bool = True) -> str:
    check = sum(int(d) * w for d, w in zip(first9, LNCH_WEIGHTS)) % 10
    return first9 + str(check if valid else (check + 1) % 10)


def make_iban(bank: str = "BNBG", account: str = "96611020345678") -> str:
    """Return a Bulgarian IBAN with correct mod-97 check digits."""
    digits = "".join(str(int(char, 36)) for char in bank + account + "BG00")
    return f"BG{98 - int(digits) % 97:02d}{bank}{account}"


def write_csv(path: Path, rows: list[list[str]], header=("id", "name", "contact", "amount")) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_settings(tmp_path: Path, **changes) -> Settings:
    workdir = tmp_path / "var"
    settings = Settings(
        home=tmp_path,
        catalog=tmp_path / "datapackages",
        schemas=tmp_path / "schemas",
        inbox=tmp_path / "inbox",
        workdir=workdir,
        portal=workdir / "portal",
        ledger_url=f"sqlite:///{workdir / 'ledger.sqlite'}",
    )
    return settings.with_changes(**changes)


def text_dataset(name: str = "test-registar", *, source=None, read=None, pii_allow=None, schema=TEXT_SCHEMA):
    """A one-resource dataset read from `inbox/registar.csv` unless `source` is given."""
    resource = make_resource(
        "registar",
        source=source or {"kind": "inbox", "path": "registar.csv"},
        read=read or {"format": "csv", "encoding": "utf-8", "delimiter": ",", "headerRows": [1]},
        schema=schema,
    )
    dataset = make_dataset(name, resources=[resource])
    if pii_allow is not None:
        dataset.descriptor["resources"][0]["sofia"] = {"pii": {"allow": pii_allow}}
    return dataset


def run_one(dataset, settings: Settings, run_id: str = "run-1"):
    """Run the pipeline's `process_dataset` for `dataset` into the local folder portal."""
    context = RunContext(settings=settings, run_id=run_id)
    return process_dataset(dataset, context, LocalFolderTarget(settings.portal))


def portal_files(settings: Settings) -> list[Path]:
    if not settings.portal.exists():
        return []
    return sorted(path for path in settings.portal.rglob("*") if path.is_file())
