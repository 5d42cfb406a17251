"""Connecting Ghost with a custom integration's Admin API key, checked on the real Ghost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory
from tests.realservers.ghost import GhostServer
from tests.support.api import assert_problem
from tests.support.live import attempts, live_client, publish_now, settled

pytestmark = pytest.mark.usefixtures("secret_key")


def connect(client: TestClient, site: str, key: str, **extra: Any) -> Any:
    body = {"site": site, "admin_api_key": key, "purpose": "essays", "audience": "readers"}
    return client.post("/api/v1/connect/ghost", json={**body, **extra})


def test_a_working_key_connects_the_site_and_it_publishes(
    make_client: AppFactory, ghost: GhostServer
) -> None:
    client = live_client(make_client)
    answer = connect(client, ghost.url, ghost.admin_key)
    assert answer.status_code == 201, answer.text
    account = answer.json()
    assert account["network"] == "ghost" and account["mode"] == "live"
    assert account["base_url"] == ghost.url and account["handle"] == urlsplit(ghost.url).netloc
    assert account["display_name"] == "Handpost test blog"
    assert ghost.admin_key.split(":")[1] not in answer.text

    # The same site again is the same account, reconnected: never a second one.
    again = connect(client, f"{ghost.url}/", ghost.admin_key, account_id=account["id"])
    assert again.status_code == 201 and again.json()["id"] == account["id"]

    post = publish_now(client, account["id"], "Connected with its key.",
                       title=f"Key ({account['id'][:6]})")  # fmt: skip
    assert settled(client, post["id"])["state"] == "published"
    assert attempts(client, post["id"])[0]["external_url"].startswith(ghost.url)


@pytest.mark.parametrize(
    "key",
    ["not-a-key", "6b1:zz", "6b115ec4a662d63c6c0965e0:" + "ab" * 32],
)
def test_a_key_the_site_refuses_connects_nothing(
    make_client: AppFactory, ghost: GhostServer, key: str
) -> None:
    client = live_client(make_client)
    problem = assert_problem(connect(client, ghost.url, key), 422, "connect-refused")
    assert "Admin API key" in problem["detail"]
    assert client.get("/api/v1/accounts").json() == []


def test_a_site_on_a_private_address_is_refused_by_default(
    make_client: AppFactory, ghost: GhostServer
) -> None:
    client = live_client(make_client, outbound_allow_private=False)
    problem = assert_problem(connect(client, ghost.url, ghost.admin_key), 422, "connect-refused")
    assert "loopback" in problem["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"site": "https://blog.example.com\u0000", "admin_api_key": "a:b"},
        {"site": "https://blog.example.com", "admin_api_key": "k" * 10_000},
        {"site": 5, "admin_api_key": "a:b"},
        {"site": "https://blog.example.com", "admin_api_key": ["a:b"]},
        {"site": "ftp://blog.example.com", "admin_api_key": "a:b"},
        {"site": "https://user:pw@blog.example.com", "admin_api_key": "a:b"},
        {"site": "https://blog.example.com", "admin_api_key": "a:b", "extra": 1},
    ],
)
def test_hostile_ghost_connects_are_refused_before_any_call(
    make_client: AppFactory, body: dict[str, Any]
) -> None:
    client = live_client(make_client, outbound_allow_private=False)
    response = client.post(
        "/api/v1/connect/ghost", json={"purpose": "essays", "audience": "readers", **body}
    )
    assert_problem(response, 422, "validation-error")
    assert client.get("/api/v1/accounts").json() == []


def test_two_connects_of_one_site_at_once_make_one_account(
    make_client: AppFactory, ghost: GhostServer
) -> None:
    client = live_client(make_client)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: connect(client, ghost.url, ghost.admin_key), range(2)))
    assert sorted(a.status_code for a in answers) in ([201, 201], [201, 409])
    assert len(client.get("/api/v1/accounts").json()) == 1
