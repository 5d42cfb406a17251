"""Media in posts: order, alt text, each network's rules, and the clean-up of unused files."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service.accounts.models import Account
from service.config import Settings
from service.db import Database, utcnow
from service.media import service as media_service
from service.media.models import Media
from service.networks.base import ServerLimits
from tests.conftest import AppFactory
from tests.support.api import assert_problem, create_account, create_post, in_seconds
from tests.support.media import image_bytes, upload_ok, video_file

# Media links are signed with a key derived from HANDPOST_SECRET_KEY (required on PostgreSQL).
pytestmark = pytest.mark.usefixtures("secret_key")


def _post(client: TestClient, account: dict[str, Any], text: str, media: list[Any], **extra: Any):
    return create_post(client, account["id"], text, media=media, **extra)


def test_a_post_lists_its_media_in_order_with_alt_text_each(client: TestClient) -> None:
    account = create_account(client, "mastodon")
    first = upload_ok(client, image_bytes("PNG"), filename="a.png", alt_text="First")
    second = upload_ok(client, image_bytes("JPEG"), filename="b.jpg", alt_text="Second")
    answer = _post(
        client,
        account,
        "Two pictures from the trip",
        [{"media_id": second["id"], "alt_text": "The harbour at dawn"}, {"media_id": first["id"]}],
    )
    assert answer.status_code == 201, answer.text
    post = answer.json()
    assert [(m["media_id"], m["position"], m["alt_text"]) for m in post["media"]] == [
        (second["id"], 0, "The harbour at dawn"),
        (first["id"], 1, "First"),
    ]
    assert post["media"][0]["thumbnail_url"].startswith("/m/")
    # Reordered and one removed with PATCH; GET and the listing agree.
    url = f"/api/v1/posts/{post['id']}"
    patched = client.patch(
        url,
        json={"media": [{"media_id": first["id"], "alt_text": "Only this"}]},
        headers={"If-Match": answer.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text
    assert [m["alt_text"] for m in patched.json()["media"]] == ["Only this"]
    assert client.get(url).json()["media"] == patched.json()["media"]
    listed = client.get("/api/v1/posts").json()["items"][0]
    assert listed["media"] == patched.json()["media"]
    # A text edit keeps the media.
    kept = client.patch(
        url, json={"text": "One picture from the trip"}, headers={"If-Match": '"2"'}
    )
    assert [m["media_id"] for m in kept.json()["media"]] == [first["id"]]
    # An edit is held to the rules too, and a refused edit changes nothing.
    many = [upload_ok(client, image_bytes(color=(9, i, 9)), alt_text="m") for i in range(4)]
    refused = client.patch(
        url,
        json={"media": [{"media_id": m["id"]} for m in [first, *many]]},
        headers={"If-Match": '"3"'},
    )
    assert assert_problem(refused, 422, "validation-error")["errors"][0]["code"] == (
        "too-many-media"
    )
    assert [m["media_id"] for m in client.get(url).json()["media"]] == [first["id"]]
    # Used media cannot be deleted.
    assert_problem(client.delete(f"/api/v1/media/{first['id']}"), 409, "media-in-use")
    assert client.delete(f"/api/v1/media/{second['id']}").status_code == 204


def test_each_refusal_names_the_rule_and_the_file(client: TestClient) -> None:
    account = create_account(client, "x")
    images = [
        upload_ok(client, image_bytes(color=(i, 0, 0)), filename=f"p{i}.jpg", alt_text="a")
        for i in range(5)
    ]
    answer = _post(client, account, "Five pictures", [{"media_id": m["id"]} for m in images])
    body = assert_problem(answer, 422, "validation-error")
    error = body["errors"][0]
    assert (error["field"], error["code"]) == ("media", "too-many-media")
    assert client.get("/api/v1/posts").json()["items"] == []


def test_alt_text_is_required_for_images_unless_turned_off(make_client: AppFactory) -> None:
    client = make_client(dispatch=False)
    account = create_account(client, "bluesky")
    bare = upload_ok(client, image_bytes(), filename="cat.jpg")
    body = assert_problem(
        _post(client, account, "A cat", [{"media_id": bare["id"]}]), 422, "validation-error"
    )
    error = body["errors"][0]
    assert (error["field"], error["code"]) == ("media[0]", "alt-text-required")
    assert "cat.jpg" in error["message"]
    relaxed = make_client(dispatch=False, require_alt_text=False)
    assert _post(relaxed, account, "A cat", [{"media_id": bare["id"]}]).status_code == 201


def test_network_limits_on_size_format_mixing_and_video(client: TestClient, tmp_path: Path) -> None:
    bluesky = create_account(client, "bluesky")
    threads = create_account(client, "threads")
    linkedin = create_account(client, "linkedin")
    big = upload_ok(
        client, image_bytes("PNG", (700, 700), noise=True), filename="big.png", alt_text="noise"
    )
    assert big["size_bytes"] > 1_000_000
    webp = upload_ok(client, image_bytes("WEBP"), filename="w.webp", alt_text="w")
    clip = video_file(tmp_path / "clip.mp4", seconds=1, fps=25, size=(64, 48))
    video = upload_ok(client, clip.read_bytes(), filename="clip.mp4")

    def codes(account: dict[str, Any], items: list[dict[str, Any]]) -> list[str]:
        answer = _post(client, account, "Text", [{"media_id": m["id"]} for m in items])
        return [e["code"] for e in assert_problem(answer, 422, "validation-error")["errors"]]

    assert codes(bluesky, [big]) == ["image-too-large"]
    assert codes(bluesky, [webp, video]) == ["mixed-media"]
    assert codes(threads, [webp]) == ["image-format"]
    assert codes(linkedin, [video]) == ["video-too-short"]  # 1 s; LinkedIn needs 3
    # Threads mixes images and video in a carousel.
    jpeg = upload_ok(client, image_bytes("JPEG"), filename="j.jpg", alt_text="j")
    fine = _post(client, threads, "Carousel", [{"media_id": jpeg["id"]}, {"media_id": video["id"]}])
    assert fine.status_code == 201, fine.text


def test_preview_reports_media_problems_without_saving(client: TestClient) -> None:
    account = create_account(client, "x")
    image = upload_ok(client, image_bytes(), filename="p.jpg")
    answer = client.post(
        "/api/v1/posts/preview",
        json={
            "account_id": account["id"],
            "text": "Hello",
            "media": [{"media_id": image["id"]}, {"media_id": "f" * 32}],
        },
    )
    assert answer.status_code == 200, answer.text
    codes = {(v["field"], v["code"]) for v in answer.json()["violations"]}
    assert ("media[1]", "unknown-media") in codes
    assert ("media[0]", "alt-text-required") in codes


def test_schedule_checks_the_media_again(make_client: AppFactory) -> None:
    relaxed = make_client(dispatch=False, require_alt_text=False)
    account = create_account(relaxed, "mastodon")
    image = upload_ok(relaxed, image_bytes(), filename="p.jpg")
    draft = _post(relaxed, account, "Draft with a picture", [{"media_id": image["id"]}])
    assert draft.status_code == 201
    strict = make_client(dispatch=False)
    answer = strict.post(
        f"/api/v1/posts/{draft.json()['id']}/schedule", json={"scheduled_at": in_seconds(3600)}
    )
    body = assert_problem(answer, 422, "validation-error")
    assert body["errors"][0]["code"] == "alt-text-required"


def test_media_that_is_not_yours_or_unfinished_is_refused(make_client: AppFactory) -> None:
    ada = make_client(dispatch=False, as_user="ada")
    eve = make_client(dispatch=False, as_user="eve")
    account = create_account(eve, "mastodon")
    theirs = upload_ok(ada, image_bytes(), alt_text="ada's")
    from tests.support.media import create_upload

    unfinished = create_upload(eve, 100).headers["Location"].rsplit("/", 1)[1]
    answer = _post(
        eve,
        account,
        "Stolen",
        [{"media_id": theirs["id"]}, {"media_id": unfinished}, {"media_id": unfinished}],
    )
    body = assert_problem(answer, 422, "validation-error")
    assert [e["code"] for e in body["errors"]] == [
        "unknown-media",
        "upload-incomplete",
        "duplicate-media",
    ]


def test_the_same_picture_on_two_networks_is_fine_the_same_text_is_not(
    client: TestClient,
) -> None:
    mastodon = create_account(client, "mastodon")
    bluesky = create_account(client, "bluesky")
    image = upload_ok(client, image_bytes(), alt_text="Sunset")
    ref = [{"media_id": image["id"]}]
    first = _post(client, mastodon, "Sunset over the bay, the fediverse edition", ref)
    assert first.status_code == 201
    other = _post(client, bluesky, "Skeeting this one: an orange sky over the water tonight", ref)
    assert other.status_code == 201, other.text
    same = _post(client, bluesky, "Sunset over the bay, the fediverse edition", [])
    assert_problem(same, 409, "cross-post")
    copy = client.post(
        f"/api/v1/posts/{first.json()['id']}/copy", json={"account_id": bluesky["id"]}
    )
    assert copy.status_code == 201
    assert [m["media_id"] for m in copy.json()["media"]] == [image["id"]]


def test_live_accounts_take_media_now_every_network_sends_it(client: TestClient) -> None:
    # YouTube was the last network without a live media flow (its resumable upload).
    account = create_account(
        client,
        "youtube",
        "@ada",
        mode="live",
        credentials={"access_token": "tok-123456", "channel_id": "UCada"},
    )
    image = upload_ok(client, image_bytes(), alt_text="x")
    answer = _post(client, account, "Live", [{"media_id": image["id"]}], title="A talk")
    assert answer.status_code == 201, answer.text
    assert [m["media_id"] for m in answer.json()["media"]] == [image["id"]]


def test_mastodon_limits_come_from_the_instance_when_known() -> None:
    account = Account(
        user_id="u", network="mastodon", handle="a", handle_key="a", purpose="p", audience="a"
    )
    defaults = media_service.limits_for_account(account)
    assert (defaults.max_items, defaults.max_image_bytes) == (4, 16_777_216)
    # As service.accounts.limits keeps what /api/v2/instance said.
    account.server_limits = json.dumps(
        ServerLimits(
            max_media_attachments=6,
            media={"image_size_limit": 8_000_000, "description_limit": "x"},
        ).as_json()
    )
    limits = media_service.limits_for_account(account)
    assert (limits.max_items, limits.max_images, limits.max_image_bytes) == (6, 6, 8_000_000)
    assert limits.alt_text_limit == 1500  # a malformed value is ignored


def test_unused_media_is_deleted_after_its_time_and_used_media_is_kept(
    make_client: AppFactory, database: Database, tmp_path: Path
) -> None:
    client = make_client(dispatch=False)
    account = create_account(client, "mastodon")
    used = upload_ok(client, image_bytes(), alt_text="kept")
    unused = upload_ok(client, image_bytes("PNG"), alt_text="dropped")
    assert _post(client, account, "Keep", [{"media_id": used["id"]}]).status_code == 201
    from tests.support.media import create_upload

    abandoned = create_upload(client, 100).headers["Location"].rsplit("/", 1)[1]
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    # Nothing is old enough yet.
    assert media_service.purge_unused(database, settings) is None
    with database.session() as session:
        for media in session.exec(select(Media)).all():
            media.last_used_at = utcnow() - timedelta(hours=settings.media_unused_hours + 1)
            session.add(media)
        session.commit()
    assert media_service.purge_unused(database, settings) == "deleted 2 unused media"
    assert client.get(f"/api/v1/media/{used['id']}").status_code == 200
    assert client.get(f"/api/v1/media/{unused['id']}").status_code == 404
    assert client.get(f"/api/v1/media/{abandoned}").status_code == 404
    files = [p.name for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert sorted(files) == sorted([used["id"], f"{used['id']}.thumb.jpg"])


def test_two_replicas_purging_at_once_delete_each_file_once(
    make_client: AppFactory, database: Database
) -> None:
    import threading

    client = make_client(dispatch=False)
    for i in range(6):
        upload_ok(client, image_bytes(color=(i, i, i)), alt_text="x")
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    with database.session() as session:
        for media in session.exec(select(Media)).all():
            media.last_used_at = utcnow() - timedelta(days=365)
            session.add(media)
        session.commit()
    results: list[str | None] = []
    replicas = [
        threading.Thread(
            target=lambda: results.append(
                media_service.purge_unused(Database(database.url), settings)
            )
        )
        for _ in range(2)
    ]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join()
    deleted = sum(int(r.split()[1]) for r in results if r)
    assert deleted == 6
    assert client.get("/api/v1/media").json()["items"] == []


@pytest.mark.parametrize(
    "network", ["x", "linkedin", "facebook", "threads", "mastodon", "bluesky", "youtube"]
)
def test_the_networks_endpoint_shows_each_networks_media_limits(
    client: TestClient, network: str
) -> None:
    info = {n["network"]: n for n in client.get("/api/v1/networks").json()}[network]
    limits = info["media"]
    assert limits["max_items"] >= 1
    assert limits["source"]
