"""Uploading media over tus, what Handpost reads from it, and links to it."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import AppFactory
from tests.support.api import assert_problem
from tests.support.media import (
    GPS_IFD,
    TUS,
    UPLOADS,
    create_upload,
    image_bytes,
    patch_bytes,
    upload,
    upload_ok,
    video_file,
)

# Media links are signed with a key derived from HANDPOST_SECRET_KEY (required on PostgreSQL).
pytestmark = pytest.mark.usefixtures("secret_key")


def test_discovery_names_the_protocol_and_its_extensions(client: TestClient) -> None:
    answer = client.options(UPLOADS)
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert set(answer.headers["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
    }
    assert int(answer.headers["Tus-Max-Size"]) == 2 * 1024**3


def test_an_image_uploaded_in_chunks_is_read_from_its_content(client: TestClient) -> None:
    data = image_bytes("PNG", (300, 200))
    media = upload_ok(client, data, filename="not-really.gif", alt_text="A red field", chunk=97)
    assert (media["kind"], media["format"], media["mime_type"]) == ("image", "png", "image/png")
    assert (media["width"], media["height"]) == (300, 200)
    assert media["alt_text"] == "A red field"
    assert media["filename"] == "not-really.gif"
    thumbnail = client.get(media["thumbnail_url"], headers={"Authorization": ""})
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) <= 320


def test_a_video_is_probed_for_what_the_networks_check(client: TestClient, tmp_path: Path) -> None:
    path = video_file(tmp_path / "clip.mp4", seconds=2, fps=25, size=(160, 90))
    media = upload_ok(client, path.read_bytes(), filename="clip.mp4", chunk=4096)
    assert media["kind"] == "video"
    assert media["format"] == "mp4"
    assert media["video_codec"] == "h264"
    assert (media["width"], media["height"]) == (160, 90)
    assert media["frame_rate"] == 25
    assert 1900 <= media["duration_ms"] <= 2100
    assert media["size_bytes"] == path.stat().st_size
    assert client.get(media["thumbnail_url"]).headers["content-type"] == "image/jpeg"


def test_gps_position_and_camera_details_are_stripped_from_images(client: TestClient) -> None:
    data = image_bytes("JPEG", (120, 80), gps=True)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test's own premise
    media = upload_ok(client, data, alt_text="Red")
    stored = client.get(media["content_url"])
    assert stored.status_code == 200
    assert stored.headers["content-type"] == "image/jpeg"
    exif = Image.open(io.BytesIO(stored.content)).getexif()
    assert not exif.get_ifd(GPS_IFD)
    assert 0x0110 not in exif  # camera model
    assert b"Handpost Test Camera" not in stored.content


def test_creation_with_upload_sends_the_whole_file_in_one_request(client: TestClient) -> None:
    data = image_bytes("WEBP", (40, 40))
    answer = client.post(
        UPLOADS,
        content=data,
        headers={
            **TUS,
            "Upload-Length": str(len(data)),
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["Upload-Offset"] == str(len(data))
    assert answer.json()["state"] == "ready"
    assert answer.json()["format"] == "webp"


def test_head_tells_where_to_resume_and_a_wrong_offset_is_refused(client: TestClient) -> None:
    data = image_bytes("PNG", (200, 200))
    location = create_upload(client, len(data)).headers["Location"]
    assert patch_bytes(client, location, 0, data[:500]).status_code == 204
    head = client.head(location, headers=TUS)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "500"
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store"
    for wrong in (0, 499, 501):
        refused = patch_bytes(client, location, wrong, data[wrong:])
        body = assert_problem(refused, 409, "upload-offset-mismatch")
        assert body["upload_offset"] == 500
        assert refused.headers["Tus-Resumable"] == "1.0.0"
    assert patch_bytes(client, location, 500, data[500:]).status_code == 204
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == str(len(data))


def test_media_belongs_to_its_owner(make_client: AppFactory) -> None:
    ada = make_client(dispatch=False, as_user="ada")
    eve = make_client(dispatch=False, as_user="eve")
    media = upload_ok(ada, image_bytes(), alt_text="mine")
    data = image_bytes("PNG")
    location = create_upload(ada, len(data)).headers["Location"]
    assert_problem(eve.get(f"/api/v1/media/{media['id']}"), 404, "not-found")
    assert_problem(eve.get(media["content_url"]), 404, "not-found")
    assert_problem(
        eve.patch(f"/api/v1/media/{media['id']}", json={"alt_text": "x"}), 404, "not-found"
    )
    assert_problem(eve.delete(f"/api/v1/media/{media['id']}"), 404, "not-found")
    assert_problem(patch_bytes(eve, location, 0, data), 404, "not-found")
    assert eve.head(location, headers=TUS).status_code == 404
    assert_problem(eve.delete(location, headers=TUS), 404, "not-found")
    assert eve.get("/api/v1/media").json()["items"] == []
    # Nothing eve did changed ada's upload.
    assert ada.head(location, headers=TUS).headers["Upload-Offset"] == "0"


def test_alt_text_is_editable_and_media_can_be_deleted(client: TestClient) -> None:
    media = upload_ok(client, image_bytes())
    url = f"/api/v1/media/{media['id']}"
    edited = client.patch(url, json={"alt_text": "Two cats\non a sofa"})
    assert edited.status_code == 200
    assert edited.json()["alt_text"] == "Two cats\non a sofa"
    assert edited.headers["ETag"] == '"2"'
    assert_problem(
        client.patch(url, json={"alt_text": "x"}, headers={"If-Match": '"1"'}),
        412,
        "stale-version",
    )
    assert [m["id"] for m in client.get("/api/v1/media").json()["items"]] == [media["id"]]
    assert client.delete(url).status_code == 204
    assert_problem(client.get(url), 404, "not-found")
    assert_problem(client.get(media["content_url"]), 404, "not-found")
    assert client.get(media["thumbnail_url"]).status_code == 404


def test_an_unfinished_upload_can_be_terminated(client: TestClient) -> None:
    location = create_upload(client, 1000).headers["Location"]
    patch_bytes(client, location, 0, b"\xff\xd8\xff" + b"x" * 100)
    answer = client.delete(location, headers=TUS)
    assert answer.status_code == 204
    assert answer.headers["Tus-Resumable"] == "1.0.0"
    assert client.head(location, headers=TUS).status_code == 404


def test_public_links_are_signed_expire_and_need_a_public_address(
    make_client: AppFactory,
) -> None:
    plain = make_client(dispatch=False)
    media = upload_ok(plain, image_bytes(), alt_text="x")
    assert_problem(
        plain.post(f"/api/v1/media/{media['id']}/public-url"), 409, "public-url-not-configured"
    )
    public = make_client(
        dispatch=False, public_url="https://handpost.example.org/", media_url_seconds=60
    )
    answer = public.post(f"/api/v1/media/{media['id']}/public-url")
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert url.startswith("https://handpost.example.org/m/")
    path = url.removeprefix("https://handpost.example.org")
    anonymous = make_client(dispatch=False, as_user=None)
    fetched = anonymous.get(path, follow_redirects=False)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.content == plain.get(media["content_url"]).content
    token = path.removeprefix("/m/")
    payload, mac = token.split(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    for bad in (f"{tampered}.{mac}", f"{payload}.{'A' * len(mac)}", "x", "a.b.c", "%2e%2e"):
        assert anonymous.get(f"/m/{bad}").status_code == 404


def test_a_signed_link_stops_working_when_it_expires(make_client: AppFactory) -> None:
    from datetime import timedelta

    from service.db import utcnow
    from service.media import links

    client = make_client(dispatch=False)
    media = upload_ok(client, image_bytes(), alt_text="x")
    context = client.app.state.media  # type: ignore[attr-defined]
    expired = links.sign(
        context.signing_key,
        links.SignedTarget(media["id"], "file", int((utcnow() - timedelta(seconds=1)).timestamp())),
    )
    assert client.get(f"/m/{expired}").status_code == 404
    fresh = links.sign(
        context.signing_key,
        links.SignedTarget(media["id"], "file", int(time.time()) + 30),
    )
    assert client.get(f"/m/{fresh}").status_code == 200


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_images_keep_their_frames(client: TestClient, fmt: str) -> None:
    media = upload_ok(client, image_bytes(fmt, (50, 50), frames=4), alt_text="blink")
    assert media["animated"] is True
    stored = Image.open(io.BytesIO(client.get(media["content_url"]).content))
    assert stored.n_frames == 4


def test_a_webm_video_is_recognised(client: TestClient, tmp_path: Path) -> None:
    path = video_file(tmp_path / "clip.webm", codec="libvpx-vp9", container_format="webm")
    media = upload_ok(client, path.read_bytes(), filename="clip.webm")
    assert (media["format"], media["video_codec"], media["mime_type"]) == (
        "webm",
        "vp9",
        "video/webm",
    )


def test_uploads_have_their_own_size_limit(make_client: AppFactory) -> None:
    client = make_client(dispatch=False, media_max_bytes=10_000, max_body_bytes=1024)
    refused = create_upload(client, 10_001)
    assert_problem(refused, 413, "upload-too-large")
    assert refused.headers["Tus-Max-Size"] == "10000"
    # Bigger than the general body limit, within the media one.
    data = image_bytes("PNG", (60, 60))
    data += b"\0" * (5000 - len(data)) if len(data) < 5000 else b""
    assert len(data) > 1024
    media = upload(client, data)
    assert media["state"] == "ready"
    # Every other route keeps the small limit.
    assert_problem(
        client.post("/api/v1/posts", content=b"{" + b" " * 2000 + b"}"),
        413,
        "body-too-large",
    )


def test_an_upload_whose_last_request_died_before_reading_it_is_finished_by_an_empty_patch(
    client: TestClient, database: object
) -> None:
    from sqlmodel import select

    from service.media.models import Media

    data = image_bytes("PNG", (90, 90), noise=True)
    media = upload_ok(client, data, alt_text="x")
    stored = client.get(media["content_url"]).content
    # As if the process died after the last byte was stored but before the file was read.
    with database.session() as session:  # type: ignore[attr-defined]
        row = session.exec(select(Media).where(Media.id == media["id"])).one()
        row.state = "uploading"
        session.add(row)
        session.commit()
    location = f"{UPLOADS}/{media['id']}"
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == str(len(data))
    assert patch_bytes(client, location, len(data), b"").status_code == 204
    again = client.get(f"/api/v1/media/{media['id']}").json()
    assert again["state"] == "ready"
    assert client.get(media["content_url"]).content == stored
