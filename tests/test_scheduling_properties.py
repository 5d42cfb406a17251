"""Property tests for turning user input into a publish instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from service.posts.scheduling import ScheduleError, localise, resolve

ZONES = sorted(
    z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
wall_times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31))


@settings(max_examples=400, deadline=None)
@given(local=wall_times, zone=st.sampled_from(ZONES))
def test_a_local_time_is_refused_or_maps_back_to_itself(local: datetime, zone: str) -> None:
    """Either the wall-clock time exists exactly once and round-trips, or it is refused with
    the reason: it does not exist (clocks skip it) or it is ambiguous (clocks repeat it)."""
    try:
        instant = localise(local, zone)
    except ScheduleError as error:
        assert error.code in ("nonexistent-local-time", "ambiguous-local-time")
        tz = ZoneInfo(zone)
        first, second = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
        assert first.utcoffset() != second.utcoffset()
        return
    assert instant.tzinfo is UTC
    assert instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local


@settings(max_examples=300, deadline=None)
@given(
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
    ahead=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3650)),
)
def test_an_instant_with_any_offset_is_stored_as_the_same_utc_instant(
    offset_minutes: int, ahead: timedelta
) -> None:
    from datetime import timezone

    at = (NOW + ahead).astimezone(timezone(timedelta(minutes=offset_minutes)))
    schedule = resolve(scheduled_at=at, local_time=None, time_zone=None, publish_now=False, now=NOW)
    assert schedule is not None
    assert schedule.at == at and schedule.at.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=80))
def test_any_zone_name_is_accepted_only_if_it_is_a_real_zone(name: str) -> None:
    try:
        resolve(
            scheduled_at=None,
            local_time=datetime(2030, 6, 1, 12, 0),
            time_zone=name,
            publish_now=False,
            now=NOW,
        )
    except ScheduleError as error:
        assert error.code in ("unknown-time-zone", "time-zone-required")
    else:
        assert name in available_timezones() or ZoneInfo(name) is not None


@settings(max_examples=200, deadline=None)
@given(back=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_past_times_are_refused_unless_publishing_now(back: timedelta) -> None:
    try:
        resolve(
            scheduled_at=NOW - back, local_time=None, time_zone=None, publish_now=False, now=NOW
        )
    except ScheduleError as error:
        assert error.code == "time-in-past"
    else:
        raise AssertionError("a past time was accepted")
    now_schedule = resolve(
        scheduled_at=None, local_time=None, time_zone=None, publish_now=True, now=NOW
    )
    assert now_schedule is not None and now_schedule.at == NOW
