"""Webhooks as a user's script sees them: a real receiver on loopback gets signed events for
what the publish log records, retried when it fails, never sent where it must not go."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from service.config import Settings
from service.db import Database
from service.outbound import OutboundPolicy
from service.posts.models import PostState
from service.webhooks import outbox
from service.webhooks.delivery import WebhookDeliverer
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_account, create_post
from tests.support.live import (
    connect,
    mark_as_claimed_by_a_dead_worker,
    publish_now,
    settled,
)
from tests.support.rows import insert_post
from tests.support.webhooks import (
    FAST_WEBHOOKS,
    Answer,
    Receiver,
    closed_port_url,
    deliveries,
    delivery_log,
    register,
    settled_delivery,
)

pytestmark = pytest.mark.usefixtures("secret_key")

ALL_EVENTS = [
    "post.published",
    "post.failed",
    "post.unknown",
    "post.missed",
    "post.due_by_hand",
    "account.needs_reconnect",
]


def webhook_client(make_client: AppFactory, **overrides: Any) -> Any:
    return make_client(**{**FAST_WEBHOOKS, **overrides})


# --- events from the real dispatcher path -------------------------------------------------------


def test_a_published_post_arrives_signed_with_what_a_script_needs(
    make_client: AppFactory, receiver: Receiver
) -> None:
    client = webhook_client(make_client, public_url="https://handpost.example.org/")
    hook = register(client, receiver, ["post.published"])
    account = create_account(client, "mastodon", base_url="https://example.social")
    post = publish_now(client, account["id"], "Shipping weekly now; what slows your releases?")

    [event] = receiver.wait_for_events(1)
    assert event.verified, "the signature must verify with the standardwebhooks library"
    assert event.path == "/hook"
    assert event.headers["content-type"] == "application/json"
    assert event.id.startswith("msg_")
    assert abs(int(event.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    body = event.payload
    assert body["type"] == "post.published"
    data = body["data"]
    assert data["post"]["id"] == post["id"]
    assert data["post"]["text"] == "Shipping weekly now; what slows your releases?"
    assert data["post"]["network"] == "mastodon"
    assert data["post"]["external_url"].startswith("https://example.social/")
    assert data["post"]["web_url"] == f"https://handpost.example.org/#/compose/{post['id']}"
    assert data["attempt"]["outcome"] == "published"

    # The API's record of it: the delivery, under the same message id, and its one attempt.
    [delivery] = settled_delivery(client, hook["id"])
    assert delivery["state"] == "delivered" and delivery["event_id"] == event.id
    [attempt] = delivery_log(client, hook["id"])
    assert attempt["outcome"] == "delivered"
    assert attempt["response_status"] == 200
    assert attempt["response_body"] == '{"ok": true}'
    assert attempt["duration_ms"] >= 0 and attempt["error"] is None


def test_every_publish_log_outcome_reaches_the_receiver(
    make_client: AppFactory, receiver: Receiver, network: EmulatorServer, database: Database
) -> None:
    """published, failed, unknown, missed and needs-reconnect, each made by the dispatcher."""
    client = webhook_client(make_client)
    register(client, receiver, ALL_EVENTS)

    # published: a sandbox post.
    sandbox = create_account(client, "mastodon", base_url="https://example.social")
    published = publish_now(client, sandbox["id"], "Out it goes, from the sandbox.")
    # failed, and the account flagged: a live account whose token was revoked.
    live, registered = connect(client, network, "mastodon")
    network.revoke_token("mastodon", registered["access_token"])
    failed = publish_now(client, live["id"], "Written before the token was revoked.")
    # missed: due 16 hours ago, while the service was down.
    long_ago = datetime.now(UTC) - timedelta(hours=16)
    missed = insert_post(
        database,
        sandbox["id"],
        "Good morning, from yesterday.",
        state=PostState.SCHEDULED,
        scheduled_at=long_ago,
        next_attempt_at=long_ago,
    )
    # unknown: an X post whose worker died mid-send.
    x_account, _ = connect(client, network, "x")
    unclear = create_post(client, x_account["id"], "Was it sent before the crash?").json()
    mark_as_claimed_by_a_dead_worker(database, unclear["id"])

    expected = {
        "post.published": published["id"],
        "post.failed": failed["id"],
        "post.missed": missed,
        "post.unknown": unclear["id"],
    }
    for kind, post_id in expected.items():
        [event] = receiver.wait_for_events(1, kind)
        assert event.verified
        assert event.payload["data"]["post"]["id"] == post_id, kind
    [reconnect] = receiver.wait_for_events(1, "account.needs_reconnect")
    account = reconnect.payload["data"]["account"]
    assert account["id"] == live["id"] and account["status"] == "needs_reconnect"
    assert "revoked" in account["message"]
    assert registered["access_token"] not in reconnect.body.decode()
    # Each event once, whatever else happened meanwhile.
    assert len(receiver.events()) == 5, [e.payload["type"] for e in receiver.events()]


def test_a_post_due_by_hand_is_an_event_too(make_client: AppFactory, receiver: Receiver) -> None:
    """The dispatcher hands the post over at its time; the outbox and the worker carry it."""
    client = webhook_client(make_client)
    register(client, receiver, ["post.due_by_hand"])
    account = create_account(client, "facebook", "1001", mode="hand")
    created = create_post(
        client,
        account["id"],
        "Tell the family about the trip.",
        publish_now=True,
        audience="Family list",
    )
    assert created.status_code == 201, created.text
    [event] = receiver.wait_for_events(1)
    assert event.verified and event.payload["type"] == "post.due_by_hand"
    post = event.payload["data"]["post"]
    assert post["text"] == "Tell the family about the trip."
    assert post["audience"] == "Family list"
    assert post["composer_url"] == "https://www.facebook.com/"
    assert post["missed_at"] is not None


def test_a_user_resolving_an_unknown_post_as_published_is_an_event(
    make_client: AppFactory, receiver: Receiver, network: EmulatorServer, database: Database
) -> None:
    client = webhook_client(make_client)
    register(client, receiver, ["post.published"])
    account, _ = connect(client, network, "x")
    post = create_post(client, account["id"], "Did it go out? It did.").json()
    mark_as_claimed_by_a_dead_worker(database, post["id"])
    assert settled(client, post["id"])["state"] == "unknown"
    resolved = client.post(
        f"/api/v1/posts/{post['id']}/resolve",
        json={"outcome": "published", "external_url": "https://x.com/me/status/1"},
    )
    assert resolved.status_code == 200, resolved.text
    [event] = receiver.wait_for_events(1)
    assert event.payload["data"]["post"]["external_url"] == "https://x.com/me/status/1"
    assert event.payload["data"]["attempt"]["message"].startswith("Marked published by you")


def test_only_subscribed_and_enabled_endpoints_get_an_event(
    make_client: AppFactory, receiver: Receiver
) -> None:
    client = webhook_client(make_client)
    wants_failures = register(client, None, ["post.failed"], url=receiver.url("/failures"))
    turned_off = register(client, None, ["post.published"], url=receiver.url("/off"))
    off = client.patch(f"/api/v1/webhooks/{turned_off['id']}", json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    register(client, receiver, ["post.published"])
    account = create_account(client, "mastodon", base_url="https://example.social")
    publish_now(client, account["id"], "Only the subscribed, enabled endpoint hears of this.")
    receiver.wait_for_events(1)
    assert deliveries(client, wants_failures["id"]) == []
    assert [e.path for e in receiver.events()] == ["/hook"]
    assert deliveries(client, turned_off["id"]) == []


def test_events_of_one_user_never_reach_another(
    make_client: AppFactory, receiver: Receiver
) -> None:
    ada = webhook_client(make_client, as_user="ada")
    bob = webhook_client(make_client, as_user="bob")
    register(ada, receiver, ["post.published"])
    bobs_hook = register(bob, None, ["post.published"], url=receiver.url("/bob"))
    account = create_account(ada, "mastodon", base_url="https://example.social")
    publish_now(ada, account["id"], "Ada's post is Ada's business.")
    [event] = receiver.wait_for_events(1)
    assert event.path == "/hook"
    # Bob cannot see, change, test or delete Ada's endpoint, nor read its log.
    [adas] = ada.get("/api/v1/webhooks").json()
    assert [h["id"] for h in bob.get("/api/v1/webhooks").json()] == [bobs_hook["id"]]
    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("POST", "/test", None),
        ("POST", "/rotate-secret", None),
        ("GET", "/attempts", None),
        ("GET", "/deliveries", None),
        ("DELETE", "", None),
    ]:
        response = bob.request(method, f"/api/v1/webhooks/{adas['id']}{path}", json=body)
        assert response.status_code == 404, (method, path, response.text)
    [delivery] = deliveries(ada, adas["id"])
    redeliver = f"/api/v1/webhooks/{bobs_hook['id']}/deliveries/{delivery['id']}/redeliver"
    assert bob.post(redeliver).status_code == 404
    assert ada.get(f"/api/v1/webhooks/{adas['id']}").json()["enabled"] is True


# --- retries, backoff, giving up ---------------------------------------------------------------


def test_a_failing_receiver_gets_the_same_message_again_with_backoff(
    make_client: AppFactory, receiver: Receiver
) -> None:
    client = webhook_client(make_client, webhook_timeout_seconds=0.5)
    hook = register(client, receiver, ["post.published"])
    receiver.answer(Answer(status=500, body=b"boom"), Answer(delay=1.5))
    account = create_account(client, "mastodon", base_url="https://example.social")
    publish_now(client, account["id"], "Third time lucky for the receiver.")

    [delivery] = settled_delivery(client, hook["id"])
    assert delivery["state"] == "delivered" and delivery["attempt_count"] == 3
    first, second, third = delivery_log(client, hook["id"])
    assert (first["outcome"], first["response_status"]) == ("retrying", 500)
    assert first["response_body"] == "boom" and first["error"] == "The endpoint answered 500."
    assert second["outcome"] == "retrying" and second["response_status"] is None
    assert second["error"] == "No complete answer within 0.5 s."
    assert third["outcome"] == "delivered"
    # Each retry waited its backoff: at least half the step (jitter), doubling from 0.1 s.
    for earlier, later, step in [(first, second, 0.1), (second, third, 0.2)]:
        waited = _seconds(earlier["started_at"], later["started_at"])
        assert waited >= step * 0.5, (earlier, later)
        assert earlier["next_attempt_at"] is not None
    # Every attempt carried the same message, each signed afresh.
    ids = {r.id for r in receiver.events()}
    assert len(receiver.events()) == 3 and len(ids) == 1
    assert all(r.verified for r in receiver.events())


def test_a_refused_connection_is_retried_then_given_up(make_client: AppFactory) -> None:
    client = webhook_client(make_client, webhook_max_attempts=3)
    hook = register(client, None, ["post.published"], url=closed_port_url())
    account = create_account(client, "mastodon", base_url="https://example.social")
    publish_now(client, account["id"], "Nobody listens at that port.")

    [delivery] = settled_delivery(client, hook["id"])
    assert delivery["state"] == "failed" and delivery["attempt_count"] == 3
    log = delivery_log(client, hook["id"])
    assert [a["outcome"] for a in log] == ["retrying", "retrying", "failed"]
    assert all(a["error"].startswith("Could not connect") for a in log)
    assert log[-1]["next_attempt_at"] is None


def test_the_backoff_doubles_with_jitter_up_to_its_ceiling(database: Database) -> None:
    settings = Settings(
        database_url=database.url, webhook_retry_base_seconds=10, webhook_retry_max_seconds=300
    )
    deliverer = WebhookDeliverer(database, settings)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (30, 300)]:
        waits = [deliverer.backoff(attempt) for _ in range(200)]
        assert all(ceiling * 0.5 <= w <= ceiling for w in waits), attempt
        assert max(waits) - min(waits) > ceiling * 0.2  # jittered, not in lockstep


def test_a_redirect_is_not_followed(make_client: AppFactory, receiver: Receiver) -> None:
    client = webhook_client(make_client, webhook_max_attempts=1)
    hook = register(client, receiver, ["post.published"])
    receiver.answer(Answer(status=302, headers={"Location": receiver.url("/elsewhere")}))
    account = create_account(client, "mastodon", base_url="https://example.social")
    publish_now(client, account["id"], "A redirect leads nowhere.")

    [delivery] = settled_delivery(client, hook["id"])
    assert delivery["state"] == "failed"
    [attempt] = delivery_log(client, hook["id"])
    assert attempt["response_status"] == 302
    assert "redirects are not followed" in attempt["error"]
    assert [r.path for r in receiver.events()] == ["/hook"]


# --- where deliveries may not go ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://localhost:8080/hook", "localhost resolves to"),
        ("http://[::1]/hook", "::1"),
        ("http://10.0.0.5/hook", "10.0.0.5"),
        ("ftp://example.com/hook", "only http and https"),
        ("http://user:pw@example.com/hook", "user name or password"),
        ("http://example.com:22/hook", "not a web port"),
        ("https://hooks.example/a b", "spaces"),
        ("not a url", "spaces"),
        ("https:///no-host", "only http and https"),
    ],
)
def test_addresses_inside_the_network_are_refused_at_registration(
    make_client: AppFactory, url: str, reason: str
) -> None:
    client = make_client(dispatch=False)  # the default gate: no private addresses at all
    response = client.post("/api/v1/webhooks", json={"url": url, "events": ["post.failed"]})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"] == [
        {"field": "url", "code": "address-refused", "message": problem["errors"][0]["message"]}
    ]
    assert reason in problem["detail"]
    assert client.get("/api/v1/webhooks").json() == []


def test_a_name_that_resolves_inside_is_refused_at_registration_and_on_change(
    make_client: AppFactory,
) -> None:
    from service.deps import get_outbound_policy

    client = make_client(dispatch=False)

    async def resolver(host: str, _port: int) -> list[str]:
        return {"hooks.example": ["93.184.215.14"], "inside.example": ["10.1.2.3"]}[host]

    client.app.dependency_overrides[get_outbound_policy] = lambda: OutboundPolicy(resolver=resolver)
    response = client.post(
        "/api/v1/webhooks", json={"url": "https://inside.example/hook", "events": ["post.failed"]}
    )
    assert response.status_code == 422
    assert "inside.example resolves to 10.1.2.3" in response.json()["detail"]
    hook = register(client, None, ["post.failed"], url="https://hooks.example/hook")
    moved = client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"url": "https://inside.example/hook"}
    )
    assert moved.status_code == 422
    assert client.get(f"/api/v1/webhooks/{hook['id']}").json()["url"] == (
        "https://hooks.example/hook"
    )


def test_a_name_that_turns_private_after_registration_is_not_called(
    make_client: AppFactory, receiver: Receiver, database: Database, database_url: str
) -> None:
    """DNS rebinding: the address is checked again, and pinned, at every delivery."""
    client = webhook_client(make_client, dispatch=False)
    hook = register(client, receiver, ["post.published"])
    with database.engine.begin() as connection:  # as if registered when the name was public
        connection.execute(
            text("UPDATE webhook_endpoints SET url = :url WHERE id = :id"),
            {"url": f"http://rebound.example:{receiver.port}/hook", "id": hook["id"]},
        )
    _queue_event(database, hook["id"])

    async def rebinding(host: str, _port: int) -> list[str]:
        assert host == "rebound.example"
        return ["127.0.0.1"]

    settings = Settings(database_url=database_url, **FAST_WEBHOOKS)
    deliverer = WebhookDeliverer(database, settings, OutboundPolicy(resolver=rebinding))
    assert asyncio.run(deliverer.run()) == "1 retrying"
    [attempt] = delivery_log(client, hook["id"])
    assert attempt["error"] == (
        "Not sent: rebound.example resolves to 127.0.0.1, a private, loopback or reserved address."
    )
    assert receiver.events() == []


def _queue_event(database: Database, endpoint_id: str) -> None:
    from service.webhooks import events
    from service.webhooks.models import WebhookEndpoint

    with database.session() as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        outbox.add_for_endpoint(session, events.sample(endpoint.user_id, endpoint.id), endpoint)
        session.commit()


# --- several workers ---------------------------------------------------------------------------


def test_two_workers_deliver_each_event_once(
    make_client: AppFactory, receiver: Receiver, database: Database, database_url: str
) -> None:
    client = webhook_client(make_client, dispatch=False)
    hook = register(client, receiver, ["post.published"])
    for _ in range(30):
        _queue_event(database, hook["id"])

    async def both() -> None:
        workers = [
            WebhookDeliverer(
                database,
                Settings(
                    database_url=database_url,
                    worker_id=f"worker-{n}",
                    webhook_concurrency=4,
                    **FAST_WEBHOOKS,
                ),
            )
            for n in range(2)
        ]
        await asyncio.gather(*(w.run() for w in workers))

    asyncio.run(both())
    ids = [r.id for r in receiver.events()]
    assert len(ids) == 30 and len(set(ids)) == 30
    states = {d["state"] for d in deliveries(client, hook["id"])}
    assert states == {"delivered"}


# --- secrets -----------------------------------------------------------------------------------


def test_the_secret_is_shown_once_and_stored_encrypted(
    make_client: AppFactory, receiver: Receiver, database: Database
) -> None:
    client = webhook_client(make_client, dispatch=False)
    hook = register(client, receiver, ["post.published"])
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    for read in (
        client.get(f"/api/v1/webhooks/{hook['id']}").json(),
        *client.get("/api/v1/webhooks").json(),
    ):
        assert "secret" not in read and secret not in str(read)
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM webhook_endpoints")).all()
    assert secret not in str(rows) and secret[6:] not in str(rows)


def test_after_a_rotation_both_secrets_sign_for_a_while(
    make_client: AppFactory, receiver: Receiver
) -> None:
    client = webhook_client(make_client)
    hook = register(client, None, ["post.published"], url=receiver.url())
    old = hook["secret"]
    rotated = client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    until = datetime.fromisoformat(rotated.json()["previous_secret_until"])
    assert timedelta(hours=23) < until - datetime.now(UTC) <= timedelta(hours=24)

    for secret in (old, new):  # a receiver with either secret verifies the test event
        receiver.secrets = [secret]
        before = len(receiver.events())
        assert client.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 202
        receiver.wait_for_events(before + 1)
        assert receiver.events()[-1].verified
    assert len(receiver.events()[-1].headers["webhook-signature"].split(" ")) == 2
    receiver.secrets = ["whsec_" + base64.b64encode(b"x" * 32).decode()]
    assert client.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 202
    receiver.wait_for_events(3)
    assert not receiver.events()[-1].verified


# --- test events and redelivery ----------------------------------------------------------------


def test_a_test_event_and_a_redelivery(make_client: AppFactory, receiver: Receiver) -> None:
    client = webhook_client(make_client)
    hook = register(client, receiver, ["post.failed"])
    queued = client.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert queued.status_code == 202, queued.text
    assert queued.json()["state"] == "pending" and queued.json()["event_type"] == "webhook.test"
    [first] = receiver.wait_for_events(1)
    assert first.verified and first.payload["type"] == "webhook.test"
    assert first.payload["data"]["endpoint_id"] == hook["id"]
    [delivered] = settled_delivery(client, hook["id"])

    again = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivered['id']}/redeliver")
    assert again.status_code == 202, again.text
    assert again.json()["id"] != delivered["id"]
    second = receiver.wait_for_events(2)[1]
    assert second.id == first.id and second.body == first.body  # the same message
    assert len(settled_delivery(client, hook["id"], count=2)) == 2


def test_a_pending_delivery_is_not_redelivered_and_a_disabled_endpoint_gets_no_test(
    make_client: AppFactory,
) -> None:
    client = webhook_client(make_client, dispatch=False)
    hook = register(client, None, ["post.failed"], url=closed_port_url())
    pending = client.post(f"/api/v1/webhooks/{hook['id']}/test").json()
    again = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{pending['id']}/redeliver")
    assert again.status_code == 409 and again.json()["type"].endswith("/delivery-pending")
    client.patch(f"/api/v1/webhooks/{hook['id']}", json={"enabled": False})
    refused = client.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert refused.status_code == 409 and refused.json()["type"].endswith("/webhook-disabled")


def test_deleting_an_endpoint_removes_its_deliveries_and_log(
    make_client: AppFactory, receiver: Receiver, database: Database
) -> None:
    client = webhook_client(make_client)
    hook = register(client, receiver, ["post.failed"])
    client.post(f"/api/v1/webhooks/{hook['id']}/test")
    settled_delivery(client, hook["id"])
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    with database.engine.connect() as connection:
        for table in ("webhook_deliveries", "webhook_attempts"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def _seconds(earlier: str, later: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()
