"""LinkedIn with media, live against the emulator: the Images API (initializeUpload, one PUT),
the Videos API (a PUT per part with its ETag, finalizeUpload, AVAILABLE), attached in the
post's ``content`` with alt text; processing delays and failures; a retry reuses uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import attempts, connect, live_client, publish_now, seconds_between, settled
from tests.support.media import digest, image_bytes, upload_ok, video_file

pytestmark = pytest.mark.usefixtures("secret_key")


def _images(client: Any, count: int) -> list[tuple[dict[str, Any], bytes]]:
    shades = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]
    files = [image_bytes("PNG", color=shades[i]) for i in range(count)]
    return [
        (upload_ok(client, data, filename=f"photo{i}.png", alt_text=f"Photo {i}"), data)
        for i, data in enumerate(files)
    ]


def test_images_go_up_once_each_and_appear_in_order_with_their_alt_text(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, registered = connect(client, network, "linkedin")
    uploaded = _images(client, 3)
    refs = [{"media_id": m["id"]} for m, _ in uploaded]
    refs[1]["alt_text"] = "The second photo, described for this post"
    post = publish_now(client, account["id"], "Three photos from the meetup.", media=refs)

    final = settled(client, post["id"])
    assert final["state"] == "published", attempts(client, post["id"])
    [story] = network.posts("linkedin")
    assert [m["sha256"] for m in story["details"]["media"]] == [digest(d) for _, d in uploaded]
    assert [m["alt_text"] for m in story["details"]["media"]] == [
        "Photo 0",
        "The second photo, described for this post",
        "Photo 2",
    ]
    assert "multiImage" in story["details"]["content"]
    # One initializeUpload and one PUT of the whole file per image, nothing twice.
    assert len(network.received("linkedin", "images")) == 3
    assert [a["segments"] for a in network.media("linkedin")] == [1, 1, 1]
    for put in network.received("linkedin", "image_upload"):
        assert put["method"] == "PUT"
        assert put["headers"]["authorization"] == f"Bearer {registered['access_token']}"


def test_one_image_is_the_posts_media_and_a_link_joins_the_text(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin")
    [(medium, data)] = _images(client, 1)
    post = publish_now(
        client,
        account["id"],
        "One photo.",
        link="https://example.org/story",
        media=[{"media_id": medium["id"]}],
    )
    assert settled(client, post["id"])["state"] == "published"
    [story] = network.posts("linkedin")
    # A link card and files do not mix: the link ends the text, the content is the photo.
    assert story["text"] == "One photo.\n\nhttps://example.org/story"
    content = story["details"]["content"]
    assert content["media"]["id"].startswith("urn:li:image:")
    assert content["media"]["altText"] == "Photo 0"
    assert story["details"]["media"][0]["sha256"] == digest(data)


def _video(client: Any, tmp_path: Path, seconds: float = 3.5) -> tuple[dict[str, Any], bytes]:
    path = video_file(tmp_path / "talk.mp4", seconds=seconds, size=(320, 240), fps=24)
    data = path.read_bytes()
    return upload_ok(client, data, filename="talk.mp4", alt_text="A talk"), data


def test_a_video_goes_up_in_parts_is_finalized_and_waited_for(
    make_client: AppFactory, network: EmulatorServer, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin")
    medium, data = _video(client, tmp_path)
    part = len(data) // 3 + 1  # three parts: the Videos API's 4 MB, scaled down
    network.configure(linkedin_video_part_bytes=part, media_processing_s=1.5)
    post = publish_now(
        client, account["id"], "The talk, recorded.", media=[{"media_id": medium["id"]}]
    )

    final = settled(client, post["id"], timeout=30)
    assert final["state"] == "published", attempts(client, post["id"])
    puts = network.received("linkedin", "video_upload")
    assert [p["path"].rsplit("/", 1)[1] for p in puts] == ["0", "1", "2"]
    [asset] = network.media("linkedin")
    assert asset["sha256"] == digest(data) and asset["segments"] == 3
    finalize = [
        r for r in network.received("linkedin", "videos") if "finalizeUploadRequest" in r["body"]
    ]
    assert [f["body"]["finalizeUploadRequest"]["uploadedPartIds"] for f in finalize] == [
        [asset["details"]["etags"][str(n)] for n in range(3)]
    ]
    # It waited for AVAILABLE (polling) before the post referenced the video.
    assert len(network.received("linkedin", "video_get")) >= 2
    [story] = network.posts("linkedin")
    assert story["details"]["content"]["media"]["id"] == f"urn:li:video:{asset['id']}"
    assert story["details"]["media"][0]["sha256"] == digest(data)


def test_a_video_that_fails_processing_fails_the_post_and_says_so(
    make_client: AppFactory, network: EmulatorServer, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin")
    medium, _ = _video(client, tmp_path)
    # The finalize call (the second to /rest/videos) starts processing that will fail.
    network.inject_fault(
        "linkedin",
        "videos",
        "media_processing_failed",
        after=1,
        message="Video codec not supported",
    )
    post = publish_now(client, account["id"], "A broken file.", media=[{"media_id": medium["id"]}])
    final = settled(client, post["id"])
    assert final["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert "talk.mp4" in entry["message"] and "Video codec not supported" in entry["message"]
    assert network.posts("linkedin") == []


def test_a_failed_upload_is_retried_without_sending_the_finished_images_again(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin")
    uploaded = _images(client, 3)
    # The third image's PUT fails: the first two are done, and stay done.
    network.inject_fault("linkedin", "image_upload", "status", status=503, after=2)
    post = publish_now(
        client,
        account["id"],
        "Three photos, one of them late.",
        media=[{"media_id": m["id"]} for m, _ in uploaded],
    )
    final = settled(client, post["id"])
    assert final["state"] == "published", attempts(client, post["id"])
    assert [a["outcome"] for a in attempts(client, post["id"])] == ["retrying", "published"]
    # Images 1 and 2 went up once; the third was initialized and PUT again.
    digests = [digest(d) for _, d in uploaded]
    sent = [a for a in network.media("linkedin") if a["sha256"]]
    assert sorted(a["sha256"] for a in sent) == sorted(digests)
    [story] = network.posts("linkedin")
    assert [m["sha256"] for m in story["details"]["media"]] == digests
    assert len(network.received("linkedin", "image_upload")) == 4


def test_a_post_refused_after_the_video_was_ready_reuses_the_video(
    make_client: AppFactory, network: EmulatorServer, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin")
    medium, _ = _video(client, tmp_path)
    network.inject_fault("linkedin", "create", "status", status=503)
    post = publish_now(
        client, account["id"], "Second time lucky.", media=[{"media_id": medium["id"]}]
    )
    final = settled(client, post["id"])
    assert final["state"] == "published", attempts(client, post["id"])
    # One video, uploaded and finalized once; the retry only posted again.
    assert len(network.media("linkedin")) == 1
    assert len(network.received("linkedin", "video_upload")) == 1
    assert len(network.received("linkedin", "videos")) == 2  # initialize + finalize
    assert len(network.received("linkedin", "create")) == 2


def test_a_members_token_cannot_read_an_images_status_so_a_grace_period_stands_in(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    # What the consent flow grants: no scope to read images (Postiz found the 403 this gives).
    account, _ = connect(
        client, network, "linkedin", scopes=["openid", "profile", "w_member_social"]
    )
    [(medium, data)] = _images(client, 1)
    post = publish_now(client, account["id"], "Read-blind.", media=[{"media_id": medium["id"]}])
    final = settled(client, post["id"])
    assert final["state"] == "published", attempts(client, post["id"])
    [asked] = network.received("linkedin", "image_get")
    assert asked["response_status"] == 403
    [story] = network.posts("linkedin")
    assert story["details"]["media"][0]["sha256"] == digest(data)
    [put] = network.received("linkedin", "image_upload")
    [created] = network.received("linkedin", "create")
    assert seconds_between(put["at"], created["at"]) >= 2.5  # the grace period
