"""Bulgarian transliteration and CKAN dataset names."""

from __future__ import annotations

import csv

import pytest

from opendata_sofia.slugs import NAME_PATTERN, slugify, transliterate, unique_name
from tests.shared import shared_path


def test_titles_case_names():
    path = shared_path("cases", "13-cyrillic-dataset-slug", "titles.csv")
    with path.open(encoding="utf-8", newline="") as stream:
        titles = list(csv.DictReader(stream))

    taken: dict[str, str] = {}
    for title in titles:
        name = unique_name(slugify(title["title_bg"]), taken, title["source_id"])
        taken[name] = title["source_id"]

        assert name == title["expected_name"], title["title_bg"]
        assert NAME_PATTERN.match(name)

    assert len(titles) == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("абвгдежзийклмнопрстуфхцчшщъьюя", "abvgdezhziyklmnoprstufhtschshshtayyuya"),
        ("София", "Sofia"),
        ("СОФИЯ", "SOFIA"),
        ("Мария и Ия", "Maria i Ia"),
        ("история", "istoria"),
        ("Българията", "Balgariyata"),
        ("Щъркел", "Shtarkel"),
        ("ЩЪРКЕЛ", "SHTARKEL"),
        ("Жечо Чочев", "Zhecho Chochev"),
        ("ЦГМ", "TSGM"),
        ("Ю", "Yu"),
        ("ул. „Шипка“ № 6", "ul. „Shipka“ № 6"),
        ("Latin stays", "Latin stays"),
    ],
)
def test_transliterate(text, expected):
    assert transliterate(text) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Райони на София", "rayoni-na-sofia"),
        ("  --Бюджет 2025 г.--  ", "byudzhet-2025-g"),
        ("Café „Лозенец“", "cafe-lozenets"),
        ("Данни_за_2024", "danni-za-2024"),
    ],
)
def test_slugify(title, expected):
    assert slugify(title) == expected


def test_slugify_cut_at_word_boundary():
    title = " ".join(["Регистър"] * 20)

    name = slugify(title)

    assert len(name) <= 100
    assert name == "-".join(["registar"] * 11)


def test_slugify_custom_length():
    assert slugify("Детски градини в Столична община", max_length=20) == "detski-gradini-v"


def test_slugify_long_word_cut_hard():
    assert slugify("а" * 150) == "a" * 100


@pytest.mark.parametrize("title", ["", "—", "Ъ", "5"])
def test_slugify_too_short_raises(title):
    with pytest.raises(ValueError):
        slugify(title)


def test_unique_name_free():
    assert unique_name("rayoni", {}, "SO-1") == "rayoni"


def test_unique_name_same_owner():
    assert unique_name("rayoni", {"rayoni": "SO-1"}, "SO-1") == "rayoni"


def test_unique_name_collision_suffixes():
    taken = {"rayoni": "SO-1", "rayoni-2": "SO-2"}

    assert unique_name("rayoni", taken, "SO-3") == "rayoni-3"
    assert unique_name("rayoni", taken, "SO-2") == "rayoni-2"


def test_unique_name_stays_within_limit():
    base = "a" * 100

    name = unique_name(base, {base: "SO-1"}, "SO-2")

    assert name == "a" * 98 + "-2"
    assert NAME_PATTERN.match(name)
