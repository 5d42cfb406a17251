"""Signed, expiring, unguessable links to media files: ``/m/{token}``.

A network that fetches media from a URL (Threads) and the page's ``<img>`` tags (which send no
token) get such a link. The token names the file and when it expires, signed with a key
derived from HANDPOST_SECRET_KEY (HMAC-SHA256, 128 bits kept): nobody can make one up or
stretch its life. Expiry times are rounded up to the hour, so a thumbnail's link stays the
same for an hour and browsers can cache it.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256

PREFIX = "/m/"
ROUND_SECONDS = 3600


@dataclass(frozen=True)
class SignedTarget:
    media_id: str
    variant: str  # "file" or "thumb"
    expires: int  # Unix seconds


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), sha256).digest()[:16])


def expiry(now: datetime, seconds: int, *, rounded: bool) -> int:
    moment = int(now.timestamp()) + seconds
    if rounded:
        moment += -moment % ROUND_SECONDS
    return moment


def sign(key: bytes, target: SignedTarget) -> str:
    payload = f"{target.media_id}.{target.variant}.{target.expires}"
    return f"{_b64(payload.encode())}.{_mac(key, payload)}"


def verify(key: bytes, token: str, now: datetime) -> SignedTarget | None:
    """The target of a valid, unexpired token; None for anything else (all alike)."""
    encoded, _, mac = token.partition(".")
    if not encoded or not mac or len(token) > 200:
        return None
    try:
        payload = _unb64(encoded).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(_mac(key, payload), mac):
        return None
    parts = payload.split(".")
    if len(parts) != 3:
        return None
    media_id, variant, expires = parts
    if variant not in ("file", "thumb") or not expires.isdigit():
        return None
    if int(expires) < now.astimezone(UTC).timestamp():
        return None
    return SignedTarget(media_id, variant, int(expires))
