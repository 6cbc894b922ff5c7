"""The catalog in `datapackages/` and `schemas/`: metadata rules, and each real source read,
normalised and validated against its schema.

Sources with `sofia.source.path` under `demo/inbox/` ship with the project. The others are
real public files kept in `../shared/data/real`; tests that need them skip without it (and
fail under CI, see `tests/shared.py`).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from frictionless import Schema

from opendata_sofia.catalog import DatasetSpec, load_catalog
from opendata_sofia.reporting.progress import INDICATOR_DATASET, TARGET, plan_datasets
from opendata_sofia.normalise import normalise
from opendata_sofia.reading import ReadOptions, read_table
from opendata_sofia.slugs import slugify
from opendata_sofia.validation import validate
from tests.shared import real_inbox

ROOT = Path(__file__).resolve().parents[1]
CATALOG_DIR = ROOT / "datapackages"
SCHEMAS_DIR = ROOT / "schemas"
DEMO_INBOX = ROOT / "demo" / "inbox"

CYRILLIC = re.compile(r"[А-Яа-яЁёЪъЬь]")
FREQUENCIES = {"daily", "weekly", "monthly", "quarterly", "annual", "irregular", "never"}
HVD_CATEGORIES = {
    "geospatial",
    "earth-observation-and-environment",
    "meteorological",
    "statistics",
    "companies-and-company-ownership",
    "mobility",
}
ID_PATTERN = re.compile(r"^SO-[A-Z]{2,4}-[0-9]{4}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Schema field names that hold identifiers or codes: they must stay text in every output.
CODE_NAME = re.compile(r"(^id$|_id$|code$|ekatte$|_ref$)")

# Sources that fail validation on purpose, with the errors they must produce.
EXPECTED_FAILURES = {
    # 30 negative pollutant concentrations break the row check; the 66 sub-zero temperatures pass.
    ("kachestvo-na-atmosfernia-vazduh", "hourly-readings"): {("row-constraint", "level"): 30},
}


CATALOG = load_catalog(CATALOG_DIR, SCHEMAS_DIR)
DATASETS = sorted(CATALOG.datasets.values(), key=lambda dataset: dataset.name)
RESOURCES = [(dataset, resource) for dataset in DATASETS for resource in dataset.resources]
# Resources with a source in the inbox; planned ones have none, and the indicator dataset's
# source is written by the pipeline from the run ledger.
CONNECTED = [item for item in RESOURCES if item[1].connected and item[0].name != INDICATOR_DATASET]
PLANNED = [dataset for dataset in DATASETS if dataset.state == "planned"]


def resource_id(item: tuple[DatasetSpec, object]) -> str:
    dataset, resource = item
    return f"{dataset.name}/{resource.name}"


def is_demo(resource) -> bool:
    return (DEMO_INBOX / resource.source["path"]).is_file()


def source_file(resource) -> Path:
    """Return the resource's inbox file: in `demo/inbox/`, else among the real files in `../shared`."""
    demo = DEMO_INBOX / resource.source["path"]
    return demo if demo.is_file() else real_inbox() / resource.source["path"]


def check(dataset: DatasetSpec, resource, tmp_path: Path):
    """Read, normalise and validate one resource as a run does; return the table and the report."""
    table = read_table(source_file(resource), ReadOptions.from_descriptor(resource.read))
    work = normalise(table, resource, dataset.name, tmp_path)
    return table, validate(work, dataset.name, resource.name, limit_errors=10_000, checks=resource.checks)


# Catalog metadata


def test_catalog_has_no_problems():
    assert [str(problem) for problem in CATALOG.problems] == []


def test_catalog_has_at_least_ten_connected_datasets():
    assert len({dataset.name for dataset, _ in CONNECTED}) >= 10


def test_plan_reaches_the_target():
    plan = plan_datasets(CATALOG)
    assert len(plan) >= TARGET
    assert [d.id for d in plan if d.id == "SO-IOT-0000" or d.id.startswith("SO-IOT-09")] == []
    assert INDICATOR_DATASET not in {d.name for d in plan}


def test_planned_datasets_have_no_source():
    assert len(PLANNED) >= 40
    for dataset in PLANNED:
        assert [r.name for r in dataset.resources if r.source] == [], dataset.name
        assert "Планиран набор" in dataset.description["bg"], dataset.name
        assert "Planned dataset" in dataset.description["en"], dataset.name


def test_planned_datasets_name_their_source():
    unsourced = [d.name for d in PLANNED if "Източник на сведението" not in d.description["bg"]]
    assert unsourced == []


def test_indicator_dataset_is_connected():
    dataset = CATALOG.datasets[INDICATOR_DATASET]
    assert dataset.organization.name == "so-iot"
    assert [r.name for r in dataset.resources] == ["indicators", "organizations", "datasets", "history"]
    assert all(r.source["kind"] == "inbox" for r in dataset.resources)


def test_catalog_ids_unique_and_well_formed():
    ids = [dataset.id for dataset in DATASETS]
    assert sorted(set(ids)) == sorted(ids)
    assert [i for i in ids if not ID_PATTERN.match(i)] == []


def test_demo_measures_id_reserved():
    owners = {dataset.id: dataset.organization.name for dataset in DATASETS}
    assert owners.get("SO-IOT-0000") == "so-iot"


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda dataset: dataset.name)
def test_dataset_metadata_is_bilingual(dataset):
    for language in ("bg", "en"):
        assert dataset.title[language].strip(), language
        assert dataset.description[language].strip(), language
        assert dataset.keywords[language], language
    assert CYRILLIC.search(dataset.title["bg"])
    assert CYRILLIC.search(dataset.description["bg"])
    assert not CYRILLIC.search(dataset.title["en"])
    assert [word for word in dataset.keywords["en"] if CYRILLIC.search(word)] == []


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda dataset: dataset.name)
def test_dataset_schedule_and_licence(dataset):
    sofia = dataset.descriptor["sofia"]
    assert SLUG.match(dataset.name)
    assert dataset.frequency in FREQUENCIES
    assert sofia.get("hvd") in HVD_CATEGORIES | {None}
    assert ISO_DATE.match(sofia["planned"])
    assert [licence["name"] for licence in dataset.licenses if licence["name"] not in ("CC-BY-4.0", "ODbL-1.0")] == []


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda dataset: dataset.name)
def test_dataset_name_is_slug_of_title(dataset):
    assert dataset.name == slugify(dataset.title["bg"])


@pytest.mark.parametrize("item", RESOURCES, ids=resource_id)
def test_resource_title_is_bilingual(item):
    _, resource = item
    assert CYRILLIC.search(resource.title["bg"])
    assert resource.title["en"] != resource.title["bg"]


def test_organizations_are_all_used():
    used = {dataset.organization.name for dataset in DATASETS}
    assert sorted(set(CATALOG.organizations) - used) == []


# Schemas


SCHEMA_FILES = sorted(SCHEMAS_DIR.glob("*.json"))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda path: path.name)
def test_schema_is_valid_table_schema(path):
    errors = Schema.validate_descriptor(str(path)).errors
    assert [error.message for error in errors] == []


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda path: path.name)
def test_schema_fields_documented_bilingually(path):
    schema = Schema.from_descriptor(str(path)).to_descriptor()
    undocumented = [
        f["name"]
        for f in schema["fields"]
        if not (f.get("title") and f.get("description") and f.get("sofia:en", {}).get("title") and f["sofia:en"].get("description"))
    ]
    assert undocumented == []


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda path: path.name)
def test_schema_field_names_are_snake_case(path):
    schema = Schema.from_descriptor(str(path)).to_descriptor()
    assert [f["name"] for f in schema["fields"] if not re.match(r"^[a-z][a-z0-9_]*$", f["name"])] == []


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda path: path.name)
def test_code_fields_are_strings(path):
    schema = Schema.from_descriptor(str(path)).to_descriptor()
    codes = {f["name"]: f["type"] for f in schema["fields"] if CODE_NAME.search(f["name"])}
    assert {name: kind for name, kind in codes.items() if kind != "string"} == {}


def test_code_fields_exist_in_catalog():
    # Guards the test above against a rename that leaves it checking nothing.
    names = {f["name"] for _, resource in RESOURCES for f in resource.schema["fields"]}
    assert {"ekatte", "class_code", "school_code", "code", "stop_id", "district_code"} <= names


def test_every_schema_is_used():
    used = {resource.schema_name for _, resource in RESOURCES}
    assert sorted({path.stem for path in SCHEMA_FILES} - used) == []


# Sources


@pytest.mark.parametrize("item", CONNECTED, ids=resource_id)
def test_inbox_source_exists(item):
    _, resource = item
    assert resource.source["kind"] == "inbox"
    assert source_file(resource).is_file()


def test_demo_inbox_has_demo_datasets():
    demo = [resource_id(item) for item in CONNECTED if is_demo(item[1])]
    assert "merki-ot-plana-za-deystvie-za-inteligenten-rastezh-2016/measures" in demo
    assert len(demo) >= 1


def test_demo_workbook_matches_its_script(tmp_path):
    from demo.make_demo import WORKBOOK, build

    rebuilt = build(workbook=tmp_path / "indicators.xlsx")
    expected = [list(row) for row in openpyxl.load_workbook(rebuilt).active.iter_rows(values_only=True)]
    shipped = [list(row) for row in openpyxl.load_workbook(WORKBOOK).active.iter_rows(values_only=True)]
    assert shipped == expected


# Validation of every source


@pytest.mark.parametrize("item", [item for item in CONNECTED if is_demo(item[1])], ids=resource_id)
def test_demo_source_validates(item, tmp_path):
    dataset, resource = item
    _, report = check(dataset, resource, tmp_path)
    assert [(error.row, error.field, error.type, error.note) for error in report.errors] == []
    assert report.stats["rows"] > 0


@pytest.mark.shared
@pytest.mark.parametrize(
    "item",
    [
        item
        for item in CONNECTED
        if not is_demo(item[1]) and (item[0].name, item[1].name) not in EXPECTED_FAILURES
    ],
    ids=resource_id,
)
def test_real_source_validates(item, tmp_path):
    dataset, resource = item
    _, report = check(dataset, resource, tmp_path)
    assert [(error.row, error.field, error.type, error.note) for error in report.errors[:5]] == []
    assert report.stats["rows"] > 0


@pytest.mark.shared
def test_air_quality_fails_on_negative_levels(tmp_path):
    dataset = CATALOG.datasets["kachestvo-na-atmosfernia-vazduh"]
    _, report = check(dataset, dataset.resources[0], tmp_path)
    expected = EXPECTED_FAILURES[(dataset.name, "hourly-readings")]
    assert not report.valid
    assert Counter((error.type, error.field) for error in report.errors) == expected
    assert {error.constraint for error in report.errors} == {"parameter_name == 'Temperature' or level >= 0"}
    assert all(float(error.value) < 0 for error in report.errors)
    assert report.stats["rows"] == 5000


@pytest.mark.shared
def test_population_source_validates(tmp_path):
    dataset = CATALOG.datasets["naselenie-po-naseleni-mesta-2002-2017"]
    _, report = check(dataset, dataset.resources[0], tmp_path)
    assert report.errors == []


@pytest.mark.shared
@pytest.mark.parametrize(
    ("dataset", "resource", "field", "first_value"),
    [
        ("naseleni-mesta-v-stolichna-obshtina", "settlements", "ekatte", "00357"),
        ("spirki-na-gradskia-transport", "stops", "code", "0729"),
        ("minimalen-i-maksimalen-bal-po-paralelki-priem-v-8-klas-2024", "admission-scores", "class_code", "2277"),
        ("rayoni-na-stolichna-obshtina", "districts", "code", "68134-01"),
    ],
)
def test_codes_keep_leading_zeros(dataset, resource, field, first_value, tmp_path):
    spec = CATALOG.datasets[dataset]
    resource_spec = next(r for r in spec.resources if r.name == resource)
    table, _ = check(spec, resource_spec, tmp_path)
    first_row = next(iter(next(iter(table.batches()))))
    labels = [label.casefold() for label in table.labels]
    accepted = {label.casefold() for label, target in resource_spec.labels.items() if target == field} | {field}
    column = next(index for index, label in enumerate(labels) if label in accepted)
    assert first_row.cells[column] == first_value


@pytest.mark.shared
def test_stop_codes_with_leading_zero_survive(tmp_path):
    dataset = CATALOG.datasets["spirki-na-gradskia-transport"]
    table, report = check(dataset, dataset.resources[0], tmp_path)
    codes = [row.cells[0] for batch in table.batches() for row in batch]
    assert report.valid
    assert sum(1 for code in codes if code.startswith("0")) == 927
