from __future__ import annotations

import anyio.from_thread
from fastapi import APIRouter

from service.config import Settings
from service.db import SessionDep
from service.deps import OutboundPolicyDep, SettingsDep
from service.notify import repository
from service.notify import service as notify
from service.notify.models import NotificationSettings
from service.notify.outbox import email_configured
from service.notify.schemas import NotificationSettingsRead, NotificationSettingsUpdate
from service.problems import problem_responses
from service.users.auth import CurrentUser

router = APIRouter(prefix="/api/v1/notification-settings", tags=["notifications"])


def _read(row: NotificationSettings | None, settings: Settings) -> NotificationSettingsRead:
    return NotificationSettingsRead(
        email=row.email if row else None,
        push_url=row.push_url if row else None,
        updated_at=row.updated_at if row else None,
        email_available=email_configured(settings),
    )


@router.get("", response_model=NotificationSettingsRead)
def get_notification_settings(
    session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> NotificationSettingsRead:
    """Where you are told when a post you publish by hand is due."""
    return _read(repository.get_settings(session, user.id), settings)


@router.put("", response_model=NotificationSettingsRead, responses=problem_responses())
def put_notification_settings(
    data: NotificationSettingsUpdate,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    policy: OutboundPolicyDep,
) -> NotificationSettingsRead:
    """Set both addresses (null turns one off). A push address must be one Handpost may call:
    private, loopback and link-local addresses are refused unless the install allows them."""
    anyio.from_thread.run(notify.check_push_url, policy, data)
    return _read(notify.save(session, user.id, data), settings)
