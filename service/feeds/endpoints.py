from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from service.db import Database, SessionDep, utcnow
from service.deps import SettingsDep
from service.feeds import repository
from service.feeds import service as feeds
from service.feeds.models import CalendarFeed
from service.feeds.schemas import CalendarFeedCreated, CalendarFeedRead
from service.problems import ProblemError, problem_responses
from service.users.auth import CurrentUser

router = APIRouter(prefix="/api/v1", tags=["calendar feed"])

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
# Calendar applications may keep it, but must ask again (cheaply, with the ETag) before
# using it; nothing shared between users may keep a private schedule.
FEED_CACHE_CONTROL = "private, no-cache"


def _base_url(request: Request, public_url: str | None) -> str:
    """HANDPOST_PUBLIC_URL, or the address this request came to."""
    return public_url or str(request.base_url).rstrip("/")


def _read(feed: CalendarFeed) -> CalendarFeedRead:
    return CalendarFeedRead(created_at=feed.created_at, last_fetched_at=feed.last_fetched_at)


def _created(feed: CalendarFeed, secret: str, base_url: str) -> CalendarFeedCreated:
    url = feeds.feed_url(base_url, secret)
    return CalendarFeedCreated(
        **_read(feed).model_dump(), url=url, webcal_url=feeds.webcal_url(url)
    )


@router.get("/calendar-feed", response_model=CalendarFeedRead, responses=problem_responses(404))
def get_calendar_feed(session: SessionDep, user: CurrentUser) -> CalendarFeedRead:
    """Whether you have a calendar feed, and when a calendar application last fetched it.
    Its address is not shown again: rotate it for a new one."""
    feed = repository.for_user(session, user.id)
    if feed is None:
        raise feeds.no_feed()
    return _read(feed)


@router.post(
    "/calendar-feed",
    response_model=CalendarFeedCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def create_calendar_feed(
    request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> CalendarFeedCreated:
    """Make your private calendar feed: every scheduled post as an event, with the recent
    outcomes. The answer holds its address, shown this once."""
    feed, secret = feeds.create(session, user)
    return _created(feed, secret, _base_url(request, settings.public_url))


@router.post(
    "/calendar-feed/rotate", response_model=CalendarFeedCreated, responses=problem_responses(404)
)
def rotate_calendar_feed(
    request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> CalendarFeedCreated:
    """A new address for your feed, shown once; the old address stops working at once."""
    feed, secret = feeds.rotate(session, user)
    return _created(feed, secret, _base_url(request, settings.public_url))


@router.delete(
    "/calendar-feed", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
def revoke_calendar_feed(session: SessionDep, user: CurrentUser) -> Response:
    """Turn the feed off: its address answers 404 from now on."""
    feeds.revoke(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.head(feeds.FEED_PATH.removeprefix("/api/v1"), include_in_schema=False)
@router.get(
    feeds.FEED_PATH.removeprefix("/api/v1"),
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The iCalendar feed"},
        304: {"description": "Not modified since the ETag or date the client has"},
        **problem_responses(404),
    },
)
def calendar_feed(
    secret: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    """The calendar feed itself, for calendar applications: no token, the secret in the
    address is the key. An unknown or revoked address is a 404. Answers 304 to a client
    whose copy (ETag or date) is current."""
    feed = feeds.find(session, secret)
    if feed is None:
        raise ProblemError(
            404,
            "not-found",
            "Not found",
            "No calendar feed at this address; it may have been rotated or revoked.",
        )
    rendered = feeds.render(session, feed, settings, _base_url(request, settings.public_url))
    headers = {
        "ETag": rendered.etag,
        "Last-Modified": format_datetime(rendered.last_modified, usegmt=True),
        "Cache-Control": FEED_CACHE_CONTROL,
    }
    if request.method == "GET":
        database: Database = request.app.state.database
        with database.session() as writing:  # this request's own session only reads
            if feeds.note_fetched(writing, feed, utcnow()):
                writing.commit()
    if _not_modified(rendered, if_none_match, if_modified_since):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    headers["Content-Disposition"] = 'inline; filename="handpost.ics"'
    return Response(rendered.body, media_type=ICS_MEDIA_TYPE, headers=headers)


def _not_modified(
    rendered: feeds.Rendered, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """RFC 9110: If-None-Match decides when present (weak comparison); else the date."""
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or rendered.etag in tags
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False  # an unreadable date is ignored, as the RFC says
    if since.tzinfo is None:
        return False
    return rendered.last_modified.replace(microsecond=0) <= since
