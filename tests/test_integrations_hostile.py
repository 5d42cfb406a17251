"""Hostile input on the webhook and calendar-feed endpoints: every class gets a clear 4xx
problem and changes nothing (the classes of tests/test_hostile_input.py)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory
from tests.support.api import assert_problem
from tests.support.webhooks import FAST_WEBHOOKS, register

pytestmark = pytest.mark.usefixtures("secret_key")

GOOD = {"url": "http://127.0.0.1:8080/hook", "events": ["post.published"]}


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client(dispatch=False, **FAST_WEBHOOKS)


def hooks(client: TestClient) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = client.get("/api/v1/webhooks").json()
    return listed


@pytest.mark.parametrize(
    "body",
    [
        {**GOOD, "url": "http://127.0.0.1:8080/ho\x00ok"},
        {**GOOD, "url": "http://127.0.0.1:8080/hook\n"},
        {**GOOD, "description": "tab\there"},
        {**GOOD, "description": "bell\x07"},
        {**GOOD, "description": "\ufffe"},
        {**GOOD, "events": "post.published"},
        {**GOOD, "events": []},
        {**GOOD, "events": ["post.deleted"]},
        {**GOOD, "events": ["webhook.test"]},
        {**GOOD, "events": [1]},
        {**GOOD, "events": ["post.published"] * 50},
        {**GOOD, "enabled": "yes"},
        {**GOOD, "enabled": 1},
        {**GOOD, "url": 12345},
        {**GOOD, "url": "http://127.0.0.1:8080/" + "a" * 3000},
        {**GOOD, "description": "d" * 201},
        {**GOOD, "secret": "whsec_mine"},
        {"events": ["post.published"]},
        {"url": GOOD["url"]},
    ],
)
def test_bad_webhook_bodies_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/webhooks", json=body)
    assert_problem(response, 422, "validation-error")
    assert len(response.content) < 20_000
    assert hooks(client) == []


def test_duplicate_event_types_count_once(client: TestClient) -> None:
    created = register(client, None, ["post.failed", "post.failed", "post.missed"], url=GOOD["url"])
    assert created["events"] == ["post.failed", "post.missed"]


def test_bad_changes_are_refused_and_change_nothing(client: TestClient) -> None:
    hook = register(client, None, ["post.failed"], url=GOOD["url"], description="mine")
    path = f"/api/v1/webhooks/{hook['id']}"
    for body in (
        {"url": None},
        {"events": None},
        {"enabled": None},
        {"enabled": "false"},
        {"events": []},
        {"url": "http://169.254.169.254/"},
        {"description": "x\x1b[31m"},
        {"unknown": 1},
    ):
        assert_problem(client.patch(path, json=body), 422, "validation-error")
    stale = client.patch(path, json={"description": "new"}, headers={"If-Match": '"999"'})
    assert_problem(stale, 412, "stale-version")
    current = client.get(path)
    assert current.json() == {k: v for k, v in hook.items() if k != "secret"}
    fresh = client.patch(
        path, json={"description": None}, headers={"If-Match": current.headers["etag"]}
    )
    assert fresh.status_code == 200 and fresh.json()["description"] is None


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ({"cursor": "not-a-cursor"}, "invalid-cursor"),
        ({"cursor": "eyJrIjoiYXR0ZW1wdHMiLCJ2IjpbMV19"}, "invalid-cursor"),  # another listing's
        ({"limit": 0}, "validation-error"),
        ({"limit": 100000}, "validation-error"),
        ({"limit": "ten"}, "validation-error"),
    ],
)
def test_bad_pages_are_refused(client: TestClient, query: dict[str, Any], slug: str) -> None:
    hook = register(client, None, ["post.failed"], url=GOOD["url"])
    for listing in ("attempts", "deliveries"):
        response = client.get(f"/api/v1/webhooks/{hook['id']}/{listing}", params=query)
        assert_problem(response, 422, slug)


def test_a_forged_deliveries_cursor_is_refused(client: TestClient) -> None:
    from service.pagination import encode_cursor

    hook = register(client, None, ["post.failed"], url=GOOD["url"])
    for key in (["yesterday", "x"], [1, 2], ["2026-01-01T00:00:00", "x"], []):
        forged = encode_cursor("webhook-deliveries", key)
        response = client.get(
            f"/api/v1/webhooks/{hook['id']}/deliveries", params={"cursor": forged}
        )
        assert_problem(response, 422, "invalid-cursor")


def test_unknown_ids_are_404_problems(client: TestClient) -> None:
    hook = register(client, None, ["post.failed"], url=GOOD["url"])
    for method, path in [
        ("GET", "/api/v1/webhooks/nope"),
        ("PATCH", "/api/v1/webhooks/nope"),
        ("DELETE", "/api/v1/webhooks/nope"),
        ("POST", "/api/v1/webhooks/nope/test"),
        ("POST", "/api/v1/webhooks/nope/rotate-secret"),
        ("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/nope/redeliver"),
    ]:
        response = client.request(method, path, json={} if method == "PATCH" else None)
        assert_problem(response, 404, "not-found")


def test_parallel_registrations_stop_at_the_limit(make_client: AppFactory) -> None:
    client = make_client(dispatch=False, webhook_max_endpoints=3, **FAST_WEBHOOKS)
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def create(n: int) -> None:
        barrier.wait()
        body = {**GOOD, "url": f"http://127.0.0.1:8080/hook/{n}"}
        statuses.append(client.post("/api/v1/webhooks", json=body).status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 3 + [409] * 5
    assert len(hooks(client)) == 3


def test_test_events_cannot_pile_up(make_client: AppFactory) -> None:
    client = make_client(dispatch=False, **FAST_WEBHOOKS)
    hook = register(client, None, ["post.failed"], url=GOOD["url"])
    from service.webhooks.service import MAX_PENDING_MANUAL

    for _ in range(MAX_PENDING_MANUAL):
        assert client.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 202
    refused = client.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert_problem(refused, 429, "too-many-pending-deliveries")
    assert refused.headers["retry-after"] == "60"


def test_the_feed_endpoints_take_no_body_and_need_a_token(make_client: AppFactory) -> None:
    client = make_client(dispatch=False)
    anonymous = make_client(dispatch=False, as_user=None)
    for method, path in [
        ("GET", "/api/v1/calendar-feed"),
        ("POST", "/api/v1/calendar-feed"),
        ("POST", "/api/v1/calendar-feed/rotate"),
        ("DELETE", "/api/v1/calendar-feed"),
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
    ]:
        assert_problem(anonymous.request(method, path), 401, "unauthenticated")
    assert client.post("/api/v1/calendar-feed", json={"anything": 1}).status_code == 201
    wrong = client.put("/api/v1/calendar-feed")
    assert_problem(wrong, 405, "method-not-allowed")
