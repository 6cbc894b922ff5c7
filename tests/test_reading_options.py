"""ReadOptions from the `sofia.read` object of a resource descriptor."""

from __future__ import annotations

import pytest

from opendata_sofia.errors import CatalogError
from opendata_sofia.reading import ReadOptions


def test_from_descriptor_maps_camel_case():
    options = ReadOptions.from_descriptor(
        {
            "format": "xlsx",
            "encoding": "windows-1251",
            "delimiter": ";",
            "quoteChar": "'",
            "headerRows": [3, 4],
            "sheet": "Данни",
            "stopAt": "^(ОБЩО|Забележка)",
            "recordPath": "data.items",
            "columns": {"name": "names.bg"},
        }
    )

    assert options == ReadOptions(
        format="xlsx",
        encoding="windows-1251",
        delimiter=";",
        quote_char="'",
        header_rows=[3, 4],
        sheet="Данни",
        stop_at="^(ОБЩО|Забележка)",
        record_path="data.items",
        columns={"name": "names.bg"},
    )


def test_from_descriptor_defaults():
    options = ReadOptions.from_descriptor(None)

    assert options == ReadOptions()
    assert options.quote_char == '"'
    assert options.header_rows is None
    assert options.describe() == {"quoteChar": '"'}


def test_unknown_key_rejected():
    with pytest.raises(CatalogError) as raised:
        ReadOptions.from_descriptor({"header_rows": [1]})

    assert raised.value.key == "read.option_unknown"
    assert raised.value.params["option"] == "header_rows"
    assert "headerRows" in raised.value.params["allowed"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("format", "ods"),
        ("delimiter", ";;"),
        ("quoteChar", ""),
        ("headerRows", []),
        ("headerRows", [0]),
        ("headerRows", [4, 3]),
        ("headerRows", [2, 2]),
        ("headerRows", 3),
        ("sheet", 0),
        ("sheet", True),
        ("stopAt", "(ОБЩО"),
        ("columns", {"lat": 0}),
    ],
)
def test_invalid_values_rejected(key, value):
    with pytest.raises(CatalogError) as raised:
        ReadOptions.from_descriptor({key: value})

    assert raised.value.key == "read.option_invalid"
    assert raised.value.params == {"option": key, "value": repr(value)}
