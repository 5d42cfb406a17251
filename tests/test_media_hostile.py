"""Hostile input on every media endpoint: each is refused with a problem and changes nothing."""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
import zlib

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import AppFactory
from tests.support.api import assert_problem
from tests.support.media import (
    OCTETS,
    TUS,
    UPLOADS,
    create_upload,
    image_bytes,
    patch_bytes,
    upload,
    upload_ok,
)

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200

# Media links are signed with a key derived from HANDPOST_SECRET_KEY (required on PostgreSQL).
pytestmark = pytest.mark.usefixtures("secret_key")


def _refused(client: TestClient, data: bytes, code: str) -> None:
    created = create_upload(client, len(data), filename="x.png")
    location = created.headers["Location"]
    answer = patch_bytes(client, location, 0, data)
    body = assert_problem(answer, 422, "unsupported-media")
    assert body["errors"][0]["code"] == code, body
    # Nothing is kept of a refused file.
    assert client.head(location, headers=TUS).status_code == 404
    assert client.get("/api/v1/media").json()["items"] == []


def test_an_executable_claiming_to_be_png_is_refused(client: TestClient) -> None:
    _refused(client, ELF, "unsupported-type")
    # The same bytes behind a PNG signature: they still do not decode as a PNG.
    _refused(client, b"\x89PNG\r\n\x1a\n" + ELF, "undecodable")


def test_a_zip_is_refused_and_a_polyglot_keeps_only_its_picture(client: TestClient) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.sh", "#!/bin/sh\necho owned\n")
    _refused(client, archive.getvalue(), "unsupported-type")
    polyglot = image_bytes("PNG", (30, 30)) + archive.getvalue()
    media = upload_ok(client, polyglot, alt_text="pixels")
    stored = client.get(media["content_url"]).content
    assert b"payload.sh" not in stored
    assert Image.open(io.BytesIO(stored)).size == (30, 30)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG that claims (and would decompress to) width x height pixels of zeros."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    rows = b"".join(compressor.compress(row) for _ in range(min(height, 64)))
    data = rows + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def test_decompression_bombs_and_huge_dimensions_are_refused_before_decoding(
    make_client: AppFactory,
) -> None:
    client = make_client(dispatch=False, media_max_pixels=1_000_000)
    _refused(client, _bomb_png(20_000, 20_000), "too-many-pixels")  # 400 MP in a few KB
    _refused(client, _bomb_png(1_000_001, 1), "too-many-pixels")
    # Far past Pillow's own bomb limit (2 x 89 MP): refused, not a 500.
    _refused(client, _bomb_png(65_535, 65_535), "too-many-pixels")


def test_truncated_images_are_refused(client: TestClient) -> None:
    data = image_bytes("PNG", (200, 200))
    _refused(client, data[: len(data) // 2], "undecodable")


def test_zero_byte_files_are_refused_at_creation(client: TestClient) -> None:
    assert_problem(create_upload(client, 0), 422, "empty-file")


@pytest.mark.parametrize("length", ["-1", "1e9", "abc", "", "99999999999999999999999"])
def test_a_malformed_upload_length_is_refused(client: TestClient, length: str) -> None:
    answer = client.post(UPLOADS, headers={**TUS, "Upload-Length": length})
    assert_problem(answer, 400, "invalid-upload-header")


def test_requests_without_the_tus_version_are_refused(client: TestClient) -> None:
    answer = client.post(UPLOADS, headers={"Upload-Length": "10", "Tus-Resumable": "0.2.2"})
    assert_problem(answer, 412, "tus-version")
    assert answer.headers["Tus-Version"] == "1.0.0"
    location = create_upload(client, 10).headers["Location"]
    answer = client.patch(
        location, content=b"x", headers={"Upload-Offset": "0", "Content-Type": OCTETS}
    )
    assert_problem(answer, 412, "tus-version")


def test_bytes_must_come_as_offset_octet_stream(client: TestClient) -> None:
    location = create_upload(client, 10).headers["Location"]
    answer = client.patch(
        location,
        content=b"0123456789",
        headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/json"},
    )
    assert_problem(answer, 415, "unsupported-content-type")
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize("offset", ["-5", "abc", "", "1.5"])
def test_a_malformed_offset_is_refused(client: TestClient, offset: str) -> None:
    location = create_upload(client, 10).headers["Location"]
    answer = client.patch(
        location,
        content=b"x",
        headers={**TUS, "Upload-Offset": offset, "Content-Type": OCTETS},
    )
    assert_problem(answer, 400, "invalid-upload-header")


def test_more_bytes_than_promised_keep_nothing(client: TestClient) -> None:
    data = image_bytes("PNG", (100, 100))
    location = create_upload(client, len(data)).headers["Location"]
    assert patch_bytes(client, location, 0, data[:100]).status_code == 204
    # Declared: refused before reading.
    assert_problem(
        patch_bytes(client, location, 100, data[100:] + b"extra"), 413, "upload-too-long"
    )
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "100"

    # Undeclared (chunked, no Content-Length): refused once it runs past the end.
    def body() -> object:
        yield data[100:]
        yield b"a few bytes too many"

    answer = client.patch(
        location,
        content=body(),
        headers={**TUS, "Upload-Offset": "100", "Content-Type": OCTETS},
    )
    assert_problem(answer, 413, "upload-too-long")
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "100"
    assert patch_bytes(client, location, 100, data[100:]).status_code == 204


def test_a_content_length_that_lies_short_keeps_what_arrived(client: TestClient) -> None:
    """A client that says more than it sends and hangs up: the bytes that came are kept."""
    data = image_bytes("PNG", (100, 100), noise=True)
    location = create_upload(client, len(data)).headers["Location"]
    app = client.app
    sent = data[:300]

    async def run() -> httpx.Response:
        messages = [
            {"type": "http.request", "body": sent, "more_body": True},
            {"type": "http.disconnect"},
        ]
        answers: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            answers.append(message)

        headers = [
            (b"tus-resumable", b"1.0.0"),
            (b"upload-offset", b"0"),
            (b"content-type", OCTETS.encode()),
            (b"content-length", str(len(data)).encode()),
            (b"authorization", client.headers["Authorization"].encode()),
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "PATCH",
            "scheme": "http",
            "path": location,
            "raw_path": location.encode(),
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        await app(scope, receive, send)  # type: ignore[arg-type]
        return httpx.Response(200)

    asyncio.run(run())
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "300"
    assert patch_bytes(client, location, 300, data[300:]).status_code == 204


def test_parallel_patches_racing_one_upload_never_both_append(
    make_client: AppFactory,
) -> None:
    """Two requests at the same offset: one appends, the other is refused; the file is whole."""
    client = make_client(dispatch=False)
    data = image_bytes("PNG", (300, 300), noise=True)
    location = create_upload(client, len(data)).headers["Location"]
    half = len(data) // 2
    first_in = asyncio.Event()

    async def slow_body() -> object:
        yield data[:1000]
        first_in.set()
        await asyncio.sleep(0.5)
        yield data[1000:half]

    async def race() -> list[int]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=dict(client.headers)
        ) as async_client:
            headers = {**TUS, "Upload-Offset": "0", "Content-Type": OCTETS}
            slow = asyncio.create_task(
                async_client.patch(location, content=slow_body(), headers=headers)
            )
            await first_in.wait()
            await asyncio.sleep(0.1)
            fast = await async_client.patch(location, content=data[:half], headers=headers)
            return [(await slow).status_code, fast.status_code]

    # The lifespan of TestClient keeps the app running; the race runs on its own loop.
    statuses = asyncio.run(race())
    assert sorted(statuses) == [204, 409], statuses
    offset = int(client.head(location, headers=TUS).headers["Upload-Offset"])
    assert offset == half
    assert patch_bytes(client, location, offset, data[offset:]).status_code == 204
    media_id = location.rsplit("/", 1)[1]
    assert client.get(f"/api/v1/media/{media_id}").json()["state"] == "ready"


def test_path_traversal_in_a_file_name_goes_nowhere(client: TestClient, tmp_path: object) -> None:
    for name in ("../../etc/passwd", "..\\..\\boot.ini", "/abs/path.png", ".hidden\x00.png"):
        media = upload_ok(client, image_bytes(), filename=name, alt_text="x")
        assert "/" not in media["filename"] and "\\" not in media["filename"]
        assert ".." not in media["filename"] and "\x00" not in media["filename"]
        answer = client.get(media["content_url"])
        assert answer.status_code == 200
        assert "/" not in answer.headers["content-disposition"].split("filename=")[1]


@pytest.mark.parametrize("bad", ["line\x00nul", "bell\x07", "esc\x1b[31m", "del\x7f"])
def test_control_characters_in_alt_text_are_refused(client: TestClient, bad: str) -> None:
    body = assert_problem(create_upload(client, 100, alt_text=bad), 422, "validation-error")
    assert body["errors"][0]["field"] == "alt_text"
    media = upload_ok(client, image_bytes(), alt_text="fine")
    answer = client.patch(f"/api/v1/media/{media['id']}", json={"alt_text": bad})
    assert_problem(answer, 422, "validation-error")
    assert client.get(f"/api/v1/media/{media['id']}").json()["alt_text"] == "fine"


@pytest.mark.parametrize(
    "value",
    [
        "filename",  # no value is allowed by tus, but then it must still be a key
        "filename !!!notbase64",
        "filename " + "A" * 9000,
        ",".join(f"k{i} YQ==" for i in range(20)),
        "filename YQ==,filename YQ==",
        "fil\u00e9name YQ==",
    ],
)
def test_malformed_metadata_is_refused(client: TestClient, value: str) -> None:
    answer = client.post(
        UPLOADS,
        headers={**TUS, "Upload-Length": "10", "Upload-Metadata": value.encode("latin-1")},
    )
    if value == "filename":
        assert answer.status_code == 201  # a key without a value is valid tus
        return
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_another_users_upload_id_and_unknown_ids(make_client: AppFactory) -> None:
    ada = make_client(dispatch=False, as_user="ada")
    eve = make_client(dispatch=False, as_user="eve")
    location = create_upload(ada, 100, filename="a.png").headers["Location"]
    for url in (location, f"{UPLOADS}/../../../etc/passwd", f"{UPLOADS}/{'f' * 32}"):
        answer = patch_bytes(eve, url, 0, b"\x89PNG")
        assert answer.status_code == 404, (url, answer.status_code)


def test_media_json_endpoints_keep_the_small_body_limit(make_client: AppFactory) -> None:
    client = make_client(dispatch=False, max_body_bytes=2048)
    media = upload_ok(client, image_bytes(), alt_text="x")
    answer = client.patch(f"/api/v1/media/{media['id']}", json={"alt_text": "y" * 4000})
    assert_problem(answer, 413, "body-too-large")
    answer = client.patch(f"/api/v1/media/{media['id']}", json={"alt_text": 5})
    assert_problem(answer, 422, "validation-error")


def test_upload_slots_are_bounded(make_client: AppFactory) -> None:
    client = make_client(dispatch=False, media_upload_concurrency=1)
    context = client.app.state.media  # type: ignore[attr-defined]
    assert context.slots.try_acquire()
    try:
        location = create_upload(client, 100).headers["Location"]
        answer = patch_bytes(client, location, 0, b"x" * 10)
        assert_problem(answer, 503, "overloaded")
        assert answer.headers["Retry-After"]
    finally:
        context.slots.release()
    # Nothing was stored meanwhile.
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "0"
    upload(client, image_bytes())  # and the slot is free again


def test_a_stalled_request_ends_before_its_lease_can_pass_to_another(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that stops sending mid-body: its bytes are kept and the upload is free again
    long before the lease could let a second request write beside it."""
    from service.media import service as media_service

    monkeypatch.setattr(media_service, "IDLE_SECONDS", 0.3)
    data = image_bytes("PNG", (100, 100), noise=True)
    location = create_upload(client, len(data)).headers["Location"]

    async def stalled() -> object:
        yield data[:500]
        await asyncio.sleep(3)
        yield data[500:]

    async def run() -> int:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=dict(client.headers)
        ) as async_client:
            headers = {**TUS, "Upload-Offset": "0", "Content-Type": OCTETS}
            answer = await async_client.patch(location, content=stalled(), headers=headers)
            return answer.status_code

    assert asyncio.run(run()) == 204
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "500"
    assert patch_bytes(client, location, 500, data[500:]).status_code == 204
