"""What every emulated network's media flow shares: bytes received, processing, faults.

* Upload bodies are read as streams (routes marked ``streamed``), hashed as they arrive and
  kept only up to ``KEEP_BYTES`` (a 1 GB benchmark file is counted and hashed, not held), so
  tests can check which bytes arrived, and how many times.
* ``Upload``: one file at a network, from the first byte to the attach: its bytes (hash,
  size, the bytes themselves when small), its processing (a delay after which it has
  ``succeeded`` or ``failed``), its alt text, its expiry and the post it went into.
* Processing is set per upload by config (``media_processing_s``: how long files the network
  processes asynchronously take) or by a marker fault queued on the upload endpoint:
  ``media_processing_failed`` (``message``) or ``media_processing_slow`` (``delay_s``).
  Mid-way failures are the ordinary faults on the flow's endpoint names (``x``:
  ``media_append``...), with ``after: N`` to let N matching requests through first.

Control API: ``GET /_emulator/media?network=&account=`` lists the uploads (without their
bytes); ``GET /_emulator/media/{network}/{id}/content`` answers the bytes when kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from .state import EmulatorState, Fault, iso

# Bytes of one upload kept for tests to compare (hash and size are always kept).
KEEP_BYTES = 16 * 1024 * 1024
READ_CHUNK = 256 * 1024
# Marker faults: the upload is accepted as usual and its processing goes as the fault says.
MEDIA_FAULT_KINDS: tuple[str, ...] = ("media_processing_failed", "media_processing_slow")


@dataclass
class Received:
    """Bytes of one request body (or one form part), as they arrived."""

    size: int = 0
    sha256: str = hashlib.sha256().hexdigest()
    data: bytes | None = b""
    content_type: str = ""
    filename: str = ""

    @classmethod
    def of(cls, data: bytes, content_type: str = "") -> Received:
        return cls(len(data), hashlib.sha256(data).hexdigest(), data, content_type)


class Collector:
    """Hashes bytes as they come, keeping them only up to ``KEEP_BYTES``."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0
        self.kept: bytearray | None = bytearray()

    def add(self, chunk: bytes) -> None:
        self.hash.update(chunk)
        self.size += len(chunk)
        if self.kept is not None:
            if self.size > KEEP_BYTES:
                self.kept = None
            else:
                self.kept += chunk

    def result(self, content_type: str = "", filename: str = "") -> Received:
        data = bytes(self.kept) if self.kept is not None else None
        return Received(self.size, self.hash.hexdigest(), data, content_type, filename)


async def read_raw(request: Request) -> Received:
    """The whole request body, streamed."""
    collector = Collector()
    async for chunk in request.stream():
        collector.add(chunk)
    return collector.result(request.headers.get("content-type", ""))


async def read_form(request: Request) -> tuple[dict[str, str], dict[str, Received]]:
    """A ``multipart/form-data`` (or urlencoded) body: its fields, and its files by name.

    Starlette spools file parts to disk past 1 MB, so memory stays bounded.
    """
    form = await request.form()
    fields: dict[str, str] = {}
    files: dict[str, Received] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                collector = Collector()
                while chunk := await value.read(READ_CHUNK):
                    collector.add(chunk)
                files[name] = collector.result(value.content_type or "", value.filename or "")
            else:
                fields[name] = value
    finally:
        await form.close()
    return fields, files


def body_summary(fields: dict[str, str], files: dict[str, Received]) -> dict[str, Any]:
    """What the received-request log keeps of a media body: the fields, and each file's
    size and hash (not its bytes)."""
    return {
        **fields,
        **{
            name: {"size": f.size, "sha256": f.sha256, "content_type": f.content_type}
            for name, f in files.items()
        },
    }


@dataclass
class Upload:
    network: str
    id: str
    account: str
    media_type: str
    created_at: float
    total_bytes: int | None = None  # declared up front (X's initialize), if the flow does
    # A chunked flow's segments by index (size and hash; their bytes go into ``collector``).
    segments: dict[int, Received] = field(default_factory=dict)
    collector: Collector = field(default_factory=lambda: Collector())
    finalized: bool = False
    received: Received | None = None  # the whole file, once complete
    processing_s: float = 0.0
    processing_started: float | None = None
    failure: str | None = None
    alt_text: str = ""
    expires_at: float | None = None
    attached_to: str | None = None
    category: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def append(self, index: int, segment: Received) -> bool:
        """Add the segment at ``index``; False when it is not the next one (the emulator
        takes segments in order, as Handpost sends them)."""
        if index != len(self.segments) or segment.data is None:
            return False
        self.collector.add(segment.data)
        self.segments[index] = Received(segment.size, segment.sha256, None)
        return True

    def state(self, now: float) -> str:
        """``uploading`` until complete; then ``in_progress``, ``succeeded`` or ``failed``."""
        if self.received is None or self.processing_started is None:
            return "uploading"
        if now < self.processing_started + self.processing_s:
            return "in_progress"
        return "failed" if self.failure else "succeeded"

    def seconds_left(self, now: float) -> float:
        if self.processing_started is None:
            return 0.0
        return max(0.0, self.processing_started + self.processing_s - now)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def to_json(self, now: float) -> dict[str, Any]:
        received = self.received
        return {
            "network": self.network,
            "id": self.id,
            "account": self.account,
            "media_type": self.media_type,
            "state": self.state(now),
            "size": received.size if received else sum(s.size for s in self.segments.values()),
            "sha256": received.sha256 if received else None,
            "bytes_kept": received is not None and received.data is not None,
            "segments": len(self.segments),
            "alt_text": self.alt_text,
            "failure": self.failure,
            "expires_at": iso(self.expires_at) if self.expires_at is not None else None,
            "attached_to": self.attached_to,
            "category": self.category,
            "created_at": iso(self.created_at),
            "details": self.details,
        }


class MediaStore:
    """The uploads of every network, in the emulator's state (forgotten on reset)."""

    def __init__(self) -> None:
        self.uploads: dict[tuple[str, str], Upload] = {}

    def add(self, upload: Upload) -> Upload:
        self.uploads[(upload.network, upload.id)] = upload
        return upload

    def get(self, network: str, upload_id: str, account: str | None = None) -> Upload | None:
        """The upload, if it exists and (with ``account``) is that account's."""
        found = self.uploads.get((network, upload_id))
        if found is None or (account is not None and found.account != account):
            return None
        return found

    def of(self, network: str | None = None, account: str | None = None) -> list[Upload]:
        return [
            u
            for u in self.uploads.values()
            if (network is None or u.network == network)
            and (account is None or u.account == account)
        ]


def media_store(state: EmulatorState) -> MediaStore:
    store = state.stores.get("_media")
    if store is None:
        store = state.stores["_media"] = MediaStore()
    return store  # type: ignore[no-any-return]


def complete(
    state: EmulatorState,
    upload: Upload,
    received: Received,
    *,
    processes: bool,
    fault: Fault | None,
) -> Upload:
    """The file is whole: processing starts (``processes``: the network works on it after
    answering, as for video; otherwise it is ready at once, unless a fault says otherwise)."""
    upload.received = received
    upload.processing_started = state.now()
    upload.processing_s = float(state.config.get("media_processing_s", 0.0)) if processes else 0.0
    if fault is not None and fault.kind == "media_processing_slow":
        upload.processing_s = float(fault.params.get("delay_s", 5.0))
    if fault is not None and fault.kind == "media_processing_failed":
        upload.failure = str(fault.params.get("message") or "The media could not be processed.")
    return upload


def media_fault(fault: Fault | None) -> Fault | None:
    """The marker fault an upload handler was called with, if any."""
    return fault if fault is not None and fault.kind in MEDIA_FAULT_KINDS else None
