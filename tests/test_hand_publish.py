"""Hand-publish: accounts with no publishing API. Their posts are never sent; at their time
the person is notified (a real SMTP server, a real HTTP receiver) and marks them published
or skipped, which the publish log records with who and when."""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from service.config import Settings
from service.db import Database
from service.notify import repository as notify_repository
from service.notify.delivery import NotificationDeliverer, purge_old_notifications
from service.notify.models import Notification, NotificationState
from service.posts.models import Post, PostState
from service.publishing.dispatcher import Dispatcher
from service.publishing.models import PublishAttempt
from service.publishing.registry import PublisherRegistry
from tests.conftest import AppFactory
from tests.support.api import (
    assert_problem,
    create_account,
    create_post,
    in_seconds,
    wait_for,
)
from tests.support.media import image_bytes, upload_ok
from tests.support.rows import insert_post
from tests.support.smtp import SmtpServer
from tests.support.webhooks import FAST_WEBHOOKS, Receiver

FAST_NOTIFY = {
    **FAST_WEBHOOKS,
    "notify_poll_seconds": 0.1,
    "notify_retry_base_seconds": 0.1,
    "notify_retry_max_seconds": 0.2,
    "notify_timeout_seconds": 2.0,
}
FAMILY_TEXT = "Photos from the lake are up: Aino caught her first fish, and we ate it for dinner."


def hand_account(client: TestClient, network: str = "facebook", **extra: Any) -> dict[str, Any]:
    return create_account(
        client, network, f"ada-{uuid.uuid4().hex[:6]}", mode="hand", display_name="Ada", **extra
    )


def due_post(database: Database, account_id: str, text: str = FAMILY_TEXT) -> str:
    """A post the dispatcher has just handed to the person (as handover.py leaves it)."""
    now = datetime.now(UTC)
    return insert_post(
        database,
        account_id,
        text,
        state=PostState.DUE,
        scheduled_at=now,
        next_attempt_at=now + timedelta(days=1),
        audience="Close friends",
    )


def log_of(client: TestClient, post_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/posts/{post_id}/attempts")
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


def test_a_due_hand_post_is_handed_over_never_sent_and_the_person_is_told(
    make_client: AppFactory, smtp_server: SmtpServer, receiver: Receiver
) -> None:
    client = make_client(**FAST_NOTIFY, **smtp_server.settings(), public_url="https://hp.example")
    email = f"ada-{uuid.uuid4().hex[:8]}@example.org"
    settings = client.put(
        "/api/v1/notification-settings", json={"email": email, "push_url": receiver.url("/ada")}
    )
    assert settings.status_code == 200, settings.text
    assert settings.json()["email_available"] is True
    account = hand_account(client)
    created = create_post(
        client, account["id"], FAMILY_TEXT, publish_now=True, audience="Family (close friends list)"
    )
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]

    wait_for(lambda: client.get(f"/api/v1/posts/{post_id}").json()["state"] == "due")
    [due] = client.get("/api/v1/due-by-hand").json()
    assert due["post"]["id"] == post_id
    assert due["copy_text"] == FAMILY_TEXT
    assert due["audience"] == "Family (close friends list)"
    assert due["composer_url"] == "https://www.facebook.com/"
    assert due["account"]["network"] == "facebook"
    assert due["missed_at"] is not None
    [entry] = log_of(client, post_id)
    assert entry["outcome"] == "due" and entry["request"] is None  # nothing was sent anywhere

    [mail] = smtp_server.wait_for(email)
    assert mail.message["Subject"].startswith("Publish by hand on Facebook (Ada): Photos")
    assert FAMILY_TEXT in mail.body
    assert "Audience: Family (close friends list)" in mail.body
    assert "https://www.facebook.com/" in mail.body
    assert "https://hp.example/#/queue" in mail.body
    wait_for(lambda: [r for r in receiver.received if r.path == "/ada"])
    [push] = [r for r in receiver.received if r.path == "/ada"]
    assert push.body.decode() == mail.body.replace("\r\n", "\n")
    # Decoded as ntfy decodes an RFC 2047 header: the title's "…" is not ASCII.
    title = str(make_header(decode_header(push.headers["title"])))
    assert title == mail.message["Subject"]
    assert push.headers["click"] == "https://hp.example/#/queue"

    url = "https://www.facebook.com/ada/posts/pfbid02abc"
    marked = client.post(f"/api/v1/posts/{post_id}/mark-published", json={"url": url})
    assert marked.status_code == 200, marked.text
    assert marked.json()["state"] == "published" and marked.json()["external_url"] == url
    assert client.get("/api/v1/due-by-hand").json() == []
    entries = log_of(client, post_id)
    assert [e["outcome"] for e in entries] == ["due", "published"]
    assert entries[1]["marked_by"] == "tester" and entries[1]["external_url"] == url
    assert entries[1]["finished_at"] >= entries[0]["finished_at"]


def queue_notifications(database: Database, post_id: str, *targets: tuple[str, str]) -> None:
    """Notifications as handover.py queues them, to the given (channel, address) pairs."""
    with database.session() as session:
        post = session.get(Post, post_id)
        assert post is not None
        for channel, target in targets:
            session.add(
                Notification(
                    user_id=post.user_id,
                    post_id=post_id,
                    channel=channel,
                    target=target,
                    subject=f"Publish by hand: {post.text[:20]}",
                    body=post.text,
                    next_attempt_at=datetime.now(UTC),
                )
            )
        session.commit()


def notifications(database: Database, post_id: str) -> list[Notification]:
    with database.session() as session:
        return notify_repository.for_post(session, post_id)


def deliverer(database: Database, **overrides: Any) -> NotificationDeliverer:
    return NotificationDeliverer(
        database, Settings(database_url=database.url, **{**FAST_NOTIFY, **overrides})
    )


def test_skipping_is_logged_and_a_pending_notification_is_dropped_unsent(
    client: TestClient, database: Database, receiver: Receiver
) -> None:
    account = hand_account(client)
    post_id = due_post(database, account["id"])
    queue_notifications(database, post_id, ("push", receiver.url("/skipped")))
    skipped = client.post(
        f"/api/v1/posts/{post_id}/mark-skipped", json={"reason": "Aino asked me not to."}
    )
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["state"] == "skipped"
    [entry] = log_of(client, post_id)
    assert entry["outcome"] == "skipped" and entry["marked_by"] == "tester"
    assert entry["message"] == "Skipped by tester: Aino asked me not to."

    assert asyncio.run(deliverer(database).run()) == "1 dropped"
    [notification] = notifications(database, post_id)
    assert notification.state == NotificationState.DROPPED
    assert receiver.received == []


def test_replicas_racing_send_each_notification_once(
    client: TestClient, database: Database, smtp_server: SmtpServer
) -> None:
    account = hand_account(client)
    addresses = [f"replica-{n}-{uuid.uuid4().hex[:6]}@example.org" for n in range(12)]
    post_ids = [due_post(database, account["id"], f"{FAMILY_TEXT} ({n})") for n in range(12)]
    for post_id, address in zip(post_ids, addresses, strict=True):
        queue_notifications(database, post_id, ("email", address))
    workers = [
        deliverer(database, **smtp_server.settings(), worker_id=f"replica-{n}") for n in range(3)
    ]

    async def race() -> None:
        await asyncio.gather(*(w.run() for w in workers))

    asyncio.run(race())
    for address in addresses:
        assert len(smtp_server.wait_for(address)) == 1
    assert all(
        n.state == NotificationState.SENT for p in post_ids for n in notifications(database, p)
    )


def test_without_starttls_nothing_is_sent_and_it_is_retried_then_given_up(
    client: TestClient, database: Database, smtp_server: SmtpServer
) -> None:
    """The test server offers no STARTTLS; with it required (the default), the password and
    the message must never go over plain text."""
    account = hand_account(client)
    post_id = due_post(database, account["id"])
    address = f"tls-{uuid.uuid4().hex[:6]}@example.org"
    queue_notifications(database, post_id, ("email", address))
    settings = {
        **smtp_server.settings(),
        "smtp_starttls": True,
        "smtp_username": "ada",
        "smtp_password": "s3cret",
        "notify_max_attempts": 2,
        "notify_retry_base_seconds": 0.01,
        "notify_retry_max_seconds": 0.01,
    }
    worker = deliverer(database, **settings)
    assert asyncio.run(worker.run()) == "1 retrying"
    [notification] = notifications(database, post_id)
    assert notification.state == NotificationState.PENDING
    assert "does not offer STARTTLS" in (notification.last_error or "")
    wait_for(lambda: asyncio.run(worker.run()) == "1 failed", timeout=5)
    [notification] = notifications(database, post_id)
    assert notification.state == NotificationState.FAILED and notification.attempt_count == 2
    assert smtp_server.to(address) == []


def test_two_marks_at_once_one_wins_the_other_gets_409(
    client: TestClient, database: Database
) -> None:
    account = hand_account(client)
    post_id = due_post(database, account["id"])
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def mark(kind: str, body: dict[str, Any]) -> None:
        barrier.wait()
        answers.append(client.post(f"/api/v1/posts/{post_id}/mark-{kind}", json=body))

    threads = [
        threading.Thread(target=mark, args=("published", {"url": "https://facebook.com/p/1"})),
        threading.Thread(target=mark, args=("skipped", {})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    winner = next(a for a in answers if a.status_code == 200).json()
    # It says what the post is now: the winner's doing.
    assert assert_problem(loser, 409, "not-due-by-hand")["state"] == winner["state"]
    assert len(log_of(client, post_id)) == 1
    assert client.get(f"/api/v1/posts/{post_id}").json()["state"] == winner["state"]


def test_a_replay_with_the_same_key_gets_the_first_answer_and_logs_once(
    client: TestClient, database: Database
) -> None:
    account = hand_account(client)
    post_id = due_post(database, account["id"])
    body = {"url": "https://www.facebook.com/groups/family/posts/42"}
    headers = {"Idempotency-Key": "mark-42"}
    first = client.post(f"/api/v1/posts/{post_id}/mark-published", json=body, headers=headers)
    again = client.post(f"/api/v1/posts/{post_id}/mark-published", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(log_of(client, post_id)) == 1
    other = client.post(
        f"/api/v1/posts/{post_id}/mark-published",
        json={"url": "https://www.facebook.com/other"},
        headers=headers,
    )
    assert_problem(other, 422, "idempotency-key-reused")
    without_key = client.post(f"/api/v1/posts/{post_id}/mark-published", json=body)
    assert_problem(without_key, 409, "not-due-by-hand")


BAD_MARKS = [
    ("published", {"url": "javascript:alert(1)"}),
    ("published", {"url": "ftp://example.org/post"}),
    ("published", {"url": "https://"}),
    ("published", {"url": "https://user:secret@facebook.com/p/1"}),
    ("published", {"url": "https://facebook.com:99999/p/1"}),
    ("published", {"url": "https://facebook.com/p/1\u0000"}),
    ("published", {"url": "https://facebook.com/p/1\nBcc: x"}),
    ("published", {"url": "https://facebook.com/" + "a" * 2100}),
    ("published", {"url": 42}),
    ("published", {"url": ["https://facebook.com/p/1"]}),
    ("published", {"url": None}),
    ("published", {}),
    ("published", {"url": "https://facebook.com/p/1", "state": "published"}),
    ("published", {"url": "https://facebook.com/p/1", "external_id": {"id": 1}}),
    ("skipped", {"reason": "No\u0000"}),
    ("skipped", {"reason": "x" * 1001}),
    ("skipped", {"reason": 5}),
    ("skipped", {"why": "typo"}),
    ("skipped", []),
]


@pytest.mark.parametrize(("kind", "body"), BAD_MARKS, ids=lambda v: repr(v)[:40])
def test_a_bad_mark_is_a_422_and_changes_nothing(
    client: TestClient, database: Database, kind: str, body: Any
) -> None:
    account = hand_account(client)
    post_id = due_post(database, account["id"])
    response = client.post(f"/api/v1/posts/{post_id}/mark-{kind}", json=body)
    assert_problem(response, 422, "validation-error")
    assert client.get(f"/api/v1/posts/{post_id}").json()["state"] == "due"
    assert log_of(client, post_id) == []


def test_only_a_post_due_by_hand_can_be_marked(
    client: TestClient, make_client: AppFactory, database: Database
) -> None:
    machine = create_account(client, "mastodon", "ada", base_url="https://example.social")
    scheduled = create_post(
        client, machine["id"], "A toot for later.", scheduled_at=in_seconds(3600)
    ).json()
    refused = client.post(
        f"/api/v1/posts/{scheduled['id']}/mark-published", json={"url": "https://x.org/1"}
    )
    assert_problem(refused, 409, "not-due-by-hand")
    hand = hand_account(client)
    post_id = due_post(database, hand["id"])
    stranger = make_client(dispatch=False, as_user="mallory")
    response = stranger.post(f"/api/v1/posts/{post_id}/mark-skipped", json={})
    assert_problem(response, 404, "not-found")
    assert stranger.get("/api/v1/due-by-hand").json() == []
    assert client.get(f"/api/v1/posts/{post_id}").json()["state"] == "due"
    stale = client.post(
        f"/api/v1/posts/{post_id}/mark-skipped", json={}, headers={"If-Match": '"999"'}
    )
    assert_problem(stale, 412, "stale-version")


def test_left_undone_past_the_grace_period_it_is_missed(
    make_client: AppFactory, database: Database
) -> None:
    client = make_client(poll_seconds=0.1, hand_grace_seconds=0.5)
    account = hand_account(client)
    post_id = create_post(client, account["id"], FAMILY_TEXT, publish_now=True).json()["id"]
    wait_for(lambda: client.get(f"/api/v1/posts/{post_id}").json()["state"] == "missed")
    outcomes = [e["outcome"] for e in log_of(client, post_id)]
    assert outcomes == ["due", "missed"]
    # The person did publish it, late: the log may still be told so.
    marked = client.post(
        f"/api/v1/posts/{post_id}/mark-published", json={"url": "https://facebook.com/p/9"}
    )
    assert marked.status_code == 200, marked.text
    assert [e["outcome"] for e in log_of(client, post_id)] == ["due", "missed", "published"]


def test_the_guard_applies_to_hand_posts_as_to_any(client: TestClient) -> None:
    linkedin = create_account(client, "linkedin", "ada-lovelace")
    hand = hand_account(client)
    first = create_post(client, linkedin["id"], FAMILY_TEXT, publish_now=True)
    assert first.status_code == 201, first.text
    refused = create_post(client, hand["id"], FAMILY_TEXT, publish_now=True)
    assert_problem(refused, 409, "cross-post")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"push_url": "http://127.0.0.1:9/hook"}, "push_url"),
        ({"push_url": "http://169.254.169.254/latest/meta-data"}, "push_url"),
        ({"push_url": "http://10.0.0.7/ntfy"}, "push_url"),
        ({"push_url": "file:///etc/passwd"}, "push_url"),
        ({"email": "ada@example"}, "email"),
        ({"email": "ada@example.org\r\nBcc: eve@example.org"}, "email"),
        ({"email": "Ada <ada@example.org>"}, "email"),
        ({"email": "a,b@example.org"}, "email"),
        ({"email": "x" * 250 + "@example.org"}, "email"),
        ({"email": 7}, "email"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_notification_addresses_are_checked(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.put("/api/v1/notification-settings", json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert field in str(problem.get("errors"))
    assert client.get("/api/v1/notification-settings").json()["push_url"] is None


def test_settled_notifications_are_forgotten_after_a_while_pending_ones_never(
    client: TestClient, database: Database
) -> None:
    account = hand_account(client)
    post_id = due_post(database, account["id"])
    queue_notifications(database, post_id, ("push", "https://ntfy.sh/a"), ("email", "a@b.org"))
    long_ago = datetime.now(UTC) - timedelta(days=31)
    with database.session() as session:
        sent, pending = notify_repository.for_post(session, post_id)
        sent.state, sent.updated_at = NotificationState.SENT, long_ago
        pending.updated_at = long_ago
        session.add_all([sent, pending])
        session.commit()
    assert purge_old_notifications(database) == "forgot 1 old notifications"
    [left] = notifications(database, post_id)
    assert left.state == NotificationState.PENDING


def test_a_network_without_an_api_is_published_by_hand_or_not_at_all(
    make_client: AppFactory,
) -> None:
    client = make_client(poll_seconds=0.1)
    body = {"network": "other", "handle": "forum-ada", "purpose": "neighbours", "audience": "x"}
    refused = client.post("/api/v1/accounts", json=body)
    assert_problem(refused, 422, "validation-error")
    assert refused.json()["errors"][0]["field"] == "mode"
    forum = "https://forum.example.org/c/neighbourhood/new-topic"
    account = hand_account(client, "other", base_url=forum)
    switched = client.patch(f"/api/v1/accounts/{account['id']}", json={"mode": "sandbox"})
    assert_problem(switched, 422, "validation-error")
    post_id = create_post(client, account["id"], FAMILY_TEXT, publish_now=True).json()["id"]
    wait_for(lambda: client.get(f"/api/v1/posts/{post_id}").json()["state"] == "due")
    [due] = client.get("/api/v1/due-by-hand").json()
    assert due["composer_url"] == forum
    assert [e["outcome"] for e in log_of(client, post_id)] == ["due"]


@pytest.mark.usefixtures("secret_key")  # media links are signed with a key derived from it
def test_the_files_to_attach_can_be_downloaded_with_their_alt_text(
    client: TestClient, database: Database
) -> None:
    account = hand_account(client)
    photo = image_bytes("PNG", (32, 24), color=(10, 120, 200))
    medium = upload_ok(client, photo, filename="lake.png", alt_text="Aino holding a perch")
    created = create_post(
        client, account["id"], FAMILY_TEXT, media=[{"media_id": medium["id"]}]
    ).json()
    with database.session() as session:  # as the dispatcher leaves it at its time
        post = session.get(Post, created["id"])
        assert post is not None
        post.state, post.scheduled_at = PostState.DUE, datetime.now(UTC)
        post.next_attempt_at = post.scheduled_at + timedelta(days=1)
        session.add(post)
        session.commit()
    [due] = client.get("/api/v1/due-by-hand").json()
    [file] = due["media"]
    assert (file["filename"], file["alt_text"], file["mime_type"]) == (
        "lake.png",
        "Aino holding a perch",
        "image/png",
    )
    assert due["post"]["media"][0]["media_id"] == medium["id"]
    anonymous = TestClient(client.app)  # the link is the key: no token, as a download link
    download = anonymous.get(file["download_url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(download.content)) as image:
        assert (image.format, image.size) == ("PNG", (32, 24))
    assert anonymous.get(file["download_url"] + "x").status_code == 404


def test_replicas_claiming_at_once_hand_each_post_over_once(
    client: TestClient, database: Database, database_url: str
) -> None:
    """Three dispatchers claim the same due posts at the same moment: every post is due once,
    with one log entry and one notification (the claim and the hand-over are one commit)."""
    account = hand_account(client)
    # A public address given as a literal: checked by the gate, never called here.
    saved = client.put("/api/v1/notification-settings", json={"push_url": "https://9.9.9.9/ada"})
    assert saved.status_code == 200, saved.text
    past = datetime.now(UTC) - timedelta(seconds=5)
    post_ids = [
        insert_post(
            database,
            account["id"],
            f"{FAMILY_TEXT} ({n})",
            state=PostState.SCHEDULED,
            scheduled_at=past,
            next_attempt_at=past,
        )
        for n in range(30)
    ]
    replicas = [
        Dispatcher(
            database, Settings(database_url=database_url, worker_id=f"r{n}"), PublisherRegistry()
        )
        for n in range(3)
    ]
    barrier = threading.Barrier(len(replicas))
    sent: list[int] = []

    def claim(dispatcher: Dispatcher) -> None:
        barrier.wait()
        for _ in range(10):
            sent.append(len(dispatcher.claims.claim(4)))

    threads = [threading.Thread(target=claim, args=(d,)) for d in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 0  # nothing was ever handed to a publisher
    with database.session() as session:
        attempts = list(session.exec(select(PublishAttempt)))
        states = {p.id: p.state for p in session.exec(select(Post))}
        queued = list(session.exec(select(Notification)))
    assert all(states[p] == PostState.DUE for p in post_ids)
    assert sorted(a.post_id for a in attempts) == sorted(post_ids)
    assert {a.outcome for a in attempts} == {"due"}
    assert sorted(n.post_id for n in queued) == sorted(post_ids)


def test_a_guard_that_cannot_check_sends_hand_posts_back_to_wait_and_the_claim_stands(
    client: TestClient, database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hand = hand_account(client)
    sandbox = create_account(client, "mastodon", "ada", base_url="https://example.social")
    past = datetime.now(UTC) - timedelta(seconds=5)
    due = {"state": PostState.SCHEDULED, "scheduled_at": past, "next_attempt_at": past}
    by_hand = insert_post(database, hand["id"], FAMILY_TEXT, **due)
    sent = insert_post(database, sandbox["id"], "A toot about the lake, for the fediverse.", **due)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the guard's index is unreadable")

    monkeypatch.setattr("service.publishing.claims.find_cross_posts", broken)
    dispatcher = Dispatcher(database, Settings(database_url=database_url), PublisherRegistry())
    claimed = dispatcher.claims.claim(10)

    assert [c.post.id for c in claimed] == [sent]  # the claim's other posts still go out
    [entry] = log_of(client, by_hand)
    assert entry["outcome"] == "retrying" and "could not check" in entry["message"]
    assert client.get(f"/api/v1/posts/{by_hand}").json()["state"] == "scheduled"
