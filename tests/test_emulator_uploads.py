"""The emulator's upload protocols for LinkedIn, Facebook Pages and Threads, driven over real
HTTP without Handpost: what each refuses, as the networks' documents say they do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator import EmulatorServer

pytest_plugins = ["tests.emulator.fixtures"]

LINKEDIN = {"LinkedIn-Version": "202601", "X-Restli-Protocol-Version": "2.0.0"}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


def _linkedin(network: EmulatorServer) -> tuple[dict[str, Any], dict[str, str], str]:
    account = network.register_account("linkedin")
    headers = {**LINKEDIN, "Authorization": f"Bearer {account['access_token']}"}
    return account, headers, network.url_for("linkedin")


def _video_init(
    http: httpx.Client, base: str, headers: dict[str, str], owner: str, size: int
) -> Any:
    answer = http.post(
        f"{base}/rest/videos?action=initializeUpload",
        headers=headers,
        json={"initializeUploadRequest": {"owner": owner, "fileSizeBytes": size}},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def test_linkedin_finalize_needs_every_parts_etag_in_order(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account, headers, base = _linkedin(network)
    network.configure(linkedin_video_part_bytes=4)
    value = _video_init(http, base, headers, account["author"], 10)
    parts = value["uploadInstructions"]
    assert [(p["firstByte"], p["lastByte"]) for p in parts] == [(0, 3), (4, 7), (8, 9)]
    data = b"0123456789"
    etags = []
    for part in parts:
        answer = http.put(part["uploadUrl"], content=data[part["firstByte"] : part["lastByte"] + 1])
        assert answer.status_code == 200
        etags.append(answer.headers["etag"])
    # A part of the wrong size, and a forged upload URL, are refused.
    assert http.put(parts[0]["uploadUrl"], content=b"01").status_code == 400
    assert (
        http.put(parts[0]["uploadUrl"].replace("sig=", "sig=x"), content=b"0123").status_code == 403
    )

    def finalize(ids: list[str]) -> httpx.Response:
        request = {"video": value["video"], "uploadToken": "", "uploadedPartIds": ids}
        return http.post(
            f"{base}/rest/videos?action=finalizeUpload",
            headers=headers,
            json={"finalizeUploadRequest": request},
        )

    assert finalize(list(reversed(etags))).status_code == 400
    assert finalize(etags[:2]).status_code == 400
    assert finalize(etags).status_code == 200
    [asset] = network.media("linkedin")
    assert asset["size"] == 10 and asset["state"] == "succeeded"


def test_linkedin_refuses_a_post_naming_media_still_processing(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account, headers, base = _linkedin(network)
    network.configure(media_processing_s=60)
    init = http.post(
        f"{base}/rest/images?action=initializeUpload",
        headers=headers,
        json={"initializeUploadRequest": {"owner": account["author"]}},
    ).json()["value"]
    assert http.put(init["uploadUrl"], content=b"\x89PNG....", headers=headers).status_code == 201
    status = http.get(f"{base}/rest/images/{init['image']}", headers=headers).json()
    assert status["status"] == "PROCESSING"
    body = {
        "author": account["author"],
        "commentary": "Too early",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
        "content": {"media": {"id": init["image"], "altText": "A"}},
    }
    refused = http.post(f"{base}/rest/posts", headers=headers, json=body)
    assert refused.status_code == 422 and "PROCESSING" in refused.json()["message"]
    network.advance_clock(61)
    assert http.post(f"{base}/rest/posts", headers=headers, json=body).status_code == 201
    # Another member's image cannot be attached.
    other = network.register_account("linkedin")
    theirs = {**headers, "Authorization": f"Bearer {other['access_token']}"}
    stolen = http.post(
        f"{base}/rest/posts", headers=theirs, json=body | {"author": other["author"]}
    )
    assert stolen.status_code == 422


def test_facebook_resumable_upload_keeps_what_arrived_and_says_where_to_go_on(
    network: EmulatorServer, http: httpx.Client
) -> None:
    person = network.register_account("facebook", kind="user", username="ada.person")
    page = network.register_account("facebook", managed_by=person["account"])
    graph = f"{network.url_for('facebook')}/v24.0"
    oauth = {"Authorization": f"OAuth {person['access_token']}"}
    opened = http.post(
        f"{graph}/42/uploads",
        params={"file_name": "v.mp4", "file_length": "10", "file_type": "video/mp4"},
        headers=oauth,
    )
    session = opened.json()["id"]
    assert session.startswith("upload:")
    first = http.post(f"{graph}/{session}", headers=oauth | {"file_offset": "0"}, content=b"01234")
    handle = first.json()["h"]
    # A wrong offset is refused; the session says where it stands.
    wrong = http.post(f"{graph}/{session}", headers=oauth | {"file_offset": "0"}, content=b"56789")
    assert wrong.status_code == 400
    assert http.get(f"{graph}/{session}", headers=oauth).json()["file_offset"] == 5
    # Publishing before the last byte is refused; after it, the video is the Page's post.
    form = {"access_token": page["access_token"], "fbuploader_video_file_chunk": handle}
    assert http.post(f"{graph}/{page['account']}/videos", data=form).status_code == 400
    http.post(f"{graph}/{session}", headers=oauth | {"file_offset": "5"}, content=b"56789")
    video = http.post(f"{graph}/{page['account']}/videos", data=form | {"description": "Hi"})
    assert video.status_code == 200
    status = http.get(
        f"{graph}/{video.json()['id']}",
        params={"fields": "status", "access_token": page["access_token"]},
    )
    assert status.json()["status"]["video_status"] == "ready"
    # A Page token cannot open a session: the API takes the person's.
    refused = http.post(
        f"{graph}/42/uploads",
        params={"file_name": "v.mp4", "file_length": "10", "file_type": "video/mp4"},
        headers={"Authorization": f"OAuth {page['access_token']}"},
    )
    assert refused.status_code == 400


def test_facebook_attaches_only_the_pages_unpublished_photos_once(
    network: EmulatorServer, http: httpx.Client
) -> None:
    page = network.register_account("facebook")
    graph = f"{network.url_for('facebook')}/v24.0/{page['account']}"
    token = {"access_token": page["access_token"]}
    photo = http.post(
        f"{graph}/photos",
        params=token,
        data={"published": "false", "alt_text_custom": "A cake"},
        files={"source": ("cake.jpg", b"\xff\xd8\xff\xe0cake", "image/jpeg")},
    ).json()["id"]
    body = {"message": "Cake", "attached_media": [{"media_fbid": photo}], **token}
    assert http.post(f"{graph}/feed", json=body).status_code == 200
    again = http.post(f"{graph}/feed", json=body | {"message": "Cake again"})
    assert again.status_code == 400 and "already published" in again.text
    unknown = {**body, "message": "Other", "attached_media": [{"media_fbid": "1"}]}
    assert http.post(f"{graph}/feed", json=unknown).status_code == 400
    [post] = network.posts("facebook")
    assert post["details"]["media"][0]["alt_text"] == "A cake"


def test_threads_fetches_the_file_and_refuses_what_it_cannot_fetch(
    network: EmulatorServer, http: httpx.Client
) -> None:
    account = network.register_account("threads")
    base = f"{network.url_for('threads')}/v1.0/{account['account']}"
    token = {"access_token": account["access_token"]}
    # The emulator's own health page is reachable but is not an image: refused, as a 404 is.
    for url in (f"{network.base_url}/_emulator/health", f"{network.base_url}/nothing-here"):
        failed = http.post(
            f"{base}/threads", data={"media_type": "IMAGE", "image_url": url, "text": "x", **token}
        )
        assert failed.status_code == 400
        assert failed.json()["error"]["error_subcode"] == 2207052
    # A carousel needs 2 to 20 finished items, and an item cannot be published alone.
    one = http.post(
        f"{base}/threads", data={"media_type": "CAROUSEL", "children": "1", "text": "x", **token}
    )
    assert one.status_code == 400
    assert network.posts("threads") == []
