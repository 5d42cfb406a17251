"""A person's notification addresses."""

from __future__ import annotations

from sqlmodel import Session

from service import outbound
from service.db import utcnow
from service.notify import repository
from service.notify.models import NotificationSettings
from service.notify.schemas import NotificationSettingsUpdate
from service.outbound import OutboundPolicy


async def check_push_url(policy: OutboundPolicy, data: NotificationSettingsUpdate) -> None:
    """422 unless the push address passes the gate every push passes."""
    if data.push_url is not None:
        await outbound.check_or_problem(
            policy,
            data.push_url,
            field="push_url",
            refusal="Handpost will not send notifications to this address",
        )


def save(session: Session, user_id: str, data: NotificationSettingsUpdate) -> NotificationSettings:
    """Replace the person's addresses (both: this is a PUT)."""
    row = repository.get_settings(session, user_id)
    if row is None:
        row = NotificationSettings(user_id=user_id, version=0)
    row.email = data.email.strip() if data.email else None
    row.push_url = data.push_url
    row.updated_at = utcnow()
    row.version += 1
    repository.save_settings(session, row)
    session.flush()
    return row
