"""YouTube's resumable upload protocol.

Source: developers.google.com/youtube/v3/guides/using_resumable_upload_protocol.

1. ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with the video's
   metadata and ``X-Upload-Content-Length``/``-Type``: the session URI comes back in ``Location``.
   Nothing exists on the channel yet.
2. ``PUT {session}`` the bytes, each request with ``Content-Range: bytes FIRST-LAST/TOTAL``; all
   chunks but the last are multiples of 256 KiB. ``308 Resume Incomplete`` with
   ``Range: bytes=0-N`` confirms N+1 bytes; ``200``/``201`` with the video resource ends it.
3. After an interruption, ``PUT {session}`` with no body and ``Content-Range: bytes */TOTAL``
   asks how far it got (same answers); ``404``/``410``: the session expired (about a week) or
   was ended, and the upload starts again, after the channel has been searched for the video.

The file is read from storage one piece at a time, from the confirmed byte on: never whole.
The session URI and the confirmed offset are kept in the database (``UploadLedger``) before and
after every chunk, so another worker, after a crash, continues where the first one stopped.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from service.networks._common import BEARER_REDACTED
from service.networks._http import Api, NetworkError, json_body
from service.networks._media import MediaFiles
from service.networks.base import Attachment, FailureKind, OutgoingRequest, StreamedBody

QUANTUM = 256 * 1024  # chunks are multiples of this, except the last
PIECE = 1024 * 1024  # how much of the file is read from storage at a time
_RANGE = re.compile(r"bytes=0-(\d+)")
# A session URI is a capability (whoever holds it can upload to the channel): it is kept
# encrypted and appears in traces and logs only as this.
SESSION_REDACTED = "<upload session>"


@dataclass
class UploadProgress:
    """The open session of a post's upload, as the database has it (none: no session)."""

    session_uri: str | None = None
    total: int = 0
    confirmed: int = 0
    started_at: datetime | None = None


class UploadLedger(Protocol):
    """The database side of an upload (service.youtube.ledger); blocking, called in threads.

    Only the session in flight lives here; the finished video (and the thumbnail) are
    recorded in the shared ``post_media_uploads`` (``Attempt.media``)."""

    chunk_bytes: int

    def progress(self, publish_key: str) -> UploadProgress | None: ...

    def session_opened(self, publish_key: str, session_uri: str, total: int) -> None: ...

    def confirmed(self, publish_key: str, offset: int) -> None: ...

    def session_closed(self, publish_key: str, confirmed: int | None = None) -> None:
        """The session is spent (its video recorded: ``confirmed`` is every byte) or gone
        (404): forget it."""
        ...

    def spend_quota(self, project: str) -> float | None:
        """Count one upload against the project's day; seconds to wait if it is spent."""
        ...

    def quota_spent(self, project: str) -> float:
        """YouTube said the day's quota is spent: note it; seconds until it resets."""
        ...

    def private_lock(self, account_id: str, message: str) -> None: ...


@dataclass
class Transfer:
    """Counts for the publish log: what was sent, and how much of it a second time."""

    sent: int = 0
    resumed_from: list[int] = field(default_factory=list)
    first: int | None = None  # where this attempt began sending
    highest: int = 0  # the furthest byte sent: anything sent below it again is a resend

    @property
    def sent_again(self) -> int:
        if self.first is None:
            return 0
        return max(0, self.sent - (self.highest - self.first))


class SessionGone(Exception):
    """404/410 from the session: it expired or was ended; search the channel, then restart."""


@dataclass(frozen=True)
class Answer:
    """A session's answer: the video resource when done, else the bytes it confirmed."""

    video: dict[str, Any] | None
    confirmed: int


class ResumableSession:
    """One session URI: asking how far it got, and sending the rest of the file."""

    def __init__(self, api: Api, uri: str, token: str, total: int) -> None:
        self.api = api
        self.uri = uri
        self.token = token
        self.total = total

    async def _put(self, headers: dict[str, str], body: StreamedBody) -> httpx.Response:
        # The trace shows the session as a placeholder; the URI goes in only when sending.
        request = OutgoingRequest(
            method="PUT",
            url=SESSION_REDACTED,
            headers={"Authorization": BEARER_REDACTED, **headers},
            body=body,
        )
        return await self.api.send(request, {"": self.token}, target=self.uri)

    async def probe(self) -> Answer:
        """``Content-Range: bytes */TOTAL`` with no body: how far the session got."""
        empty = StreamedBody("application/octet-stream", 0, _nothing, "<no body>")
        return self.answer(await self._put({"Content-Range": f"bytes */{self.total}"}, empty))

    async def send_chunk(
        self, files: MediaFiles, item: Attachment, first: int, length: int, transfer: Transfer
    ) -> Answer:
        """Bytes ``first``..``first+length-1`` streamed from storage in pieces."""
        last = first + length - 1
        body = StreamedBody(
            content_type=item.mime_type,
            length=length,
            chunks=lambda: _stream(files, item, first, length, transfer),
            description=f"<bytes {first}-{last} of {item.describe()}>",
        )
        headers = {"Content-Range": f"bytes {first}-{last}/{self.total}"}
        return self.answer(await self._put(headers, body))

    def answer(self, response: httpx.Response) -> Answer:
        status = response.status_code
        if status in (200, 201):
            return Answer(json_body(response), self.total)
        if status == 308:
            match = _RANGE.fullmatch(response.headers.get("range", "").strip())
            return Answer(None, int(match.group(1)) + 1 if match else 0)
        if status in (404, 410):
            raise SessionGone(f"HTTP {status}")
        raise SessionFailure(response)


class SessionFailure(Exception):
    """Any other answer from the session: the adapter classifies it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


async def _stream(
    files: MediaFiles, item: Attachment, first: int, length: int, transfer: Transfer
) -> AsyncIterator[bytes]:
    """``length`` bytes of the file from ``first``, read from storage a piece at a time."""
    if transfer.first is None:
        transfer.first = first
    position, remaining = first, length
    pieces = files.chunks(item, PIECE, first)
    try:
        async for piece in pieces:
            piece = piece[:remaining]
            remaining -= len(piece)
            position += len(piece)
            transfer.sent += len(piece)
            transfer.highest = max(transfer.highest, position)
            yield piece
            if remaining <= 0:
                return
    finally:
        await pieces.aclose()  # type: ignore[attr-defined]
    if remaining > 0:
        raise NetworkError(
            FailureKind.PERMANENT,
            f"{item.describe()} in storage is shorter than when it was uploaded to Handpost.",
        )


def chunk_length(chunk_bytes: int, offset: int, total: int) -> int:
    """The next chunk: ``chunk_bytes`` rounded down to 256 KiB (at least one quantum), or the
    rest of the file when that is shorter."""
    size = max(QUANTUM, chunk_bytes - chunk_bytes % QUANTUM)
    return min(size, total - offset)
