"""Accounts: the handful of networks a person chose, each with its purpose and audience."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.accounts import repository
from service.accounts.credentials import (
    CredentialCipher,
    check_credentials,
    cipher_for,
    credential_errors,
)
from service.accounts.limits import limits_of
from service.accounts.models import Account, AccountMode, AccountStatus
from service.accounts.schemas import AccountCreate, AccountUpdate
from service.config import Settings
from service.connect import repository as connections
from service.connect.models import EventKind
from service.connect.tokens import token_state
from service.db import utcnow
from service.networks import rules_for
from service.networks.base import AccountRef, Network
from service.posts.models import PostState
from service.problems import ProblemError, invalid, not_found
from service.users.models import User


def get_or_404(session: Session, user: User, account_id: str) -> Account:
    account = repository.get(session, user.id, account_id)
    if account is None:
        raise not_found("account", account_id)
    return account


def account_ref(account: Account) -> AccountRef:
    """What a network module needs of the account: where it lives and what its server allows."""
    return AccountRef(
        id=account.id, handle=account.handle, base_url=account.base_url, limits=limits_of(account)
    )


def create(
    session: Session,
    user: User,
    data: AccountCreate,
    cipher: CredentialCipher | None = None,
    server_limits: str | None = None,
) -> Account:
    """``server_limits``: what the account's server said it allows (JSON), read beforehand."""
    if repository.find_by_handle(session, user.id, data.network, data.handle) is not None:
        raise _handle_taken(data.network, data.handle)
    account = Account(
        user_id=user.id,
        handle_key=data.handle.casefold(),
        **data.model_dump(exclude={"credentials"}),
    )
    if server_limits is not None:
        account.server_limits = server_limits
        account.limits_checked_at = utcnow()
    given = _store_credentials(account, data.credentials, cipher) if data.credentials else None
    _require_mode_fits(account)
    session.add(account)
    try:
        session.flush()
    except IntegrityError as exc:  # the same handle, added by a concurrent request
        raise _handle_taken(data.network, data.handle) from exc
    if given is not None:
        _record_connection(session, account, given)
    return account


def check_connectable(data: AccountCreate) -> None:
    """The checks ``create`` makes on what was sent, made before anything else is done."""
    _require_hand_where_no_api(data.network, data.mode)
    if data.credentials is not None:
        check_credentials(Network(data.network), data.credentials)
    else:
        _require_credentials_if_live(data.network, data.mode, has_credentials=False)


def _handle_taken(network: Network, handle: str) -> ProblemError:
    return ProblemError(
        409,
        "account-exists",
        "Account already connected",
        f"A {network.value} account with handle {handle!r} is already connected.",
    )


def update(
    session: Session,
    account: Account,
    data: AccountUpdate,
    cipher: CredentialCipher | None = None,
    server_limits: str | None = None,
) -> Account:
    """``server_limits``: newly read when the account moved to another server or went live."""
    values = data.model_dump(exclude_unset=True)
    if server_limits is not None:
        account.server_limits = server_limits
        account.limits_checked_at = utcnow()
    if values.get("active") is False and account.active:
        _require_nothing_scheduled(session, account)
    credentials_given = "credentials" in values
    credentials = values.pop("credentials", None)
    for name, value in values.items():
        setattr(account, name, value)
    given = None
    if credentials is not None:
        given = _store_credentials(account, credentials, cipher)
    elif credentials_given:
        account.credentials_ciphertext = None  # an explicit null disconnects the account
    _require_mode_fits(account)
    account.updated_at = utcnow()
    account.version += 1
    session.add(account)
    session.flush()
    if given is not None:
        _record_connection(session, account, given)
    return account


def _require_nothing_scheduled(session: Session, account: Account) -> None:
    if repository.has_posts(session, account.id, states=(PostState.SCHEDULED,)):
        raise ProblemError(
            409,
            "account-has-scheduled-posts",
            "Account has scheduled posts",
            "This account still has scheduled posts; cancel or move them before taking the "
            "account out of your networks.",
        )


def delete(session: Session, account: Account) -> None:
    """Only an account without posts can go: its posts and their log are never thrown away."""
    if repository.has_posts(session, account.id):
        raise ProblemError(
            409,
            "account-has-posts",
            "Account has posts",
            "This account has posts, and deleting it would delete them and their publish log. "
            "Cancel its scheduled posts instead; the account stays for the record.",
        )
    session.delete(account)
    session.flush()


def _store_credentials(
    account: Account, credentials: dict[str, str], cipher: CredentialCipher | None
) -> dict[str, str]:
    """Validate, encrypt and attach new credentials; they also reconnect the account."""
    check_credentials(Network(account.network), credentials)
    cleaned = {key: value.strip() for key, value in credentials.items()}
    account.credentials_ciphertext = (cipher or _default_cipher()).encrypt(cleaned)
    account.status = AccountStatus.ACTIVE
    account.status_message = None
    return cleaned


def _record_connection(session: Session, account: Account, credentials: dict[str, str]) -> None:
    """What the token lifecycle needs to know of credentials given by hand, and the event."""
    state = token_state(account.network, credentials)
    connections.set_token_state(session, account.id, connected_at=utcnow(), **state.columns())
    connections.add_event(
        session, account.id, EventKind.CONNECTED, "Credentials given by hand.", utcnow()
    )


def _require_mode_fits(account: Account) -> None:
    """A live account publishes for real, so it cannot exist without its credentials; and a
    network Handpost cannot send to is published by hand, or not at all."""
    _require_hand_where_no_api(account.network, account.mode)
    _require_credentials_if_live(
        account.network, account.mode, has_credentials=account.credentials_ciphertext is not None
    )


def _require_hand_where_no_api(network: str, mode: str) -> None:
    rules = rules_for(network)
    if not rules.has_api and mode != AccountMode.HAND:
        raise invalid(
            f"Handpost has no way to publish to {rules.display_name}: use mode 'hand', and "
            "Handpost will tell you when each post is due.",
            [{"field": "mode", "code": "hand-only", "message": "Only 'hand' works here."}],
        )


def _require_credentials_if_live(network: str, mode: str, *, has_credentials: bool) -> None:
    if mode != AccountMode.LIVE or has_credentials:
        return
    errors: list[dict[str, Any]] = [
        {
            "field": "credentials",
            "code": "required",
            "message": "A live account needs its network credentials.",
        }
    ]
    # The keys it needs, listed (nothing was given, so no key is "unknown").
    errors += credential_errors(Network(network), {})
    raise invalid(
        f"A live {network} account needs credentials; give them in 'credentials', "
        "or use sandbox mode.",
        errors,
    )


def _default_cipher() -> CredentialCipher:
    """The cipher configured by the environment, for callers that do not pass the app's own.

    The API endpoints should pass ``cipher_for(settings)`` of the app; this fallback reads the
    same ``HANDPOST_*`` variables the app reads in production.
    """
    return cipher_for(Settings())
