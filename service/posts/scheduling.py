"""Turning what the user typed into one UTC instant, refusing times that do not exist.

A wall-clock time in an IANA zone can be missing (the hour skipped when clocks go forward) or
ambiguous (the hour repeated when they go back). Guessing would publish an hour off, so both
are refused with a message that says how to be precise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A schedule is a plan, not an archive: further ahead than this is a typo (2062 for 2026).
HORIZON = timedelta(days=3653)


class ScheduleError(ValueError):
    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Schedule:
    at: datetime  # aware, UTC
    time_zone: str | None


def zone(name: str) -> ZoneInfo:
    try:
        if not name or name != name.strip() or ".." in name or name.startswith("/"):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            "time_zone",
            "unknown-time-zone",
            f"{name!r} is not an IANA time zone; use a name such as 'Europe/Helsinki'.",
        ) from exc


def localise(local_time: datetime, time_zone: str) -> datetime:
    """The UTC instant of a wall-clock time in ``time_zone``; refuses missing and repeated times."""
    if local_time.tzinfo is not None:
        raise ScheduleError(
            "local_time",
            "local-time-has-offset",
            "local_time is a wall-clock time without an offset; to give an offset, use "
            "scheduled_at instead.",
        )
    tz = zone(time_zone)
    earlier = local_time.replace(tzinfo=tz, fold=0)
    later = local_time.replace(tzinfo=tz, fold=1)
    round_trip = earlier.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != local_time:
        raise ScheduleError(
            "local_time",
            "nonexistent-local-time",
            f"{local_time:%Y-%m-%d %H:%M} does not exist in {time_zone}: the clocks skip it "
            "when daylight saving time starts. Choose another time.",
        )
    if earlier.utcoffset() != later.utcoffset():
        raise ScheduleError(
            "local_time",
            "ambiguous-local-time",
            f"{local_time:%Y-%m-%d %H:%M} happens twice in {time_zone} (the clocks go back); "
            f"say which one with scheduled_at and an offset: "
            f"{earlier.isoformat()} or {later.isoformat()}.",
        )
    return earlier.astimezone(UTC)


def resolve(
    *,
    scheduled_at: datetime | None,
    local_time: datetime | None,
    time_zone: str | None,
    publish_now: bool,
    now: datetime,
) -> Schedule | None:
    """The requested publish time, or None when the request names none."""
    if publish_now:
        if scheduled_at is not None or local_time is not None:
            raise ScheduleError(
                "publish_now",
                "conflicting-schedule",
                "Give either publish_now or a time, not both.",
            )
        if time_zone is not None:
            zone(time_zone)
        return Schedule(at=now, time_zone=time_zone)
    if scheduled_at is not None and local_time is not None:
        raise ScheduleError(
            "scheduled_at",
            "conflicting-schedule",
            "Give either scheduled_at (with an offset) or local_time with time_zone, not both.",
        )
    if scheduled_at is not None:
        if scheduled_at.tzinfo is None or scheduled_at.utcoffset() is None:
            raise ScheduleError(
                "scheduled_at",
                "missing-offset",
                "scheduled_at needs a UTC offset (e.g. 2026-12-01T07:30:00+02:00), or send "
                "local_time with time_zone instead.",
            )
        if time_zone is not None:
            zone(time_zone)
        at = scheduled_at.astimezone(UTC)
    elif local_time is not None:
        if time_zone is None:
            raise ScheduleError(
                "time_zone",
                "time-zone-required",
                "local_time needs a time_zone, such as 'Europe/Helsinki'.",
            )
        at = localise(local_time, time_zone)
    else:
        if time_zone is not None:
            zone(time_zone)
        return None
    field = "scheduled_at" if scheduled_at is not None else "local_time"
    if at > now + HORIZON:
        raise ScheduleError(
            field,
            "time-too-far",
            f"{at.isoformat()} is more than 10 years ahead; Handpost schedules posts up to "
            f"{(now + HORIZON).date().isoformat()}.",
        )
    if at <= now:
        # Named as sent: a local_time is reported as the wall-clock time in its zone.
        field, when = (
            ("scheduled_at", at.isoformat())
            if local_time is None
            else ("local_time", f"{local_time.isoformat()} in {time_zone}")
        )
        raise ScheduleError(
            field,
            "time-in-past",
            f"{field} {when} is in the past (it is now "
            f"{now.replace(microsecond=0).isoformat()}). "
            "Choose a later time, or send publish_now: true to publish right away.",
        )
    return Schedule(at=at, time_zone=time_zone)


def local_view(at: datetime | None, time_zone: str | None) -> datetime | None:
    if at is None or time_zone is None:
        return None
    return at.astimezone(zone(time_zone))
