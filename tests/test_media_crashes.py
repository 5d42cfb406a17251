"""A post with media survives a worker killed (SIGKILL) at every step: exactly one post at
the network, carrying its files, and files the network already took are not sent again.

A real ``handpost worker`` process publishes to the emulator; the test holds the network at
the step under test (an answer delayed after the network did its part), kills the worker
there, starts another, and reads the outcome at the emulator, the ground truth.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import wait_for
from tests.support.live import attempts, connect, live_client, publish_now, settled
from tests.support.media import image_bytes, upload, video_file
from tests.support.workers import WorkerPool

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("secret_key")]

# Long enough that only the kill ends the held answer.
HELD_SECONDS = 60


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[WorkerPool]:
    logs = tmp_path / "logs"
    logs.mkdir()
    with WorkerPool(
        logs,
        database_url,
        poll_seconds="0.1",
        lease_seconds="2",  # a killed worker's claim lapses quickly
        retry_base_seconds="0.05",
        retry_max_seconds="1",
        outbound_allow_private="true",  # the emulator is on loopback
        media_dir=str(tmp_path / "media"),
        secret_key_file=str(tmp_path / "handpost.key"),
    ) as pool:
        yield pool


def sha256_of(client: TestClient, media_id: str) -> str:
    return hashlib.sha256(client.get(f"/api/v1/media/{media_id}/content").content).hexdigest()


def kill_when(workers: WorkerPool, reached: Callable[[], Any]) -> None:
    """Start a worker, SIGKILL it once ``reached`` holds, and start another one."""
    workers.start("first")
    try:
        wait_for(reached, timeout=30)
    finally:
        workers.kill("first")
    workers.start("second")


def carried(emulator: EmulatorServer, network: str, post: dict[str, Any]) -> list[str]:
    """The hashes of the files the network's post carries, in order."""
    uploads = {u["id"]: u for u in emulator.media(network)}
    details = post["details"]
    ids = details["media"]["media_ids"] if network == "x" else details["media_ids"]
    return [uploads[i]["sha256"] for i in ids]


def test_killed_mid_upload_the_next_worker_reuses_the_files_already_sent(
    make_client: AppFactory, network: EmulatorServer, workers: WorkerPool
) -> None:
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "x")
    first = upload(client, image_bytes(color=(10, 10, 200)), filename="a.jpg", alt_text="A")
    second = upload(client, image_bytes(color=(10, 200, 10)), filename="b.jpg", alt_text="B")
    # The first file goes through; the second one's bytes arrive, and the answer is held.
    network.inject_fault("x", "media_append", "timeout_after_create", delay_s=HELD_SECONDS, after=1)
    post = publish_now(
        client,
        account["id"],
        "Killed mid-upload",
        media=[{"media_id": first["id"]}, {"media_id": second["id"]}],
    )

    kill_when(workers, lambda: len(network.received("x", "media_append")) == 2)

    assert settled(client, post["id"], timeout=60)["state"] == "published", workers.logs()
    [created] = network.posts("x")
    first_hash, second_hash = sha256_of(client, first["id"]), sha256_of(client, second["id"])
    assert carried(network, "x", created) == [first_hash, second_hash]
    # The first file was taken once and reused; the cut one was sent whole once more.
    hashes = [u["sha256"] for u in network.media("x")]
    assert hashes.count(first_hash) == 1 and hashes.count(second_hash) == 1
    assert len(network.received("x", "media_initialize")) == 3


def test_killed_mid_processing_the_next_worker_waits_for_the_same_upload(
    make_client: AppFactory, network: EmulatorServer, workers: WorkerPool, tmp_path: Path
) -> None:
    # X asks to check again after at most 5 s: the first check finds it still processing.
    network.configure(media_processing_s=12.0)
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "x")
    path = video_file(tmp_path / "clip.mp4", seconds=1.0)
    video = upload(client, path.read_bytes(), filename="clip.mp4", alt_text="A clip")
    post = publish_now(
        client, account["id"], "Killed mid-processing", media=[{"media_id": video["id"]}]
    )

    kill_when(workers, lambda: network.received("x", "media_status"))

    assert settled(client, post["id"], timeout=60)["state"] == "published", workers.logs()
    [created] = network.posts("x")
    assert carried(network, "x", created) == [sha256_of(client, video["id"])]
    assert len(network.received("x", "media_initialize")) == 1  # never sent again
    assert len(network.media("x")) == 1


@pytest.mark.parametrize("network_name", ["x", "mastodon"])
def test_killed_mid_publish_the_post_exists_once_with_its_files(
    make_client: AppFactory, network: EmulatorServer, workers: WorkerPool, network_name: str
) -> None:
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, network_name)
    image = upload(client, image_bytes(color=(120, 60, 10)), filename="c.jpg", alt_text="C")
    # The post is created; its answer is held until the worker dies.
    network.inject_fault(network_name, "create", "timeout_after_create", delay_s=HELD_SECONDS)
    post = publish_now(
        client, account["id"], "Killed mid-publish", media=[{"media_id": image["id"]}]
    )

    kill_when(workers, lambda: network.posts(network_name))

    final = settled(client, post["id"], timeout=60)
    [created] = network.posts(network_name)
    assert carried(network, network_name, created) == [sha256_of(client, image["id"])]
    assert len(network.media(network_name)) == 1  # uploaded once, reused by the resend
    if network_name == "mastodon":
        # The resend carries the same Idempotency-Key: Mastodon answers with the status it
        # made, so the post is known to be published.
        assert final["state"] == "published", workers.logs()
        assert final["external_id"] == created["id"]
    else:
        # X has no idempotency key: a resend could duplicate it, so Handpost asks the user.
        assert final["state"] == "unknown", workers.logs()
        assert "stopped while publishing" in attempts(client, post["id"])[-1]["message"]
