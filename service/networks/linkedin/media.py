"""LinkedIn's media flows: the Images API and the Videos API (learn.microsoft.com,
linkedin/marketing/community-management/shares/images-api and videos-api).

* An image: ``POST /rest/images?action=initializeUpload`` names the image URN and an upload
  URL, and **one** ``PUT`` of the whole file goes there (Postiz found that chunked PUTs to the
  same URL corrupt files over 2 MB).
* A video: ``POST /rest/videos?action=initializeUpload`` with the size gives one upload URL per
  byte range (4 MB parts); each part is ``PUT`` to its own URL and answers an ``ETag``;
  ``finalizeUpload`` takes the ETags in order.
* Either is then ``PROCESSING`` until ``AVAILABLE`` (or ``PROCESSING_FAILED``): a post that
  names an asset not yet available is refused, so Handpost polls ``GET /rest/{images|videos}
  /{urn}`` first. The URN is recorded as soon as the bytes are in, so a retry polls it again
  instead of uploading the file twice.

Alt text is not part of the upload: the post carries it (``content.media.altText``,
``content.multiImage.images[].altText``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from service.networks._common import BEARER_REDACTED, bearer_json_headers
from service.networks._http import (
    Attempt,
    NetworkError,
    json_body,
    media_failure,
    retry_after_header,
    until_midnight_utc,
)
from service.networks._media import (
    Processing,
    ProcessingState,
    bytes_body,
    file_body,
    wait_until_processed,
)
from service.networks.base import (
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
    UploadState,
)
from service.networks.linkedin.rules import RULES

RESTLI = {"X-Restli-Protocol-Version": "2.0.0"}
# How often to ask whether LinkedIn has processed an asset (it gives no hint).
POLL_SECONDS = 2.0
# How long an image whose status cannot be read is given to be processed (Postiz waits too).
IMAGE_GRACE_SECONDS = 3.0
_PROCESSING = {
    "AVAILABLE": ProcessingState.DONE,
    "PROCESSING_FAILED": ProcessingState.FAILED,
}


def daily_limit_wait(headers: httpx.Headers) -> float:
    """LinkedIn's limits are daily, reset at 00:00 UTC, with no header (a Retry-After wins)."""
    return retry_after_header(headers) or until_midnight_utc()


def _headers(attempt: Attempt, extra: dict[str, str] | None = None) -> dict[str, str]:
    return bearer_json_headers(
        {"LinkedIn-Version": attempt.config.linkedin_version, **RESTLI, **(extra or {})}
    )


def _token(attempt: Attempt) -> dict[str, str]:
    return {"": attempt.credentials["access_token"]}


def _kind(item: Attachment) -> str:
    return "videos" if item.kind == "video" else "images"


async def _call(attempt: Attempt, request: OutgoingRequest, doing: str) -> httpx.Response:
    """A media call; a refusal is classified like a post's (nothing is created by it)."""
    response = await attempt.api.send(request, _token(attempt))
    if response.is_success:
        return response
    raise _refusal(response, doing)


def _refusal(response: httpx.Response, doing: str) -> Exception:
    """What LinkedIn's refusal of a media call means (a 403: the token lacks the scope)."""
    message = str(json_body(response).get("message") or response.reason_phrase)
    return media_failure(
        "LinkedIn",
        response,
        f"{doing}: {message}",
        scope="w_member_social",
        rate_limit=daily_limit_wait,
    )


async def upload_file(
    attempt: Attempt, author: str, item: Attachment, previous: NetworkUpload | None
) -> NetworkUpload:
    """The file as a LinkedIn asset URN, AVAILABLE; ``previous`` (recorded, still
    processing) is polled again rather than uploaded again."""
    files = attempt.media
    assert files is not None
    upload = previous
    waited: list[float] = []  # grace periods spent on an image whose status cannot be read
    if upload is None:
        urn = await (_send_video if item.kind == "video" else _send_image)(attempt, author, item)
        upload = NetworkUpload(urn, UploadState.UPLOADED)
        await files.record(item, upload)
    await wait_until_processed(
        lambda: _status(attempt, item, upload.network_media_id, waited),
        display_name="LinkedIn",
        item=item,
        max_seconds=attempt.config.media_processing_seconds,
    )
    ready = NetworkUpload(upload.network_media_id, UploadState.READY)
    await files.record(item, ready)
    return ready


async def _initialize(attempt: Attempt, item: Attachment, request: dict[str, Any]) -> Any:
    response = await _call(
        attempt,
        OutgoingRequest(
            method="POST",
            url=f"{RULES.api_base(attempt.account)}/rest/{_kind(item)}?action=initializeUpload",
            headers=_headers(attempt),
            json={"initializeUploadRequest": request},
        ),
        f"starting the upload of {item.describe()}",
    )
    value = json_body(response).get("value")
    if not isinstance(value, dict):
        raise NetworkError(
            FailureKind.RETRYABLE, "LinkedIn's initializeUpload answer had no value."
        )
    return value


async def _send_image(attempt: Attempt, author: str, item: Attachment) -> str:
    value = await _initialize(attempt, item, {"owner": author})
    url, urn = value.get("uploadUrl"), value.get("image")
    if not isinstance(url, str) or not isinstance(urn, str):
        raise NetworkError(FailureKind.RETRYABLE, "LinkedIn gave no upload URL for the image.")
    assert attempt.media is not None
    await _call(
        attempt,
        OutgoingRequest(
            method="PUT",
            url=url,
            headers={"Authorization": BEARER_REDACTED},
            body=file_body(attempt.media, item),
        ),
        f"uploading {item.describe()}",
    )
    return urn


async def _send_video(attempt: Attempt, author: str, item: Attachment) -> str:
    value = await _initialize(
        attempt,
        item,
        {
            "owner": author,
            "fileSizeBytes": item.size_bytes,
            "uploadCaptions": False,
            "uploadThumbnail": False,
        },
    )
    urn, instructions = value.get("video"), value.get("uploadInstructions")
    if not isinstance(urn, str) or not isinstance(instructions, list) or not instructions:
        raise NetworkError(FailureKind.RETRYABLE, "LinkedIn gave no upload URLs for the video.")
    etags = await _send_parts(attempt, item, instructions)
    await _call(
        attempt,
        OutgoingRequest(
            method="POST",
            url=f"{RULES.api_base(attempt.account)}/rest/videos?action=finalizeUpload",
            headers=_headers(attempt),
            json={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": str(value.get("uploadToken") or ""),
                    "uploadedPartIds": etags,
                }
            },
        ),
        f"finishing the upload of {item.describe()}",
    )
    return urn


async def _send_parts(attempt: Attempt, item: Attachment, instructions: list[Any]) -> list[str]:
    """Each byte range to its own URL, in order, one part in memory at a time; the ETags."""
    assert attempt.media is not None
    ranges = [
        (int(i["firstByte"]), int(i["lastByte"]), str(i["uploadUrl"]))
        for i in instructions
        if isinstance(i, dict)
    ]
    ranges.sort()
    if not ranges or ranges[0][0] != 0 or ranges[-1][1] != item.size_bytes - 1:
        raise NetworkError(
            FailureKind.PERMANENT, "LinkedIn's upload instructions do not cover the file."
        )
    part_size = ranges[0][1] - ranges[0][0] + 1
    etags: list[str] = []
    async for piece in attempt.media.chunks(item, part_size):
        number = len(etags)
        first, last, url = ranges[number]
        if len(piece) != last - first + 1:
            raise NetworkError(
                FailureKind.PERMANENT, "LinkedIn's upload instructions have parts of unequal size."
            )
        response = await _call(
            attempt,
            OutgoingRequest(
                method="PUT",
                url=url,
                headers={"Authorization": BEARER_REDACTED},
                body=bytes_body(
                    piece,
                    content_type="application/octet-stream",
                    description=f"<part {number} of {item.describe()}>",
                ),
            ),
            f"uploading part {number + 1} of {len(ranges)} of {item.describe()}",
        )
        etag = response.headers.get("etag")
        if not etag:
            raise NetworkError(
                FailureKind.RETRYABLE, "LinkedIn answered a video part without its ETag."
            )
        etags.append(etag)
    return etags


async def _status(attempt: Attempt, item: Attachment, urn: str, waited: list[float]) -> Processing:
    """The asset's status. A member's token may not read an image's (403, as Postiz found):
    then a grace period stands in for it, as Postiz waits, and the post is sent after it."""
    request = OutgoingRequest(
        method="GET",
        url=f"{RULES.api_base(attempt.account)}/rest/{_kind(item)}/{quote(urn, safe='')}",
        headers=_headers(attempt),
    )
    if item.kind == "image" and waited:
        return Processing(ProcessingState.DONE)
    response = await attempt.api.send(request, _token(attempt))
    if response.status_code == 403 and item.kind == "image":
        waited.append(IMAGE_GRACE_SECONDS)
        return Processing(ProcessingState.PENDING, check_after=IMAGE_GRACE_SECONDS)
    if not response.is_success:
        raise _refusal(response, f"asking whether {item.describe()} is ready")
    body = json_body(response)
    status = str(body.get("status") or "")
    return Processing(
        _PROCESSING.get(status, ProcessingState.PENDING),
        str(body.get("processingFailureReason") or status),
        POLL_SECONDS,
    )
