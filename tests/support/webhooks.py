"""A real webhook receiver on loopback, and helpers for the webhook tests.

The receiver is a plain HTTP server in a thread (no part of Handpost): it verifies every
delivery's signature with the ``standardwebhooks`` library, the reference implementation a
user's script would use, and answers as told (200 by default; a 500, a slow answer, a
redirect...). tests/conftest.py loads this module as a plugin: fixture ``receiver``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.api import wait_for

# Delivery settings that keep a test within seconds: the worker looks every 0.1 s, retries
# from 0.1 s, gives a receiver 1 s; loopback is allowed (and only loopback).
FAST_WEBHOOKS = {
    "webhook_poll_seconds": 0.1,
    "webhook_retry_base_seconds": 0.1,
    "webhook_retry_max_seconds": 0.4,
    "webhook_timeout_seconds": 1.0,
    "webhook_max_attempts": 4,
    "outbound_allowed_networks": ["127.0.0.1/32"],
    "poll_seconds": 0.1,
}


@dataclass(frozen=True)
class Answer:
    """How the receiver answers one request."""

    status: int = 200
    body: bytes = b'{"ok": true}'
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    """Verifies with ``secrets`` (any one of them may match); records what arrived."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.received: list[Received] = []
        self.answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = receiver._record(self.path, headers, body)
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

            def log_message(self, *_args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a burst of deliveries must not wait for a SYN retry

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        port: int = self.server.server_address[1]
        return port

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests so, in order; then 200 again."""
        with self._lock:
            self.answers.extend(answers)

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        verified = False
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
                break
            except WebhookVerificationError:
                continue
        with self._lock:
            self.received.append(Received(path, headers, body, verified, time.monotonic()))
            return self.answers.popleft() if self.answers else Answer()

    def events(self, event_type: str | None = None) -> list[Received]:
        with self._lock:
            found = list(self.received)
        return [r for r in found if event_type is None or r.payload["type"] == event_type]

    def wait_for_events(self, count: int, event_type: str | None = None) -> list[Received]:
        wait_for(lambda: len(self.events(event_type)) >= count, timeout=20)
        return self.events(event_type)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def closed_port_url() -> str:
    """An address on loopback where nobody listens: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/hook"


def register(
    client: TestClient, receiver: Receiver | None, events: list[str], **extra: Any
) -> dict[str, Any]:
    """Register an endpoint (the receiver's unless ``url`` is given); the receiver learns its
    secret."""
    url = extra.pop("url", None) or (receiver.url() if receiver else None)
    response = client.post("/api/v1/webhooks", json={"url": url, "events": events, **extra})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    if receiver is not None:
        receiver.secrets.append(created["secret"])
    return created


def delivery_log(client: TestClient, webhook_id: str) -> list[dict[str, Any]]:
    """Every attempt to this endpoint, oldest first."""
    response = client.get(f"/api/v1/webhooks/{webhook_id}/attempts", params={"limit": 200})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


def deliveries(client: TestClient, webhook_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", params={"limit": 200})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def settled_delivery(client: TestClient, webhook_id: str, count: int = 1) -> list[dict[str, Any]]:
    """The endpoint's deliveries once ``count`` of them are delivered or given up."""

    def done() -> list[dict[str, Any]] | None:
        found = deliveries(client, webhook_id)
        finished = [d for d in found if d["state"] != "pending"]
        return found if len(finished) >= count else None

    result: list[dict[str, Any]] = wait_for(done, timeout=20)
    return result
