"""Secrets: tokens never reach logs, reports, summaries, artifacts, the portal or CKAN."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from opendata_sofia.errors import SourceError
from opendata_sofia.security.redaction import install_log_redaction, redact, register_secret
from opendata_sofia.rawstore import RawStore
from opendata_sofia.sources.http import fetch_over_http
from tests.loopback import QuietHandler, serve
from tests.security_helpers import make_settings, run_one, text_dataset, write_csv

SOURCE_TOKEN = "src-7f3a9c2e51d84b6f"
CKAN_TOKEN = "ckan-token-0c9d8e7f6a5b4c3d"
CSV_BODY = "id,name,contact,amount\n1,Средец,,10\n".encode("utf-8")


@pytest.fixture(autouse=True)
def secrets_in_env(monkeypatch):
    monkeypatch.setenv("SOURCE_X_TOKEN", SOURCE_TOKEN)
    monkeypatch.setenv("CKAN_API_TOKEN", CKAN_TOKEN)


# Redaction


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"token {CKAN_TOKEN} rejected", "token *** rejected"),
        ("https://x.bg/data.csv?token=abc123&page=2", "https://x.bg/data.csv?token=***&page=2"),
        ("https://x.bg/data.csv?format=csv&api_key=zzz", "https://x.bg/data.csv?format=csv&api_key=***"),
        ("ftp://user:p4ssw0rd@files.sofia.bg/x", "ftp://user:***@files.sofia.bg/x"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: ***"),
        ("{'Authorization': 'Token xyz'}", "{'Authorization': '***'}"),
        ("no secrets here: 12345", "no secrets here: 12345"),
    ],
)
def test_redact_cases(text, expected):
    assert redact(text) == expected


def test_redact_registered_secret():
    register_secret("block-secret-5e6f7a8b")
    assert redact("value block-secret-5e6f7a8b") == "value ***"


def test_redact_ignores_short_values(monkeypatch):
    monkeypatch.setenv("DEBUG_TOKEN", "1")
    assert redact("row 1 of 10") == "row 1 of 10"


def test_error_render_is_redacted():
    error = SourceError("source.http_status", source=f"https://x.bg/a.csv?key={SOURCE_TOKEN}", status=500)
    assert SOURCE_TOKEN not in error.render("bg")
    assert SOURCE_TOKEN not in str(error)
    assert "https://x.bg/a.csv?key=***" in error.render("en")


def test_log_records_are_redacted(caplog):
    install_log_redaction()
    caplog.set_level(logging.DEBUG)

    logging.getLogger("opendata_sofia.sources").info("GET %s", f"https://x.bg/a.csv?token={SOURCE_TOKEN}")
    logging.getLogger("prefect.flow_runs").error("publishing failed with %s", CKAN_TOKEN)
    try:
        raise RuntimeError(f"CKAN refused token {CKAN_TOKEN}")
    except RuntimeError:
        logging.getLogger("opendata_sofia_flows.publish").exception("unexpected failure")

    assert "token=***" in caplog.text
    assert "RuntimeError: CKAN refused token ***" in caplog.text
    assert SOURCE_TOKEN not in caplog.text
    assert CKAN_TOKEN not in caplog.text


# A loopback server that records requests, serves CSV, and plays a failing CKAN


class Recorder(QuietHandler):
    seen: list[dict] = []

    def do_GET(self):  # noqa: N802 (http.server API)
        type(self).seen.append({"path": self.path, "headers": dict(self.headers)})
        if self.path.startswith("/broken"):
            self.send_error(500)
            return
        if self.path.startswith("/elsewhere"):
            port = self.server.server_port
            self.reply(302, b"", {"Location": f"http://localhost:{port}/registar.csv"})
            return
        self.reply(200, CSV_BODY)

    def do_POST(self):  # noqa: N802 (http.server API)
        # A CKAN that echoes the token it was sent in its error, as a misconfigured proxy may
        type(self).seen.append({"path": self.path, "headers": dict(self.headers)})
        token = self.headers.get("Authorization", "")
        body = json.dumps({"success": False, "error": {"__type": "Authorization Error", "message": f"bad token {token}"}})
        self.reply(403, body.encode(), {"Content-Type": "application/json"})



@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENDATA_SOFIA_ALLOW_HOSTS", "127.0.0.1, localhost, ::1")
    Recorder.seen = []
    with serve(Recorder) as url:
        yield url


def _files_text(folder: Path) -> str:
    return "\n".join(
        path.read_bytes().decode("utf-8", errors="replace") for path in sorted(folder.rglob("*")) if path.is_file()
    )


# Source credentials


def test_header_credential_sent_not_stored(tmp_path, server):
    source = {"url": f"{server}/registar.csv", "auth": {"headerEnv": "SOURCE_X_TOKEN"}}
    pull = fetch_over_http(source, store=RawStore(tmp_path / "raw"), state_dir=tmp_path / "state")

    assert Recorder.seen[0]["headers"]["Authorization"] == f"Bearer {SOURCE_TOKEN}"
    assert pull.location == f"{server}/registar.csv"
    assert SOURCE_TOKEN not in _files_text(tmp_path / "state")


def test_header_credential_not_sent_elsewhere(tmp_path, server):
    source = {"url": f"{server}/elsewhere", "auth": {"headerEnv": "SOURCE_X_TOKEN"}}
    fetch_over_http(source, store=RawStore(tmp_path / "raw"), state_dir=tmp_path / "state")

    assert [request["path"] for request in Recorder.seen] == ["/elsewhere", "/registar.csv"]
    assert "Authorization" in Recorder.seen[0]["headers"]
    assert "Authorization" not in Recorder.seen[1]["headers"]


def test_query_credential_sent_not_stored(tmp_path, server):
    source = {"url": f"{server}/registar.csv", "auth": {"queryEnv": "SOURCE_X_TOKEN", "param": "key"}}
    pull = fetch_over_http(source, store=RawStore(tmp_path / "raw"), state_dir=tmp_path / "state")

    assert Recorder.seen[0]["path"] == f"/registar.csv?key={SOURCE_TOKEN}"
    assert SOURCE_TOKEN not in pull.location
    assert SOURCE_TOKEN not in _files_text(tmp_path / "state")


def test_missing_credential_variable(tmp_path, server, monkeypatch):
    monkeypatch.delenv("SOURCE_X_TOKEN")
    source = {"url": f"{server}/registar.csv", "auth": {"headerEnv": "SOURCE_X_TOKEN"}}
    with pytest.raises(SourceError) as raised:
        fetch_over_http(source, store=RawStore(tmp_path / "raw"), state_dir=tmp_path / "state")
    assert raised.value.key == "security.auth_missing"
    assert "SOURCE_X_TOKEN" in raised.value.render("bg")
    assert Recorder.seen == []


# Every output of a run


def _run_everything(tmp_path: Path, server: str, ckan_target) -> tuple[object, list]:
    """Run a failing source, a working one with credentials, and a failing CKAN publication."""
    from opendata_sofia.pipeline import RunContext, process_dataset

    settings = make_settings(tmp_path)
    write_csv(settings.inbox / "registar.csv", [["1", "Средец", "", "10"]])

    # A source URL with the token in its query string that fails, and one that works
    broken = text_dataset("test-broken", source={"kind": "http", "url": f"{server}/broken?token={SOURCE_TOKEN}"})
    secured = text_dataset(
        "test-secured",
        source={"kind": "http", "url": f"{server}/registar.csv?format=csv&access_token={SOURCE_TOKEN}",
                "auth": {"headerEnv": "SOURCE_X_TOKEN"}},
    )  # fmt: skip
    results = [run_one(broken, settings), run_one(secured, settings)]

    # A CKAN call that fails, with the token echoed in its error
    context = RunContext(settings=settings, run_id="run-2")
    results.append(process_dataset(text_dataset("test-ckan"), context, ckan_target))

    for result in results:
        logging.getLogger("opendata_sofia_flows.publish").error("%s: %s — %s", result.dataset, result.status, result.message)
    return settings, results


def test_no_token_in_any_output(tmp_path, server, caplog, capsys):
    from opendata_sofia.publishing.ckan import CkanTarget
    from opendata_sofia.reporting.run_summary import run_summary_markdown

    install_log_redaction()
    caplog.set_level(logging.DEBUG)

    settings, results = _run_everything(tmp_path, server, CkanTarget(server, CKAN_TOKEN))

    summary = {
        "run_id": "run-1", "target": "local", "counts": {}, "needs_attention": [],
        "results": [result.to_dict() for result in results],
    }  # fmt: skip
    captured = capsys.readouterr()
    outputs = {
        "logs": caplog.text,
        "output": captured.out + captured.err,
        "summary": json.dumps(summary, ensure_ascii=False),
        "artifact": run_summary_markdown(summary),
        "workdir": _files_text(settings.workdir),
    }
    assert [result.status for result in results] == ["failed", "published", "failed"]
    assert "?token=***" in results[0].message
    assert (settings.portal / "test-secured").is_dir()
    for name, text in outputs.items():
        assert SOURCE_TOKEN not in text, name
        assert CKAN_TOKEN not in text, name


def test_no_token_in_ckan_metadata(tmp_path, server, ckan, ckan_cleanup, run_suffix):
    import requests

    from opendata_sofia.pipeline import RunContext, process_dataset
    from opendata_sofia.publishing.ckan import CkanTarget

    settings = make_settings(tmp_path)
    name = f"test-secret-{run_suffix}"
    ckan_cleanup["datasets"].append(name)
    dataset = text_dataset(
        name, source={"kind": "http", "url": f"{server}/registar.csv?access_token={SOURCE_TOKEN}"}
    )
    # The organization is shared with other tests against this CKAN, so it is not purged
    target = CkanTarget(ckan.url, ckan.editor_token or ckan.admin_token, admin_token=ckan.admin_token)

    result = process_dataset(dataset, RunContext(settings=settings, run_id="run-ckan"), target)

    assert result.status == "published", result.message
    package = ckan.admin().action.package_show(id=name)
    texts = [json.dumps(package, ensure_ascii=False)]
    for resource in package["resources"]:
        texts.append(requests.get(resource["url"], timeout=10).text)
    for text in texts:
        assert SOURCE_TOKEN not in text
        assert ckan.admin_token not in text
        if ckan.editor_token:
            assert ckan.editor_token not in text

    # A failing call with a wrong token names no token
    write_csv(settings.inbox / "registar.csv", [["1", "Средец", "", "10"]])
    wrong = CkanTarget(ckan.url, CKAN_TOKEN)
    failed = process_dataset(text_dataset(f"{name}-x"), RunContext(settings=settings, run_id="run-ckan-2"), wrong)
    assert failed.status == "failed"
    assert CKAN_TOKEN not in failed.message
