"""Posts with media published live on X, Mastodon and Bluesky, over real HTTP to the emulator.

The emulator is the ground truth: which bytes each network received (hashed as they came),
how many times, in which order the post carries them and with which alt text. Files are
re-encoded by Handpost when uploaded, so the bytes expected at the network are Handpost's
own copy (``GET /api/v1/media/{id}/content``).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.db import Database
from service.media.outgoing import StoredMedia, attachments_by_post
from service.media.storage import DiskStorage
from service.networks import x
from service.networks.base import NetworkUpload, UploadState
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_account, create_post
from tests.support.live import attempts, connect, live_client, publish_now, settled
from tests.support.media import image_bytes, upload, video_file

pytestmark = pytest.mark.usefixtures("secret_key")

IMAGE_NETWORKS = ["x", "mastodon", "bluesky"]
VIDEO_NETWORKS = ["x", "mastodon"]
# The endpoint that receives a file's bytes, and the one that says how processing goes.
UPLOAD_ENDPOINT = {"x": "media_append", "mastodon": "media_upload", "bluesky": "upload_blob"}
ACCEPT_ENDPOINT = {"x": "media_finalize", "mastodon": "media_upload", "bluesky": "upload_blob"}
STATUS_ENDPOINT = {"x": "media_status", "mastodon": "media_get"}


def stored_hash(client: TestClient, media_id: str) -> str:
    content = client.get(f"/api/v1/media/{media_id}/content")
    assert content.status_code == 200
    return hashlib.sha256(content.content).hexdigest()


def attached(emulator: EmulatorServer, network: str, post: dict[str, Any]) -> list[dict[str, Any]]:
    """The files the network's post carries, in order: each upload's hash and alt text."""
    uploads = {u["id"]: u for u in emulator.media(network)}
    details = post["details"]
    if network == "x":
        ids = details["media"]["media_ids"]
        return [{"sha256": uploads[i]["sha256"], "alt": uploads[i]["alt_text"]} for i in ids]
    if network == "mastodon":
        ids = details["media_ids"]
        return [{"sha256": uploads[i]["sha256"], "alt": uploads[i]["alt_text"]} for i in ids]
    embed = details["record"]["embed"]
    found = []
    for image in embed["images"]:
        upload_id = f"{post['account']}/{image['image']['ref']['$link']}"
        found.append(
            {
                "sha256": uploads[upload_id]["sha256"],
                "alt": image["alt"],
                "aspect": image.get("aspectRatio"),
            }
        )
    return found


def complete_uploads_of(emulator: EmulatorServer, network: str, sha256: str) -> int:
    return sum(1 for u in emulator.media(network) if u["sha256"] == sha256)


def two_images(client: TestClient) -> list[dict[str, Any]]:
    return [
        upload(client, image_bytes(color=(200, 30, 30)), filename="red.jpg", alt_text="A red card"),
        upload(
            client,
            image_bytes("PNG", (40, 60), color=(20, 200, 30)),
            filename="green.png",
            alt_text="A green card",
        ),
    ]


def a_video(client: TestClient, tmp_path: Path) -> dict[str, Any]:
    path = video_file(tmp_path / "clip.mp4", seconds=1.0, size=(64, 48))
    return upload(client, path.read_bytes(), filename="clip.mp4", alt_text="A short clip")


@pytest.mark.parametrize("network_name", IMAGE_NETWORKS)
def test_images_are_published_in_order_with_their_alt_text(
    make_client: AppFactory, network: EmulatorServer, network_name: str
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, network_name)
    red, green = two_images(client)
    post = publish_now(
        client,
        account["id"],
        f"Two cards for {network_name}",
        media=[{"media_id": green["id"], "alt_text": "Green, first"}, {"media_id": red["id"]}],
    )

    assert settled(client, post["id"])["state"] == "published"
    [created] = network.posts(network_name)
    carried = attached(network, network_name, created)
    assert [c["sha256"] for c in carried] == [
        stored_hash(client, green["id"]),
        stored_hash(client, red["id"]),
    ]
    assert [c["alt"] for c in carried] == ["Green, first", "A red card"]
    if network_name == "bluesky":
        assert [c["aspect"] for c in carried] == [
            {"width": 40, "height": 60},
            {"width": 64, "height": 48},
        ]
    for medium in (red, green):  # each file's bytes went to the network once
        assert complete_uploads_of(network, network_name, stored_hash(client, medium["id"])) == 1
    # The publish log shows the files by name and size, never their bytes.
    log = attempts(client, post["id"])[-1]["request"]
    uploads = [c for c in log["calls"] if network.url_for(network_name) in c["url"]]
    assert uploads and "green.png" not in str(log["calls"])  # only URLs and statuses
    assert "<redacted>" in str(log["headers"])


@pytest.mark.parametrize("network_name", VIDEO_NETWORKS)
def test_a_video_is_published_once_the_network_has_processed_it(
    make_client: AppFactory, network: EmulatorServer, network_name: str, tmp_path: Path
) -> None:
    network.configure(media_processing_s=1.2)
    client = live_client(make_client)
    account, _ = connect(client, network, network_name)
    video = a_video(client, tmp_path)
    post = publish_now(client, account["id"], "A clip", media=[{"media_id": video["id"]}])

    assert settled(client, post["id"])["state"] == "published"
    [created] = network.posts(network_name)
    [carried] = attached(network, network_name, created)
    assert carried == {"sha256": stored_hash(client, video["id"]), "alt": "A short clip"}
    # It asked how processing went (and waited) rather than attaching too early.
    assert network.counts()[network_name][STATUS_ENDPOINT[network_name]] >= 1
    assert network.counts()[network_name]["create"] == 1


@pytest.mark.parametrize("network_name", VIDEO_NETWORKS)
def test_a_file_the_network_cannot_process_fails_the_post_saying_which(
    make_client: AppFactory, network: EmulatorServer, network_name: str, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, network_name)
    video = a_video(client, tmp_path)
    network.inject_fault(
        network_name,
        ACCEPT_ENDPOINT[network_name],
        "media_processing_failed",
        message="Unsupported video codec",
    )
    post = publish_now(client, account["id"], "A broken clip", media=[{"media_id": video["id"]}])

    final = settled(client, post["id"])
    assert final["state"] == "failed"
    [attempt] = attempts(client, post["id"])
    assert "clip.mp4" in attempt["message"] and "Unsupported video codec" in attempt["message"]
    assert network.posts(network_name) == []


@pytest.mark.parametrize("network_name", VIDEO_NETWORKS)
def test_slow_processing_is_retried_later_polling_the_same_upload(
    make_client: AppFactory, network: EmulatorServer, network_name: str, tmp_path: Path
) -> None:
    client = live_client(make_client, media_processing_wait_seconds=0.5)
    account, _ = connect(client, network, network_name)
    video = a_video(client, tmp_path)
    network.inject_fault(
        network_name, ACCEPT_ENDPOINT[network_name], "media_processing_slow", delay_s=2.0
    )
    post = publish_now(client, account["id"], "A slow clip", media=[{"media_id": video["id"]}])

    assert settled(client, post["id"], timeout=40)["state"] == "published"
    log = attempts(client, post["id"])
    assert log[0]["outcome"] == "retrying" and "still processing" in log[0]["message"]
    assert len(network.posts(network_name)) == 1
    # One upload; the later attempts only asked about it.
    assert len(network.media(network_name)) == 1
    assert network.counts()[network_name][ACCEPT_ENDPOINT[network_name]] == 1


@pytest.mark.parametrize("network_name", IMAGE_NETWORKS)
def test_a_failure_mid_upload_is_retried_reusing_the_files_already_sent(
    make_client: AppFactory, network: EmulatorServer, network_name: str
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, network_name)
    red, green = two_images(client)
    # The first file goes through; the connection drops while the second one is sent.
    network.inject_fault(network_name, UPLOAD_ENDPOINT[network_name], "reset", after=1)
    post = publish_now(
        client,
        account["id"],
        f"Cut mid-upload on {network_name}",
        media=[{"media_id": red["id"]}, {"media_id": green["id"]}],
    )

    assert settled(client, post["id"])["state"] == "published"
    assert [a["outcome"] for a in attempts(client, post["id"])] == ["retrying", "published"]
    [created] = network.posts(network_name)
    red_hash, green_hash = stored_hash(client, red["id"]), stored_hash(client, green["id"])
    assert [c["sha256"] for c in attached(network, network_name, created)] == [
        red_hash,
        green_hash,
    ]
    # The first file's bytes reached the network exactly once; the second arrived whole once.
    assert complete_uploads_of(network, network_name, red_hash) == 1
    assert complete_uploads_of(network, network_name, green_hash) == 1
    assert network.counts()[network_name][UPLOAD_ENDPOINT[network_name]] == 3


def test_an_expired_x_media_id_is_uploaded_again(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    # X's ids live `expires_after_secs`; this one expires before the retry can use it.
    network.configure(x_media_expires_s=2)
    client = live_client(make_client)
    account, _ = connect(client, network, "x")
    [red, _] = two_images(client)
    network.inject_fault("x", "create", "status", status=429, retry_after_s=1)
    post = publish_now(client, account["id"], "An expiring id", media=[{"media_id": red["id"]}])

    assert settled(client, post["id"])["state"] == "published"
    [created] = network.posts("x")
    uploads = network.media("x")
    assert len(uploads) == 2
    assert created["details"]["media"]["media_ids"] == [uploads[1]["id"]]


def test_a_bluesky_video_goes_as_a_blob_in_a_video_embed(
    make_client: AppFactory, network: EmulatorServer, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "bluesky")
    video = a_video(client, tmp_path)
    post = publish_now(client, account["id"], "A clip", media=[{"media_id": video["id"]}])

    assert settled(client, post["id"])["state"] == "published"
    [created] = network.posts("bluesky")
    embed = created["details"]["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == "A short clip"
    assert embed["aspectRatio"] == {"width": 64, "height": 48}
    [uploaded] = network.media("bluesky")
    assert uploaded["sha256"] == stored_hash(client, video["id"])
    assert uploaded["id"].endswith(embed["video"]["ref"]["$link"])
    assert embed["video"]["mimeType"] == "video/mp4"


@pytest.mark.parametrize("network_name", IMAGE_NETWORKS)
def test_a_sandbox_post_records_the_files_it_would_upload(
    make_client: AppFactory, network_name: str
) -> None:
    client = live_client(make_client)
    account = create_account(client, network_name)
    red, green = two_images(client)
    post = publish_now(
        client,
        account["id"],
        f"Sandbox cards on {network_name}",
        media=[{"media_id": red["id"]}, {"media_id": green["id"]}],
    )
    assert settled(client, post["id"])["state"] == "published"
    request = attempts(client, post["id"])[-1]["request"]
    assert [(m["media_id"], m["alt_text"]) for m in request["media"]] == [
        (red["id"], "A red card"),
        (green["id"], "A green card"),
    ]
    placeholders = [m["placeholder"] for m in request["media"]]
    assert placeholders == ["<media 0: red.jpg>", "<media 1: green.png>"]
    for placeholder in placeholders:  # the create request names each where its id goes
        assert placeholder in str(request["json"])


def test_each_accepted_upload_is_recorded_with_the_networks_id(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "mastodon")
    [red, _] = two_images(client)
    post = publish_now(client, account["id"], "Recorded", media=[{"media_id": red["id"]}])
    assert settled(client, post["id"])["state"] == "published"
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT position, media_id, network_media_id, state FROM post_media_uploads")
        ).all()
    [upload_at_network] = network.media("mastodon")
    assert [tuple(r) for r in rows] == [(0, red["id"], upload_at_network["id"], "ready")]


def test_a_network_that_takes_only_images_refuses_a_video_when_the_post_is_saved(
    make_client: AppFactory,
    network: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    # An adapter that sends images but not yet video (as a network's flow lands in parts).
    monkeypatch.setattr(x.ADAPTER, "media_kinds", frozenset({"image"}))
    client = live_client(make_client, dispatch=False)
    account, _ = connect(client, network, "x")
    [red, _] = two_images(client)
    video = a_video(client, tmp_path)

    accepted = create_post(client, account["id"], "A photo", media=[{"media_id": red["id"]}])
    assert accepted.status_code == 201, accepted.text
    refused = create_post(client, account["id"], "A clip", media=[{"media_id": video["id"]}])
    assert refused.status_code == 422
    error = refused.json()["errors"][-1]
    assert error["code"] == "media-not-published-yet" and "videos" in error["message"]


def test_an_adapter_reads_the_files_in_exact_pieces_and_finds_only_its_own_uploads(
    make_client: AppFactory, database: Database, tmp_path: Path
) -> None:
    """The shared layer every network's flow uses (service.media.outgoing.StoredMedia)."""
    client = live_client(make_client, dispatch=False)
    account = create_account(client, "mastodon")
    photo = upload(client, image_bytes(noise=True, size=(80, 60)), filename="n.jpg", alt_text="N")
    post = create_post(client, account["id"], "Pieces", media=[{"media_id": photo["id"]}])
    assert post.status_code == 201, post.text
    content = client.get(f"/api/v1/media/{photo['id']}/content").content
    with database.session(read_only=True) as session:
        [item] = attachments_by_post(session, [post.json()["id"]])[post.json()["id"]]
    assert (item.size_bytes, item.alt_text, item.width) == (len(content), "N", 80)
    storage = DiskStorage(tmp_path / "media")

    def files(account_id: str) -> StoredMedia:
        return StoredMedia(
            database, storage, post_id=post.json()["id"], account_id=account_id, network="x"
        )

    async def exercise() -> None:
        mine = files(account["id"])
        pieces = [piece async for piece in mine.chunks(item, 1000)]
        assert b"".join(pieces) == content
        assert {len(p) for p in pieces[:-1]} == {1000} and 0 < len(pieces[-1]) <= 1000
        async with mine.local_file(item) as path:
            assert path.read_bytes() == content
        assert await mine.recorded(item) is None
        upload_at_network = NetworkUpload("net-1", UploadState.UPLOADED, details={"k": "v"})
        await mine.record(item, upload_at_network)
        assert await files(account["id"]).recorded(item) == upload_at_network  # from the DB
        assert await files("another-account").recorded(item) is None
        moved = replace(item, media_id="another-file")  # the post now has another file there
        assert await files(account["id"]).recorded(moved) is None

    asyncio.run(exercise())
