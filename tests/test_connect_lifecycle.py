"""The token lifecycle: renewals ahead of expiry, failures, races, reconnects, warnings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.config import Settings
from service.connect.lifecycle import TokenLifecycle, http_client
from service.db import Database
from tests.emulator.server import EmulatorServer
from tests.support.api import create_post, in_seconds
from tests.support.connect import (
    TEST_PUBLIC_URL,
    connect_settings,
    connect_through,
    connected,
    connected_account,
    consent,
    finish,
    register_apps,
    start,
)
from tests.support.live import attempts, created, publish_now, settled

pytestmark = pytest.mark.usefixtures("secret_key")


def lifecycle(database_url: str, emulator: EmulatorServer, **overrides: Any) -> TokenLifecycle:
    """A replica's token chore (its own lease owner), on the test's database."""
    settings = Settings(
        database_url=database_url, **connect_settings(emulator, TEST_PUBLIC_URL), **overrides
    )
    return TokenLifecycle(Database(database_url), settings)


def run(chore: TokenLifecycle) -> str | None:
    return asyncio.run(chore.run(chore.database))


def events(client: TestClient, account_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/accounts/{account_id}/events").json()["items"])


def connection(client: TestClient, account_id: str) -> dict[str, Any]:
    [found] = [
        c for c in client.get("/api/v1/connect/connections").json() if c["account_id"] == account_id
    ]
    return dict(found)


def test_x_is_renewed_ahead_of_expiry_and_the_refresh_token_rotates(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    # 5-minute tokens: inside the 10-minute margin, due at once.
    account = connected(client, network, "x", username="ada", token_lifetime_s=300)
    [first_refresh] = [t for t in network.tokens("x") if t["kind"] == "refresh"]
    done = run(lifecycle(database_url, network))
    assert done and "renewed 1 tokens" in done
    refreshes = network.tokens("x")
    old = next(t for t in refreshes if t["token"] == first_refresh["token"])
    assert old["spent"] is True  # rotated: used once, never again
    assert [e["kind"] for e in events(client, account["id"])][:2] == ["refreshed", "connected"]
    # The rotated token is the one saved: the next renewal and a post both work.
    assert "renewed 1 tokens" in (run(lifecycle(database_url, network)) or "")
    post = publish_now(client, account["id"], "Still connected after two renewals.")
    assert settled(client, post["id"])["state"] == "published"


def test_nothing_is_renewed_before_it_is_due(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    # 2-hour tokens: due in 1 h 50 min.
    account = connected(client, network, "x", username="ada")
    assert run(lifecycle(database_url, network)) is None
    assert [
        t for t in network.received("x", "token") if t["body"].get("grant_type") == "refresh_token"
    ] == []
    due = datetime.fromisoformat(connection(client, account["id"])["token_expires_at"])
    assert due - datetime.now(UTC) > timedelta(minutes=100)


def test_two_replicas_racing_one_renewal_use_the_refresh_token_once(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    account = connected(client, network, "x", username="ada", token_lifetime_s=300)
    network.set_latency(300, network="x")  # both are in flight at once
    one, two = lifecycle(database_url, network), lifecycle(database_url, network)

    async def race() -> list[str]:
        async with http_client(one.settings) as http:
            return list(
                await asyncio.gather(one.renew(http, account["id"]), two.renew(http, account["id"]))
            )

    results = asyncio.run(race())
    assert sorted(results) == ["renewed", "skipped"]
    network.set_latency(0, network="x")
    renewals = [
        r for r in network.received("x", "token") if r["body"].get("grant_type") == "refresh_token"
    ]
    assert len(renewals) == 1
    assert all(not t["revoked"] for t in network.tokens("x") if t["kind"] == "access")
    post = publish_now(client, account["id"], "One renewal, however many replicas.")
    assert settled(client, post["id"])["state"] == "published"


def test_a_refused_renewal_marks_the_account_at_once(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    account = connected(client, network, "x", username="ada", token_lifetime_s=300)
    [refresh] = [t for t in network.tokens("x") if t["kind"] == "refresh"]
    network.revoke_token("x", refresh["token"])  # the person removed the app at X
    done = run(lifecycle(database_url, network))
    assert done and "1 could not be" in done
    read = client.get(f"/api/v1/accounts/{account['id']}").json()
    assert read["status"] == "needs_reconnect"
    assert "X refused to refresh the token" in read["status_message"]
    assert events(client, account["id"])[0]["kind"] == "needs_reconnect"
    assert refresh["token"] not in str(events(client, account["id"]))
    # Nothing more is tried for it.
    assert run(lifecycle(database_url, network)) is None


def test_a_failing_renewal_is_retried_later(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    account = connected(client, network, "x", username="ada", token_lifetime_s=300)
    network.inject_fault("x", "token", "status", status=503)
    done = run(lifecycle(database_url, network))
    assert done and "1 could not be" in done
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "active"
    [failed, *_] = events(client, account["id"])
    assert failed["kind"] == "refresh_failed" and "503" in failed["message"]
    # Not due again at once: the next round leaves it alone.
    assert run(lifecycle(database_url, network)) is None


def test_a_reconnect_keeps_the_account_its_history_and_its_scheduled_posts(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    account = connected(client, network, "x", username="ada", user_id="7", token_lifetime_s=300)
    published = publish_now(client, account["id"], "Before the revocation.")
    assert settled(client, published["id"])["state"] == "published"
    later = create_post(
        client, account["id"], "Scheduled before the access broke.", scheduled_at=in_seconds(6)
    )
    assert later.status_code == 201, later.text
    [refresh] = [t for t in network.tokens("x") if t["kind"] == "refresh" and not t["spent"]]
    network.revoke_token("x", refresh["token"])
    run(lifecycle(database_url, network))
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "needs_reconnect"

    flow = start(client, "x", account_id=account["id"])
    back = connected_account(client, finish(client, consent(flow["authorize_url"])))
    assert back["id"] == account["id"] and back["status"] == "active"
    assert back["purpose"] == account["purpose"] and back["created_at"] == account["created_at"]
    assert settled(client, later.json()["id"])["state"] == "published"
    assert [p["text"] for p in created(network, "x")] == [
        "Before the revocation.",
        "Scheduled before the access broke.",
    ]
    assert len(attempts(client, published["id"])) == 1  # its history stayed
    kinds = [e["kind"] for e in events(client, account["id"])]
    assert kinds[:2] == ["reconnected", "needs_reconnect"]


def test_linkedin_warns_before_its_60_days_end_and_on_posts_after(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    account = connected(client, network, "linkedin", user_id="abc", token_lifetime_s=10 * 86400)
    mine = connection(client, account["id"])
    assert mine["refreshable"] is False and mine["access_ends_at"] is not None
    done = run(lifecycle(database_url, network))
    assert done and "warned about 1" in done
    warning = events(client, account["id"])[0]
    assert (
        warning["kind"] == "warning" and "reconnect the account before then" in warning["message"]
    )
    assert run(lifecycle(database_url, network)) is None  # once, not every round
    ends = datetime.fromisoformat(mine["access_ends_at"])
    after = create_post(
        client,
        account["id"],
        "Planned long ahead. What would you add?",
        call_to_action="Reply",
        scheduled_at=(ends + timedelta(days=1)).isoformat(),
    ).json()
    before = create_post(
        client,
        account["id"],
        "Planned soon. What would you add here?",
        call_to_action="Reply",
        scheduled_at=(ends - timedelta(days=1)).isoformat(),
    ).json()
    assert "access-ends-before-post" in [w["code"] for w in after["warnings"]]
    assert "access-ends-before-post" not in [w["code"] for w in before["warnings"]]


def test_linkedin_partners_get_refresh_tokens_and_no_warning(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    register_apps(network, TEST_PUBLIC_URL, linkedin={"refresh_tokens": True})  # a partner
    network.register_account("linkedin", user_id="abc", token_lifetime_s=3 * 86400)
    account = connect_through(client, "linkedin")
    assert connection(client, account["id"])["refreshable"] is True
    done = run(lifecycle(database_url, network))
    assert done and "renewed 1 tokens" in done


def test_youtube_keeps_its_refresh_token_when_renewing(
    connecting: Any, network: EmulatorServer, database_url: str, database: Database
) -> None:
    client = connecting()
    account = connected(client, network, "youtube", username="@ada", token_lifetime_s=120)
    assert "renewed 1 tokens" in (run(lifecycle(database_url, network)) or "")
    assert "renewed 1 tokens" in (run(lifecycle(database_url, network)) or "")
    refreshes = [t for t in network.tokens("youtube") if t["kind"] == "refresh"]
    assert len(refreshes) == 1 and not refreshes[0]["revoked"]
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "active"


def test_a_google_app_in_testing_loses_its_refresh_token_after_7_days(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    register_apps(network, TEST_PUBLIC_URL, youtube={"testing": True})  # consent in Testing
    network.register_account("youtube", username="@ada", token_lifetime_s=120)
    account = connect_through(client, "youtube")
    network.advance_clock(7 * 86400 + 60)
    run(lifecycle(database_url, network))
    read = client.get(f"/api/v1/accounts/{account['id']}").json()
    assert read["status"] == "needs_reconnect"
    assert "Token has been expired or revoked" in read["status_message"]


def test_threads_is_renewed_in_its_last_week(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    client = connecting()
    account = connected(
        client, network, "threads", user_id="17841400000000009", token_lifetime_s=5 * 86400
    )
    assert "renewed 1 tokens" in (run(lifecycle(database_url, network)) or "")
    ends = datetime.fromisoformat(connection(client, account["id"])["token_expires_at"])
    assert ends - datetime.now(UTC) > timedelta(days=4)
    [refresh] = network.received("threads", "refresh")
    assert refresh["query"]["grant_type"] == "th_refresh_token"


def test_credentials_given_by_hand_join_the_lifecycle(
    connecting: Any, network: EmulatorServer, database_url: str
) -> None:
    from tests.support.live import connect as paste

    client = connecting()
    account, _ = paste(client, network, "x", token_lifetime_s=300, token_expires_in=300)
    assert events(client, account["id"])[0]["message"] == "Credentials given by hand."
    assert connection(client, account["id"])["refreshable"] is True
    del account
    # expires_at is unknown for pasted X credentials (none given): nothing to schedule.
    assert run(lifecycle(database_url, network)) is None


def test_old_flows_are_tidied(
    connecting: Any, network: EmulatorServer, database_url: str, database: Database
) -> None:
    client = connecting()
    start(client, "x")
    long_ago = datetime.now(UTC) - timedelta(days=2)
    with database.engine.begin() as db:
        db.execute(
            text("UPDATE connect_flows SET expires_at = :t"),
            {"t": long_ago if database.is_postgres else long_ago.replace(tzinfo=None)},
        )
    done = run(lifecycle(database_url, network))
    assert done and "removed 1" in done
    with database.engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM connect_flows")).scalar_one() == 0
