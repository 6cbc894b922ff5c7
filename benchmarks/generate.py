"""Generate a realistic municipal register as a source CSV, with its schema and locale.

The table has ten columns written as Sofia's registers write them. Codes keep leading
zeros, and names and addresses are Cyrillic (some addresses contain commas, so they are
quoted). Areas and coordinates use a decimal comma and a space between thousands, dates are
dd.mm.yyyy and flags are да/не. The file is UTF-8 with `;` between cells.

    python benchmarks/generate.py --rows 1000000 --out benchmarks/data
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

DISTRICTS = [
    "Средец", "Красно село", "Възраждане", "Оборище", "Сердика", "Подуяне", "Слатина", "Изгрев",
    "Лозенец", "Триадица", "Красна поляна", "Илинден", "Надежда", "Искър", "Младост", "Студентски",
    "Витоша", "Овча купел", "Люлин", "Връбница", "Нови Искър", "Кремиковци", "Панчарево", "Банкя",
]  # fmt: skip
STREETS = ["ул. „Граф Игнатиев“", "бул. „Витоша“", "ул. „Шипка“", "бул. „Черни връх“", "ул. „Оборище“", "ж.к. „Люлин“"]
NAMES = ["Детска градина", "Читалище", "Спортна площадка", "Паркинг", "Зелена площ", "Обществена чешма"]
LABELS = ["Рег. номер", "ЕКАТТЕ", "Наименование", "Район", "Адрес", "Площ кв.м", "Дата на вписване", "Ширина", "Дължина", "Действащ"]

SCHEMA = {
    "fields": [
        {"name": "reg_number", "type": "string", "title": "Рег. номер", "constraints": {"required": True, "pattern": "[0-9]{8}"}},
        {"name": "ekatte", "type": "string", "title": "ЕКАТТЕ", "constraints": {"pattern": "[0-9]{5}"}},
        {"name": "name", "type": "string", "title": "Наименование", "constraints": {"required": True, "maxLength": 200}},
        {"name": "district", "type": "string", "title": "Район", "constraints": {"enum": DISTRICTS}},
        {"name": "address", "type": "string", "title": "Адрес"},
        {"name": "area", "type": "number", "title": "Площ кв.м", "constraints": {"minimum": 0}},
        {"name": "registered", "type": "date", "title": "Дата на вписване"},
        {"name": "lat", "type": "number", "title": "Ширина", "constraints": {"minimum": 42, "maximum": 43}},
        {"name": "lon", "type": "number", "title": "Дължина", "constraints": {"minimum": 23, "maximum": 24}},
        {"name": "active", "type": "boolean", "title": "Действащ"},
    ],
    "primaryKey": ["reg_number"],
}
LOCALE = {"decimalChar": ",", "groupChar": " ", "dateFormat": "%d.%m.%Y", "trueValues": ["да"], "falseValues": ["не"]}


def grouped(value: float) -> str:
    """Write a number as Bulgarian sources do: `1 234,56`."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def rows(count: int, seed: int):
    rng = random.Random(seed)
    for number in range(count):
        district = rng.choice(DISTRICTS)
        yield [
            f"{number:08d}",
            f"{rng.choice([68134, 357, 2511, 7106, 4234]):05d}",
            f"{rng.choice(NAMES)} № {rng.randrange(1, 300)}",
            district,
            f"{rng.choice(STREETS)} {rng.randrange(1, 200)}, вх. {rng.choice('АБВГ')}",
            grouped(rng.uniform(10, 250_000)),
            f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.{rng.randrange(1995, 2025)}",
            f"42,{rng.randrange(600000, 760000):06d}",
            f"23,{rng.randrange(200000, 450000):06d}",
            rng.choice(["да", "не"]),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="number of data rows to write")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data", help="folder for the CSV and schema")
    parser.add_argument("--seed", type=int, default=20240719, help="seed of the random generator")
    options = parser.parse_args()

    options.out.mkdir(parents=True, exist_ok=True)
    path = options.out / f"register-{options.rows}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(LABELS)
        writer.writerows(rows(options.rows, options.seed))
    (options.out / "register.schema.json").write_text(json.dumps({"schema": SCHEMA, "locale": LOCALE}, ensure_ascii=False, indent=2), encoding="utf-8")
    print(path)


if __name__ == "__main__":
    main()
