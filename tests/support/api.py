"""Small helpers that speak the public API, shared by the API and end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tests.support.contract import assert_documented


class Client(Protocol):
    def get(self, url: str, **kwargs: Any) -> Any: ...
    def post(self, url: str, **kwargs: Any) -> Any: ...


PURPOSES = {
    "x": ("society", "people who follow my open-source work"),
    "linkedin": ("professionals", "colleagues and clients"),
    "facebook": ("family and friends", "family and friends"),
    "mastodon": ("society", "the fediverse tech crowd"),
    "bluesky": ("society", "early adopters"),
    "threads": ("society", "friends of friends"),
    "youtube": ("professionals", "clients who watch talks"),
    "wordpress": ("society", "readers of my essays"),
    "ghost": ("professionals", "newsletter subscribers"),
    "other": ("family and friends", "the neighbourhood forum"),
}


def create_account(
    client: Client, network: str, handle: str | None = None, **extra: Any
) -> dict[str, Any]:
    purpose, audience = PURPOSES[network]
    body = {
        "network": network,
        "handle": handle or f"me-{network}",
        "purpose": purpose,
        "audience": audience,
        **extra,
    }
    response = client.post("/api/v1/accounts", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def create_post(client: Client, account_id: str, text: str, **extra: Any) -> Any:
    return client.post("/api/v1/posts", json={"account_id": account_id, "text": text, **extra})


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate`` returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def post_state(client: Client, post_id: str) -> str:
    state: str = client.get(f"/api/v1/posts/{post_id}").json()["state"]
    return state


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """An RFC 9457 problem of the given status and type, which openapi.yaml documents."""
    assert response.status_code == status, response.text
    assert_documented(response)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://handpost.dev/problems/{slug}", body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def distinct_text(seed: int, words: int = 12) -> str:
    """A text no other seed's text resembles, so bulk posts never trip the cross-post guard."""
    import hashlib

    digest = hashlib.sha256(str(seed).encode()).hexdigest()
    return f"Note {seed}: " + " ".join(digest[i : i + 5] for i in range(0, words * 5, 5))
