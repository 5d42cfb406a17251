"""YouTube publishes for real: the resumable upload to the emulator's YouTube over loopback,
every field as the person wrote it, one video whatever goes wrong on the way."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.accounts.models import Account
from service.db import Database
from service.posts.models import Post, PostState
from service.problems import ProblemError
from service.youtube import quota
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_post
from tests.support.live import attempts, live_client, settled
from tests.support.youtube import (
    CHUNK,
    YOUTUBE_SETTINGS,
    chunk_ranges,
    connect_channel,
    post_video,
    sha256,
    upload_thumbnail,
    upload_video,
    videos,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_scheduled_video_appears_once_with_everything_the_person_wrote(
    make_client: AppFactory,
    network: EmulatorServer,
    youtube_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    client = live_client(make_client, **YOUTUBE_SETTINGS)
    account, registered = connect_channel(client, network)
    video = upload_video(client, youtube_video)
    thumbnail = upload_thumbnail(client)
    release = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    response = create_post(
        client,
        account["id"],
        "The talk on release trains, recorded in Tampere.\n\nSlides: see the blog.",
        title="Release trains: shipping every week",
        visibility="private",
        publish_now=True,
        media=[{"media_id": video["id"]}, {"media_id": thumbnail["id"]}],
        youtube={
            "tags": ["release engineering", "continuous delivery"],
            "category_id": "28",
            "publish_at": release.isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    post = settled(client, response.json()["id"], timeout=60)
    assert post["state"] == "published", post["last_error"]

    [created] = videos(network)
    details = created["details"]
    assert details["title"] == "Release trains: shipping every week"
    assert created["text"].startswith("The talk on release trains, recorded in Tampere.")
    assert details["tags"][:2] == ["release engineering", "continuous delivery"]
    assert details["categoryId"] == "28"
    assert details["privacyStatus"] == "private"
    assert details["publishAt"] == _iso(release)
    # The bytes YouTube got are the file's, in order; the thumbnail is the image.
    assert details["size"] == youtube_video.stat().st_size
    assert details["sha256"] == sha256(youtube_video)
    assert details["thumbnail"]["size"] == thumbnail["size_bytes"]
    assert created["account"] == registered["account"]
    assert post["external_id"] == created["id"]
    assert post["external_url"] == f"https://www.youtube.com/watch?v={created['id']}"
    upload = post["youtube"]["upload"]
    assert upload["confirmed_bytes"] == upload["total_bytes"] == youtube_video.stat().st_size
    assert upload["in_progress"] is False and upload["sessions_opened"] == 1
    assert post["youtube"]["publish_at"].startswith(release.strftime("%Y-%m-%dT%H:%M:%S"))
    # Several requests of at most a chunk each, none of the file sent twice.
    ranges = chunk_ranges(network)
    assert len(ranges) == -(-youtube_video.stat().st_size // CHUNK)
    assert all(last - first + 1 <= CHUNK for first, last in ranges)
    [entry] = attempts(client, post["id"])
    assert "Uploaded to YouTube as private" in entry["message"]
    # The session URI is a capability: it is in no answer, and in no log line.
    assert "upload_id" not in str(entry) and "upload_id" not in str(post)
    [session] = {e["upload_id"] for e in network.received("youtube", endpoint="create")}
    assert any("upload_id=" in r.getMessage() for r in caplog.records)  # httpx logs the calls
    assert not any(session in r.getMessage() for r in caplog.records)


def test_a_dropped_connection_resumes_from_the_byte_youtube_confirmed(
    make_client: AppFactory, network: EmulatorServer, youtube_video: Path
) -> None:
    client = live_client(make_client, **YOUTUBE_SETTINGS)
    account, _ = connect_channel(client, network)
    video = upload_video(client, youtube_video)
    # The first chunk's connection breaks half way through it.
    network.inject_fault("youtube", "create", "reset_mid_body", after_bytes=CHUNK // 2)
    response = post_video(
        client,
        account["id"],
        [video],
        "How we cut our release time in half.",
        "Halving release time",
        visibility="unlisted",
    )
    post = settled(client, response.json()["id"], timeout=60)
    assert post["state"] == "published", post["last_error"]
    [created] = videos(network)
    size = youtube_video.stat().st_size
    assert created["details"]["sha256"] == sha256(youtube_video)
    assert created["details"]["privacyStatus"] == "unlisted"
    ranges = chunk_ranges(network)
    # The first request broke after half a chunk; the next one starts where YouTube said.
    assert ranges[0] == (0, CHUNK - 1)
    assert ranges[1][0] == CHUNK // 2
    resent = sum(last - first + 1 for first, last in ranges) - size
    assert 0 < resent < CHUNK
    [entry] = attempts(client, post["id"])
    assert "resumed at byte" in entry["message"]


def test_an_unconfirmed_upload_is_found_on_the_channel_before_anything_is_sent_again(
    make_client: AppFactory, network: EmulatorServer, youtube_video: Path
) -> None:
    """The last chunk's answer is lost and YouTube keeps failing when asked: the post is
    unknown. Requeued a week later, when YouTube has forgotten the session, Handpost finds
    the video among the channel's uploads by its tag, and uploads nothing again."""
    client = live_client(make_client, **YOUTUBE_SETTINGS)
    account, _ = connect_channel(client, network)
    video = upload_video(client, youtube_video)
    chunks = -(-youtube_video.stat().st_size // CHUNK)
    network.inject_fault("youtube", "create", "status_after_create", status=503, after=chunks - 1)
    # (Queued behind the first, it applies only once the first has fired: to every question.)
    network.inject_fault("youtube", "create", "status", status=503, times=10)
    response = post_video(
        client,
        account["id"],
        [video],
        "Notes from the meetup on build caches.",
        "Build caches, explained",
    )
    post = settled(client, response.json()["id"], timeout=60)
    assert post["state"] == "unknown", post["last_error"]
    assert "asks YouTube how far it got" in post["last_error"]
    assert len(videos(network)) == 1  # it did arrive

    network.clear_faults()
    network.advance_clock(8 * 24 * 3600)  # the session has expired
    requeued = client.post(f"/api/v1/posts/{post['id']}/resolve", json={"outcome": "requeue"})
    assert requeued.status_code == 200, requeued.text
    post = settled(client, post["id"], timeout=60)
    assert post["state"] == "published", post["last_error"]
    [created] = videos(network)
    assert post["external_id"] == created["id"]
    assert post["youtube"]["upload"]["sessions_opened"] == 1
    assert [e["response_status"] for e in network.received("youtube", endpoint="create")][-1] == 404
    assert network.received("youtube", endpoint="videos"), "the channel was searched"


def test_a_day_takes_only_the_uploads_its_quota_allows(
    make_client: AppFactory, network: EmulatorServer, youtube_video: Path
) -> None:
    client = live_client(make_client, dispatch=False, youtube_daily_quota=3200, **YOUTUBE_SETTINGS)
    account, _ = connect_channel(client, network)
    video = upload_video(client, youtube_video)
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()

    def schedule(hour: int, day_: str = day) -> dict[str, object]:
        return create_post(
            client,
            account["id"],
            f"Episode at {hour}: what we learned from a year of weekly releases.",
            title=f"Episode {hour}",
            local_time=f"{day_}T{hour:02d}:00:00",
            time_zone="America/Los_Angeles",
            media=[{"media_id": video["id"]}],
        )

    assert schedule(9).status_code == 201
    assert schedule(10).status_code == 201
    refused = schedule(23)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["code"] == "youtube-quota"
    assert "2 upload(s)" in error["message"] and "HANDPOST_YOUTUBE_DAILY_QUOTA" in error["message"]
    # Midnight in Los Angeles starts a new quota day; a draft takes no quota at all.
    next_day = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    assert schedule(0, next_day).status_code == 201
    draft = create_post(
        client,
        account["id"],
        "A draft for later.",
        title="Later",
        media=[{"media_id": video["id"]}],
    )
    assert draft.status_code == 201
    assert len(client.get("/api/v1/posts").json()["items"]) == 4


def test_youtube_saying_the_quota_is_spent_stops_uploads_until_pacific_midnight(
    make_client: AppFactory, network: EmulatorServer, youtube_video: Path
) -> None:
    client = live_client(make_client, missed_grace_seconds=60, **YOUTUBE_SETTINGS)
    network.configure(youtube_daily_quota=1000)  # less than one upload
    account, _ = connect_channel(client, network)
    video = upload_video(client, youtube_video)
    first = post_video(
        client,
        account["id"],
        [video],
        "A first video that the quota will not let through.",
        "First",
    )
    post = settled(client, first.json()["id"], timeout=30)
    assert post["state"] == "failed"
    assert "quota" in post["last_error"] and "midnight Pacific" in post["last_error"]
    second = post_video(
        client,
        account["id"],
        [video],
        "A second video, which Handpost holds back without asking YouTube.",
        "Second",
    )
    post = settled(client, second.json()["id"], timeout=30)
    assert post["state"] == "failed"
    assert "used up" in post["last_error"]
    assert len(network.received("youtube", endpoint="insert")) == 1
    assert videos(network) == []


def test_an_unaudited_project_s_upload_is_locked_private_and_the_account_says_so(
    make_client: AppFactory, network: EmulatorServer, youtube_video: Path
) -> None:
    client = live_client(make_client, **YOUTUBE_SETTINGS)
    account, _ = connect_channel(client, network, audited=False)
    video = upload_video(client, youtube_video)
    response = post_video(
        client,
        account["id"],
        [video],
        "Our release checklist, walked through.",
        "The release checklist",
        visibility="public",
    )
    post = settled(client, response.json()["id"], timeout=60)
    assert post["state"] == "published"
    [created] = videos(network)
    assert created["details"]["privacyStatus"] == "private"
    [entry] = attempts(client, post["id"])
    assert "YouTube locked this video to private" in entry["message"]
    assert "audit" in entry["message"]
    shown = client.get(f"/api/v1/accounts/{account['id']}").json()
    assert shown["status"] == "active"
    assert "locked this video to private" in shown["status_message"]
    events = client.get(f"/api/v1/accounts/{account['id']}/events").json()["items"]
    assert any(e["kind"] == "youtube-private-lock" for e in events)


def test_two_schedules_racing_for_the_day_s_last_upload_are_counted_one_after_the_other(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    """The first schedule has counted the day and not yet committed its post when the second
    counts: the second waits for the first (the day's row is locked), then sees its post."""
    client = live_client(make_client, dispatch=False)
    account, _ = connect_channel(client, network)
    at = (datetime.now(UTC) + timedelta(days=2)).replace(hour=20, minute=0, second=0)
    with database.session(read_only=True) as session:
        owner = session.get(Account, account["id"])
        assert owner is not None
        user_id = owner.user_id
    counted = threading.Event()

    def first() -> None:
        with database.session() as session:
            quota.check_schedule(session, 1600, 1600, None, at)
            counted.set()
            time.sleep(1.0)  # the second one counts now, without this post unless it waits
            row = Post(
                user_id=user_id,
                account_id=account["id"],
                network="youtube",
                text="The first take.",
                visibility="private",
                state=PostState.SCHEDULED,
                scheduled_at=at,
            )
            session.add(row)
            session.commit()

    def second() -> str:
        counted.wait(10)
        with database.session() as session:
            try:
                quota.check_schedule(session, 1600, 1600, None, at)
            except ProblemError as refused:
                return str(refused.extensions["errors"][0]["code"])
            return "accepted"

    with ThreadPoolExecutor(2) as pool:
        done = pool.submit(first)
        answer = pool.submit(second).result(30)
        done.result(30)
    assert answer == "youtube-quota"
