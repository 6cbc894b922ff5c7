"""The catalog files of the local folder portal: an HTML page, CKAN-shaped JSON and DCAT-AP.

The page works offline (no scripts, no external styles). Bulgarian comes first, English beside
it in a smaller line, because the portal serves both operators and foreign reusers.
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
}
FREQUENCY_URIS = {
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "annual": "ANNUAL",
    "irregular": "IRREG",
    "never": "NEVER",
}

PAGE = """<!doctype html>
<html lang="bg">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Отворени данни на Столична община</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1b1b1b; }}
h1 {{ margin-bottom: 0; }}
.en {{ color: #555; font-size: 0.9em; }}
section {{ border-top: 1px solid #ccc; padding: 0.8rem 0; }}
.files a {{ margin-right: 0.8rem; }}
table {{ border-collapse: collapse; }}
td, th {{ padding: 0.2rem 0.6rem; text-align: left; }}
</style>
</head>
<body>
<h1>Отворени данни на Столична община</h1>
<p class="en">Open data of Sofia Municipality</p>
<p>Публикувани набори от данни: <strong id="count">{count}</strong>
<span class="en">(published datasets)</span></p>
{sections}
</body>
</html>
"""


def write_index(root: Path) -> None:
    """Rewrite index.html, catalog.json and catalog.dcat.jsonld from the datasets in `root`."""
    packages = [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(root.glob("*/ckan.json"))
    ]
    sections = "\n".join(_section(package) for package in packages)

    _write(root / "index.html", PAGE.format(count=len(packages), sections=sections))
    _write(root / "catalog.json", json.dumps(packages, ensure_ascii=False, indent=2))
    _write(root / "catalog.dcat.jsonld", json.dumps(_dcat(packages), ensure_ascii=False, indent=2))


def _section(package: dict) -> str:
    extras = {extra["key"]: extra["value"] for extra in package.get("extras", [])}
    name = escape(package["name"])
    links = " ".join(
        f'<a href="{name}/{escape(resource["url"])}">{escape(resource["format"])}</a>'
        for resource in package["resources"]
    )
    rows = ", ".join(f"{escape(key)}: {count}" for key, count in package.get("num_rows", {}).items())
    return (
        f'<section id="{name}">\n'
        f"<h2>{escape(package['title'])}</h2>\n"
        f'<p class="en">{escape(extras.get("title_en", ""))}</p>\n'
        f"<p>{escape(package['notes'])}</p>\n"
        f"<table>"
        f"<tr><th>Организация</th><td>{escape(package['organization']['title'])}</td></tr>"
        f"<tr><th>Лиценз</th><td>{escape(package['license_id'])}</td></tr>"
        f"<tr><th>Редове</th><td>{rows}</td></tr>"
        f"<tr><th>Публикуван</th><td>{escape(package.get('metadata_modified', ''))}</td></tr>"
        f"</table>\n"
        f'<p class="files">{links}</p>\n'
        f"</section>"
    )


def _dcat(packages: list[dict]) -> dict:
    datasets = []
    for package in packages:
        extras = {extra["key"]: extra["value"] for extra in package.get("extras", [])}
        datasets.append(
            {
                "@id": f"{package['name']}/",
                "@type": "dcat:Dataset",
                "dct:identifier": extras.get("source_id", package["name"]),
                "dct:title": [
                    {"@value": package["title"], "@language": "bg"},
                    {"@value": extras.get("title_en", ""), "@language": "en"},
                ],
                "dct:description": [
                    {"@value": package["notes"], "@language": "bg"},
                    {"@value": extras.get("notes_en", ""), "@language": "en"},
                ],
                "dcat:keyword": [tag["name"] for tag in package.get("tags", [])],
                "dct:publisher": {"@type": "foaf:Agent", "foaf:name": package["organization"]["title"]},
                "dct:accrualPeriodicity": {
                    "@id": "http://publications.europa.eu/resource/authority/frequency/"
                    + FREQUENCY_URIS.get(extras.get("frequency", ""), "UNKNOWN")
                },
                "dcat:distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "dcat:downloadURL": {"@id": f"{package['name']}/{resource['url']}"},
                        "dcat:mediaType": resource["mimetype"],
                        "dct:format": resource["format"],
                        "dcat:byteSize": resource["size"],
                        "spdx:checksum": {"spdx:algorithm": "sha256", "spdx:checksumValue": resource["hash"]},
                    }
                    for resource in package["resources"]
                ],
            }
        )
    context = dict(DCAT_CONTEXT, spdx="http://spdx.org/rdf/terms#")
    return {"@context": context, "@type": "dcat:Catalog", "dcat:dataset": datasets}


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
