"""The service as a real process on a real port, tried the way the open internet tries it:
parallel guesses, forged headers, oversized requests, retried POSTs and more clients than it
can serve at once. On SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import assert_problem
from tests.support.databases import database_kinds
from tests.support.server import ServiceProcess, create_user_with_cli, served

PASSWORD = "owner-password-123"
METRICS_TOKEN = "scrape-token-123"


@dataclass
class Running:
    service: ServiceProcess
    database_url: str
    token: str

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"} if token != "" else {}
        return httpx.Client(base_url=self.service.base_url, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module", params=database_kinds())
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """One server per database for the module, with small limits so tests can reach them."""
    with served(
        request.param,
        tmp_path_factory.mktemp(f"internet-{request.param}"),
        {"owner": PASSWORD, "other": PASSWORD},
        HANDPOST_METRICS_TOKEN=METRICS_TOKEN,
        HANDPOST_TRUSTED_PROXIES="127.0.0.2",
        # Long enough that parallel guesses all meet the lock the fifth one set.
        HANDPOST_LOGIN_DELAY_SECONDS="30",
        HANDPOST_AUTH_FAILURE_DELAY_SECONDS="1.5",
        HANDPOST_MAX_HEADER_BYTES="16384",
    ) as server:
        yield Running(server.service, server.database_url, server.token)


def login(
    running: Running, username: str, password: str, address: str = "127.0.0.1"
) -> httpx.Response:
    with httpx.Client(
        base_url=running.service.base_url,
        transport=httpx.HTTPTransport(local_address=address),
        timeout=30,
    ) as client:
        return client.post("/api/v1/auth/login", json={"username": username, "password": password})


# -- login ----------------------------------------------------------------------------------


def test_parallel_guesses_cannot_get_past_the_login_throttle(running: Running) -> None:
    """20 wrong passwords and the right one at once: at most 5 are even checked."""
    victim = f"victim{uuid.uuid4().hex[:6]}"
    create_user_with_cli(running.database_url, victim, PASSWORD)
    guesses = [f"wrong-guess-{n}" for n in range(20)] + [PASSWORD]
    with ThreadPoolExecutor(len(guesses)) as pool:
        responses = list(pool.map(lambda p: login(running, victim, p, "127.0.0.3"), guesses))
    statuses = Counter(r.status_code for r in responses)
    # A 503 is load shedding on a busy machine: refused before anything was checked.
    assert set(statuses) <= {200, 401, 429, 503}, statuses
    assert statuses[200] + statuses[401] <= 5, statuses
    assert statuses[429] + statuses[503] >= 16
    for response in responses:
        if response.status_code in (429, 503):
            assert int(response.headers["retry-after"]) >= 1
        if response.status_code == 429:
            assert_problem(response, 429, "login-throttled")


def test_a_forged_forwarded_for_from_a_client_is_ignored(running: Running) -> None:
    """Only HANDPOST_TRUSTED_PROXIES may name the client: a direct client cannot rotate its
    address with a header to walk past the per-address throttle."""
    target = f"target{uuid.uuid4().hex[:6]}"
    outcomes = []
    with httpx.Client(
        base_url=running.service.base_url,
        transport=httpx.HTTPTransport(local_address="127.0.0.4"),
    ) as client:
        for n in range(12):
            response = client.post(
                "/api/v1/auth/login",
                json={"username": f"{target}{n}", "password": "guess"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            outcomes.append(response.status_code)
    assert outcomes[:5] == [401] * 5
    assert 429 in outcomes[5:], outcomes


def test_a_trusted_proxy_names_the_client(running: Running) -> None:
    """Behind the listed proxy each client has its own count: one client's failures do not
    throttle another's login."""
    with httpx.Client(
        base_url=running.service.base_url,
        transport=httpx.HTTPTransport(local_address="127.0.0.2"),
    ) as proxy:
        for n in range(6):
            proxy.post(
                "/api/v1/auth/login",
                json={"username": f"nobody{n}{uuid.uuid4().hex[:4]}", "password": "x"},
                headers={"X-Forwarded-For": "198.51.100.7"},
            )
        ok = proxy.post(
            "/api/v1/auth/login",
            json={"username": "other", "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.8"},
        )
    assert ok.status_code == 200, ok.text


# -- tokens and capacity ----------------------------------------------------------------------


def test_a_bad_token_is_answered_late_without_holding_capacity(running: Running) -> None:
    finished: dict[str, float] = {}

    def bad() -> None:
        with running.client(token="hp_not-a-real-token") as client:
            assert_problem(client.get("/api/v1/posts"), 401, "unauthenticated")
        finished["bad"] = time.monotonic()

    flood = [threading.Thread(target=bad) for _ in range(40)]
    started = time.monotonic()
    for thread in flood:
        thread.start()
    time.sleep(0.3)
    with running.client() as client:
        assert client.get("/api/v1/posts").status_code == 200
    finished["good"] = time.monotonic()
    for thread in flood:
        thread.join()
    # 40 bad tokens wait 1.5 s each for their 401, and the real user is served meanwhile.
    assert finished["good"] < finished["bad"]
    assert finished["bad"] - started >= 1.5


def test_metrics_need_the_metrics_token(running: Running) -> None:
    with running.client(token="") as anonymous:
        assert_problem(anonymous.get("/metrics"), 401, "unauthenticated")
    with running.client() as user:  # a user's token is not the metrics token
        assert_problem(user.get("/metrics"), 401, "unauthenticated")
    with running.client(token=METRICS_TOKEN) as scraper:
        scraped = scraper.get("/metrics")
    assert scraped.status_code == 200
    assert "handpost_http_requests_total" in scraped.text


# -- request size ----------------------------------------------------------------------------


def raw_request(running: Running, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", running.service.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_huge_header_is_refused_by_the_server_as_a_problem(running: Running) -> None:
    header = b"X-Big: " + b"a" * 1_000_000 + b"\r\n"
    answer = raw_request(running, b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head[:100]
    assert b"content-type: application/problem+json" in head.lower()
    assert b"malformed-request" in body


def test_a_malformed_request_gets_a_problem(running: Running) -> None:
    answer = raw_request(running, b"GARBAGE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"application/problem+json" in answer


def test_the_service_still_answers_after_abuse(running: Running) -> None:
    with running.client() as client:
        assert client.get("/api/v1/me").json()["username"] == "owner"


# -- Idempotency-Key -------------------------------------------------------------------------


def account_id(running: Running) -> str:
    with running.client() as client:
        accounts = client.get("/api/v1/accounts").json()
        if accounts:
            return str(accounts[0]["id"])
        created = client.post(
            "/api/v1/accounts",
            json={"network": "mastodon", "handle": "owner", "purpose": "p", "audience": "a"},
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


def test_a_retried_post_with_its_key_creates_one_post(running: Running) -> None:
    body = {"account_id": account_id(running), "text": f"Retry-safe {uuid.uuid4().hex}"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with running.client() as client:
        first = client.post("/api/v1/posts", json=body, headers=key)
        again = client.post("/api/v1/posts", json=body, headers=key)
        assert first.status_code == again.status_code == 201
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers["location"] == first.headers["location"]
        other = client.post("/api/v1/posts", json={**body, "text": "Something else"}, headers=key)
        assert_problem(other, 422, "idempotency-key-reused")
        mine = client.get("/api/v1/posts", params={"limit": 200}).json()["items"]
        assert [p["id"] for p in mine].count(first.json()["id"]) == 1
        assert sum(p["text"] == body["text"] for p in mine) == 1


def test_concurrent_retries_with_one_key_create_one_post(running: Running) -> None:
    body = {"account_id": account_id(running), "text": f"Raced {uuid.uuid4().hex}"}
    key = {"Idempotency-Key": str(uuid.uuid4())}

    def send(_: int) -> httpx.Response:
        with running.client() as client:
            return client.post("/api/v1/posts", json=body, headers=key)

    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(send, range(12)))
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1, [r.text for r in responses]
    for response in responses:
        if response.status_code != 201:
            assert_problem(response, 409, "idempotency-key-in-use")
            assert response.headers["retry-after"]
    with running.client() as client:
        mine = client.get("/api/v1/posts", params={"limit": 200}).json()["items"]
    assert sum(p["text"] == body["text"] for p in mine) == 1


def test_keys_belong_to_their_user(running: Running) -> None:
    key = {"Idempotency-Key": "shared-key-" + uuid.uuid4().hex}
    with running.client() as owner:
        first = owner.post(
            "/api/v1/posts",
            json={"account_id": account_id(running), "text": f"Owner's {uuid.uuid4().hex}"},
            headers=key,
        )
    assert first.status_code == 201
    other_token = login(running, "other", PASSWORD).json()["access_token"]
    with running.client(token=other_token) as other:
        account = other.post(
            "/api/v1/accounts",
            json={
                "network": "x",
                "handle": f"o{uuid.uuid4().hex[:6]}",
                "purpose": "p",
                "audience": "a",
            },
            headers=key,
        )
    assert account.status_code == 201, account.text
    assert "idempotent-replayed" not in account.headers


def test_an_invalid_key_is_refused(running: Running) -> None:
    with running.client() as client:
        response = client.post(
            "/api/v1/posts",
            json={"account_id": account_id(running), "text": "Bad key"},
            headers={"Idempotency-Key": "has spaces in it"},
        )
    assert_problem(response, 400, "invalid-idempotency-key")


# -- load ------------------------------------------------------------------------------------


def test_more_clients_than_the_service_can_take_get_answers_not_timeouts(
    running: Running, tmp_path: Path
) -> None:
    """200 clients at once: each gets a 2xx or a quick 503 with Retry-After; none a 500."""
    aid = account_id(running)

    def hammer(n: int) -> tuple[int, float, str]:
        with running.client() as client:
            started = time.monotonic()
            if n % 2:
                response = client.get("/api/v1/posts", params={"limit": 20})
            else:
                response = client.post(
                    "/api/v1/posts", json={"account_id": aid, "text": f"Load {uuid.uuid4().hex}"}
                )
            return (
                response.status_code,
                time.monotonic() - started,
                response.headers.get("retry-after", ""),
            )

    with ThreadPoolExecutor(200) as pool:
        results = list(pool.map(hammer, range(400)))
    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {200, 201, 503}, statuses
    assert statuses[200] + statuses[201] > 0
    assert all(retry for status, _, retry in results if status == 503)
