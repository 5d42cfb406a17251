"""YouTube publishes for real: the resumable upload to the emulator's YouTube over loopback,
every field as the person wrote it, one video whatever goes wrong on the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_post
from tests.support.live import attempts, live_client, settled
from tests.support.youtube import (
    CHUNK,
    YOUTUBE_SETTINGS,
    chunk_ranges,
    connect_channel,
    sha256,
    upload_thumbnail,
    upload_video,
    videos,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_scheduled_video_appears_once_with_everything_the_person_wrote(
    make_client: AppFactory, network: EmulatorServer, youtube_video: Path
) -> None:
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
    # The session URI is a capability: it is in no answer.
    assert "upload_id" not in str(entry) and "upload_id" not in str(post)


def test_a_dropped_connection_resumes_from_the_byte_youtube_confirmed(
    make_client: AppFactory, network: EmulatorServer, youtube_video: Path
) -> None:
    client = live_client(make_client, **YOUTUBE_SETTINGS)
    account, _ = connect_channel(client, network)
    video = upload_video(client, youtube_video)
    # The first chunk's connection breaks half way through it.
    network.inject_fault("youtube", "create", "reset_mid_body", after_bytes=CHUNK // 2)
    response = create_post(
        client,
        account["id"],
        "How we cut our release time in half.",
        title="Halving release time",
        visibility="unlisted",
        publish_now=True,
        media=[{"media_id": video["id"]}],
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
