"""Writes events into the outbox, in the caller's transaction: the one that records what
happened (a publish-log entry, an account flagged for reconnection).

Called at the narrowest points: where the dispatcher appends to the publish log, where the
user resolves an unknown post, and where the live publisher flags an account. One query
finds the users' enabled endpoints; an event is written only if some endpoint wants it,
with one delivery per such endpoint, due at once. Nothing here waits for a receiver.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.db import new_id, utcnow
from service.posts.models import Post
from service.publishing.models import PublishAttempt
from service.webhooks import events, repository
from service.webhooks.events import NewEvent
from service.webhooks.models import DeliveryState, WebhookEndpoint


def add(session: Session, new_events: Sequence[NewEvent]) -> int:
    """Queue these events for every enabled endpoint subscribed to them; how many deliveries."""
    if not new_events:
        return 0
    endpoints = repository.subscribed_endpoints(session, {e.user_id for e in new_events})
    return len(_write(session, new_events, endpoints, subscribed_only=True))


def add_for_endpoint(session: Session, event: NewEvent, endpoint: WebhookEndpoint) -> str:
    """Queue one event for one endpoint, whatever it subscribes to (a test event); its
    delivery's id."""
    (delivery_id,) = _write(session, [event], [endpoint], subscribed_only=False)
    return delivery_id


def _write(
    session: Session,
    new_events: Sequence[NewEvent],
    endpoints: Iterable[WebhookEndpoint],
    *,
    subscribed_only: bool,
) -> list[str]:
    """Insert the events that have a target, and a delivery per target; the deliveries' ids."""
    by_user: dict[str, list[WebhookEndpoint]] = {}
    for endpoint in endpoints:
        by_user.setdefault(endpoint.user_id, []).append(endpoint)
    now = utcnow()
    event_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    for event in new_events:
        targets = [
            e
            for e in by_user.get(event.user_id, [])
            if not subscribed_only or event.type in e.events
        ]
        if not targets:
            continue
        message_id, body = event.message(now)
        event_rows.append(
            {
                "id": message_id,
                "user_id": event.user_id,
                "type": event.type,
                "payload": body,
                "created_at": now,
            }
        )
        for endpoint in targets:
            delivery_id = new_id()
            delivery_rows.append(
                {
                    "id": delivery_id,
                    "user_id": event.user_id,
                    "endpoint_id": endpoint.id,
                    "event_id": message_id,
                    "event_type": event.type,
                    "state": DeliveryState.PENDING,
                    "attempt_count": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    repository.add_events(session, event_rows, delivery_rows)
    return [row["id"] for row in delivery_rows]


def publish_log_recorded(
    session: Session,
    recorded: Iterable[tuple[Post, PublishAttempt]],
    public_url: str | None,
) -> int:
    """The events of these publish-log entries (published, failed, unknown, missed)."""
    found = [events.for_attempt(post, attempt, public_url) for post, attempt in recorded]
    return add(session, [event for event in found if event is not None])


def account_needs_reconnect(
    session: Session,
    *,
    user_id: str,
    account_id: str,
    network: str,
    handle: str,
    message: str,
    public_url: str | None,
) -> int:
    event = events.needs_reconnect(user_id, account_id, network, handle, message, public_url)
    return add(session, [event])


def post_due_by_hand(
    session: Session,
    post: Post,
    handle: str,
    public_url: str | None,
    *,
    composer_url: str | None = None,
    missed_at: datetime | None = None,
) -> int:
    """For the hand-publish feature: its post has come due and the person must publish it."""
    event = events.due_by_hand(
        post, handle, public_url, composer_url=composer_url, missed_at=missed_at
    )
    return add(session, [event])
