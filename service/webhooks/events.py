"""The events Handpost sends, and the body of each: pure functions, no database.

Bodies follow the Standard Webhooks shape: ``{"type", "timestamp", "data"}``. A type names
what happened in the publish log (or to an account); the ``data`` carries enough for a
script to act without calling back (the post's text, its URL on the network, the message).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from service.posts.models import Post
from service.publishing.models import Outcome, PublishAttempt


class EventType(StrEnum):
    POST_PUBLISHED = "post.published"
    POST_FAILED = "post.failed"
    POST_UNKNOWN = "post.unknown"  # sent, but whether it went out is not known
    POST_MISSED = "post.missed"
    # A post on an account published by hand has come due (sent by the hand-publish feature).
    POST_DUE_BY_HAND = "post.due_by_hand"
    ACCOUNT_NEEDS_RECONNECT = "account.needs_reconnect"


# Sent only when asked for (POST /webhooks/{id}/test); no endpoint subscribes to it.
TEST_EVENT = "webhook.test"

EVENT_DESCRIPTIONS: dict[EventType, str] = {
    EventType.POST_PUBLISHED: "A post went out (or you marked it published).",
    EventType.POST_FAILED: "A post failed for good: the network refused it, or retries ran out.",
    EventType.POST_UNKNOWN: "A send could not be confirmed; check the account and resolve it.",
    EventType.POST_MISSED: "A post came due too late to be sent (after downtime).",
    EventType.POST_DUE_BY_HAND: "A post for an account you publish by hand is due.",
    EventType.ACCOUNT_NEEDS_RECONNECT: "A network refused an account's access; reconnect it.",
}

# The publish log's outcomes that are events; a retry scheduled is not one.
OUTCOME_EVENTS: dict[str, EventType] = {
    Outcome.PUBLISHED: EventType.POST_PUBLISHED,
    Outcome.FAILED: EventType.POST_FAILED,
    Outcome.UNKNOWN: EventType.POST_UNKNOWN,
    Outcome.MISSED: EventType.POST_MISSED,
}


@dataclass(frozen=True)
class NewEvent:
    """An event about to be written to the outbox for ``user_id``'s endpoints."""

    user_id: str
    type: str
    data: dict[str, Any]

    def message(self, now: datetime) -> tuple[str, str]:
        """The message id (``webhook-id``) and the exact JSON body to send."""
        body = {"type": self.type, "timestamp": iso(now), "data": self.data}
        return f"msg_{uuid.uuid4().hex}", json.dumps(body, ensure_ascii=False)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def post_link(public_url: str | None, post_id: str) -> str | None:
    """The post in the web UI, where the install's public address is known."""
    return f"{public_url}/#/compose/{post_id}" if public_url else None


def post_data(post: Post, public_url: str | None) -> dict[str, Any]:
    return {
        "id": post.id,
        "account_id": post.account_id,
        "network": post.network,
        "text": post.text,
        "scheduled_at": iso(post.scheduled_at),
        "web_url": post_link(public_url, post.id),
    }


def for_attempt(post: Post, attempt: PublishAttempt, public_url: str | None) -> NewEvent | None:
    """The event a publish-log record makes, if it is one (a scheduled retry is not)."""
    kind = OUTCOME_EVENTS.get(attempt.outcome)
    if kind is None:
        return None
    data = {
        "post": post_data(post, public_url)
        | {"external_id": attempt.external_id, "external_url": attempt.external_url},
        "attempt": {
            "number": attempt.attempt,
            "outcome": attempt.outcome,
            "message": attempt.message,
            "http_status": attempt.http_status,
            "due_at": iso(attempt.due_at),
            "started_at": iso(attempt.started_at),
            "finished_at": iso(attempt.finished_at),
        },
    }
    return NewEvent(post.user_id, kind, data)


def due_by_hand(
    post: Post,
    handle: str,
    public_url: str | None,
    *,
    composer_url: str | None = None,
    missed_at: datetime | None = None,
) -> NewEvent:
    data = {
        "post": post_data(post, public_url)
        | {
            "handle": handle,
            "audience": post.audience,
            "composer_url": composer_url,
            "missed_at": iso(missed_at),
        }
    }
    return NewEvent(post.user_id, EventType.POST_DUE_BY_HAND, data)


def needs_reconnect(
    user_id: str, account_id: str, network: str, handle: str, message: str, public_url: str | None
) -> NewEvent:
    data = {
        "account": {
            "id": account_id,
            "network": network,
            "handle": handle,
            "status": "needs_reconnect",
            "message": message,
            "web_url": f"{public_url}/#/accounts" if public_url else None,
        }
    }
    return NewEvent(user_id, EventType.ACCOUNT_NEEDS_RECONNECT, data)


def sample(user_id: str, endpoint_id: str) -> NewEvent:
    """The test event a user asks for, to check their receiver."""
    data = {
        "endpoint_id": endpoint_id,
        "message": "A test event from Handpost: if its signature verifies, your endpoint works.",
    }
    return NewEvent(user_id, TEST_EVENT, data)
