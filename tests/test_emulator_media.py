"""The emulator's media flows answer as the networks document (tests/emulator/README.md).

Handpost's own media tests (tests/test_media_publishing.py) drive these flows end to end;
these pin the answers a client could get wrong: attaching too early, an expired or unknown
id, a blob that was never uploaded, a fault part-way through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from tests.emulator.server import EmulatorServer


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def x_upload(http: httpx.Client, base: str, token: str, data: bytes, category: str) -> str:
    init = http.post(
        f"{base}/2/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": len(data), "media_category": category},
        headers=bearer(token),
    )
    assert init.status_code == 200, init.text
    media_id = str(init.json()["data"]["id"])
    append = http.post(
        f"{base}/2/media/upload/{media_id}/append",
        data={"segment_index": "0"},
        files={"media": ("blob", data, "application/octet-stream")},
        headers=bearer(token),
    )
    assert append.status_code == 200, append.text
    return media_id


def test_x_reports_processing_and_refuses_a_post_before_it_is_done(
    network: EmulatorServer, http: httpx.Client
) -> None:
    network.configure(media_processing_s=30)
    account = network.register_account("x", username="ada")
    base, token = network.url_for("x"), account["access_token"]
    media_id = x_upload(http, base, token, b"\x00\x00\x00\x18ftypmp42" + b"v" * 100, "tweet_video")

    finalize = http.post(f"{base}/2/media/upload/{media_id}/finalize", headers=bearer(token))
    info = finalize.json()["data"]["processing_info"]
    assert info["state"] == "in_progress" and info["check_after_secs"] >= 1
    status = http.get(
        f"{base}/2/media/upload",
        params={"command": "STATUS", "media_id": media_id},
        headers=bearer(token),
    )
    assert status.json()["data"]["processing_info"]["state"] == "in_progress"
    early = http.post(
        f"{base}/2/tweets",
        json={"text": "too early", "media": {"media_ids": [media_id]}},
        headers=bearer(token),
    )
    assert early.status_code == 400 and "not ready" in str(early.json())
    assert network.posts("x") == []


def test_x_media_ids_expire_and_a_size_mismatch_is_refused(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account = network.register_account("x", username="ada")
    base, token = network.url_for("x"), account["access_token"]
    init = http.post(
        f"{base}/2/media/upload/initialize",
        json={"media_type": "image/png", "total_bytes": 10, "media_category": "tweet_image"},
        headers=bearer(token),
    )
    media_id = init.json()["data"]["id"]
    short = http.post(f"{base}/2/media/upload/{media_id}/finalize", headers=bearer(token))
    assert short.status_code == 400 and "mismatch" in short.text

    done = x_upload(http, base, token, b"p" * 10, "tweet_image")
    http.post(f"{base}/2/media/upload/{done}/finalize", headers=bearer(token))
    network.advance_clock(86401)  # past expires_after_secs
    late = http.post(
        f"{base}/2/tweets",
        json={"text": "late", "media": {"media_ids": [done]}},
        headers=bearer(token),
    )
    assert late.status_code == 400 and "Your media IDs are invalid" in late.text


def test_x_media_calls_need_the_media_write_scope(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account = network.register_account(
        "x", username="ada", scopes=["tweet.read", "tweet.write", "users.read"]
    )
    refused = http.post(
        f"{network.url_for('x')}/2/media/upload/initialize",
        json={"media_type": "image/png", "total_bytes": 10, "media_category": "tweet_image"},
        headers=bearer(account["access_token"]),
    )
    assert refused.status_code == 403


def test_mastodon_answers_202_then_206_until_processed_and_refuses_early_attachment(
    network: EmulatorServer, http: httpx.Client
) -> None:
    network.configure(media_processing_s=30)
    account = network.register_account("mastodon", username="ada")
    base, auth = network.url_for("mastodon"), bearer(account["access_token"])
    video = http.post(
        f"{base}/api/v2/media",
        files={"file": ("clip.mp4", b"video-bytes", "video/mp4")},
        data={"description": "A clip"},
        headers=auth,
    )
    assert video.status_code == 202 and video.json()["url"] is None
    assert video.json()["description"] == "A clip"
    media_id = video.json()["id"]
    assert http.get(f"{base}/api/v1/media/{media_id}", headers=auth).status_code == 206
    early = http.post(
        f"{base}/api/v1/statuses", json={"status": "early", "media_ids": [media_id]}, headers=auth
    )
    assert early.status_code == 422
    assert early.json()["error"].startswith("Cannot attach files that have not finished")

    network.advance_clock(31)
    assert http.get(f"{base}/api/v1/media/{media_id}", headers=auth).status_code == 200
    posted = http.post(
        f"{base}/api/v1/statuses", json={"status": "now", "media_ids": [media_id]}, headers=auth
    )
    assert posted.status_code == 200
    assert posted.json()["media_attachments"][0]["description"] == "A clip"
    again = http.post(
        f"{base}/api/v1/statuses", json={"status": "twice", "media_ids": [media_id]}, headers=auth
    )
    assert again.status_code == 422 and "already attached" in again.json()["error"]


def test_a_failed_mastodon_processing_answers_422(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account = network.register_account("mastodon", username="ada")
    base, auth = network.url_for("mastodon"), bearer(account["access_token"])
    network.inject_fault("mastodon", "media_upload", "media_processing_failed", message="Bad file")
    image = http.post(
        f"{base}/api/v2/media", files={"file": ("a.png", b"png", "image/png")}, headers=auth
    )
    assert image.status_code == 202
    polled = http.get(f"{base}/api/v1/media/{image.json()['id']}", headers=auth)
    assert polled.status_code == 422 and polled.json() == {"error": "Bad file"}


def test_bluesky_blobs_are_content_addressed_and_must_be_the_repos_own(
    network: EmulatorServer, http: httpx.Client
) -> None:
    alice = network.register_account("bluesky", handle="alice.test", did="did:plc:alice")
    bob = network.register_account("bluesky", handle="bob.test", did="did:plc:bob")
    base = network.url_for("bluesky")
    data = b"\x89PNG not really"
    blob = http.post(
        f"{base}/xrpc/com.atproto.repo.uploadBlob",
        content=data,
        headers={**bearer(alice["access_token"]), "Content-Type": "image/png"},
    ).json()["blob"]
    assert blob["mimeType"] == "image/png" and blob["size"] == len(data)
    assert blob["ref"]["$link"].startswith("bafkrei")
    [upload] = network.media("bluesky")
    assert upload["sha256"] == hashlib.sha256(data).hexdigest()

    def post(account: dict[str, str], alt: object) -> httpx.Response:
        image: dict[str, object] = {"image": blob, "aspectRatio": {"width": 4, "height": 3}}
        if alt is not None:
            image["alt"] = alt
        record = {
            "$type": "app.bsky.feed.post",
            "text": "a picture",
            "createdAt": "2026-12-03T12:00:00.000Z",
            "embed": {"$type": "app.bsky.embed.images", "images": [image]},
        }
        return http.post(
            f"{base}/xrpc/com.atproto.repo.createRecord",
            json={"repo": account["account"], "collection": "app.bsky.feed.post", "record": record},
            headers=bearer(account["access_token"]),
        )

    assert "Could not find blob" in post(bob, "").json()["message"]  # not bob's blob
    assert post(alice, None).status_code == 400  # alt is required (may be empty)
    assert post(alice, "").status_code == 200
