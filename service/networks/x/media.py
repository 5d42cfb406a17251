"""X's media upload (API v2): initialize, append segments, finalize, wait, alt text.

The dedicated paths of the OpenAPI spec and X's own sample (xdevplatform/samples PR #199):
``POST /2/media/upload/initialize`` (JSON: type, size, category) gives the id and how long
it lives (``expires_after_secs``); ``POST /2/media/upload/{id}/append`` takes the bytes in
multipart segments (``media``, ``segment_index``; at most 5 MB each); ``POST
/2/media/upload/{id}/finalize`` ends the upload and may say it is processing
(``processing_info``), after which ``GET /2/media/upload?command=STATUS&media_id=`` is asked
every ``check_after_secs`` until ``succeeded`` or ``failed``. Alt text goes on with ``POST
/2/media/metadata``. Every one of these needs the ``media.write`` scope.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from service.networks._common import BEARER_REDACTED, bearer_json_headers
from service.networks._http import (
    Attempt,
    NetworkError,
    json_body,
    media_failure,
    short_text,
    x_rate_limit_wait,
)
from service.networks._media import (
    MediaFiles,
    Processing,
    ProcessingState,
    bytes_part,
    expiry_after,
    wait_until_processed,
)
from service.networks.base import (
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
    UploadState,
)

# X takes segments of up to 5 MB (v1.1's documented cap; the v2 pages give none): 4 MiB stays
# below it, and is all an upload holds in memory.
SEGMENT_BYTES = 4 * 1024 * 1024


def category(item: Attachment) -> str:
    """``media_category``: a wrong one uploads, but the post is then refused."""
    if item.kind == "video":
        return "tweet_video"
    return "tweet_gif" if item.format == "gif" else "tweet_image"


def _message(response: httpx.Response) -> str:
    body = json_body(response)
    errors = body.get("errors")
    legacy = errors[0].get("message") if isinstance(errors, list) and errors else None
    return str(body.get("detail") or legacy or body.get("title") or short_text(response))


def _processing(data: dict[str, Any]) -> Processing:
    """``processing_info`` as a ``Processing``; none at all means ready."""
    info = data.get("processing_info")
    if not isinstance(info, dict):
        return Processing(ProcessingState.DONE)
    state = str(info.get("state") or "")
    if state == "succeeded":
        return Processing(ProcessingState.DONE)
    if state == "failed":
        error = info.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        return Processing(ProcessingState.FAILED, str(message or "processing failed"))
    after = info.get("check_after_secs")
    wait = float(after) if isinstance(after, int | float) and not isinstance(after, bool) else 1.0
    return Processing(ProcessingState.PENDING, check_after=wait)


class XMedia:
    """One attempt's media calls to X (the adapter makes one per file)."""

    def __init__(self, attempt: Attempt, base_url: str) -> None:
        self.attempt = attempt
        self.base = base_url
        self.secrets = {"": attempt.credentials["access_token"]}

    @property
    def files(self) -> MediaFiles:
        assert self.attempt.media is not None  # LiveAdapter.upload_media checked it
        return self.attempt.media

    async def upload(self, item: Attachment, previous: NetworkUpload | None) -> NetworkUpload:
        """``item`` at X, processed and with its alt text: READY."""
        first: Processing | None = None
        if previous is None:
            upload, first = await self._send(item)
            await self.files.record(item, upload)  # before anything else can go wrong
        else:
            upload = previous
        media_id = upload.network_media_id
        await wait_until_processed(
            lambda: self._status(media_id),
            display_name="X",
            item=item,
            max_seconds=self.attempt.config.media_processing_seconds,
            first=first,
        )
        if item.alt_text:
            await self._call(
                OutgoingRequest(
                    method="POST",
                    url=f"{self.base}/2/media/metadata",
                    headers=bearer_json_headers(),
                    json={
                        "id": media_id,
                        "metadata": {"alt_text": {"text": item.alt_text}},
                    },
                ),
                f"setting the alt text of {item.describe()}",
            )
        ready = replace(upload, state=UploadState.READY)
        await self.files.record(item, ready)
        return ready

    async def _send(self, item: Attachment) -> tuple[NetworkUpload, Processing]:
        data = await self._call(
            OutgoingRequest(
                method="POST",
                url=f"{self.base}/2/media/upload/initialize",
                headers=bearer_json_headers(),
                json={
                    "media_type": item.mime_type,
                    "total_bytes": item.size_bytes,
                    "media_category": category(item),
                },
            ),
            f"starting the upload of {item.describe()}",
        )
        media_id = str(data.get("id") or "")
        if not media_id:
            raise NetworkError(
                FailureKind.RETRYABLE, f"X started the upload of {item.describe()} without an id."
            )
        index = 0
        async for segment in self.files.chunks(item, SEGMENT_BYTES):
            await self._call(
                OutgoingRequest(
                    method="POST",
                    url=f"{self.base}/2/media/upload/{media_id}/append",
                    headers={"Authorization": BEARER_REDACTED},
                    body=bytes_part(
                        segment,
                        {"segment_index": str(index)},
                        file_field="media",
                        content_type="application/octet-stream",
                        description=f"segment {index} of {item.describe()}",
                    ),
                ),
                f"sending segment {index} of {item.describe()}",
            )
            index += 1
        data = await self._call(
            OutgoingRequest(
                method="POST",
                url=f"{self.base}/2/media/upload/{media_id}/finalize",
                headers={"Authorization": BEARER_REDACTED},
            ),
            f"finishing the upload of {item.describe()}",
        )
        upload = NetworkUpload(
            network_media_id=media_id,
            state=UploadState.UPLOADED,
            expires_at=expiry_after(data.get("expires_after_secs")),
        )
        return upload, _processing(data)

    async def _status(self, media_id: str) -> Processing:
        data = await self._call(
            OutgoingRequest(
                method="GET",
                url=f"{self.base}/2/media/upload?command=STATUS&media_id={media_id}",
                headers={"Authorization": BEARER_REDACTED},
            ),
            "asking how the processing goes",
        )
        return _processing(data)

    async def _call(self, request: OutgoingRequest, what: str) -> dict[str, Any]:
        """One media call; its ``data`` object, or the failure classified. Nothing a media
        call does is visible, so a failure after sending is retryable, never UNKNOWN."""
        response = await self.attempt.api.send(request, self.secrets)
        if response.is_success:
            data = json_body(response).get("data")
            return data if isinstance(data, dict) else {}
        raise media_failure(
            "X",
            response,
            f"{what}: {_message(response)}",
            scope="media.write",
            rate_limit=x_rate_limit_wait,
        )
