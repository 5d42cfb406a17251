"""Passwords hashed with Argon2id; tokens random, shown once and stored as SHA-256 digests.

Tokens carry 256 bits of randomness, so a fast hash is safe for them (nothing to brute-force)
and lets every request find its token with one indexed lookup. Passwords are low-entropy and
get a slow, memory-hard hash instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

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
