"""Threads with media, live against the emulator: containers made from a link Meta fetches
(a presigned bucket URL, or ``/m/`` of a real ``handpost serve`` at HANDPOST_PUBLIC_URL),
a carousel of several in order with alt text, a video; processing delays and failures; a
retry reuses the containers instead of making Meta fetch the files again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import attempts, connect, live_client, publish_now, settled
from tests.support.media import digest, image_bytes, upload_ok, video_file
from tests.support.s3 import S3Bucket
from tests.support.server import serve

pytestmark = pytest.mark.usefixtures("secret_key")


def _photos(client: Any, count: int) -> list[tuple[dict[str, Any], bytes]]:
    shades = [(220, 20, 20), (20, 220, 20), (20, 20, 220)]
    files = [image_bytes("JPEG", color=shades[i]) for i in range(count)]
    return [
        (upload_ok(client, data, filename=f"t{i}.jpg", alt_text=f"Threads photo {i}"), data)
        for i, data in enumerate(files)
    ]


def test_a_carousel_fetched_from_handposts_own_links_keeps_its_order_and_alt_text(
    make_client: AppFactory,
    network: EmulatorServer,
    database_url: str,
    tmp_path: Path,
) -> None:
    # The address a self-hoster exposes: a real `handpost serve` sharing the database, the
    # files and the key; Meta (the emulator) fetches /m/ links from it.
    public = serve(tmp_path, database_url, HANDPOST_MEDIA_DIR=str(tmp_path / "media"))
    try:
        client = live_client(make_client, public_url=public.base_url)
        account, _ = connect(client, network, "threads")
        photos = _photos(client, 3)
        post = publish_now(
            client,
            account["id"],
            "A walk by the sea, in three photos.",
            media=[{"media_id": m["id"]} for m, _ in photos],
        )
        final = settled(client, post["id"])
    finally:
        public.stop()
    assert final["state"] == "published", attempts(client, post["id"])

    [story] = network.posts("threads")
    assert story["details"]["media_type"] == "CAROUSEL"
    assert [m["sha256"] for m in story["details"]["media"]] == [digest(d) for _, d in photos]
    assert [m["alt_text"] for m in story["details"]["media"]] == [
        f"Threads photo {i}" for i in range(3)
    ]
    items = [c for c in network.received("threads", "container") if c["body"].get("image_url")]
    assert [c["body"]["is_carousel_item"] for c in items] == ["true"] * 3
    assert all(c["body"]["image_url"].startswith(f"{public.base_url}/m/") for c in items)
    assert story["text"] == "A walk by the sea, in three photos."


def test_a_video_is_fetched_from_a_presigned_bucket_url_and_waited_for(
    make_client: AppFactory, network: EmulatorServer, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    client = live_client(make_client, **s3_bucket.settings())
    account, _ = connect(client, network, "threads")
    path = video_file(tmp_path / "clip.mp4", seconds=1.0, size=(320, 240), fps=24)
    data = path.read_bytes()
    medium = upload_ok(client, data, filename="clip.mp4", alt_text="Waves")
    network.configure(media_processing_s=1.5)
    post = publish_now(
        client, account["id"], "The sea, moving.", media=[{"media_id": medium["id"]}]
    )
    final = settled(client, post["id"], timeout=30)
    assert final["state"] == "published", attempts(client, post["id"])

    [container] = network.received("threads", "container")
    assert container["body"]["media_type"] == "VIDEO"
    assert container["body"]["video_url"].startswith(s3_bucket.endpoint)
    assert container["body"]["text"] == "The sea, moving."
    assert container["body"]["alt_text"] == "Waves"
    [story] = network.posts("threads")
    assert story["details"]["media"][0]["sha256"] == digest(data)
    # Polled until FINISHED before publishing.
    asks = [
        g for g in network.received("threads", "get") if "status" in g["query"].get("fields", "")
    ]
    assert len(asks) >= 2


def test_a_container_meta_cannot_process_fails_the_post(
    make_client: AppFactory, network: EmulatorServer, s3_bucket: S3Bucket
) -> None:
    client = live_client(make_client, **s3_bucket.settings())
    account, _ = connect(client, network, "threads")
    [(medium, _)] = _photos(client, 1)
    network.inject_fault(
        "threads", "container", "media_processing_failed", message="FAILED_PROCESSING_IMAGE"
    )
    post = publish_now(client, account["id"], "Unreadable.", media=[{"media_id": medium["id"]}])
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert "t0.jpg" in entry["message"] and "FAILED_PROCESSING_IMAGE" in entry["message"]
    assert network.posts("threads") == []


def test_a_failed_publish_is_retried_with_the_same_containers(
    make_client: AppFactory, network: EmulatorServer, s3_bucket: S3Bucket
) -> None:
    client = live_client(make_client, **s3_bucket.settings())
    account, _ = connect(client, network, "threads")
    photos = _photos(client, 2)
    # The carousel container call fails (after both items were made and fetched).
    network.inject_fault("threads", "container", "status", status=500, code=2, after=2)
    post = publish_now(
        client,
        account["id"],
        "Two photos, one try more.",
        media=[{"media_id": m["id"]} for m, _ in photos],
    )
    final = settled(client, post["id"])
    assert final["state"] == "published", attempts(client, post["id"])
    assert [a["outcome"] for a in attempts(client, post["id"])] == ["retrying", "published"]
    # Meta fetched each file once: the retry reused the two item containers.
    assert len(network.media("threads")) == 2
    items = [c for c in network.received("threads", "container") if c["body"].get("image_url")]
    assert len(items) == 2
    [story] = network.posts("threads")
    assert [m["sha256"] for m in story["details"]["media"]] == [digest(d) for _, d in photos]


def test_without_a_public_address_the_post_fails_and_says_what_to_set(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)  # disk storage, no HANDPOST_PUBLIC_URL
    account, _ = connect(client, network, "threads")
    [(medium, _)] = _photos(client, 1)
    post = publish_now(
        client, account["id"], "Nowhere to fetch from.", media=[{"media_id": medium["id"]}]
    )
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert "HANDPOST_PUBLIC_URL" in entry["message"]
    assert network.received("threads", "container") == []
