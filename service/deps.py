"""Request-scoped access to the app's settings and dispatcher."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from service.config import Settings
from service.db import SessionDep, on_commit
from service.outbound import OutboundPolicy
from service.posts.service import PostPolicy, guard_policy
from service.strategy import service as strategies
from service.users.auth import CurrentUser
from service.youtube.service import YouTubePolicy


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_outbound_policy(settings: SettingsDep) -> OutboundPolicy:
    """The gate for addresses users give (a dependency, so tests can give it a resolver)."""
    return settings.outbound


OutboundPolicyDep = Annotated[OutboundPolicy, Depends(get_outbound_policy)]


def get_post_policy(
    request: Request, settings: SettingsDep, user: CurrentUser, session: SessionDep
) -> PostPolicy:
    """The guard's limits and the caller's goals and spheres, loaded once per request."""
    return PostPolicy(
        guard=guard_policy(settings),
        values=strategies.value_context(session, user),
        require_alt_text=settings.require_alt_text,
        media=request.app.state.media,
        youtube=YouTubePolicy(settings.youtube_upload_cost, settings.youtube_daily_quota),
    )


PostPolicyDep = Annotated[PostPolicy, Depends(get_post_policy)]


def wake_dispatcher_after_commit(request: Request, session: Session, due: datetime | None) -> None:
    """Tell this process's dispatcher about a new due time, so it need not wait for its poll."""
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None and due is not None:
        on_commit(session, lambda: dispatcher.wake_at(due))
