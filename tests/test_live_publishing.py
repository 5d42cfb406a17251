"""Live publishing across networks: credentials at rest, reconnection, retries, limits.

The service runs for real (``make_client``) with live accounts whose ``base_url`` is the
network emulator's; what was created is checked at the emulator, which is the ground truth.
The helpers shared with the per-network modules (tests/test_live_<network>.py) are in
tests/support/live.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.db import Database
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_post, wait_for
from tests.support.live import (
    FAST,
    attempts,
    ciphertext,
    connect,
    created,
    live_client,
    mark_as_claimed_by_a_dead_worker,
    publish_now,
    seconds_between,
    settled,
)

pytestmark = pytest.mark.usefixtures("secret_key")


# --- credentials at rest and in the API --------------------------------------------------------


def test_credentials_are_encrypted_at_rest_and_never_returned(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    client = live_client(make_client, dispatch=False)
    account, registered = connect(client, network, "mastodon")
    token = registered["access_token"]

    assert account["has_credentials"] is True
    assert account["status"] == "active"
    for body in (
        account,
        client.get(f"/api/v1/accounts/{account['id']}").json(),
        client.get("/api/v1/accounts").json(),
    ):
        assert token not in str(body)
        assert "credentials" not in body and "credentials_ciphertext" not in str(body)

    with database.engine.connect() as connection:
        row = (
            connection.execute(text("SELECT * FROM accounts WHERE id = :id"), {"id": account["id"]})
            .mappings()
            .one()
        )
    assert token not in str(dict(row))
    assert row["credentials_ciphertext"].startswith("gAAAAA")  # a Fernet token


def test_a_live_account_needs_complete_credentials(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client, dispatch=False)
    body = {
        "network": "x",
        "handle": "ada",
        "purpose": "society",
        "audience": "devs",
        "mode": "live",
        "base_url": network.url_for("x"),
    }
    missing = client.post("/api/v1/accounts", json=body)
    assert missing.status_code == 422
    fields = {e["field"] for e in missing.json()["errors"]}
    assert {
        "credentials.access_token",
        "credentials.refresh_token",
        "credentials.client_id",
        "credentials.username",
    } <= fields

    partial = client.post(
        "/api/v1/accounts",
        json=body | {"credentials": {"access_token": "planted-x-token-123", "acess_token": "x"}},
    )
    assert partial.status_code == 422
    problem = partial.json()
    assert {"credentials.refresh_token", "credentials.acess_token"} <= {
        e["field"] for e in problem["errors"]
    }
    assert "planted-x-token-123" not in partial.text
    assert client.get("/api/v1/accounts").json() == []


def test_a_planted_token_never_reaches_logs_or_the_publish_log(
    make_client: AppFactory, network: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = live_client(make_client)
    planted = "planted-secret-token-do-not-log-0042"
    account, _ = connect(client, network, "facebook", access_token=planted)
    # Graph's temporary error (code 2): a retry, then the post and its permalink (token in URL).
    network.inject_fault("facebook", "create", "status", status=400, code=2)
    post = publish_now(client, account["id"], "A planted token must stay out of every log line")

    assert settled(client, post["id"])["state"] == "published"
    log_rows = attempts(client, post["id"])
    assert [r["outcome"] for r in log_rows] == ["retrying", "published"]
    assert planted not in str(log_rows)
    assert planted not in caplog.text
    # The emulator did receive it, so the test would notice had it been left out.
    assert any(planted in str(r) for r in network.received("facebook"))
    # The request in the log is the real one, redacted.
    assert log_rows[0]["request"]["json"]["access_token"] == "<redacted>"


# --- reconnection and refresh ------------------------------------------------------------------


def test_a_revoked_token_marks_the_account_and_its_posts_fail_fast(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, registered = connect(client, network, "mastodon")
    network.revoke_token("mastodon", registered["access_token"])

    first = publish_now(client, account["id"], "Written before the token was revoked.")
    assert settled(client, first["id"])["state"] == "failed"
    [entry] = attempts(client, first["id"])
    assert entry["message"].startswith("Reconnect your Mastodon account:")
    assert "The access token was revoked" in entry["message"]
    assert entry["http_status"] == 401

    read = client.get(f"/api/v1/accounts/{account['id']}").json()
    assert read["status"] == "needs_reconnect"
    assert "The access token was revoked" in read["status_message"]

    # The next post fails without calling the network at all.
    calls = len(network.received("mastodon", "create"))
    second = publish_now(client, account["id"], "A second post while disconnected.")
    assert settled(client, second["id"])["state"] == "failed"
    assert "Reconnect your Mastodon account" in attempts(client, second["id"])[0]["message"]
    assert len(network.received("mastodon", "create")) == calls

    # New credentials reconnect the account, and a post goes out again.
    patched = _give_a_new_mastodon_token(client, network, account, registered)
    assert patched["status"] == "active"
    assert patched["status_message"] is None
    third = publish_now(client, account["id"], "Back, with a fresh token.")
    assert settled(client, third["id"])["state"] == "published"


def _give_a_new_mastodon_token(
    client: TestClient,
    network: EmulatorServer,
    account: dict[str, Any],
    registered: dict[str, Any],
) -> dict[str, Any]:
    """The user reconnects the account with a new token; returns the account as patched."""
    fresh = network.register_account(
        "mastodon", account_id=registered["account"], username=registered["username"]
    )
    patched = client.patch(
        f"/api/v1/accounts/{account['id']}",
        json={"credentials": {"access_token": fresh["access_token"]}},
    )
    assert patched.status_code == 200, patched.text
    result: dict[str, Any] = patched.json()
    return result


def test_credentials_replaced_after_the_claim_are_taken_up_not_flagged(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    """A job carries the credentials read with its claim; the user may replace them before
    the send. The refusal of the old ones must not flag the account: the post goes again."""
    from service.config import Settings
    from service.networks.base import AccountRef, FailureKind, Network, PostContent
    from service.publishing.live import LivePublisher
    from service.publishing.publishers import (
        AccountAccess,
        PublishFailure,
        PublishJob,
        PublishResult,
    )

    client = live_client(make_client, dispatch=False)
    account, registered = connect(client, network, "mastodon")
    read_with_the_claim = AccountAccess("active", None, ciphertext(database, account["id"]))
    network.revoke_token("mastodon", registered["access_token"])
    _give_a_new_mastodon_token(client, network, account, registered)

    job = PublishJob(
        post_id="p1",
        publish_key="claimed-before-the-new-token",
        network=Network.MASTODON,
        account=AccountRef(id=account["id"], handle="h", base_url=account["base_url"]),
        content=PostContent(text="Sent once the new token is in."),
        attempt=1,
        access=read_with_the_claim,
    )

    async def send_twice() -> tuple[PublishFailure | PublishResult, PublishResult]:
        publisher = LivePublisher(
            database, Settings(database_url=database.url, outbound_allow_private=True)
        )
        try:
            try:
                first: PublishFailure | PublishResult = await publisher.publish(job)
            except PublishFailure as failure:
                first = failure
            # The retry is a new claim, which reads the credentials again.
            return first, await publisher.publish(replace(job, access=None, attempt=2))
        finally:
            await publisher.aclose()

    first, second = asyncio.run(send_twice())
    assert isinstance(first, PublishFailure), first
    assert first.kind == FailureKind.RETRYABLE
    assert "replaced meanwhile" in first.message
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "active"
    assert second.external_url
    assert [p["text"] for p in created(network, "mastodon")] == [job.content.text]


def test_an_expired_x_token_is_refreshed_and_the_rotation_saved(
    make_client: AppFactory, network: EmulatorServer, database: Database, secret_key: str
) -> None:
    client = live_client(make_client)
    account, registered = connect(client, network, "x", token_expires_in=0.01)
    ciphertext_before = ciphertext(database, account["id"])

    post = publish_now(client, account["id"], "Refreshed before sending, once.")
    assert settled(client, post["id"])["state"] == "published"
    assert len(network.received("x", "token")) == 1
    assert len(created(network, "x")) == 1

    ciphertext_after = ciphertext(database, account["id"])
    assert ciphertext_after != ciphertext_before
    saved = Fernet(secret_key.encode()).decrypt(ciphertext_after.encode()).decode()
    tokens = {t["token"]: t for t in network.tokens("x")}
    assert not tokens[registered["refresh_token"]]["revoked"]
    assert tokens[registered["refresh_token"]]["spent"]  # the old refresh token is gone
    live_refresh = [t for t in tokens.values() if t["kind"] == "refresh" and not t["spent"]]
    assert len(live_refresh) == 1 and live_refresh[0]["token"] in saved

    # The next post uses the saved token: no second refresh.
    again = publish_now(client, account["id"], "And the saved token works the next time.")
    assert settled(client, again["id"])["state"] == "published"
    assert len(network.received("x", "token")) == 1


def test_a_refused_refresh_marks_the_account_for_reconnection(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, registered = connect(client, network, "x")
    network.revoke_token("x", registered["access_token"])
    network.revoke_token("x", registered["refresh_token"])

    post = publish_now(client, account["id"], "Nobody can refresh this one.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["message"].startswith("Reconnect your X account: X refused to refresh")
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "needs_reconnect"
    assert created(network, "x") == []


# --- retries, rate limits, faults ------------------------------------------------------------


def test_a_429_waits_for_the_reset_the_network_sent(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "x")
    network.inject_fault("x", "create", "status", status=429, retry_after_s=2)

    post = publish_now(client, account["id"], "Patience: the rate limit resets soon.")
    assert settled(client, post["id"])["state"] == "published"
    first, second = attempts(client, post["id"])
    assert first["outcome"] == "retrying" and first["http_status"] == 429
    assert "resets in" in first["message"]
    # The retry came no earlier than the reset X announced (epoch seconds, so up to 1 s early).
    waited = seconds_between(first["finished_at"], second["started_at"])
    assert waited >= 0.9
    assert len(created(network, "x")) == 1


def test_mastodon_iso_reset_is_honoured(make_client: AppFactory, network: EmulatorServer) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "mastodon")
    network.inject_fault("mastodon", "create", "status", status=429, retry_after_s=1.5)

    post = publish_now(client, account["id"], "Mastodon sends its reset as an ISO timestamp.")
    assert settled(client, post["id"])["state"] == "published"
    first, second = attempts(client, post["id"])
    assert first["http_status"] == 429
    assert seconds_between(first["finished_at"], second["started_at"]) >= 1.2


def test_retries_stop_at_the_configured_maximum(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client, max_attempts=3)
    account, _ = connect(client, network, "linkedin")
    network.inject_fault("linkedin", "create", "status", status=503, times=10)

    post = publish_now(client, account["id"], "LinkedIn is down for the whole test.")
    # 503 on a create is unclear; LinkedIn's duplicate check makes a resend safe, so it retries.
    assert settled(client, post["id"])["state"] == "failed"
    log_rows = attempts(client, post["id"])
    assert [r["outcome"] for r in log_rows] == ["retrying", "retrying", "failed"]
    assert "Gave up after 3 attempts" in log_rows[-1]["message"]
    assert created(network, "linkedin") == []


@pytest.mark.parametrize(
    "network_name",
    ["mastodon", "x", "linkedin", "facebook", "bluesky", "threads"],
)
@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status_after_create", "status": 500},
        {"kind": "timeout_after_create", "delay_s": 3},
        {"kind": "reset_after_create"},
        {"kind": "status", "status": 502},
        {"kind": "timeout_before_create", "delay_s": 3},
        {"kind": "reset"},
    ],
    ids=lambda f: str(f["kind"]),
)
def test_no_post_is_created_twice_under_faults(
    make_client: AppFactory, network: EmulatorServer, network_name: str, fault: dict[str, Any]
) -> None:
    client = live_client(make_client, http_read_timeout=0.5)
    account, _ = connect(client, network, network_name)
    network.inject_fault(network_name, "create", **fault)

    post = publish_now(client, account["id"], f"Exactly once on {network_name}, whatever fails.")
    final = settled(client, post["id"])
    posts = created(network, network_name)
    assert len(posts) <= 1
    if final["state"] == "published":
        assert len(posts) == 1
        assert final["external_id"] == posts[0]["id"]
    else:
        # Only an honest "unknown" is acceptable, with a message that says what happened.
        assert final["state"] == "unknown", final
        assert final["last_error"]
    if fault["kind"].endswith("after_create"):
        assert len(posts) == 1


def test_a_refused_connection_is_retried_then_given_up(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    client = live_client(make_client, max_attempts=2)
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/mastodon"
    account, _ = connect(client, network, "mastodon")
    # The instance answered when the account was connected (its limits were read); now it
    # is gone.
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE accounts SET base_url = :url WHERE id = :id"),
            {"url": closed, "id": account["id"]},
        )
    post = publish_now(client, account["id"], "Nobody is listening on that port.")
    assert settled(client, post["id"])["state"] == "failed"
    first, last = attempts(client, post["id"])
    assert first["outcome"] == "retrying"
    assert first["message"].startswith("Could not connect to Mastodon (ConnectError)")
    assert "Gave up after 2 attempts" in last["message"]


def test_permanent_errors_fail_fast_with_the_networks_message(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "mastodon")
    network.inject_fault(
        "mastodon",
        "create",
        "status",
        status=422,
        message="Validation failed: Text character limit of 500 exceeded",
    )

    post = publish_now(client, account["id"], "The network refuses this one outright.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["outcome"] == "failed"
    assert entry["http_status"] == 422
    assert entry["message"] == (
        "Mastodon refused the post: Validation failed: Text character limit of 500 exceeded"
    )
    assert len(network.received("mastodon", "create")) == 1


def test_per_network_concurrency_limit_is_honoured(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client, network_concurrency={"mastodon": 2})
    account, _ = connect(client, network, "mastodon")
    network.set_latency(300, network="mastodon")

    posts = [
        publish_now(client, account["id"], f"Post number {n} of a burst of six, {n * 'x'}.")
        for n in range(6)
    ]
    for post in posts:
        assert settled(client, post["id"])["state"] == "published"
    assert _max_in_flight(network.received("mastodon", "create"), 0.3) <= 2
    assert len(created(network, "mastodon")) == 6


def _max_in_flight(entries: list[dict[str, Any]], latency_s: float) -> int:
    """Requests overlapping at the emulator: each is in flight from arrival until answered.

    The emulator records a request after its latency, so ``time - latency`` is its arrival.
    """
    spans = [(e["time"] - latency_s, e["time"]) for e in entries]
    return max(sum(1 for s, e in spans if s < end - 0.05 and e > end - 0.05) for _, end in spans)


@pytest.fixture
def _no_key_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("HANDPOST_SECRET_KEY", raising=False)
    monkeypatch.setenv("HANDPOST_SECRET_KEY_FILE", str(tmp_path / "handpost.key"))
    yield tmp_path / "handpost.key"


def test_without_a_key_sqlite_generates_one_private_key_file(_no_key_file: Any) -> None:
    from service.accounts.credentials import cipher_for
    from service.config import Settings

    settings = Settings(database_url="sqlite:///unused.db")
    cipher = cipher_for(settings)
    assert _no_key_file.stat().st_mode & 0o777 == 0o600
    sealed = cipher.encrypt({"access_token": "abc"})
    # A second process (here: a fresh cipher from the same file) reads what the first wrote.
    again = type(cipher)([_no_key_file.read_bytes().strip()])
    assert again.decrypt(sealed) == {"access_token": "abc"}


# --- what may be resent after a crash, and what cannot be live ------------------------------


@pytest.mark.parametrize(
    ("network_name", "grace", "expected"),
    [
        ("mastodon", 1800, True),  # the Idempotency-Key is remembered for an hour
        ("mastodon", 7200, False),  # a retry could come after Mastodon forgot the key
        ("bluesky", 7200, True),  # the record key is ours: getRecord, then the same rkey
        ("x", 1800, False),
        ("linkedin", 1800, False),
        ("facebook", 1800, False),
        ("threads", 1800, False),  # the container id is not kept across a crash
        ("wordpress", 7200, True),  # the next attempt looks for the post's marker first
        ("ghost", 7200, True),
    ],
)
def test_resending_after_a_crash_only_where_it_cannot_duplicate(
    network_name: str, grace: float, expected: bool
) -> None:
    from service.config import Settings
    from service.networks.base import AccountRef, Network, PostContent
    from service.publishing.live import LivePublisher
    from service.publishing.publishers import PublishJob

    settings = Settings(database_url="sqlite://", missed_grace_seconds=grace)
    publisher = LivePublisher(Database("sqlite://"), settings)
    job = PublishJob(
        post_id="p",
        publish_key="k",
        network=Network(network_name),
        account=AccountRef(id="a", handle="h"),
        content=PostContent(text="t"),
        attempt=1,
    )
    assert publisher.may_resend_after_crash(job) is expected


def test_a_live_youtube_post_without_a_video_cannot_be_scheduled(make_client: AppFactory) -> None:
    """A YouTube post is a video: a live channel's post without one is refused when it is
    scheduled, saying so; it may wait as a draft. The token never appears in an answer."""
    client = live_client(make_client)
    body = {
        "network": "youtube",
        "handle": "chan",
        "purpose": "talks",
        "audience": "clients",
        "mode": "live",
        "credentials": {"access_token": "ya29.token-value", "channel_id": "UCchannel"},
    }
    response = client.post("/api/v1/accounts", json=body)
    assert response.status_code == 201, response.text
    assert "ya29.token-value" not in response.text
    account_id = response.json()["id"]
    post = create_post(
        client, account_id, "A talk on release trains.", title="Release trains", publish_now=True
    )
    assert post.status_code == 422, post.text
    assert post.json()["errors"][0]["code"] == "video-required"
    draft = create_post(client, account_id, "A talk on release trains.", title="Release trains")
    assert draft.status_code == 201, draft.text
    assert draft.json()["state"] == "draft"


def test_posts_claimed_ahead_go_back_to_the_queue_when_a_worker_stops(
    make_client: AppFactory, network: EmulatorServer, database: Database, database_url: str
) -> None:
    """A worker claims a few posts ahead of its free slots. Stopped, it finishes the send under
    way and hands the others back unsent: left to their leases, X posts would become unknown."""
    from service.config import Settings
    from service.main import create_app

    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "x")
    network.set_latency(1500, "x")
    posts = [publish_now(client, account["id"], f"Post {n} of a slow morning.") for n in (1, 2)]
    settings = Settings(database_url=database_url, publish_concurrency=1, **FAST)
    with TestClient(create_app(settings, dispatch=True)):
        # One post in its (slow) send, one claimed ahead of the next free slot.
        wait_for(
            lambda: all(
                client.get(f"/api/v1/posts/{p['id']}").json()["state"] == "publishing"
                for p in posts
            ),
            timeout=20,
            interval=0.02,
        )
    # The worker has stopped: one send finished, the post claimed behind it was handed back.
    states = {p["id"]: client.get(f"/api/v1/posts/{p['id']}").json() for p in posts}
    assert sorted(s["state"] for s in states.values()) == ["published", "scheduled"]
    [waiting] = [s for s in states.values() if s["state"] == "scheduled"]
    assert attempts(client, waiting["id"]) == []
    with database.engine.connect() as connection:
        claimed_by, attempt_count = connection.execute(
            text("SELECT claimed_by, attempt_count FROM posts WHERE id = :id"),
            {"id": waiting["id"]},
        ).one()
    assert (claimed_by, attempt_count) == (None, 0)

    network.set_latency(0, "x")
    worker = live_client(make_client)
    assert settled(worker, waiting["id"])["state"] == "published"
    assert sorted(p["text"] for p in created(network, "x")) == sorted(p["text"] for p in posts)


def test_an_unclear_x_send_cut_short_by_a_crash_is_left_unknown(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "x")
    post = create_post(client, account["id"], "Was it sent before the crash? Nobody knows.").json()
    mark_as_claimed_by_a_dead_worker(database, post["id"])
    worker = live_client(make_client)
    final = settled(worker, post["id"])
    assert final["state"] == "unknown"
    assert "stopped while publishing" in final["last_error"]
    assert network.received("x") == []


def test_an_x_post_a_dead_worker_had_only_claimed_is_sent(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    """Claimed ahead, never begun: it did not go out, so it is sent now, once."""
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "x")
    post = create_post(client, account["id"], "Claimed; the worker died before sending.").json()
    mark_as_claimed_by_a_dead_worker(database, post["id"], send_started=False)
    worker = live_client(make_client)
    assert settled(worker, post["id"])["state"] == "published"
    [recovery, sent] = attempts(worker, post["id"])
    assert recovery["outcome"] == "retrying"
    assert "dead-worker stopped before sending it" in recovery["message"]
    assert sent["outcome"] == "published"
    assert [p["text"] for p in created(network, "x")] == [post["text"]]


def test_the_start_of_an_x_send_is_committed_before_the_request_leaves(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    """Mid-send, the database already says so: a crash now would leave the post unknown, not
    resent (X cannot tell a resend from a new post)."""
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "x")
    network.set_latency(1500, "x")
    post = publish_now(client, account["id"], "Slow to answer, and noted before it was sent.")
    live_client(make_client)

    def claim() -> tuple[str, str | None, str | None] | None:
        with database.engine.connect() as connection:
            row = connection.execute(
                text("SELECT state, claimed_by, claimed_unsent_by FROM posts WHERE id = :id"),
                {"id": post["id"]},
            ).one()
        return (row[0], row[1], row[2]) if row[0] == "publishing" else None

    state, claimed_by, _ = wait_for(claim, timeout=20, interval=0.01)
    time.sleep(0.5)  # the request is at the emulator, which answers after 1.5 s
    assert network.received("x", "create") == []
    assert claim() == (state, claimed_by, None)
    network.set_latency(0, "x")
