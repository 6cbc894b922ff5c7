"""A small HTTP proxy on 127.0.0.1 in front of the test CKAN that records requests and injects faults.

Each request is matched against the proxy's rules in order. A rule decides, from the request,
whether to respond HTTP 502 without forwarding, to close the connection without forwarding, or
to forward and then close the connection before the response. In the last case the request
took effect on CKAN and only its response is lost. Requests that match no rule are forwarded unchanged.
"""

from __future__ import annotations

import http.client
import http.server
import threading
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlparse

BAD_GATEWAY = "502"
DROP = "drop"  # close the connection without forwarding
DROP_AFTER = "drop-after"  # forward, then close the connection without a response


@dataclass(frozen=True)
class Seen:
    """One request that reached the proxy."""

    method: str
    path: str
    upload: bool  # a multipart body, which is how ckanapi sends a file
    fault: str | None


@dataclass
class Rule:
    """Inject `fault` into the requests that `matches` selects, at most `times` times (None: always)."""

    matches: Callable[[Seen, "FaultProxy"], bool]  # the request and the proxy with the requests before it
    fault: str
    times: int | None = None
    applied: int = 0


@dataclass
class FaultProxy:
    """The proxy's state, shared with its handler threads."""

    upstream: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def action_calls(self, prefix: str = "") -> list[str]:
        """Return the CKAN actions called through the proxy, in order, that start with `prefix`."""
        actions = [action_name(request.path) for request in self.seen]
        return [action for action in actions if action and action.startswith(prefix)]

    def uploads(self) -> list[Seen]:
        return [request for request in self.seen if request.upload]

    def receive(self, request: Seen) -> str | None:
        """Record `request` and return the fault to inject, or None to forward it."""
        with self.lock:
            fault = None
            for rule in self.rules:
                if rule.matches(request, self) and (rule.times is None or rule.applied < rule.times):
                    rule.applied += 1
                    fault = rule.fault
                    break
            self.seen.append(Seen(request.method, request.path, request.upload, fault))
            return fault


def action_name(path: str) -> str | None:
    """Return the CKAN action of an API path (`/api/action/x` as ckanapi sends it, or `/api/3/action/x`)."""
    path = path.split("?")[0]
    for prefix in ("/api/action/", "/api/3/action/"):
        if path.startswith(prefix):
            return path[len(prefix):]
    return None


def upload_number(number: int) -> Callable[[Seen, FaultProxy], bool]:
    """Match the `number`-th upload through the proxy (1-based) and every later one."""
    return lambda request, proxy: request.upload and len(proxy.uploads()) + 1 >= number


def action(name: str) -> Callable[[Seen, FaultProxy], bool]:
    """Match every call of the CKAN action `name`."""
    return lambda request, proxy: action_name(request.path) == name


def start_proxy(upstream: str) -> tuple[FaultProxy, http.server.ThreadingHTTPServer]:
    """Start a proxy on a free loopback port in front of `upstream`; return its state and server."""
    target = urlparse(upstream)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the fault proxy forwards to loopback only, not to {upstream}")
    state = FaultProxy(upstream=upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self._handle()

        def do_POST(self):
            self._handle()

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            upload = (self.headers.get("Content-Type") or "").startswith("multipart/form-data")
            fault = state.receive(Seen(self.command, self.path, upload, None))

            if fault == BAD_GATEWAY:
                self._answer(502, {"Content-Type": "text/html"}, b"<html>502 Bad Gateway (fault proxy)</html>")
                return
            if fault == DROP:
                self.close_connection = True
                return

            status, headers, content = self._forward(body)
            if fault == DROP_AFTER:
                self.close_connection = True
                return
            self._answer(status, headers, content)

        def _forward(self, body: bytes):
            connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=60)
            try:
                headers = {key: value for key, value in self.headers.items() if key.lower() not in ("host", "connection")}
                connection.request(self.command, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                content = response.read()
                forwarded_headers = {
                    key: value
                    for key, value in response.getheaders()
                    if key.lower() not in ("transfer-encoding", "connection", "content-length")
                }
                return response.status, forwarded_headers, content
            finally:
                connection.close()

        def _answer(self, status: int, headers: dict, content: bytes):
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    return state, server
