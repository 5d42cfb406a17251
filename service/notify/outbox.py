"""Queues notifications in the caller's transaction: the one that makes a post due.

Nothing here waits for a mail server or a push service; the delivery chore sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from service.config import Settings
from service.db import new_id, utcnow
from service.notify import repository
from service.notify.models import Channel, NotificationState


@dataclass(frozen=True)
class Message:
    """What the person is told: a subject, a plain-text body and the link a push opens."""

    user_id: str
    post_id: str
    subject: str
    body: str
    click_url: str | None = None


def email_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.smtp_from)


def queue(session: Session, messages: Sequence[Message], settings: Settings) -> int:
    """A notification per channel each person turned on; how many were queued."""
    if not messages:
        return 0
    addresses = repository.settings_of(session, {m.user_id for m in messages})
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for message in messages:
        person = addresses.get(message.user_id)
        if person is None:
            continue
        targets: list[tuple[Channel, str]] = []
        if person.email and email_configured(settings):
            targets.append((Channel.EMAIL, person.email))
        if person.push_url:
            targets.append((Channel.PUSH, person.push_url))
        rows += [
            {
                "id": new_id(),
                "user_id": message.user_id,
                "post_id": message.post_id,
                "channel": channel,
                "target": target,
                "subject": message.subject[:255],
                "body": message.body,
                "click_url": message.click_url,
                "state": NotificationState.PENDING,
                "attempt_count": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for channel, target in targets
        ]
    repository.add_notifications(session, rows)
    return len(rows)
