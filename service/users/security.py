"""Passwords hashed with Argon2id; tokens random, shown once and stored as SHA-256 digests.

Tokens carry 256 bits of randomness, so a fast hash is safe for them (nothing to brute-force)
and lets every request find its token with one indexed lookup. Passwords are low-entropy and
get a slow, memory-hard hash instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "hp_"  # noqa: S105 (a visible marker, not a secret)
_hasher = PasswordHasher()
# Verified when a username does not exist, so that a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class HashingBusy(Exception):
    """Every password-hashing slot stayed taken for the whole wait."""


class PasswordSlots:
    """At most ``size`` Argon2 checks at once in this process.

    Each takes 64 MiB and tens of milliseconds of a core: forty logins at once would take
    2.5 GiB and starve every other request. The rest wait here, briefly, for a slot.
    """

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def slot(self, timeout: float) -> Iterator[None]:
        if not self._slots.acquire(timeout=timeout):
            raise HashingBusy
        try:
            yield
        finally:
            self._slots.release()
