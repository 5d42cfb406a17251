"""The emulator's YouTube speaks the Data API's resumable upload as Google documents it:
sessions, 308 with Range, the video at the last byte, expiry, quota, the audit lock, and the
reads a client uses to find its own videos."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.server import EmulatorServer

Q = 256 * 1024
METADATA = {
    "snippet": {"title": "A talk", "description": "About it", "tags": ["handpost-key1"]},
    "status": {"privacyStatus": "unlisted"},
}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def channel(network: EmulatorServer, *, audited: bool = True) -> dict[str, Any]:
    app = network.register_client(
        "youtube", ["http://127.0.0.1/cb"], client_id=f"app-{audited}", audited=audited
    )
    return network.register_account("youtube", client_id=app["client_id"])


def auth(account: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['access_token']}"}


def open_session(
    http: httpx.Client, account: dict[str, Any], size: int, metadata: dict[str, Any] = METADATA
) -> httpx.Response:
    return http.post(
        f"{account['base_url']}/upload/youtube/v3/videos",
        params={"uploadType": "resumable", "part": "snippet,status"},
        headers={**auth(account), "X-Upload-Content-Length": str(size)},
        json=metadata,
    )


def put(
    http: httpx.Client, account: dict[str, Any], uri: str, first: int, data: bytes, total: int
) -> httpx.Response:
    spec = f"bytes {first}-{first + len(data) - 1}/{total}" if data else f"bytes */{total}"
    return http.put(uri, content=data, headers={**auth(account), "Content-Range": spec})


def test_the_session_confirms_bytes_and_makes_the_video_at_the_last_one(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account = channel(network)
    data = bytes(range(256)) * (Q * 3 // 256) + b"tail"
    opened = open_session(http, account, len(data))
    assert opened.status_code == 200 and opened.content == b""
    uri = opened.headers["location"]
    assert "upload_id=" in uri
    asked = put(http, account, uri, 0, b"", len(data))
    assert asked.status_code == 308 and "range" not in asked.headers  # nothing yet
    first = put(http, account, uri, 0, data[:Q], len(data))
    assert first.status_code == 308 and first.headers["range"] == f"bytes=0-{Q - 1}"
    assert network.posts("youtube") == []  # no video until the last byte
    rest = put(http, account, uri, Q, data[Q:], len(data))
    assert rest.status_code == 201, rest.text
    video = rest.json()
    assert video["status"]["privacyStatus"] == "unlisted"
    assert video["status"]["uploadStatus"] == "uploaded"
    [created] = network.posts("youtube")
    assert created["details"]["sha256"] == hashlib.sha256(data).hexdigest()
    # Asked again, the finished session answers with the same video.
    again = put(http, account, uri, 0, b"", len(data))
    assert again.status_code == 201 and again.json()["id"] == video["id"]


def test_chunks_are_multiples_of_256_kib_and_come_in_order(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account = channel(network)
    total = 3 * Q
    uri = open_session(http, account, total).headers["location"]
    odd = put(http, account, uri, 0, b"x" * (Q + 1), total)
    assert odd.status_code == 400
    assert odd.json()["error"]["errors"][0]["reason"] == "badRequest"
    ahead = put(http, account, uri, Q, b"x" * Q, total)  # bytes it does not have yet
    assert ahead.status_code == 308 and "range" not in ahead.headers


def test_a_connection_dropped_mid_chunk_keeps_what_arrived(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account = channel(network)
    total = 2 * Q
    uri = open_session(http, account, total).headers["location"]
    network.inject_fault("youtube", "create", "reset_mid_body", after_bytes=Q // 2)
    with pytest.raises(httpx.TransportError):
        put(http, account, uri, 0, b"y" * Q, total)
    asked = put(http, account, uri, 0, b"", total)
    assert asked.status_code == 308
    assert asked.headers["range"] == f"bytes=0-{Q // 2 - 1}"


def test_a_session_expires_after_a_week(network: EmulatorServer, http: httpx.Client) -> None:
    account = channel(network)
    uri = open_session(http, account, Q).headers["location"]
    network.advance_clock(7 * 24 * 3600 + 60)
    gone = put(http, account, uri, 0, b"", Q)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == 404


def test_uploads_spend_the_app_s_quota_until_midnight_pacific(
    network: EmulatorServer, http: httpx.Client
) -> None:
    network.configure(youtube_daily_quota=3200)
    account = channel(network)
    assert open_session(http, account, Q).status_code == 200
    assert open_session(http, account, Q).status_code == 200
    spent = open_session(http, account, Q)
    assert spent.status_code == 403
    assert spent.json()["error"]["errors"][0]["reason"] == "quotaExceeded"
    network.advance_clock(25 * 3600)  # a new Pacific day, whatever the time now
    assert open_session(http, account, Q).status_code == 200


def test_an_unaudited_app_s_uploads_are_private_and_their_release_time_dropped(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account = channel(network, audited=False)
    metadata = {
        "snippet": {"title": "Locked"},
        "status": {"privacyStatus": "private", "publishAt": "2030-01-01T00:00:00Z"},
    }
    uri = open_session(http, account, 10, metadata).headers["location"]
    public = open_session(
        http,
        account,
        10,
        {"snippet": {"title": "Asked public"}, "status": {"privacyStatus": "public"}},
    ).headers["location"]
    assert put(http, account, uri, 0, b"0123456789", 10).json()["status"].get("publishAt") is None
    video = put(http, account, public, 0, b"0123456789", 10).json()
    assert video["status"]["privacyStatus"] == "private"


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ({"snippet": {"title": ""}}, "invalidTitle"),
        ({"snippet": {"title": "a<b"}}, "invalidTitle"),
        ({"snippet": {"title": "t", "tags": ["x" * 501]}}, "invalidTags"),
        ({"snippet": {"title": "t", "categoryId": "99"}}, "invalidCategoryId"),
        (
            {
                "snippet": {"title": "t"},
                "status": {"privacyStatus": "public", "publishAt": "2030-01-01T00:00:00Z"},
            },
            "invalidPublishAt",
        ),
    ],
)
def test_bad_metadata_is_refused_before_a_session_opens(
    network: EmulatorServer, http: httpx.Client, metadata: dict[str, Any], reason: str
) -> None:
    account = channel(network)
    refused = open_session(http, account, 10, metadata)
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0]["reason"] == reason


def test_the_owner_finds_a_video_by_its_tag_others_do_not_see_it(
    network: EmulatorServer, http: httpx.Client
) -> None:
    owner = channel(network)
    metadata = {
        "snippet": {"title": "Mine", "tags": ["handpost-abc"]},
        "status": {"privacyStatus": "private"},
    }
    uri = open_session(http, owner, 4, metadata).headers["location"]
    video_id = put(http, owner, uri, 0, b"abcd", 4).json()["id"]
    api = f"{owner['base_url']}/youtube/v3"
    uploads = http.get(
        f"{api}/channels", params={"part": "contentDetails", "mine": "true"}, headers=auth(owner)
    ).json()["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
    listed = http.get(
        f"{api}/playlistItems",
        params={"part": "contentDetails", "playlistId": uploads, "maxResults": "50"},
        headers=auth(owner),
    ).json()
    assert [i["contentDetails"]["videoId"] for i in listed["items"]] == [video_id]
    mine = http.get(
        f"{api}/videos", params={"part": "snippet,status", "id": video_id}, headers=auth(owner)
    )
    assert mine.json()["items"][0]["snippet"]["tags"] == ["handpost-abc"]
    other = network.register_account("youtube")
    theirs = http.get(
        f"{api}/videos", params={"part": "snippet", "id": video_id}, headers=auth(other)
    )
    assert theirs.json()["items"] == []
