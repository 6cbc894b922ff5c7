"""Address checks for HTTP sources, on every resolved address and before any connection.

A source URL comes from a descriptor and every redirect comes from a remote server, so either
could point the pipeline at the municipality's internal network or at a cloud metadata service
(169.254.169.254, fd00:ec2::254, metadata.google.internal) that hands out credentials. Only
globally routable unicast addresses are allowed. Loopback, link-local, private, CGNAT
(100.64.0.0/10), multicast, unspecified and reserved addresses are blocked, and so are IPv6
forms that embed such an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64).

The check runs twice for each connection: once on the URL of each hop, for a clear error before
anything is sent, and again inside the connection, which then connects to the address it just
checked. A DNS answer that changes between the two (DNS rebinding) is therefore checked too.

`OPENDATA_SOFIA_ALLOW_HOSTS` (comma-separated) lets the operator allow host names, IP
addresses or networks in CIDR form, e.g. an export server at `10.20.0.5` or `exports.so.local`.
It is a deployment setting and not a descriptor key, so a change to the catalog cannot open
the internal network.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from opendata_sofia.errors import SourceError

ALLOW_HOSTS_VARIABLE = "OPENDATA_SOFIA_ALLOW_HOSTS"
# Names of cloud metadata services, blocked before any DNS lookup.
METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "metadata.azure.com",
    "instance-data", "instance-data.ec2.internal", "metadata.tencentyun.com",
})  # fmt: skip
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(SourceError):
    """Raised when a source URL or redirect leads to a host or address that is not allowed."""

    key = "security.address_blocked"
    retryable = False

    def render(self, lang: str | None = None) -> str:
        """Render the message with the kind of address named in `lang`."""
        from opendata_sofia.i18n import message
        from opendata_sofia.security.redaction import redact

        kind = message(f"security.address_kind.{self.params['kind']}", lang=lang)
        return redact(message(self.key, lang=lang, **{**self.params, "kind_name": kind}))


def address_kind(address: Address) -> str | None:
    """Return why `address` is blocked (`loopback`, `private`, …), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        for embedded in _embedded_ipv4(address):
            kind = address_kind(embedded)
            if kind:
                return kind

    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("cgnat", isinstance(address, ipaddress.IPv4Address) and address in CGNAT),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("reserved", not address.is_global),
    )
    return next((kind for kind, applies in checks if applies), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    embedded = [address.ipv4_mapped, address.sixtofour]
    if address.teredo:
        embedded.append(address.teredo[1])
    if address in NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [item for item in embedded if item is not None]


@dataclass(frozen=True)
class AddressPolicy:
    """Host names and networks allowed on top of the public internet."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    resolve_host: Callable = field(default=socket.getaddrinfo, compare=False, repr=False)

    @classmethod
    def from_env(cls) -> "AddressPolicy":
        """Read `OPENDATA_SOFIA_ALLOW_HOSTS`: host names, IP addresses and CIDR networks."""
        hosts, networks = set(), []
        for item in os.environ.get(ALLOW_HOSTS_VARIABLE, "").split(","):
            item = item.strip().lower()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.rstrip("."))
        return cls(allowed_hosts=frozenset(hosts), allowed_networks=tuple(networks))

    def check_url(self, url: str, *, source: str | None = None) -> list[str]:
        """Check the scheme and host of `url` and every address its host resolves to.

        Returns the addresses. Raises `SourceError` for another scheme and `BlockedAddress` for
        a host that is not allowed. Messages name `source`, the configured URL that led to `url`.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError("source.http_scheme", source=url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return self.resolve(parts.hostname, port, source=source or url)

    def resolve(self, host: str, port: int, *, source: str | None = None) -> list[str]:
        """Resolve `host` and return its addresses, raising `BlockedAddress` if any is blocked."""
        name = host.lower().rstrip(".").strip("[]")
        source = source or name
        if name in self.allowed_hosts:
            return self._lookup(name, port, source)
        if name in METADATA_HOSTS:
            raise BlockedAddress(source=source, host=name, address=name, kind="metadata")

        addresses = self._lookup(name, port, source)
        for text in addresses:
            address = ipaddress.ip_address(text.split("%")[0])
            if any(address in network for network in self.allowed_networks):
                continue
            kind = address_kind(address)
            if kind:
                raise BlockedAddress(source=source, host=name, address=text, kind=kind)
        return addresses

    def _lookup(self, name: str, port: int, source: str) -> list[str]:
        try:
            infos = self.resolve_host(name, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise SourceError("security.http_dns", source=source, host=name, detail=str(error)) from None
        addresses = []
        for info in infos:
            text = info[4][0]
            if text not in addresses:
                addresses.append(text)
        return addresses
