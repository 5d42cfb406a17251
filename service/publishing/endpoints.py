from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.db import SessionDep
from service.fields import AwareTimestamp
from service.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, keyset_page
from service.posts import service as posts
from service.problems import problem_responses
from service.publishing import repository
from service.publishing.models import Outcome, PublishAttempt
from service.publishing.schemas import AttemptRead
from service.users.auth import CurrentUser

router = APIRouter(prefix="/api/v1", tags=["publish log"])


def _read(attempt: PublishAttempt) -> AttemptRead:
    lateness = int((attempt.started_at - attempt.due_at).total_seconds() * 1000)
    return AttemptRead.model_validate({**attempt.model_dump(), "lateness_ms": max(0, lateness)})


def _page(
    session: SessionDep, filters: repository.AttemptFilters, cursor: str | None, limit: int
) -> Page[AttemptRead]:
    before = decode_cursor(cursor, "attempts") if cursor else None
    before_id = before[0] if before and isinstance(before[0], int) else None
    rows = repository.list_attempts(session, filters, before_id, limit + 1)
    rows, next_cursor = keyset_page(rows, limit, "attempts", lambda a: [a.id])
    return Page[AttemptRead](items=[_read(a) for a in rows], next_cursor=next_cursor)


@router.get("/publish-log", response_model=Page[AttemptRead])
def publish_log(
    session: SessionDep,
    user: CurrentUser,
    account_id: str | None = None,
    post_id: str | None = None,
    outcome: Annotated[list[Outcome] | None, Query()] = None,
    started_from: Annotated[AwareTimestamp | None, Query(alias="from")] = None,
    started_to: Annotated[AwareTimestamp | None, Query(alias="to")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AttemptRead]:
    """Every publish attempt, newest first. `from`/`to` filter on when the attempt started."""
    filters = repository.AttemptFilters(
        user_id=user.id,
        post_id=post_id,
        account_id=account_id,
        outcomes=[o.value for o in outcome or []],
        started_from=started_from,
        started_to=started_to,
    )
    return _page(session, filters, cursor, limit)


@router.get(
    "/posts/{post_id}/attempts",
    response_model=Page[AttemptRead],
    responses=problem_responses(404),
)
def post_attempts(
    post_id: str,
    session: SessionDep,
    user: CurrentUser,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AttemptRead]:
    posts.get_or_404(session, user, post_id)
    filters = repository.AttemptFilters(user_id=user.id, post_id=post_id)
    return _page(session, filters, cursor, limit)
