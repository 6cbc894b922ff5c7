"""The command line: help texts in the operator's language, usage errors, `catalog check --json`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from opendata_sofia import cli, i18n

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _default_language(monkeypatch):
    """Start from the default language whatever an earlier test set, with wide help output."""
    monkeypatch.setattr(i18n, "_language", None)
    monkeypatch.delenv("OPENDATA_SOFIA_LANG", raising=False)
    # Wide enough that rich does not wrap a help text inside the phrases checked below
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("TERMINAL_WIDTH", "250")


def _main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the console-script entry point with `args` and return its exit code and output."""
    monkeypatch.setattr(sys, "argv", ["opendata-sofia", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def test_run_help_in_bulgarian_by_default(monkeypatch, capsys):
    code, out, _ = _main(monkeypatch, capsys, "run", "--help")

    assert code == 0
    assert "Изпълнява основната задача: извлича, валидира, преобразува и публикува наборите от данни." in out
    assert "Папка за входящи файлове." in out
    assert "Брой набори от данни, обработвани едновременно." in out
    assert "Показва тази помощ и излиза." in out
    assert "Runs the main job" not in out
    assert "cli.help." not in out


@pytest.mark.parametrize("args", [("--lang", "en", "run", "--help"), ("run", "--help", "--lang=en")])
def test_run_help_in_english_with_lang(monkeypatch, capsys, args):
    code, out, _ = _main(monkeypatch, capsys, *args)

    assert code == 0
    assert "Runs the main job: fetch, validate, convert and publish the datasets." in out
    assert "Drop-folder inbox." in out
    assert "Number of datasets processed at once." in out
    assert "Show this message and exit." in out
    assert "Изпълнява" not in out


def test_run_help_in_english_from_environment(monkeypatch, capsys):
    monkeypatch.setenv("OPENDATA_SOFIA_LANG", "en")

    code, out, _ = _main(monkeypatch, capsys, "run", "--help")

    assert code == 0
    assert "Runs the main job" in out


def test_app_help_lists_commands_in_language(monkeypatch, capsys):
    code, bulgarian, _ = _main(monkeypatch, capsys, "--help")
    assert code == 0
    assert "Валидира наборите от данни, без да публикува." in bulgarian
    assert "Команди за каталога" in bulgarian

    code, english, _ = _main(monkeypatch, capsys, "--lang", "en", "--help")
    assert code == 0
    assert "Validates the datasets without publishing." in english
    assert "Commands for the catalog" in english


def test_usage_error_exits_with_2(monkeypatch, capsys):
    code, _, err = _main(monkeypatch, capsys, "run", "--no-such-option")

    assert code == cli.EXIT_USAGE
    assert "--no-such-option" in err


def test_catalog_check_json_has_keys_and_messages(tmp_path, monkeypatch, capsys):
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    catalog = tmp_path / "datapackages"
    catalog.mkdir()
    shutil.copy(REPO / "datapackages" / "organizations.json", catalog)
    name = "rayoni-na-stolichna-obshtina"
    descriptor = json.loads((REPO / "datapackages" / name / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["sofia"]["frequency"] = "hourly"
    (catalog / name).mkdir()
    (catalog / name / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("OPENDATA_SOFIA_HOME", str(tmp_path))
    for variable in ("OPENDATA_SOFIA_CATALOG", "OPENDATA_SOFIA_SCHEMAS"):
        monkeypatch.delenv(variable, raising=False)

    code, out, _ = _main(monkeypatch, capsys, "catalog", "check", "--json")
    problems = json.loads(out)["problems"]

    assert code == cli.EXIT_ERROR
    assert [(p["key"], p["dataset"], p["resource"]) for p in problems] == [
        ("catalog.problem.frequency_invalid", name, None)
    ]
    assert problems[0]["params"] == {
        "frequency": "hourly",
        "allowed": "daily, weekly, monthly, quarterly, annual, irregular, never",
    }
    assert problems[0]["path"] == str(catalog / name / "datapackage.json")
    assert problems[0]["message"] == (
        f"{catalog / name / 'datapackage.json'}: {name}: Честотата на актуализиране „hourly“ в sofia.frequency "
        "е невалидна: използвайте една от стойностите daily, weekly, monthly, quarterly, annual, irregular, never."
    )
