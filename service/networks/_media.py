"""Sending a post's files to a network, the parts every network shares, written once.

* ``MediaFiles``: what an adapter gets at publish time (``Attempt.media``): each file's bytes,
  streamed from Handpost's storage in bounded pieces, and the record of what the network
  already has (``post_media_uploads``), written the moment the network accepts a file and
  before it is attached, so a retry after a crash or a failure reuses it.
* Request bodies that stream a file: raw (Bluesky's uploadBlob) or one part of a
  ``multipart/form-data`` form (Mastodon, X's segments), with an exact ``Content-Length``.
* ``wait_until_processed``: polling a network that processes files after accepting them,
  with a bounded wait: a processing failure is PERMANENT, a file still processing when the
  wait ends is RETRYABLE (the next attempt polls the same upload again).

The implementation of ``MediaFiles`` (storage and database) is ``service.media.outgoing``;
this module knows neither, so network modules stay free of both.
"""

from __future__ import annotations

import abc
import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from service.networks.base import Attachment, FailureKind, NetworkUpload, StreamedBody

# An upload is reused only if it stays valid this much longer (the post is created within it).
EXPIRY_MARGIN = timedelta(minutes=5)
# The longest pause between two status checks, whatever the network suggests.
MAX_POLL_INTERVAL_SECONDS = 30.0
MIN_POLL_INTERVAL_SECONDS = 0.2
# When a file is still processing at the end of the wait, the post is tried again after this.
STILL_PROCESSING_RETRY_SECONDS = 30.0


class MediaFiles(abc.ABC):
    """The files of the post being published, for one network account."""

    @abc.abstractmethod
    async def recorded(self, item: Attachment) -> NetworkUpload | None:
        """What an earlier attempt recorded for this file of this post on this account
        (the same file still at that position), or None."""

    @abc.abstractmethod
    async def record(self, item: Attachment, upload: NetworkUpload) -> None:
        """Save (or replace) the upload of ``item``; committed before this returns."""

    @abc.abstractmethod
    def chunks(self, item: Attachment, size: int, start: int = 0) -> AsyncIterator[bytes]:
        """The file's bytes from byte ``start`` (a resumed upload) in pieces of exactly
        ``size`` (the last one shorter), read from storage as they are consumed."""

    async def public_url(self, item: Attachment) -> str:
        """An unguessable, expiring URL the network can fetch the file from (Threads takes
        files only that way): a presigned bucket URL, or ``/m/`` under HANDPOST_PUBLIC_URL."""
        # Imported here: _http imports this module for the adapter's upload loop.
        from service.networks._http import NetworkError

        raise NetworkError(FailureKind.PERMANENT, "Handpost has no public address for its files.")

    @abc.abstractmethod
    def local_file(self, item: Attachment) -> AbstractAsyncContextManager[Path]:
        """A file on local disk with the bytes (the stored file itself on disk storage, a
        temporary download on S3), for libraries that need a path."""


def usable(upload: NetworkUpload | None, now: datetime | None = None) -> NetworkUpload | None:
    """``upload`` if it can still be attached (not about to expire), else None."""
    if upload is None:
        return None
    if upload.expires_at is not None:
        moment = now or datetime.now(UTC)
        if upload.expires_at - EXPIRY_MARGIN <= moment:
            return None
    return upload


def expiry_after(seconds: object) -> datetime | None:
    """The moment an upload valid for ``seconds`` (as the network said it) expires."""
    try:
        value = float(str(seconds))
    except ValueError:
        return None
    return datetime.now(UTC) + timedelta(seconds=value) if value > 0 else None


# --- request bodies --------------------------------------------------------------------------


def file_body(
    files: MediaFiles, item: Attachment, *, chunk_bytes: int = 256 * 1024
) -> StreamedBody:
    """The file as the whole request body (``Content-Type`` the file's own)."""
    return StreamedBody(
        content_type=item.mime_type,
        length=item.size_bytes,
        chunks=lambda: files.chunks(item, chunk_bytes),
        description=f"<file {item.describe()}>",
    )


def _quoted(value: str) -> str:
    """A form-data name or filename, quoted as browsers do (RFC 7578 §4.2)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_body(
    fields: Mapping[str, str],
    *,
    file_field: str,
    filename: str,
    content_type: str,
    length: int,
    chunks: Callable[[], AsyncIterator[bytes]],
    description: str,
) -> StreamedBody:
    """``multipart/form-data`` with ``fields`` and one file part, whose bytes stream through.

    Built by hand rather than with httpx's ``files=``, which reads file objects synchronously
    on the event loop and cannot take an asynchronous stream from S3.
    """
    boundary = secrets.token_hex(16)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
        f"{value}\r\n".encode()
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(file_field)}"; '
        f'filename="{_quoted(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def stream() -> AsyncIterator[bytes]:
        yield head
        async for chunk in chunks():
            yield chunk
        yield tail

    return StreamedBody(
        content_type=f"multipart/form-data; boundary={boundary}",
        length=len(head) + length + len(tail),
        chunks=stream,
        description=f"<multipart {sorted(fields)} + {file_field}: {description}>",
    )


def file_part(
    files: MediaFiles, item: Attachment, fields: Mapping[str, str], file_field: str
) -> StreamedBody:
    """A form with ``fields`` and the whole of ``item`` as ``file_field``, streamed."""
    return multipart_body(
        fields,
        file_field=file_field,
        filename=item.filename or f"media-{item.position}.{item.format}",
        content_type=item.mime_type,
        length=item.size_bytes,
        chunks=lambda: files.chunks(item, 256 * 1024),
        description=item.describe(),
    )


def _once(data: bytes) -> Callable[[], AsyncIterator[bytes]]:
    async def once() -> AsyncIterator[bytes]:
        yield data

    return once


def bytes_body(data: bytes, *, content_type: str, description: str) -> StreamedBody:
    """``data`` (one part of a file, already in memory) as the whole request body (LinkedIn's
    video parts, Facebook's resumable upload)."""
    return StreamedBody(
        content_type=content_type, length=len(data), chunks=_once(data), description=description
    )


def bytes_part(
    data: bytes, fields: Mapping[str, str], *, file_field: str, content_type: str, description: str
) -> StreamedBody:
    """A form with ``fields`` and ``data`` (a segment already in memory) as ``file_field``."""
    return multipart_body(
        fields,
        file_field=file_field,
        filename="blob",
        content_type=content_type,
        length=len(data),
        chunks=_once(data),
        description=description,
    )


# --- processing ------------------------------------------------------------------------------


class ProcessingState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Processing:
    """One status check's answer: still working (check again after ``check_after`` seconds),
    done, or failed (``message``: the network's words)."""

    state: ProcessingState
    message: str = ""
    check_after: float = 1.0


async def wait_until_processed(
    check: Callable[[], Awaitable[Processing]],
    *,
    display_name: str,
    item: Attachment,
    max_seconds: float,
    first: Processing | None = None,
) -> None:
    """Poll ``check`` until the network has processed ``item``, for at most ``max_seconds``.

    Returns when done. A failed processing raises PERMANENT (the same file would fail again);
    a file still processing at the end raises RETRYABLE: its upload is recorded, so the next
    attempt polls it again instead of sending the bytes again. ``first``: the answer the
    upload itself gave, if it said anything (saves a call when the file is ready at once).
    """
    # Imported here: _http imports this module for the adapter's upload loop.
    from service.networks._http import NetworkError

    deadline = time.monotonic() + max_seconds
    status = first if first is not None else await check()
    while True:
        if status.state is ProcessingState.DONE:
            return
        if status.state is ProcessingState.FAILED:
            reason = status.message or "no reason given"
            raise NetworkError(
                FailureKind.PERMANENT,
                f"{display_name} could not process {item.describe()}: {reason}. Nothing was "
                "posted; attach another file (or the same one in another format).",
            )
        left = deadline - time.monotonic()
        if left <= 0:
            raise NetworkError(
                FailureKind.RETRYABLE,
                f"{display_name} was still processing {item.describe()} after {max_seconds:.0f} "
                "s; the post will be tried again, reusing the upload.",
                retry_after=STILL_PROCESSING_RETRY_SECONDS,
            )
        pause = min(
            max(status.check_after, MIN_POLL_INTERVAL_SECONDS), MAX_POLL_INTERVAL_SECONDS, left
        )
        await asyncio.sleep(pause)
        status = await check()
