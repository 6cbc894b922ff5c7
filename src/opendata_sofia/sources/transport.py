"""A requests session for untrusted sources: checked addresses only, and a wall-clock deadline.

Each new connection resolves its host through `AddressPolicy.resolve`, which raises
`BlockedAddress` before any connection is attempted, and then connects to an address it has
just checked, so a DNS answer cannot change between check and connect. TLS still verifies the
certificate against the host name of the URL.

A read timeout bounds each wait for bytes, not the whole download: a server that sends one
byte every few seconds never trips it. `Deadline` closes every socket of the session when the
time is up, which ends a blocked read at once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from opendata_sofia.security.netguard import AddressPolicy


class Deadline:
    """The end of a download in wall-clock time; closes the registered sockets when it passes."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self.passed = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.passed
        if expired:
            _shut(sock)

    def check(self) -> bool:
        """Return True once the deadline has passed (the timer may not have fired yet)."""
        if time.monotonic() >= self.ends_at:
            self.passed = True
        return self.passed

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the pool
        pass


def guarded_session(policy: AddressPolicy, deadline: Deadline) -> requests.Session:
    """Return a session whose connections are checked by `policy` and cut at `deadline`."""
    session = requests.Session()
    # Proxies from the environment would make the proxy's address the one checked, and .netrc
    # would add credentials: neither applies to sources.
    session.trust_env = False
    adapter = _GuardedAdapter(policy, deadline.register)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: AddressPolicy, on_socket: Callable[[socket.socket], None]):
        self.policy = policy
        self.on_socket = on_socket
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        attributes = {"policy": self.policy, "on_socket": staticmethod(self.on_socket)}
        http_connection = type("GuardedHTTPConnection", (_GuardedConnection, HTTPConnection), attributes)
        https_connection = type("GuardedHTTPSConnection", (_GuardedConnection, HTTPSConnection), attributes)
        http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection})
        https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}


class _GuardedConnection:
    """urllib3 connection mix-in: resolve and check the host, then connect to a checked address."""

    policy: AddressPolicy
    on_socket: Callable[[socket.socket], None]

    def _new_conn(self) -> socket.socket:
        addresses = self.policy.resolve(self._dns_host, self.port)

        failure: OSError | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as error:
                failure = error
                continue
            self.on_socket(sock)
            return sock
        if isinstance(failure, TimeoutError):
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})")
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}")
