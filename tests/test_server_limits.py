"""A Mastodon account follows its own instance's limits, read and refreshed by Handpost.

Real HTTP over loopback to the emulated instance (its /api/v2/instance is configurable), a real
database; the refresh chore runs as a replica would, racing another.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from service.accounts import limits
from service.config import Settings
from service.db import Database, utcnow
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import assert_problem, create_post
from tests.support.live import connect, live_client

pytestmark = pytest.mark.usefixtures("secret_key")


def _live_mastodon(base_url: str, token: str) -> dict[str, object]:
    return {
        "network": "mastodon",
        "handle": "ada",
        "purpose": "society",
        "audience": "the fediverse",
        "mode": "live",
        "base_url": base_url,
        "credentials": {"access_token": token},
    }


def test_the_instances_limit_counts_not_500(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    network.configure(mastodon_max_characters=1000, mastodon_characters_reserved_per_url=23)
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "mastodon")
    assert account["limits"]["max_characters"] == 1000
    assert account["limits"]["characters_reserved_per_url"] == 23
    assert account["limits"]["max_media_attachments"] == 4
    assert account["limits"]["media"]["description_limit"] == 1500
    assert account["limits_checked_at"] is not None

    six_hundred = create_post(client, account["id"], "a" * 600)
    assert six_hundred.status_code == 201, six_hundred.text
    assert six_hundred.json()["text_limit"] == 1000
    too_long = create_post(client, account["id"], "b" * 1001)
    assert too_long.status_code == 422 and "1,001 of 1,000" in too_long.text
    preview = client.post(
        "/api/v1/posts/preview", json={"account_id": account["id"], "text": "c" * 900}
    ).json()
    assert (preview["text_length"], preview["text_limit"], preview["violations"]) == (
        900,
        1000,
        [],
    )
    [listed] = [
        p
        for p in client.get("/api/v1/posts").json()["items"]
        if p["id"] == six_hundred.json()["id"]
    ]
    assert listed["text_limit"] == 1000


def test_a_smaller_instance_refuses_what_upstream_would_take(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    network.configure(mastodon_max_characters=300)
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "mastodon")
    refused = create_post(client, account["id"], "d" * 301, publish_now=True)
    assert refused.status_code == 422 and "301 of 300" in refused.text


def test_an_unreachable_instance_is_a_clear_problem_and_saves_nothing(
    make_client: AppFactory,
) -> None:
    client = live_client(make_client, dispatch=False)
    # Nothing listens on the discard port.
    refused = client.post("/api/v1/accounts", json=_live_mastodon("http://127.0.0.1:9", "t"))
    problem = assert_problem(refused, 422, "instance-unreachable")
    assert problem["errors"][0]["field"] == "base_url"
    assert client.get("/api/v1/accounts").json() == []


def test_a_private_instance_address_is_refused_unless_allowed(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client, dispatch=False, outbound_allow_private=False)
    registered = network.register_account("mastodon")
    body = {
        "network": "mastodon",
        "handle": "ada",
        "purpose": "society",
        "audience": "the fediverse",
        "mode": "live",
        "base_url": registered["base_url"],
        "credentials": {"access_token": registered["access_token"]},
    }
    problem = assert_problem(
        client.post("/api/v1/accounts", json=body), 422, "instance-unreachable"
    )
    assert "loopback" in problem["detail"] or "private" in problem["detail"]
    assert network.counts().get("mastodon", {}).get("instance", 0) == 0


def test_moving_to_another_instance_reads_its_limits(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "mastodon")
    assert account["limits"]["max_characters"] == 500
    network.configure(mastodon_max_characters=5000)
    same = client.patch(f"/api/v1/accounts/{account['id']}", json={"purpose": "new purpose"})
    assert same.json()["limits"]["max_characters"] == 500  # not asked again
    moved = client.patch(
        f"/api/v1/accounts/{account['id']}", json={"base_url": account["base_url"] + "/"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["limits"]["max_characters"] == 5000


def test_sandbox_accounts_ask_no_server(make_client: AppFactory, network: EmulatorServer) -> None:
    client = live_client(make_client, dispatch=False)
    registered = network.register_account("mastodon")
    response = client.post(
        "/api/v1/accounts",
        json={
            "network": "mastodon",
            "handle": "sandboxed",
            "purpose": "society",
            "audience": "the fediverse",
            "base_url": registered["base_url"],
        },
    )
    assert response.status_code == 201 and response.json()["limits"] is None
    assert network.counts().get("mastodon", {}).get("instance", 0) == 0


def _age_limits(database: Database, account_id: str, days: float) -> None:
    moment = utcnow() - timedelta(days=days)
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE accounts SET limits_checked_at = :t WHERE id = :id"),
            {
                "t": moment if database.is_postgres else moment.replace(tzinfo=None),
                "id": account_id,
            },
        )


def test_the_daily_refresh_asks_once_across_replicas(
    make_client: AppFactory, network: EmulatorServer, database: Database, database_url: str
) -> None:
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "mastodon")
    settings = Settings(database_url=database_url, outbound_allow_private=True)
    assert limits.refresh_due(database, settings) is None  # checked just now: nothing due

    network.configure(mastodon_max_characters=2000)
    _age_limits(database, account["id"], days=2)
    network.clear_received()
    results: list[str | None] = []
    replicas = [
        threading.Thread(target=lambda: results.append(limits.refresh_due(database, settings)))
        for _ in range(3)
    ]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join()
    assert network.counts()["mastodon"]["instance"] == 1  # claimed by one replica only
    refreshed = client.get(f"/api/v1/accounts/{account['id']}").json()
    assert refreshed["limits"]["max_characters"] == 2000

    # An instance that cannot be asked keeps the limits known so far, and is asked again soon.
    _age_limits(database, account["id"], days=2)
    network.inject_fault("mastodon", "instance", "status", status=503)
    assert "1 failed" in str(limits.refresh_due(database, settings))
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["limits"] == refreshed["limits"]
    with database.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT server_limits FROM accounts WHERE id = :id"), {"id": account["id"]}
        ).scalar_one()
    assert json.loads(stored)["max_characters"] == 2000
    assert limits.refresh_due(database, settings) is None  # not due again yet


def test_a_post_language_defaults_to_the_accounts(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "mastodon")
    client.patch(f"/api/v1/accounts/{account['id']}", json={"language": "FI"})
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["language"] == "fi"
    from tests.support.live import publish_now, settled

    own = publish_now(client, account["id"], "In English, this one.", language="en-GB")
    default = publish_now(client, account["id"], "Tämä on suomeksi.")
    assert settled(client, own["id"])["state"] == "published"
    assert settled(client, default["id"])["state"] == "published"
    sent = {
        r["body"]["status"]: r["body"].get("language")
        for r in network.received("mastodon", "create")
    }
    assert sent == {"In English, this one.": "en", "Tämä on suomeksi.": "fi"}


@pytest.mark.parametrize("language", ["xx", "en_US", "und", "e" * 40, "en\n", 5, True])
def test_a_language_that_is_not_bcp_47_is_refused(
    make_client: AppFactory, language: object
) -> None:
    client = make_client(dispatch=False)
    from tests.support.api import create_account

    account = create_account(client, "bluesky", "me.bsky.social")
    refused = create_post(client, account["id"], "Hello", language=language)
    assert_problem(refused, 422, "validation-error")
