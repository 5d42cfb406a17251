"""The one gate for requests to addresses a user gave: webhooks, link cards, a self-hosted
Mastodon instance, Bluesky PDS or blog.

A user-given URL must not turn Handpost into a way into the network it runs in (SSRF). So:

* the host is resolved once, here, and every address it resolves to must be public: loopback,
  private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast,
  reserved and unspecified addresses are refused, unless ``HANDPOST_OUTBOUND_ALLOW_PRIVATE``
  (tests, a LAN-only install) or ``HANDPOST_OUTBOUND_ALLOWED_NETWORKS`` lets them through;
* the connection goes to the address that was checked, not to a second lookup of the name
  (DNS rebinding): the request is sent to the IP with the name in ``Host`` and as the TLS
  server name, so certificates are still checked against the name;
* redirects are never followed (a redirect to an internal address would bypass all this);
* only http and https on their usual ports or any port above 1023 (no SMTP, Redis...).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from service.problems import invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Not covered by is_private / is_global in every Python version we support.
_ALWAYS_REFUSED = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
)


# A name that takes longer than this to resolve is refused when a user gives it.
RESOLVE_SECONDS = 5.0


class OutboundRefused(Exception):
    """The address is not one Handpost may call; ``reason`` says why, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundRefused(f"the name {host!r} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class OutboundPolicy:
    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(cls, allow_private: bool, allowed_networks: Iterable[str]) -> OutboundPolicy:
        return cls(
            allow_private=allow_private,
            allowed_networks=tuple(
                ipaddress.ip_network(n.strip(), strict=False) for n in allowed_networks
            ),
        )

    def is_allowed(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
        if any(address in network for network in self.allowed_networks):
            return True
        if self.allow_private:
            return not (address.is_multicast or address.is_unspecified)
        if any(address in network for network in _ALWAYS_REFUSED):
            return False
        return address.is_global and not (
            address.is_multicast or address.is_reserved or address.is_unspecified
        )

    async def check(self, url: str) -> PinnedTarget:
        """The URL's address, resolved once and checked; OutboundRefused says why not."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise OutboundRefused("the address is not a valid URL") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutboundRefused("only http and https addresses can be called")
        if parts.username or parts.password:
            raise OutboundRefused("the address may not carry a user name or password")
        port = port or (443 if parts.scheme == "https" else 80)
        if port not in (80, 443) and port < 1024:
            raise OutboundRefused(f"port {port} is not a web port")
        host = parts.hostname
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        candidates = [str(literal)] if literal is not None else await self.resolver(host, port)
        if not candidates:
            raise OutboundRefused(f"the name {host!r} does not resolve")
        addresses = [ipaddress.ip_address(candidate) for candidate in candidates]
        refused = [a for a in addresses if not self.is_allowed(a)]
        if refused:
            # Every address must be public: a name that also points inside is refused whole.
            raise OutboundRefused(
                f"{host} resolves to {refused[0]}, a private, loopback or reserved address"
            )
        return PinnedTarget(
            url=url, host=host, port=port, address=addresses[0], scheme=parts.scheme
        )


@dataclass(frozen=True)
class PinnedTarget:
    url: str
    host: str
    port: int
    address: IPAddress
    scheme: str

    def pinned_url(self) -> str:
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return urlunsplit((parts.scheme, f"{literal}:{self.port}", parts.path or "/",
                           parts.query, ""))  # fmt: skip

    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


class ResponseTooLarge(Exception):
    """The answer was longer than the caller's ``max_bytes``; it was not read further."""


async def send(
    client: httpx.AsyncClient,
    policy: OutboundPolicy,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """``method url`` through the gate: checked, pinned to the checked address, no redirects.

    ``max_bytes``: read at most this much of the body (ResponseTooLarge past it), so a page
    that never ends cannot fill memory.
    """
    target = await policy.check(url)
    if max_bytes is None:
        return await client.request(method, **_pinned(target, headers), **kwargs)
    async with client.stream(method, **_pinned(target, headers), **kwargs) as response:
        body = bytearray()
        # Decoded bytes are counted, so a small compressed answer cannot unpack to gigabytes.
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise ResponseTooLarge(f"the answer is longer than {max_bytes:,} bytes")
    kept = httpx.Headers(response.headers)
    for name in ("content-encoding", "content-length", "transfer-encoding"):
        kept.pop(name, None)
    return httpx.Response(
        response.status_code,
        headers=kept,
        content=bytes(body),
        request=response.request,
        extensions=response.extensions,
    )


@asynccontextmanager
async def stream(
    client: httpx.AsyncClient,
    policy: OutboundPolicy,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> AsyncIterator[httpx.Response]:
    """``send``, with the response body left unread: for answers from an address a user gave,
    whose size nobody bounds (read what you need with ``aiter_bytes``, then leave)."""
    target = await policy.check(url)
    async with client.stream(method, **_pinned(target, headers), **kwargs) as response:
        yield response


async def check_or_problem(policy: OutboundPolicy, url: str, *, field: str, refusal: str) -> None:
    """A 422 problem unless Handpost may call ``url`` (checked when a user gives an address,
    so that they hear at once; the call itself passes the gate again)."""
    reason: str | None = None
    if any(character.isspace() for character in url):
        reason = "the address may not contain spaces"
    else:
        try:
            await asyncio.wait_for(policy.check(url), RESOLVE_SECONDS)
        except OutboundRefused as refused:
            reason = refused.reason
        except TimeoutError:
            reason = f"its name did not resolve within {RESOLVE_SECONDS:g} s"
    if reason is not None:
        raise invalid(
            f"{refusal}: {reason}.",
            [{"field": field, "code": "address-refused", "message": reason}],
        )


def _pinned(target: PinnedTarget, headers: Mapping[str, str] | None) -> dict[str, Any]:
    return {
        "url": target.pinned_url(),
        "headers": {**(headers or {}), "Host": target.host_header()},
        "extensions": {"sni_hostname": target.host},
        "follow_redirects": False,
    }
