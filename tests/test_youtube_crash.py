"""kill -9 at every step of a YouTube publish: a worker process is killed mid-upload, after
the last byte (the video exists, Handpost has not recorded it) and while setting the
thumbnail; another worker takes the post over, and the emulator's YouTube ends up with
exactly one video, whole, each time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_post, wait_for
from tests.support.live import FAST, attempts, live_client, settled
from tests.support.workers import WorkerPool
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

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("secret_key")]


def _mid_upload(network: EmulatorServer, chunks: int) -> Callable[[], bool]:
    network.set_latency(400, "youtube")  # slow enough to be caught between chunks
    return lambda: len(chunk_ranges(network)) >= 2


def _after_the_last_byte(network: EmulatorServer, chunks: int) -> Callable[[], bool]:
    # The last chunk makes the video; its answer is held back long enough to kill the worker.
    network.inject_fault("youtube", "create", "timeout_after_create", delay_s=60, after=chunks - 1)
    return lambda: len(videos(network)) == 1


def _setting_the_thumbnail(network: EmulatorServer, chunks: int) -> Callable[[], bool]:
    network.inject_fault("youtube", "thumbnails", "timeout_after_create", delay_s=60)
    return lambda: bool(network.received("youtube", endpoint="thumbnails"))


KILL_POINTS = {
    "mid-upload": _mid_upload,
    "after-the-last-byte": _after_the_last_byte,
    "setting-the-thumbnail": _setting_the_thumbnail,
}


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_a_worker_killed_at_any_step_leaves_exactly_one_video(
    make_client: AppFactory,
    network: EmulatorServer,
    youtube_video: Path,
    database_url: str,
    tmp_path: Path,
    kill_point: str,
) -> None:
    api = live_client(make_client, dispatch=False, **YOUTUBE_SETTINGS)
    account, _ = connect_channel(api, network)
    video = upload_video(api, youtube_video)
    thumbnail = upload_thumbnail(api)
    chunks = -(-youtube_video.stat().st_size // CHUNK)
    reached = KILL_POINTS[kill_point](network, chunks)
    response = create_post(
        api,
        account["id"],
        "The talk on release trains, recorded.",
        title="Release trains",
        visibility="unlisted",
        publish_now=True,
        media=[{"media_id": video["id"]}, {"media_id": thumbnail["id"]}],
        youtube={"tags": ["talks"]},
    )
    assert response.status_code == 201, response.text
    post_id = response.json()["id"]
    settings = {
        **{name: str(value).lower() for name, value in FAST.items()},
        "youtube_chunk_bytes": str(CHUNK),
        "media_dir": str(tmp_path / "media"),
        "lease_seconds": "2",
    }
    with WorkerPool(tmp_path, database_url, **settings) as pool:
        pool.start("first")
        wait_for(reached, timeout=60)
        pool.kill("first")
        network.clear_faults()
        network.set_latency(0, "youtube")
        pool.start("second")
        post = settled(api, post_id, timeout=90)
        assert post["state"] == "published", (post["last_error"], pool.logs())
        assert not pool.tracebacks(), pool.logs()

    [created] = videos(network)
    assert created["details"]["sha256"] == sha256(youtube_video)
    assert created["details"]["privacyStatus"] == "unlisted"
    assert created["details"]["thumbnail"]["size"] == thumbnail["size_bytes"]
    assert post["external_id"] == created["id"]
    assert len(network.received("youtube", endpoint="insert")) == 1  # one session, resumed
    log = attempts(api, post_id)
    assert any("stopped while publishing" in entry["message"] for entry in log), log
    # Mid-upload, the second worker went on from YouTube's confirmed byte, not from the start.
    if kill_point == "mid-upload":
        ranges = chunk_ranges(network)
        resent = sum(last - first + 1 for first, last in ranges) - youtube_video.stat().st_size
        assert resent < CHUNK, ranges
