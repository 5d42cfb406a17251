"""YouTube's daily quota: Google counts it per project and resets it at midnight Pacific time.

Google's quota page says both that ``videos.insert`` costs 1,600 of the default 10,000 daily
units and that it has its own allowance of 100 a day (connect-and-media.md §6); Handpost uses
the settings ``HANDPOST_YOUTUBE_UPLOAD_COST`` and ``HANDPOST_YOUTUBE_DAILY_QUOTA``, the
stricter reading by default (six uploads a day). Scheduling refuses an upload the day cannot
take, and the publisher counts each session it opens, so replicas share one count.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from service.db import utcnow
from service.problems import invalid
from service.youtube import repository

PACIFIC = "America/Los_Angeles"
# The quota-day row schedules lock (not a Google project: all live channels share the count).
SCHEDULE_LOCK = "*scheduling*"


def pacific_day(moment: datetime) -> str:
    """The quota day ``moment`` falls in, as YYYY-MM-DD in Pacific time."""
    return moment.astimezone(ZoneInfo(PACIFIC)).date().isoformat()


def pacific_day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The Pacific day around ``moment``, as two aware datetimes (23 or 25 hours at a
    daylight-saving change)."""
    zone = ZoneInfo(PACIFIC)
    day = moment.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def check_schedule(
    session: Session,
    upload_cost: int,
    daily_quota: int,
    post_id: str | None,
    scheduled_at: datetime,
) -> None:
    """422 ``youtube-quota`` when the Pacific day of ``scheduled_at`` already has as many
    live YouTube uploads scheduled as the project's quota takes."""
    start, end = pacific_day_bounds(scheduled_at)
    repository.lock_quota_day(session, SCHEDULE_LOCK, start.date().isoformat(), utcnow())
    planned = repository.uploads_between(session, start, end, post_id)
    allowed = daily_quota // upload_cost
    if planned + 1 <= allowed:
        return
    day = start.date().isoformat()
    message = (
        f"YouTube's daily quota takes {allowed} upload(s) on {day} (Pacific time, when Google "
        f"counts): {daily_quota:,} units a day, {upload_cost:,} "
        f"per upload; {planned} are already scheduled then. Choose another day, or, if your "
        "Google project has more quota, raise HANDPOST_YOUTUBE_DAILY_QUOTA."
    )
    raise invalid(message, [{"field": "scheduled_at", "code": "youtube-quota", "message": message}])
