"""A real tus client (tuspy) against the real `handpost serve`, resuming a cut upload."""

from __future__ import annotations

import http.client
import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tusclient import client as tus_client

from tests.support.media import image_bytes
from tests.support.server import ServiceProcess, create_user_with_cli, login, serve

# Media links are signed with a key derived from HANDPOST_SECRET_KEY (required on PostgreSQL).
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("secret_key")]


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[tuple[ServiceProcess, str]]:
    create_user_with_cli(database_url, "ada", "correct horse battery")
    process = serve(
        tmp_path,
        database_url,
        HANDPOST_MEDIA_DIR=str(tmp_path / "media"),
        HANDPOST_SECRET_KEY_FILE=str(tmp_path / "handpost.key"),
        HANDPOST_DISPATCH="false",
    )
    with httpx.Client(base_url=process.base_url) as client:
        login(client, "ada", "correct horse battery")
        token = client.headers["Authorization"].removeprefix("Bearer ")
    try:
        yield process, token
    finally:
        process.stop()


def _media(process: ServiceProcess, token: str, url: str) -> dict[str, object]:
    media_id = url.rstrip("/").rsplit("/", 1)[1]
    answer = httpx.get(
        f"{process.base_url}/api/v1/media/{media_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_tuspy_uploads_in_chunks(service: tuple[ServiceProcess, str]) -> None:
    process, token = service
    data = image_bytes("PNG", (256, 256), noise=True)
    client = tus_client.TusClient(
        f"{process.base_url}/api/v1/media/uploads", headers={"Authorization": f"Bearer {token}"}
    )
    uploader = client.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=32 * 1024,
        metadata={"filename": "noise.png", "alt_text": "Static, like an old television"},
    )
    uploader.upload()
    assert uploader.offset == len(data)
    media = _media(process, token, uploader.url)
    assert media["state"] == "ready"
    assert media["alt_text"] == "Static, like an old television"
    assert (media["width"], media["height"]) == (256, 256)


def test_a_cut_connection_resumes_where_it_stopped(service: tuple[ServiceProcess, str]) -> None:
    process, token = service
    data = image_bytes("PNG", (512, 512), noise=True)
    client = tus_client.TusClient(
        f"{process.base_url}/api/v1/media/uploads", headers={"Authorization": f"Bearer {token}"}
    )
    first = client.uploader(file_stream=io.BytesIO(data), chunk_size=len(data))
    first.set_url(first.create_url())
    path = first.url.removeprefix(process.base_url)
    # The connection drops half-way through a PATCH that promised the whole file.
    half = len(data) // 2
    connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=10)
    connection.putrequest("PATCH", path)
    for name, value in {
        "Authorization": f"Bearer {token}",
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(len(data)),
    }.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(data[:half])
    time.sleep(0.3)
    connection.sock.close()  # type: ignore[union-attr]

    def offset() -> int:
        head = httpx.head(
            f"{process.base_url}{path}",
            headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"},
        )
        return int(head.headers["Upload-Offset"])

    deadline = time.monotonic() + 10
    while offset() < half and time.monotonic() < deadline:
        time.sleep(0.05)
    kept = offset()
    assert kept == half  # every byte that arrived was kept
    # A new client resumes from the server's offset (HEAD), sending only the rest.
    resumed = client.uploader(file_stream=io.BytesIO(data), url=first.url, chunk_size=64 * 1024)
    assert resumed.offset == half
    resumed.upload()
    assert resumed.offset == len(data)
    assert _media(process, token, first.url)["state"] == "ready"
