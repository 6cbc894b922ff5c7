"""Hostile sources: blocked addresses and redirects, endless bodies, zip bombs, file names.

Every server here listens on 127.0.0.1, allowed for the test through OPENDATA_SOFIA_ALLOW_HOSTS.
Connections are watched: any attempt to connect to an address other than loopback fails the
test before it leaves the machine.
"""

from __future__ import annotations

import io
import ipaddress
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest

from opendata_sofia.errors import ReadError, SourceError
from opendata_sofia.security.netguard import AddressPolicy, BlockedAddress, address_kind
from opendata_sofia.rawstore import RawStore
from opendata_sofia.sources.http import fetch_over_http
from opendata_sofia.security.spreadsheet_guard import SpreadsheetLimits, check_spreadsheet
from tests.loopback import QuietHandler, serve
from tests.security_helpers import make_settings, portal_files, run_one, text_dataset

CSV_BODY = "id,name,contact,amount\n1,Средец,,10\n".encode("utf-8")


# Workbooks


def xlsx_bytes(sheet_xml: bytes) -> bytes:
    """Return a minimal .xlsx file with one worksheet holding `sheet_xml`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buffer.getvalue()


def sheet_xml(rows: int, dimension: str | None = None) -> bytes:
    head = b'<?xml version="1.0"?><worksheet>'
    if dimension:
        head += f'<dimension ref="{dimension}"/>'.encode()
    body = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n) for n in range(1, rows + 1))
    return head + b"<sheetData>" + body + b"</sheetData></worksheet>"


def zip_bomb() -> bytes:
    """An .xlsx whose sheet is 40 MB of one repeated row: a few tens of KB compressed."""
    row = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"
    return xlsx_bytes(b"<worksheet><sheetData>" + row * 40_000 + b"</sheetData></worksheet>")


# A loopback server with hostile responses


class Hostile(QuietHandler):
    seen: list[dict] = []
    stop = threading.Event()

    def do_GET(self):  # noqa: N802 (http.server API)
        type(self).seen.append({"path": self.path, "headers": dict(self.headers)})
        routes = {
            "/to-metadata": lambda: self._redirect("http://169.254.169.254/latest/meta-data/"),
            "/to-private": lambda: self._redirect("http://10.0.0.1/registar.csv"),
            "/to-metadata-name": lambda: self._redirect("http://metadata.google.internal/computeMetadata/v1/"),
            "/to-ipv6-metadata": lambda: self._redirect("http://[fd00:ec2::254]/latest/"),
            "/loop": lambda: self._redirect("/loop"),
            "/to-ok": lambda: self._redirect("/registar.csv"),
            "/endless": self._endless,
            "/bomb.xlsx": lambda: self._send(zip_bomb()),
            "/registar.csv": lambda: self._send(CSV_BODY),
            "/named": lambda: self._send(CSV_BODY, {"Content-Disposition": 'attachment; filename="../../../etc/registar.csv"'}),
        }
        route = routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        route()

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, body: bytes, headers: dict | None = None) -> None:
        self.send_response(200)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        # No Content-Length: the body ends only when the connection does. A line now and then
        # keeps every read below the read timeout.
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"id,name,contact,amount\n")
        try:
            while not type(self).stop.is_set():
                self.wfile.write(b"1,a,,1\n")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENDATA_SOFIA_ALLOW_HOSTS", "127.0.0.1")
    Hostile.seen = []
    Hostile.stop.clear()
    with serve(Hostile) as url:
        yield url
        Hostile.stop.set()


@pytest.fixture
def connections(monkeypatch):
    """Record every socket connection; fail at once on any address that is not loopback."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def watched_connect(sock, address):
        host = address[0]
        attempts.append(host)
        if not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"connection attempted to {host}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", watched_connect)
    return attempts


def fetch(source: dict, tmp_path: Path, policy: AddressPolicy | None = None):
    return fetch_over_http(source, store=RawStore(tmp_path / "raw"), state_dir=tmp_path / "state", policy=policy)


# Addresses


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"),
        ("100.64.0.1", "cgnat"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:a9fe:a9fe::1", "link-local"),
        ("240.0.0.1", "reserved"),
        ("93.184.215.14", None),
        ("2a00:1450:4017:80b::200e", None),
    ],
)
def test_address_kind(address, kind):
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_metadata_name_blocked_before_dns():
    lookups = []
    policy = AddressPolicy(resolve_host=lambda *args, **kwargs: lookups.append(args) or [])

    with pytest.raises(BlockedAddress) as raised:
        policy.check_url("http://metadata.google.internal/computeMetadata/v1/")

    assert raised.value.params["kind"] == "metadata"
    assert lookups == []


def test_allow_hosts_setting(monkeypatch):
    monkeypatch.setenv("OPENDATA_SOFIA_ALLOW_HOSTS", "10.20.0.0/16, exports.so.local")
    policy = AddressPolicy.from_env()
    assert policy.allowed_hosts == frozenset({"exports.so.local"})
    assert policy.allowed_networks == (ipaddress.ip_network("10.20.0.0/16"),)
    assert policy.check_url("http://10.20.0.5/x.csv") == ["10.20.0.5"]
    with pytest.raises(BlockedAddress):
        policy.check_url("http://10.21.0.5/x.csv")


def test_loopback_blocked_without_setting(tmp_path, monkeypatch, connections):
    monkeypatch.delenv("OPENDATA_SOFIA_ALLOW_HOSTS", raising=False)
    with pytest.raises(BlockedAddress) as raised:
        fetch({"url": "http://127.0.0.1:9/registar.csv"}, tmp_path)
    assert raised.value.params["kind"] == "loopback"
    assert connections == []


# Redirects


@pytest.mark.parametrize(
    "path, address, kind",
    [
        ("/to-metadata", "169.254.169.254", "link-local"),
        ("/to-private", "10.0.0.1", "private"),
        ("/to-metadata-name", "metadata.google.internal", "metadata"),
        ("/to-ipv6-metadata", "fd00:ec2::254", "private"),
    ],
)
def test_redirect_to_blocked_address_rejected(tmp_path, server, connections, path, address, kind):
    with pytest.raises(BlockedAddress) as raised:
        fetch({"url": server + path}, tmp_path)

    assert raised.value.params["address"] == address
    assert raised.value.params["kind"] == kind
    assert set(connections) == {"127.0.0.1"}
    assert [request["path"] for request in Hostile.seen] == [path]
    assert not list((tmp_path / "raw").rglob("*.csv"))


def test_redirect_error_is_bulgarian(tmp_path, server, connections):
    with pytest.raises(BlockedAddress) as raised:
        fetch({"url": server + "/to-metadata"}, tmp_path)
    text = raised.value.render("bg")
    assert text.startswith(f"Източникът {server}/to-metadata води до 169.254.169.254 с адрес 169.254.169.254")
    assert "169.254.169.254 за метаданни" in text
    assert "OPENDATA_SOFIA_ALLOW_HOSTS" in text


def test_redirect_within_allowed_host_followed(tmp_path, server, connections):
    pull = fetch({"url": server + "/to-ok"}, tmp_path)
    assert pull.blob.path.read_bytes() == CSV_BODY
    assert [request["path"] for request in Hostile.seen] == ["/to-ok", "/registar.csv"]


def test_redirect_loop_stops_at_limit(tmp_path, server, connections):
    with pytest.raises(SourceError) as raised:
        fetch({"url": server + "/loop", "maxRedirects": 3}, tmp_path)
    assert raised.value.key == "security.too_many_redirects"
    assert len(Hostile.seen) == 4


def test_dns_rebinding_checked_at_connect(tmp_path, server, connections):
    # The first lookup (the URL check) returns loopback, the second (the connection) a private address
    answers = iter(["127.0.0.1", "10.0.0.1"])
    port = int(server.rsplit(":", 1)[1])

    def rebinding(host, port_, *args, **kwargs):
        address = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port_))]

    policy = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), resolve_host=rebinding)

    with pytest.raises(BlockedAddress) as raised:
        fetch({"url": f"http://rebind.test:{port}/registar.csv"}, tmp_path, policy)

    assert raised.value.params["address"] == "10.0.0.1"
    assert connections == []


# Limits


def test_endless_body_stopped_by_deadline(tmp_path, server, connections):
    with pytest.raises(SourceError) as raised:
        fetch({"url": server + "/endless", "deadline": 1, "timeout": 5}, tmp_path)

    assert raised.value.key == "security.http_deadline"
    assert "не завърши за 1 секунди" in raised.value.render("bg")
    assert not [path for path in (tmp_path / "raw").rglob("*") if path.is_file()]


def test_content_disposition_name_made_safe(tmp_path, server, connections):
    pull = fetch({"url": server + "/named"}, tmp_path)
    assert pull.name == "registar.csv"


# Workbooks before reading


def test_normal_workbook_passes(tmp_path):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(xlsx_bytes(sheet_xml(100, "A1:A100")))
    check_spreadsheet(path, "xlsx")


def test_zip_bomb_rejected(tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(zip_bomb())
    with pytest.raises(ReadError) as raised:
        check_spreadsheet(path, "xlsx")
    assert raised.value.key == "security.zip_ratio"


def test_uncompressed_size_limit(tmp_path):
    path = tmp_path / "big.xlsx"
    path.write_bytes(xlsx_bytes(sheet_xml(1000)))
    with pytest.raises(ReadError) as raised:
        check_spreadsheet(path, "xlsx", SpreadsheetLimits(max_uncompressed_bytes=10_000))
    assert raised.value.key == "security.zip_too_large"


def test_declared_dimension_too_large(tmp_path):
    path = tmp_path / "declared.xlsx"
    path.write_bytes(xlsx_bytes(sheet_xml(3, "A1:XFD1048576")))
    with pytest.raises(ReadError) as raised:
        check_spreadsheet(path, "xlsx")
    assert raised.value.key == "security.sheet_declared_too_large"
    assert raised.value.params["rows"] == 1_048_576


def test_understated_dimension_counted(tmp_path):
    path = tmp_path / "understated.xlsx"
    path.write_bytes(xlsx_bytes(sheet_xml(5000, "A1:A2")))
    with pytest.raises(ReadError) as raised:
        check_spreadsheet(path, "xlsx", SpreadsheetLimits(max_rows=4000))
    assert raised.value.key == "security.sheet_too_large"
    assert raised.value.params["rows"] > 4000


def test_xls_size_limit(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\0" * 2048)
    with pytest.raises(ReadError) as raised:
        check_spreadsheet(path, "xls", SpreadsheetLimits(max_xls_bytes=1024))
    assert raised.value.key == "security.xls_too_large"


# The pipeline: nothing of a hostile source is published


@pytest.mark.parametrize(
    "path, read, status, key_text",
    [
        ("/to-metadata", None, "failed", "169.254.169.254"),
        ("/to-private", None, "failed", "10.0.0.1"),
        ("/endless", None, "failed", "не завърши за 1 секунди"),
        ("/bomb.xlsx", {"format": "xlsx"}, "invalid", "възможна „zip бомба“"),
    ],
)
def test_pipeline_publishes_nothing(tmp_path, server, connections, path, read, status, key_text):
    settings = make_settings(tmp_path)
    source = {"kind": "http", "url": server + path, "deadline": 1, "timeout": 5}
    dataset = text_dataset(source=source, read=read)

    result = run_one(dataset, settings)

    assert result.status == status
    assert key_text in result.message
    assert portal_files(settings) == []
    assert set(connections) == {"127.0.0.1"}


def test_pipeline_sanitises_source_file_name(tmp_path, monkeypatch, server, connections):
    from opendata_sofia.pipeline import _named_copy
    from opendata_sofia.rawstore import RawStore as Store
    from opendata_sofia.sources import Pull

    blob = Store(tmp_path / "raw").put_stream([CSV_BODY])
    folder = tmp_path / "work"
    folder.mkdir()

    for name in ("../../escape.csv", "..", "/etc/passwd", "..\\..\\x.csv"):
        copy = _named_copy(Pull(blob=blob, name=name, location="x"), folder)
        assert copy.parent == folder
        copy.unlink()
    assert not (tmp_path / "escape.csv").exists()
