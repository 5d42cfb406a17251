"""The gate for requests to addresses users give: what it refuses, and that the connection
goes to the address it checked, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from service.outbound import OutboundPolicy, OutboundRefused, send


def resolving(*answers: list[str]) -> tuple[OutboundPolicy, list[str]]:
    """A policy whose resolver gives ``answers`` in turn, and the names it was asked."""
    asked: list[str] = []
    queue = list(answers)

    async def resolver(host: str, _port: int) -> list[str]:
        asked.append(host)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return OutboundPolicy(resolver=resolver), asked


def check(policy: OutboundPolicy, url: str) -> object:
    return asyncio.run(policy.check(url))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost.:8080/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://224.0.0.1/",
    ],
)
def test_internal_addresses_are_refused(url: str) -> None:
    policy, _ = resolving(["127.0.0.1"])
    with pytest.raises(OutboundRefused):
        check(policy, url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http://example.com:25/", "not a web port"),
        ("http://example.com:99999/", "not a valid URL"),
        ("http:///nohost", "only http and https"),
    ],
)
def test_only_plain_web_addresses_are_called(url: str, reason: str) -> None:
    policy, _ = resolving(["93.184.215.14"])
    with pytest.raises(OutboundRefused, match=reason):
        check(policy, url)


def test_a_name_that_also_points_inside_is_refused() -> None:
    policy, _ = resolving(["93.184.215.14", "10.0.0.7"])
    with pytest.raises(OutboundRefused, match=r"10\.0\.0\.7"):
        check(policy, "https://mixed.example/")


def test_public_addresses_pass() -> None:
    policy, asked = resolving(["93.184.215.14"])
    target = asyncio.run(policy.check("https://blog.example:8443/wp-json/"))
    assert str(target.address) == "93.184.215.14"  # type: ignore[attr-defined]
    assert asked == ["blog.example"]


def test_settings_can_open_private_networks() -> None:
    lan = OutboundPolicy.from_settings(False, ["192.168.1.0/24"])
    assert lan.is_allowed(ipaddress.ip_address("192.168.1.20"))
    assert not lan.is_allowed(ipaddress.ip_address("192.168.2.20"))
    everything = OutboundPolicy.from_settings(True, [])
    assert everything.is_allowed(ipaddress.ip_address("127.0.0.1"))


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, "host": self.headers["Host"]})
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[int]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_the_connection_goes_to_the_checked_address(loopback_server: int) -> None:
    """The name is resolved once; a second answer (a rebinding attack) is never used."""
    asked: list[str] = []
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])

    async def rebinding(host: str, _port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    policy = OutboundPolicy(allow_private=True, resolver=rebinding)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(timeout=5) as client:
            return await send(client, policy, "GET", f"http://hooks.example:{loopback_server}/in")

    response = asyncio.run(call())
    assert response.status_code == 200 and response.text == "hello"
    assert asked == ["hooks.example"]
    assert _Recorder.seen == [{"path": "/in", "host": f"hooks.example:{loopback_server}"}]


def test_redirects_are_not_followed(loopback_server: int) -> None:
    policy = OutboundPolicy(allow_private=True)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(timeout=5, follow_redirects=True) as client:
            return await send(client, policy, "GET", f"http://127.0.0.1:{loopback_server}/redirect")

    response = asyncio.run(call())
    assert response.status_code == 302
    assert [seen["path"] for seen in _Recorder.seen] == ["/redirect"]
