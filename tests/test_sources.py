import hashlib
import os

import pytest

from opendata_sofia.errors import SourceError, SourceNotFound
from opendata_sofia.rawstore import RawStore
from opendata_sofia.sources.http import fetch_over_http
from opendata_sofia.sources.inbox import fetch_from_inbox, find_in_inbox
from tests.loopback import QuietHandler, serve

BODY = "Район;Код\nСредец;01\n".encode("utf-8")


def test_rawstore_keeps_bytes_once_by_sha256(tmp_path):
    store = RawStore(tmp_path / "raw")
    source = tmp_path / "a.csv"
    source.write_bytes(BODY)

    first = store.put_file(source)
    second = store.put_file(source)

    assert first.sha256 == hashlib.sha256(BODY).hexdigest()
    assert first.path == second.path
    assert first.path.read_bytes() == BODY
    assert [p.name for p in (tmp_path / "raw").rglob("*") if p.is_file()] == [first.sha256]


def test_inbox_picks_newest_match(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "budget").mkdir(parents=True)
    old, new = inbox / "budget" / "2025.csv", inbox / "budget" / "2026.csv"
    old.write_bytes(b"old")
    new.write_bytes(b"new")
    os.utime(old, (1_700_000_000, 1_700_000_000))

    pull = fetch_from_inbox({"path": "budget/*.csv"}, inbox=inbox, store=RawStore(tmp_path / "raw"))

    assert pull.name == "2026.csv"
    assert pull.location == "budget/2026.csv"
    assert pull.blob.path.read_bytes() == b"new"


@pytest.mark.parametrize("pattern", ["../secret.csv", "/etc/passwd", "sub/../../x"])
def test_inbox_rejects_paths_outside(tmp_path, pattern):
    (tmp_path / "inbox").mkdir()
    with pytest.raises(SourceError) as raised:
        find_in_inbox(tmp_path / "inbox", pattern)
    assert raised.value.key == "source.inbox_escape"


def test_inbox_rejects_symlink_outside(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "secret.csv").write_text("x")
    (inbox / "link.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(SourceError) as raised:
        find_in_inbox(inbox, "*.csv")
    assert raised.value.key == "source.inbox_escape"


def test_inbox_missing_file_names_path_in_bulgarian(tmp_path):
    (tmp_path / "inbox").mkdir()
    with pytest.raises(SourceNotFound) as raised:
        find_in_inbox(tmp_path / "inbox", "districts.csv")
    text = raised.value.render("bg")
    assert "districts.csv" in text
    assert "не е намерен" in text


class _Handler(QuietHandler):
    requests_seen: list = []

    def do_GET(self):  # noqa: N802 (http.server API)
        type(self).requests_seen.append(dict(self.headers))
        if self.path == "/big.csv":
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"x" * 1024)
            return
        if self.path == "/missing.csv":
            self.send_error(404)
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.reply(200, BODY, {"ETag": '"v1"'})


@pytest.fixture
def http_server(monkeypatch):
    # Loopback is blocked for sources unless the operator allows it
    monkeypatch.setenv("OPENDATA_SOFIA_ALLOW_HOSTS", "127.0.0.1")
    _Handler.requests_seen = []
    with serve(_Handler) as url:
        yield url


def test_http_conditional_get_reuses_stored_bytes(tmp_path, http_server):
    store = RawStore(tmp_path / "raw")
    source = {"kind": "http", "url": f"{http_server}/districts.csv"}

    first = fetch_over_http(source, store=store, state_dir=tmp_path / "state")
    second = fetch_over_http(source, store=store, state_dir=tmp_path / "state")

    assert first.not_modified is False
    assert first.blob.path.read_bytes() == BODY
    assert second.not_modified is True
    assert second.blob.sha256 == first.blob.sha256
    assert _Handler.requests_seen[1]["If-None-Match"] == '"v1"'


def test_http_size_limit(tmp_path, http_server):
    source = {"kind": "http", "url": f"{http_server}/big.csv", "maxBytes": 10_000}
    with pytest.raises(SourceError) as raised:
        fetch_over_http(source, store=RawStore(tmp_path / "raw"), state_dir=tmp_path / "state")
    assert raised.value.key == "source.too_large"
    assert not [p for p in (tmp_path / "raw").rglob("*") if p.is_file()]


def test_http_404_is_not_found(tmp_path, http_server):
    with pytest.raises(SourceNotFound):
        fetch_over_http({"url": f"{http_server}/missing.csv"}, store=RawStore(tmp_path / "raw"), state_dir=tmp_path)


def test_http_rejects_other_schemes(tmp_path):
    with pytest.raises(SourceError) as raised:
        fetch_over_http({"url": "file:///etc/passwd"}, store=RawStore(tmp_path / "raw"), state_dir=tmp_path)
    assert raised.value.key == "source.http_scheme"
