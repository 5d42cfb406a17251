"""Facebook Pages with media, live against the emulator: photos uploaded unpublished and
attached to the feed post in order, with alt text; a video through the Resumable Upload API
(resumed from where an interrupted upload stopped), published as a Page video and waited for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import attempts, connect, credentials_for, live_client, publish_now, settled
from tests.support.media import digest, image_bytes, upload_ok, video_file

pytestmark = pytest.mark.usefixtures("secret_key")

APP_ID = "1234567890"


def _page(client: Any, network: EmulatorServer) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Page managed by a person whose user token (and the app id) Handpost keeps."""
    person = network.register_account("facebook", kind="user", username="ada.person")
    registered = network.register_account("facebook", managed_by=person["account"])
    return connect(
        client,
        network,
        "facebook",
        credentials=credentials_for("facebook", registered)
        | {"user_access_token": person["access_token"], "app_id": APP_ID},
        page_id=registered["account"],
    )


def test_photos_are_attached_to_the_post_in_order_with_their_alt_text(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, registered = _page(client, network)
    files = [image_bytes("JPEG", color=c) for c in ((250, 0, 0), (0, 250, 0), (0, 0, 250))]
    media = [
        upload_ok(client, data, filename=f"p{i}.jpg", alt_text=f"Picture {i}")
        for i, data in enumerate(files)
    ]
    post = publish_now(
        client,
        account["id"],
        "Our summer, in three pictures.",
        link="https://example.org/album",
        media=[{"media_id": m["id"]} for m in media],
    )
    final = settled(client, post["id"])
    assert final["state"] == "published", attempts(client, post["id"])

    [story] = network.posts("facebook")
    assert [m["sha256"] for m in story["details"]["media"]] == [digest(d) for d in files]
    assert [m["alt_text"] for m in story["details"]["media"]] == [f"Picture {i}" for i in range(3)]
    # The link stays in the text: a link card and photos do not mix.
    assert story["text"] == "Our summer, in three pictures.\n\nhttps://example.org/album"
    photos = network.received("facebook", "photos")
    assert [p["body"]["published"] for p in photos] == ["false"] * 3
    assert final["external_url"] == story["url"]
    # The Page token went in the query string, never into a record.
    record = attempts(client, post["id"])[-1]["request"]
    assert registered["access_token"] not in str(record)


def _video(client: Any, tmp_path: Path) -> tuple[dict[str, Any], bytes]:
    path = video_file(tmp_path / "garden.mp4", seconds=2.0, size=(320, 240), fps=24)
    data = path.read_bytes()
    return upload_ok(client, data, filename="garden.mp4", alt_text="The garden"), data


def test_a_video_goes_through_an_upload_session_and_is_waited_for(
    make_client: AppFactory, network: EmulatorServer, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, registered = _page(client, network)
    medium, data = _video(client, tmp_path)
    network.configure(media_processing_s=1.5)
    post = publish_now(
        client, account["id"], "The garden in June.", media=[{"media_id": medium["id"]}]
    )
    final = settled(client, post["id"], timeout=30)
    assert final["state"] == "published", attempts(client, post["id"])

    [session] = network.received("facebook", "upload_session")
    assert session["path"].endswith(f"/{APP_ID}/uploads")
    assert session["query"]["file_length"] == str(len(data))
    assert session["query"]["file_type"] == "video/mp4"
    [story] = network.posts("facebook")
    assert story["text"] == "The garden in June."
    assert story["details"]["media"] == [
        {"id": story["id"], "kind": "video", "sha256": digest(data)}
    ]
    # Published after Facebook finished processing it (the status was asked more than once).
    asks = [r for r in network.received("facebook", "get") if r["query"].get("fields") == "status"]
    assert len(asks) >= 2
    assert final["external_id"] == story["id"]
    # Neither the person's token nor the Page's is in the publish log.
    record = str(attempts(client, post["id"])[-1]["request"])
    assert registered["access_token"] not in record
    assert session["query"]["access_token"] not in record


def test_an_interrupted_video_upload_resumes_where_it_stopped(
    make_client: AppFactory, network: EmulatorServer, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, _ = _page(client, network)
    medium, data = _video(client, tmp_path)
    # The bytes arrive, then the connection drops before the answer.
    network.inject_fault("facebook", "upload", "reset_after_create")
    post = publish_now(
        client, account["id"], "Resumed, not resent.", media=[{"media_id": medium["id"]}]
    )
    final = settled(client, post["id"], timeout=30)
    assert final["state"] == "published", attempts(client, post["id"])
    assert [a["outcome"] for a in attempts(client, post["id"])] == ["retrying", "published"]

    # One session; the file's bytes went once, the retry asked where the session stood.
    assert len(network.received("facebook", "upload_session")) == 1
    uploads = network.received("facebook", "upload")
    sent = [u for u in uploads if u["method"] == "POST"]
    assert sum(u["body"]["size"] for u in sent) == len(data)
    assert any(u["method"] == "GET" for u in uploads)
    [story] = network.posts("facebook")
    assert story["details"]["media"][0]["sha256"] == digest(data)


def test_a_video_facebook_cannot_process_fails_the_post(
    make_client: AppFactory, network: EmulatorServer, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, _ = _page(client, network)
    medium, _ = _video(client, tmp_path)
    network.inject_fault(
        "facebook", "videos", "media_processing_failed", message="The video file is corrupt"
    )
    post = publish_now(client, account["id"], "Broken.", media=[{"media_id": medium["id"]}])
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert "garden.mp4" in entry["message"] and "The video file is corrupt" in entry["message"]


def test_a_page_without_the_persons_token_cannot_take_a_video(
    make_client: AppFactory, network: EmulatorServer, tmp_path: Path
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "facebook")  # the Page token only
    medium, _ = _video(client, tmp_path)
    post = publish_now(client, account["id"], "No session.", media=[{"media_id": medium["id"]}])
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert "Connect the Page again" in entry["message"]
    assert network.received("facebook", "upload_session") == []
