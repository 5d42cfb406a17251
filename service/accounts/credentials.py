"""Network credentials: what each network needs, and how they are kept encrypted at rest.

Credentials are a flat ``{name: value}`` dict per account, serialised to JSON and encrypted
with Fernet (AES-128-CBC + HMAC-SHA256, with a timestamp) into ``Account.credentials_ciphertext``.
Plain values exist only in memory while a post is being sent; the API accepts them (write-only)
and never returns them, and no log line, exception message or publish-log request holds them.

Where the key comes from:

* ``HANDPOST_SECRET_KEY``: one Fernet key, or several comma-separated to rotate keys (the first
  encrypts, every one decrypts, so old rows stay readable until they are rewritten).
* Unset, on the embedded default (SQLite, one machine): a key is generated once into
  ``HANDPOST_SECRET_KEY_FILE`` (``./handpost.key``, mode 0600) and reused. Handpost must work
  out of the box for one person on one machine, and a key stored apart from the database still
  means a copied or backed-up ``handpost.db`` reveals no tokens on its own.
* Unset, on PostgreSQL: refused. Replicas on several machines would each generate their own
  key and could not read each other's rows, so the operator must give them one shared key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from service.config import Settings
from service.networks.base import Network
from service.problems import ProblemError, invalid


class CredentialsUnreadable(Exception):
    """The stored ciphertext cannot be decrypted: a different key, or a corrupted row."""


class SecretKeyMissing(RuntimeError):
    """No key is configured where one must be (PostgreSQL, several replicas)."""


@dataclass(frozen=True)
class CredentialShape:
    """The keys a network's credentials may have.

    ``required`` must all be there; of each ``one_of`` group at least one; ``optional`` keys
    may be given (cached session state and token expiry are stored this way too). Any other key
    is refused, so that a typo ("acess_token") is reported instead of silently stored.
    """

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self.required + self.optional + tuple(k for g in self.one_of for k in g))


# ``expires_at`` (Unix seconds) is written by Handpost after a refresh, so that it can refresh
# ahead of expiry; a client may give it too.
SHAPES: dict[Network, CredentialShape] = {
    Network.X: CredentialShape(
        required=("access_token", "refresh_token", "client_id", "username"),
        optional=("client_secret", "user_id", "expires_at"),
    ),
    Network.LINKEDIN: CredentialShape(
        required=("access_token",),
        optional=("refresh_token", "client_id", "client_secret", "expires_at"),
        one_of=(("author_urn", "member_id"),),
    ),
    Network.FACEBOOK: CredentialShape(required=("page_access_token",)),
    Network.MASTODON: CredentialShape(required=("access_token",)),
    Network.BLUESKY: CredentialShape(
        required=("identifier", "app_password"),
        # The session Handpost opens once and then refreshes, never logging in per post.
        optional=("access_jwt", "refresh_jwt", "did"),
    ),
    Network.THREADS: CredentialShape(
        required=("access_token", "user_id"), optional=("expires_at",)
    ),
    # Connected from the browser (service.connect); publishing needs video upload, to come.
    Network.YOUTUBE: CredentialShape(
        required=("access_token", "channel_id"),
        optional=("refresh_token", "client_id", "client_secret", "expires_at"),
    ),
    # An application password (Users > Profile, or the site's "authorise application" page).
    Network.WORDPRESS: CredentialShape(required=("username", "application_password")),
    # A custom integration's Admin API key, "id:secret" (Settings > Integrations).
    Network.GHOST: CredentialShape(required=("admin_api_key",)),
}


def credential_errors(network: Network, credentials: dict[str, str]) -> list[dict[str, str]]:
    """Every problem with ``credentials`` for ``network``, as problem-details ``errors``."""
    shape = SHAPES.get(network)
    if shape is None:
        return [
            {
                "field": "credentials",
                "code": "not-supported",
                "message": f"Handpost cannot publish to {network.value} live yet; "
                "use a sandbox account.",
            }
        ]
    errors = [
        _error(key, "required", f"'{key}' is required for {network.value}.")
        for key in shape.required
        if not credentials.get(key, "").strip()
    ]
    for group in shape.one_of:
        if not any(credentials.get(key, "").strip() for key in group):
            names = " or ".join(f"'{key}'" for key in group)
            errors.append(_error(group[0], "required", f"{names} is required for {network.value}."))
    for key in sorted(set(credentials) - shape.known):
        allowed = ", ".join(sorted(shape.known))
        errors.append(
            _error(
                key, "unknown", f"'{key}' is not a {network.value} credential (known: {allowed})."
            )
        )
    return errors


def check_credentials(network: Network, credentials: dict[str, str]) -> None:
    """Raise a 422 problem naming every missing or unknown key (never echoing a value)."""
    errors = credential_errors(network, credentials)
    if errors:
        summary = "; ".join(e["message"] for e in errors)
        raise invalid(f"The credentials are not complete: {summary}", errors)


def _error(key: str, code: str, message: str) -> dict[str, str]:
    return {"field": f"credentials.{key}", "code": code, "message": message}


def secret_values(credentials: dict[str, str]) -> list[str]:
    """Values worth scrubbing from any text that leaves the process (ids are harmless)."""
    public = {
        "username",
        "user_id",
        "identifier",
        "did",
        "author_urn",
        "member_id",
        "client_id",
        "expires_at",
        "channel_id",
    }
    return [v for k, v in credentials.items() if k not in public and len(v) >= 6]


class CredentialCipher:
    """Encrypts and decrypts one account's credentials dict."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, credentials: dict[str, str]) -> str:
        plain = json.dumps(credentials, sort_keys=True, separators=(",", ":")).encode()
        return self._fernet.encrypt(plain).decode("ascii")

    def decrypt(self, ciphertext: str, *, max_age: int | None = None) -> dict[str, str]:
        """The dict; with ``max_age`` (seconds) an older ciphertext is refused as unreadable."""
        try:
            plain = self._fernet.decrypt(ciphertext.encode("ascii"), ttl=max_age)
        except (InvalidToken, ValueError):
            raise CredentialsUnreadable(
                "The stored credentials cannot be decrypted with the configured "
                "HANDPOST_SECRET_KEY (was the key changed?). Set the key they were written "
                "with, or give the account its credentials again."
            ) from None
        data = json.loads(plain)
        return {str(k): str(v) for k, v in data.items()}


_lock = threading.Lock()
_ciphers: dict[tuple[str, ...], CredentialCipher] = {}


def cipher_for(settings: Settings) -> CredentialCipher:
    """The cipher for these settings (cached: the key file is read or written only once)."""
    configured = settings.secret_key.get_secret_value() if settings.secret_key else ""
    embedded = settings.database_url.startswith("sqlite")
    cache_key = (configured, str(settings.secret_key_file) if embedded else "")
    with _lock:
        cipher = _ciphers.get(cache_key)
        if cipher is None:
            cipher = CredentialCipher(_keys(configured, settings.secret_key_file, embedded))
            _ciphers[cache_key] = cipher
        return cipher


def cipher_or_problem(settings: Settings) -> CredentialCipher:
    """The cipher, or a 503 problem for a request that must store a secret without a key."""
    try:
        return cipher_for(settings)
    except SecretKeyMissing as exc:
        raise ProblemError(
            503,
            "secret-key-missing",
            "Secrets cannot be stored",
            "This server has no HANDPOST_SECRET_KEY to encrypt secrets with; ask its "
            "administrator to set one.",
        ) from exc


def _keys(configured: str, key_file: Path, embedded: bool) -> list[bytes]:
    keys = [part.strip().encode() for part in configured.split(",") if part.strip()]
    if keys:
        return keys
    if not embedded:
        raise SecretKeyMissing(
            "HANDPOST_SECRET_KEY is not set. On PostgreSQL every replica must encrypt "
            "credentials with the same key. Generate one with: python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    return [load_or_create_key_file(key_file)]


def load_or_create_key_file(path: Path) -> bytes:
    """The key in ``path``; if there is none, a new key written there with mode 0600.

    The key is written to a private temporary file first and then hard-linked into place, so
    a second process starting at the same moment either links first or reads a complete key:
    never an empty or half-written file.
    """
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(Fernet.generate_key() + b"\n")
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_bytes().strip()


def derived_key(settings: Settings, purpose: str) -> bytes:
    """A key for ``purpose`` (e.g. signing media URLs), derived from the first secret key,
    so no second secret needs configuring and rotating it with the key changes it too."""
    configured = settings.secret_key.get_secret_value() if settings.secret_key else ""
    embedded = settings.database_url.startswith("sqlite")
    first = _keys(configured, settings.secret_key_file, embedded)[0]
    return hmac.new(first, f"handpost:{purpose}".encode(), hashlib.sha256).digest()
