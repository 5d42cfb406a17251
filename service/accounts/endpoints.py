from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from service.accounts import limits, repository, site_check
from service.accounts import service as accounts
from service.accounts.credentials import CredentialCipher, cipher_or_problem
from service.accounts.models import Account
from service.accounts.schemas import AccountCreate, AccountRead, AccountUpdate
from service.apidocs.contract import ETAG, LOCATION, with_headers
from service.concurrency import etag, require_if_match
from service.config import Settings
from service.db import SessionDep
from service.deps import SettingsDep
from service.idempotency.service import IdempotencyDep
from service.problems import problem_responses
from service.strategy import service as strategies
from service.users.auth import CurrentUser

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


def _cipher(settings: Settings, credentials: dict[str, str] | None) -> CredentialCipher | None:
    """The app's cipher, needed only when credentials are given (sandbox accounts need none)."""
    return None if credentials is None else cipher_or_problem(settings)


def _new_server_limits(settings: Settings, account: Account, data: AccountUpdate) -> str | None:
    """The server's limits, read again when the account moves to another server or goes
    live without any; None when what is stored still holds."""
    fields = data.model_fields_set
    mode = data.mode if "mode" in fields and data.mode is not None else account.mode
    base_url = data.base_url if "base_url" in fields else account.base_url
    moved = base_url != account.base_url
    if not limits.has_server_limits(account.network, mode):
        return None
    if not moved and account.server_limits is not None:
        return None
    return limits.read_for(settings, account.network, mode, base_url)


@router.get("", response_model=list[AccountRead])
def list_accounts(session: SessionDep, user: CurrentUser) -> list[AccountRead]:
    return [AccountRead.model_validate(a) for a in repository.list_all(session, user.id)]


@router.post(
    "",
    response_model=AccountRead,
    status_code=status.HTTP_201_CREATED,
    responses=with_headers(problem_responses(409, 503), 201, ETAG, LOCATION),
)
def create_account(
    data: AccountCreate,
    session: SessionDep,
    user: CurrentUser,
    idempotency: IdempotencyDep,
    settings: SettingsDep,
    response: Response,
) -> AccountRead:
    """Connect a network account. Send an Idempotency-Key to make a retry safe.

    A blog's credentials are tried on the site before they are saved."""
    strategies.require_active_slot(session, user, settings.max_active_accounts)
    # Asked before anything is written (the instance may take seconds to answer), and only
    # for an account that is otherwise complete: a refused request calls no one.
    accounts.check_connectable(data)
    site_check.require_site_url(data.network, data.base_url)
    site_check.verify_in_thread(
        settings, data.network, data.base_url, data.handle, data.credentials
    )
    server_limits = limits.read_for(settings, data.network, data.mode, data.base_url)
    account = accounts.create(
        session, user, data, _cipher(settings, data.credentials), server_limits
    )
    response.headers["ETag"] = etag(account.version)
    response.headers["Location"] = f"/api/v1/accounts/{account.id}"
    read = AccountRead.model_validate(account)
    idempotency.complete(status.HTTP_201_CREATED, read, response.headers)
    return read


@router.get(
    "/{account_id}",
    response_model=AccountRead,
    responses=with_headers(problem_responses(404), 200, ETAG),
)
def get_account(
    account_id: str, session: SessionDep, user: CurrentUser, response: Response
) -> AccountRead:
    account = accounts.get_or_404(session, user, account_id)
    response.headers["ETag"] = etag(account.version)
    return AccountRead.model_validate(account)


@router.patch(
    "/{account_id}",
    response_model=AccountRead,
    # 409: the account would be one active network too many, or still has scheduled posts.
    responses=with_headers(problem_responses(404, 409, 412, 503), 200, ETAG),
)
def update_account(
    account_id: str,
    data: AccountUpdate,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> AccountRead:
    account = accounts.get_or_404(session, user, account_id)
    require_if_match(if_match, account.version, required=False)
    if data.active and not account.active:
        strategies.require_active_slot(session, user, settings.max_active_accounts)
    base_url = data.base_url if "base_url" in data.model_fields_set else account.base_url
    site_check.require_site_url(account.network, base_url)
    site_check.verify_in_thread(
        settings, account.network, base_url, account.handle, data.credentials
    )
    account = accounts.update(
        session,
        account,
        data,
        _cipher(settings, data.credentials),
        _new_server_limits(settings, account, data),
    )
    response.headers["ETag"] = etag(account.version)
    return AccountRead.model_validate(account)


@router.delete(
    "/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 409, 412),
)
def delete_account(
    account_id: str,
    session: SessionDep,
    user: CurrentUser,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    account = accounts.get_or_404(session, user, account_id)
    require_if_match(if_match, account.version, required=False)
    accounts.delete(session, account)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
