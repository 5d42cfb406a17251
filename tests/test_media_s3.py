"""Media in S3-compatible storage (a real moto server): resumable uploads across replicas,
parts of at least 5 MiB, presigned links, and clean-up."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pytest
from PIL import Image
from sqlmodel import select

from service.db import Database, utcnow
from service.media import service as media_service
from service.media.models import Media
from tests.conftest import AppFactory
from tests.support.api import assert_problem
from tests.support.media import TUS, create_upload, image_bytes, patch_bytes
from tests.support.s3 import S3Bucket

MiB = 1024 * 1024

# Media links are signed with a key derived from HANDPOST_SECRET_KEY (required on PostgreSQL).
pytestmark = pytest.mark.usefixtures("secret_key")


def test_an_upload_resumed_on_other_replicas_becomes_one_object(
    make_client: AppFactory, s3_bucket: S3Bucket, database: Database
) -> None:
    # Two replicas: same database, same bucket; chunks smaller than a part, so the pending
    # tail must travel between them through the bucket.
    replicas = [make_client(dispatch=False, **s3_bucket.settings()) for _ in range(2)]
    data = image_bytes("PNG", (2000, 2000), noise=True)
    assert len(data) > 2 * 5 * MiB
    location = create_upload(replicas[0], len(data), filename="noise.png").headers["Location"]
    offset, step, turn = 0, 3 * MiB, 0
    while offset < len(data):
        answer = patch_bytes(replicas[turn % 2], location, offset, data[offset : offset + step])
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
        head = replicas[(turn + 1) % 2].head(location, headers=TUS)
        assert int(head.headers["Upload-Offset"]) == offset  # the other replica agrees
        turn += 1
    media_id = location.rsplit("/", 1)[1]
    media = replicas[1].get(f"/api/v1/media/{media_id}").json()
    assert media["state"] == "ready", media
    assert (media["width"], media["height"]) == (2000, 2000)
    stored = replicas[0].get(media["content_url"])
    assert stored.status_code == 200
    original = Image.open(io.BytesIO(data))
    assert Image.open(io.BytesIO(stored.content)).tobytes() == original.tobytes()
    # Only the object and its thumbnail remain: no tail, no unfinished multipart upload.
    keys = s3_bucket.keys()
    assert [k.rsplit("/", 1)[1] for k in keys] == [media["id"], f"{media['id']}.thumb.jpg"]
    assert not s3_bucket.client().list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads")


def test_presigned_links_and_thumbnails_come_from_the_bucket(
    make_client: AppFactory, s3_bucket: S3Bucket
) -> None:
    client = make_client(dispatch=False, **s3_bucket.settings())
    data = image_bytes("JPEG", (80, 60))
    location = create_upload(client, len(data), alt_text="x").headers["Location"]
    assert patch_bytes(client, location, 0, data).status_code == 204
    media_id = location.rsplit("/", 1)[1]
    link = client.post(f"/api/v1/media/{media_id}/public-url")
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert (url.startswith(s3_bucket.endpoint) and "Signature" in url) or "X-Amz-" in url
    fetched = httpx.get(url)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.content == client.get(f"/api/v1/media/{media_id}/content").content
    thumbnail = client.get(client.get(f"/api/v1/media/{media_id}").json()["thumbnail_url"])
    assert thumbnail.status_code == 200


def test_refused_and_unused_media_leave_nothing_in_the_bucket(
    make_client: AppFactory, s3_bucket: S3Bucket, database: Database
) -> None:
    client = make_client(dispatch=False, **s3_bucket.settings())
    executable = b"MZ" + b"\x90" * 6 * MiB
    location = create_upload(client, len(executable)).headers["Location"]
    assert_problem(patch_bytes(client, location, 0, executable), 422, "unsupported-media")
    assert s3_bucket.keys() == []
    assert not s3_bucket.client().list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads")
    data = image_bytes("PNG", (40, 40))
    location = create_upload(client, len(data)).headers["Location"]
    assert patch_bytes(client, location, 0, data).status_code == 204
    half = create_upload(client, 6 * MiB).headers["Location"]
    assert patch_bytes(client, half, 0, b"\x89PNG" + b"x" * MiB).status_code == 204
    assert s3_bucket.keys()
    with database.session() as session:
        for media in session.exec(select(Media)).all():
            media.last_used_at = utcnow() - timedelta(days=30)
            session.add(media)
        session.commit()
    settings = client.app.state.settings  # type: ignore[attr-defined]
    assert media_service.purge_unused(database, settings) == "deleted 2 unused media"
    assert s3_bucket.keys() == []
    assert not s3_bucket.client().list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads")
