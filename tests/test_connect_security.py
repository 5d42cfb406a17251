"""The callback refuses what an attacker or an accident would bring, each with a clear page.

Tampered, replayed and expired state, a reused code, another browser, a network that says
no or fails, a reconnect as someone else; and hostile input on every new endpoint.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.db import Database
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import assert_problem
from tests.support.connect import (
    connect_through,
    connected_account,
    consent,
    finish,
    local_path,
    query_of,
    start,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def refused(response: Any, kind: str, status: int = 400) -> str:
    """The callback's refusal page of ``kind``: HTML, not cached, saying what happened."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert f'data-refusal="{kind}"' in response.text, response.text
    assert 'href="/#/accounts"' in response.text
    return str(response.text)


def accounts_of(client: TestClient) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/accounts").json())


@pytest.fixture
def x_ready(connecting: Any, network: EmulatorServer) -> TestClient:
    network.register_account("x", username="ada", user_id="2244994945")
    client: TestClient = connecting()
    return client


def test_a_tampered_state_is_refused(x_ready: TestClient, network: EmulatorServer) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"])
    state = query_of(location)["state"]
    tampered = location.replace(state, state[:-1] + ("A" if state[-1] != "A" else "B"))
    refused(finish(x_ready, tampered), "state-unknown")
    assert accounts_of(x_ready) == []
    # The real one still works: a forged state consumes nothing.
    assert connected_account(x_ready, finish(x_ready, location))["handle"] == "ada"


def test_a_missing_state_is_refused(x_ready: TestClient) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"])
    without = location.split("&state=")[0] if "&state=" in location else location
    refused(finish(x_ready, without), "state-missing")


def test_a_replayed_callback_is_refused(x_ready: TestClient, network: EmulatorServer) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"])
    connected_account(x_ready, finish(x_ready, location))
    page = refused(finish(x_ready, location), "state-used")
    assert "already completed" in page
    assert len(accounts_of(x_ready)) == 1
    assert len([r for r in network.received("x", "token") if r["method"] == "POST"]) == 1


def test_an_expired_state_is_refused(
    x_ready: TestClient, network: EmulatorServer, database: Database
) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"])
    past = datetime.now(UTC) - timedelta(seconds=1)
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE connect_flows SET expires_at = :past WHERE id = :id"),
            {
                "past": past if database.is_postgres else past.replace(tzinfo=None),
                "id": flow["flow_id"],
            },
        )
    refused(finish(x_ready, location), "state-expired")
    assert network.received("x", "token") == []  # the code was never sent
    assert accounts_of(x_ready) == []


def test_another_browser_cannot_finish_the_flow(
    x_ready: TestClient, make_client: AppFactory, network: EmulatorServer
) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"])
    # The same user, another browser (no cookie): refused, and the flow stays usable.
    x_ready.cookies.clear()
    refused(finish(x_ready, location), "browser-mismatch", 403)
    assert network.received("x", "token") == []


def test_a_forged_cookie_is_another_browser(x_ready: TestClient) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"])
    x_ready.cookies.clear()
    x_ready.cookies.set("handpost_connect", "gAAAAABforged" + "A" * 80)
    refused(finish(x_ready, location), "browser-mismatch", 403)


def test_the_cookie_is_httponly_lax_and_short_lived(x_ready: TestClient) -> None:
    response = x_ready.post(
        "/api/v1/connect/flows",
        json={"network": "x", "purpose": "society", "audience": "developers"},
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("handpost_connect=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Max-Age=600" in cookie
    assert "Secure" not in cookie  # the public URL is http here; https sets it
    assert "verifier" not in response.text and "state" not in response.json()


def test_a_reused_code_is_refused_by_the_network(
    x_ready: TestClient, network: EmulatorServer
) -> None:
    first = start(x_ready, "x")
    used = query_of(consent(first["authorize_url"]))
    connected_account(
        x_ready, finish(x_ready, f"/connect/x/callback?code={used['code']}&state={used['state']}")
    )
    # A second flow, brought back with the first flow's (spent) code.
    second = start(x_ready, "x", account_id=accounts_of(x_ready)[0]["id"])
    state = query_of(second["authorize_url"])["state"]
    page = refused(
        finish(x_ready, f"/connect/x/callback?code={used['code']}&state={state}"),
        "connect-failed",
    )
    assert "authorization code was invalid" in page


def test_a_code_older_than_30_seconds_is_refused_by_x(
    x_ready: TestClient, network: EmulatorServer
) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"])
    network.advance_clock(31)
    refused(finish(x_ready, location), "connect-failed")
    assert accounts_of(x_ready) == []


def test_a_denied_consent_says_so(x_ready: TestClient, network: EmulatorServer) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"], decision="deny")
    assert query_of(location)["error"] == "access_denied"
    page = refused(finish(x_ready, location), "network-denied")
    assert "You did not allow Handpost on X" in page
    refused(finish(x_ready, location), "state-used")  # and the flow is spent


@pytest.mark.parametrize("name", ["linkedin", "facebook", "threads"])
def test_each_networks_refusal_shape_is_understood(
    connecting: Any, network: EmulatorServer, name: str
) -> None:
    client = connecting()
    network.register_account(name)
    flow = start(client, name)
    refused(finish(client, consent(flow["authorize_url"], decision="deny")), "network-denied")


def test_a_network_failing_at_its_consent_page_is_explained(
    x_ready: TestClient, network: EmulatorServer
) -> None:
    network.inject_fault(
        "x", "authorize", "status", status=503, redirect_error="temporarily_unavailable"
    )
    flow = start(x_ready, "x")
    import httpx

    answer = httpx.get(flow["authorize_url"], follow_redirects=False)
    assert answer.status_code == 302
    page = refused(finish(x_ready, answer.headers["location"]), "network-error", 502)
    assert "temporarily_unavailable" in page


def test_a_failing_token_endpoint_asks_to_try_again(
    x_ready: TestClient, network: EmulatorServer
) -> None:
    network.inject_fault("x", "token", "status", status=503)
    flow = start(x_ready, "x")
    page = refused(finish(x_ready, consent(flow["authorize_url"])), "connect-failed", 502)
    assert "Try again in a few minutes" in page


def test_a_network_that_does_not_answer(x_ready: TestClient, network: EmulatorServer) -> None:
    network.inject_fault("x", "token", "reset")
    flow = start(x_ready, "x")
    refused(finish(x_ready, consent(flow["authorize_url"])), "connect-failed", 502)


def test_unticked_permissions_are_refused(connecting: Any, network: EmulatorServer) -> None:
    client = connecting()
    network.register_account("facebook")
    flow = start(client, "facebook")
    location = consent(flow["authorize_url"], grant=["pages_show_list", "pages_read_engagement"])
    page = refused(finish(client, location), "connect-failed")
    assert "pages_manage_posts" in page
    assert accounts_of(client) == []


def test_a_callback_on_the_wrong_network_is_refused(x_ready: TestClient) -> None:
    flow = start(x_ready, "x")
    location = consent(flow["authorize_url"])
    refused(
        finish(x_ready, local_path(location).replace("/connect/x/", "/connect/linkedin/")),
        "network-mismatch",
    )


def test_reconnecting_as_another_identity_is_refused(
    connecting: Any, network: EmulatorServer
) -> None:
    client = connecting()
    network.register_account("x", username="ada", user_id="1")
    network.register_account("x", username="bob", user_id="2")
    ada = connect_through(client, "x", account="1")
    flow = start(client, "x", account_id=ada["id"])
    page = refused(
        finish(client, consent(flow["authorize_url"], account="2")), "different-identity"
    )
    assert "bob" in page and "ada" in page
    assert [a["handle"] for a in accounts_of(client)] == ["ada"]


def test_the_handful_is_enforced(connecting: Any, network: EmulatorServer) -> None:
    client = connecting(max_active_accounts=1)
    network.register_account("x", username="ada")
    connect_through(client, "x")
    response = client.post(
        "/api/v1/connect/flows",
        json={"network": "linkedin", "purpose": "p", "audience": "a"},
    )
    assert_problem(response, 409, "too-many-accounts")


def test_a_network_without_app_credentials_is_not_set_up(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = make_client(dispatch=False)
    response = client.post(
        "/api/v1/connect/flows", json={"network": "x", "purpose": "p", "audience": "a"}
    )
    body = assert_problem(response, 409, "network-not-set-up")
    assert "HANDPOST_X_CLIENT_ID" in body["detail"]
    listed = {n["network"]: n for n in client.get("/api/v1/connect/networks").json()}
    assert listed["x"]["configured"] is False
    assert listed["mastodon"]["configured"] is True and listed["bluesky"]["configured"] is True
    assert listed["x"]["redirect_uri"] == "http://testserver/connect/x/callback"
    assert listed["bluesky"]["redirect_uri"] is None


def test_another_users_flow_is_invisible(
    connecting: Any, network: EmulatorServer, make_client: AppFactory
) -> None:
    client = connecting()
    network.register_account("facebook")
    flow = start(client, "facebook")
    finish(client, consent(flow["authorize_url"]))
    other = make_client(dispatch=False, as_user="mallory")
    assert_problem(other.get(f"/api/v1/connect/flows/{flow['flow_id']}"), 404, "not-found")
    chosen = other.post(
        f"/api/v1/connect/flows/{flow['flow_id']}/page", json={"page_id": "101234567890123"}
    )
    assert_problem(chosen, 404, "not-found")


HOSTILE_STARTS = [
    ({"network": "x", "purpose": "p"}, "audience"),
    ({"network": "tiktok", "purpose": "p", "audience": "a"}, "network"),
    ({"network": "x", "purpose": "p\x00", "audience": "a"}, "purpose"),
    ({"network": "x", "purpose": "p", "audience": "a", "extra": 1}, "extra"),
    ({"network": "x", "purpose": 5, "audience": "a"}, "purpose"),
    ({"network": "x", "account_id": "../../etc"}, "account_id"),
    ({"network": "mastodon", "purpose": "p", "audience": "a"}, "instance"),
    (
        {"network": "mastodon", "purpose": "p", "audience": "a", "instance": "ftp://x.org"},
        "instance",
    ),
    ({"network": "mastodon", "purpose": "p", "audience": "a", "instance": "a\nb"}, "instance"),
    ({"network": "x", "purpose": "p" * 1001, "audience": "a"}, "purpose"),
    ({"network": "x", "purpose": "p", "audience": "a", "sphere": "everyone"}, "sphere"),
]


@pytest.mark.parametrize(("body", "field"), HOSTILE_STARTS)
def test_hostile_starts_are_refused_and_change_nothing(
    x_ready: TestClient, database: Database, body: dict[str, Any], field: str
) -> None:
    response = x_ready.post("/api/v1/connect/flows", json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert field in str(problem), problem
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM connect_flows")).scalar_one() == 0


@pytest.mark.parametrize(
    ("instance", "reason"),
    [
        ("127.0.0.1:8443", "private, loopback or reserved"),
        ("http://169.254.169.254", "private, loopback or reserved"),
        ("https://[::1]", "private, loopback or reserved"),
        ("10.0.0.1:25", "not a web port"),
    ],
)
def test_an_instance_on_a_private_address_is_refused(
    connecting: Any, database: Database, network: EmulatorServer, instance: str, reason: str
) -> None:
    client = connecting(outbound_allow_private=False)
    response = client.post(
        "/api/v1/connect/flows",
        json={"network": "mastodon", "purpose": "p", "audience": "a", "instance": instance},
    )
    body = assert_problem(response, 422, "connect-refused")
    assert reason in body["detail"]
    assert network.received("mastodon") == []


def test_an_unknown_account_to_reconnect(x_ready: TestClient) -> None:
    response = x_ready.post("/api/v1/connect/flows", json={"network": "x", "account_id": "0" * 32})
    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize("page_id", ["", "abc", "1" * 65, "12\n3", None, 12, ["1"]])
def test_hostile_page_choices(connecting: Any, network: EmulatorServer, page_id: Any) -> None:
    client = connecting()
    network.register_account("facebook")
    flow = start(client, "facebook")
    finish(client, consent(flow["authorize_url"]))
    response = client.post(
        f"/api/v1/connect/flows/{flow['flow_id']}/page", json={"page_id": page_id}
    )
    assert_problem(response, 422, "validation-error")
    # Still choosable afterwards: bad input changed nothing.
    listed = client.get(f"/api/v1/connect/flows/{flow['flow_id']}").json()
    assert listed["status"] == "choosing" and listed["pages"]


def test_a_page_that_was_not_offered(connecting: Any, network: EmulatorServer) -> None:
    client = connecting()
    network.register_account("facebook")
    flow = start(client, "facebook")
    finish(client, consent(flow["authorize_url"]))
    response = client.post(f"/api/v1/connect/flows/{flow['flow_id']}/page", json={"page_id": "999"})
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["code"] == "unknown-page"


@pytest.mark.parametrize(
    "query",
    [
        "state=" + "a" * 501 + "&code=x",
        "state=%00%01&code=x",
        "state=abc&code=" + "c" * 5000,
        "state=abc&state=def",
        "error=" + "e" * 3000 + "&state=abc",
    ],
)
def test_hostile_callbacks_answer_a_page_never_a_500(x_ready: TestClient, query: str) -> None:
    response = x_ready.get(f"/connect/x/callback?{query}", follow_redirects=False)
    assert 400 <= response.status_code < 500, response.text
    assert len(response.text) < 5000


def test_too_many_flows_under_way(x_ready: TestClient) -> None:
    for _ in range(20):
        start(x_ready, "x")
    response = x_ready.post(
        "/api/v1/connect/flows", json={"network": "x", "purpose": "p", "audience": "a"}
    )
    assert_problem(response, 429, "too-many-connections")
    # Until the first of them expires (HANDPOST_CONNECT_FLOW_SECONDS: 600 by default).
    assert 590 <= int(response.headers["Retry-After"]) <= 600


def test_events_are_paginated_and_private(
    x_ready: TestClient, make_client: AppFactory, network: EmulatorServer
) -> None:
    account = connect_through(x_ready, "x")
    page = x_ready.get(f"/api/v1/accounts/{account['id']}/events?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"] is None
    assert_problem(
        x_ready.get(f"/api/v1/accounts/{account['id']}/events?cursor=bogus"), 422, "invalid-cursor"
    )
    other = make_client(dispatch=False, as_user="mallory")
    assert_problem(other.get(f"/api/v1/accounts/{account['id']}/events"), 404, "not-found")


def test_a_user_given_host_is_gated_when_publishing_too(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    """The instance an account names is checked on every call, not only when connecting: an
    address that later points inside the network is refused, and nothing is sent."""
    from tests.support.live import connect as paste
    from tests.support.live import live_client, publish_now, settled

    # Connected while the address was allowed (its limits were read through the gate then).
    # Without a dispatcher: its own would race the gated one below for the post.
    account, _ = paste(live_client(make_client, dispatch=False), network, "mastodon")
    client = live_client(make_client, outbound_allow_private=False)
    post = publish_now(client, account["id"], "This instance is on loopback.")
    final = settled(client, post["id"])
    assert final["state"] == "failed"
    assert "private, loopback or reserved" in final["last_error"], final
    # Only the instance's limits were asked for, when connecting; nothing was sent to post.
    assert [r["endpoint"] for r in network.received("mastodon")] == ["instance"]
