"""YouTube for the tests: a live channel on the emulator, a video in the media library, and
what the emulator's YouTube holds (the ground truth: the videos that exist)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.emulator.server import EmulatorServer
from tests.support.api import create_account, create_post
from tests.support.media import image_bytes, upload_ok, video_file

QUANTUM = 256 * 1024
# Small chunks, so a test video of some hundreds of kilobytes takes several requests.
CHUNK = QUANTUM
YOUTUBE_SETTINGS = {"youtube_chunk_bytes": CHUNK}
APP = "handpost-youtube-app"


@pytest.fixture(scope="session")
def youtube_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real MP4 of about 1.3 MB (five 256 KiB chunks and a bit), made once per session."""
    path = tmp_path_factory.mktemp("youtube") / "talk.mp4"
    return video_file(path, seconds=3.2, fps=10, size=(320, 240), noise=True)


def connect_channel(
    client: TestClient, emulator: EmulatorServer, *, audited: bool = True, **registration: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A live YouTube account on the emulator, its token bound to an app (a Google project)
    that has (or has not) passed YouTube's audit."""
    emulator.register_client(
        "youtube", ["http://127.0.0.1/connect/youtube/callback"], client_id=APP, audited=audited
    )
    registered = emulator.register_account("youtube", client_id=APP, **registration)
    account = create_account(
        client,
        "youtube",
        str(registered["username"]),
        mode="live",
        base_url=registered["base_url"],
        credentials={
            "access_token": registered["access_token"],
            "channel_id": registered["account"],
            "client_id": APP,
        },
    )
    return account, registered


def upload_video(client: TestClient, path: Path) -> dict[str, Any]:
    return upload_ok(client, path.read_bytes(), filename=path.name)


def post_video(
    client: TestClient,
    account_id: str,
    media: list[dict[str, Any]],
    text: str,
    title: str,
    **fields: Any,
) -> Any:
    """A YouTube post of ``media`` (the video, then any thumbnail), due now unless ``fields``
    give a time; the API's answer."""
    if not {"scheduled_at", "local_time", "state"} & set(fields):
        fields["publish_now"] = True
    refs = [{"media_id": m["id"]} for m in media]
    return create_post(client, account_id, text, title=title, media=refs, **fields)


def upload_thumbnail(client: TestClient) -> dict[str, Any]:
    """An image for a thumbnail (stored re-encoded: its size is the medium's size_bytes)."""
    return upload_ok(client, image_bytes("JPEG", (128, 72), noise=True), filename="thumb.jpg")


def videos(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """The videos on the emulator's YouTube."""
    return emulator.posts("youtube")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chunk_ranges(emulator: EmulatorServer) -> list[tuple[int, int]]:
    """(first, last) of every upload PUT that carried bytes, in order."""
    ranges = []
    for entry in emulator.received("youtube", endpoint="create"):
        header = entry.get("content_range") or ""
        spec = header.removeprefix("bytes ").split("/")[0]
        if "-" in spec:
            first, last = spec.split("-")
            ranges.append((int(first), int(last)))
    return ranges
