"""kill -9 of a worker publishing a post with media (LinkedIn): while its images go up, and
while LinkedIn processes its video. Another worker takes the post over once the dead one's
lease runs out, reuses what the network already has (recorded in post_media_uploads before
anything was attached), and publishes the post exactly once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import wait_for
from tests.support.live import attempts, connect, live_client, publish_now, settled
from tests.support.media import image_bytes, upload_ok, video_file
from tests.support.workers import WorkerPool

pytestmark = pytest.mark.slow


def _pool(tmp_path: Path, database_url: str, secret_key: str) -> WorkerPool:
    return WorkerPool(
        tmp_path,
        database_url,
        secret_key=secret_key,
        media_dir=str(tmp_path / "media"),  # where make_client keeps the files
        poll_seconds="0.2",
        lease_seconds="2",
        retry_base_seconds="0.05",
        outbound_allow_private="true",
    )


def _received(network: EmulatorServer, endpoint: str) -> list[dict[str, Any]]:
    return network.received("linkedin", endpoint)


def test_killed_while_images_go_up_the_next_worker_sends_only_the_rest(
    make_client: AppFactory,
    network: EmulatorServer,
    database_url: str,
    tmp_path: Path,
    secret_key: str,
) -> None:
    api = live_client(make_client, dispatch=False)
    account, _ = connect(api, network, "linkedin")
    files = [image_bytes("PNG", color=(40 * i, 90, 200)) for i in range(1, 4)]
    media = [
        upload_ok(api, data, filename=f"i{n}.png", alt_text=f"I{n}") for n, data in enumerate(files)
    ]
    network.set_latency(600, "linkedin")  # slow enough to strike between two images
    post = publish_now(
        api, account["id"], "Killed mid-upload.", media=[{"media_id": m["id"]} for m in media]
    )

    with _pool(tmp_path, database_url, secret_key) as pool:
        pool.start("first")
        # The first image is in and recorded (the second's initializeUpload has come), the
        # third not yet. (Killed between LinkedIn's answer and the record, a worker would
        # leave that one image unrecorded: it would be sent again, the post still once.)
        wait_for(lambda: len(_received(network, "images")) >= 2, timeout=30, interval=0.02)
        pool.kill("first")
        network.set_latency(0, "linkedin")
        pool.start("second")
        final = settled(api, post["id"], timeout=60)
        assert pool.tracebacks() == [], pool.logs()
    assert final["state"] == "published", (attempts(api, post["id"]), pool.logs())

    [story] = network.posts("linkedin")
    digests = [hashlib.sha256(d).hexdigest() for d in files]
    assert [m["sha256"] for m in story["details"]["media"]] == digests
    # The first image reached LinkedIn once: the second worker reused its URN.
    puts = [r for r in _received(network, "image_upload") if r["response_status"] == 201]
    sent = [r["body"]["sha256"] for r in puts]
    assert sent.count(digests[0]) == 1
    assert sorted(set(sent)) == sorted(digests)


def test_killed_while_linkedin_processes_the_video_it_is_not_uploaded_again(
    make_client: AppFactory,
    network: EmulatorServer,
    database_url: str,
    tmp_path: Path,
    secret_key: str,
) -> None:
    api = live_client(make_client, dispatch=False)
    account, _ = connect(api, network, "linkedin")
    path = video_file(tmp_path / "clip.mp4", seconds=3.5, size=(320, 240), fps=24)
    data = path.read_bytes()
    medium = upload_ok(api, data, filename="clip.mp4")
    network.configure(linkedin_video_part_bytes=len(data) // 3 + 1, media_processing_s=8)
    post = publish_now(
        api, account["id"], "Killed mid-processing.", media=[{"media_id": medium["id"]}]
    )

    with _pool(tmp_path, database_url, secret_key) as pool:
        pool.start("first")
        # Finalized, and asked at least once whether it is AVAILABLE: it is processing.
        wait_for(lambda: _received(network, "video_get"), timeout=30, interval=0.02)
        pool.kill("first")
        pool.start("second")
        final = settled(api, post["id"], timeout=60)
        assert pool.tracebacks() == [], pool.logs()
    assert final["state"] == "published", (attempts(api, post["id"]), pool.logs())

    [story] = network.posts("linkedin")
    assert story["details"]["media"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    # Three parts, one initialize and one finalize: all by the first worker, none again.
    assert len(_received(network, "video_upload")) == 3
    assert len(_received(network, "videos")) == 2
    assert len(network.received("linkedin", "create")) == 1
