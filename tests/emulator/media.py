"""What the networks keep of uploaded media: each asset's bytes (as a digest), processing
state and failure, for every network's upload flow; and the multipart bodies they take.

An asset is ready ``processing_s`` after its last byte arrived (the network's config key), or
fails processing when a ``processing_failure`` fault was taken by its upload. Tests read the
assets through ``GET /_emulator/media`` to see what was uploaded, how often and in what order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from .framework import Ctx
from .state import EmulatorState, iso

READY = "ready"
PROCESSING = "processing"
FAILED = "failed"
WAITING = "waiting_upload"


@dataclass
class MediaAsset:
    network: str
    id: str
    account: str
    kind: str  # "image" or "video"
    created_at: float
    size: int = 0  # the length promised at initialisation, if any
    received: int = 0  # bytes stored so far
    sha256: str = ""  # of the whole file, once complete
    uploads: int = 0  # requests that carried bytes of it
    complete_at: float | None = None
    processing_s: float = 0.0
    fails: str | None = None  # the processing failure this asset will end in
    alt_text: str | None = None
    content_type: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Bytes while the upload is in parts (dropped once the digest is taken).
    parts: dict[int, bytes] = field(default_factory=dict)

    def state(self, now: float) -> str:
        if self.complete_at is None:
            return WAITING
        if now < self.complete_at + self.processing_s:
            return PROCESSING
        return FAILED if self.fails else READY

    def complete(self, data: bytes, now: float) -> None:
        """The whole file arrived (in one request, or put together from its parts)."""
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.received = len(data)
        self.complete_at = now
        self.parts.clear()

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "network": self.network,
            "id": self.id,
            "account": self.account,
            "kind": self.kind,
            "size": self.size,
            "received": self.received,
            "sha256": self.sha256,
            "uploads": self.uploads,
            "state": self.state(now),
            "failure": self.fails,
            "alt_text": self.alt_text,
            "content_type": self.content_type,
            "created_at": iso(self.created_at),
            "details": self.details,
        }


def assets(state: EmulatorState) -> dict[tuple[str, str], MediaAsset]:
    store: dict[tuple[str, str], MediaAsset] = state.stores.setdefault("_media", {})
    return store


def add_asset(ctx: Ctx, asset_id: str, kind: str, *, size: int = 0) -> MediaAsset:
    """A new asset of the authenticated account; its processing time comes from the config
    (``{network}_media_processing_s``) and a ``processing_failure`` fault makes it fail."""
    assert ctx.account is not None
    asset = MediaAsset(
        network=ctx.network,
        id=asset_id,
        account=ctx.account.key,
        kind=kind,
        created_at=ctx.state.now(),
        size=size,
        processing_s=float(ctx.state.config.get(f"{ctx.network}_media_processing_s") or 0.0),
    )
    assets(ctx.state)[(ctx.network, asset_id)] = asset
    return asset


def mark_failure(ctx: Ctx, asset: MediaAsset) -> None:
    """Apply a ``processing_failure`` fault the request took (its ``reason``, or a default)."""
    fault = ctx.entry.get("processing_failure")
    if fault is not None:
        asset.fails = str(fault.get("reason") or "processing failed")


def find(ctx: Ctx, asset_id: str) -> MediaAsset | None:
    """The asset if it is the authenticated account's."""
    asset = assets(ctx.state).get((ctx.network, asset_id))
    if asset is None or ctx.account is None or asset.account != ctx.account.key:
        return None
    return asset


async def raw_body(ctx: Ctx) -> bytes:
    return await ctx.request.body()


@dataclass(frozen=True)
class FilePart:
    filename: str | None
    content_type: str
    data: bytes


def multipart(ctx: Ctx, raw: bytes) -> tuple[dict[str, str], dict[str, FilePart]]:
    """The fields and files of a multipart/form-data body (RFC 7578)."""
    content_type = ctx.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}, {}
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    fields: dict[str, str] = {}
    files: dict[str, FilePart] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None or part.get_content_type() not in ("text/plain",):
            files[name] = FilePart(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files
