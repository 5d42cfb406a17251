"""An account's server limits (Mastodon's instance limits): read and kept up to date.

They are read when a live Mastodon account is connected or moves to another instance (the
request fails with a clear problem if the instance cannot be asked), and refreshed daily by a
background chore. The chore is safe with several replicas: each account is claimed with a
conditional update on ``limits_checked_at`` before its instance is asked, so only one replica
asks. A failed refresh keeps the limits known so far and is tried again an hour later.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta

import httpx

from service.accounts import repository
from service.accounts.models import Account, AccountMode
from service.config import Settings
from service.db import Database, utcnow
from service.networks import rules_for
from service.networks.base import Network, ServerLimits
from service.networks.mastodon.instance import LimitsUnavailable, fetch_limits
from service.problems import ProblemError

log = logging.getLogger("handpost.limits")

REFRESH_EVERY = timedelta(days=1)
RETRY_AFTER_FAILURE = timedelta(hours=1)
BATCH = 20
_USER_AGENT = "Handpost (self-hosted post scheduler)"


def has_server_limits(network: str, mode: str) -> bool:
    """Only live Mastodon accounts: their instance says; sandbox accounts call no server."""
    return network == Network.MASTODON and mode == AccountMode.LIVE


def fetch(settings: Settings, network: str, base_url: str | None) -> ServerLimits:
    """Ask the account's server now (from a worker thread); LimitsUnavailable if it can't."""
    address = base_url or rules_for(network).default_base_url

    async def ask() -> ServerLimits:
        async with httpx.AsyncClient(headers={"User-Agent": _USER_AGENT}) as client:
            return await fetch_limits(client, settings.outbound, address)

    return asyncio.run(ask())


def read_for(settings: Settings, network: str, mode: str, base_url: str | None) -> str | None:
    """The limits to store with an account being connected (JSON), or None if it has none.

    Raises a 422 problem naming ``base_url`` when the instance cannot be asked: an account
    whose limits are unknown could be given posts its instance refuses.
    """
    if not has_server_limits(network, mode):
        return None
    try:
        limits = fetch(settings, network, base_url)
    except LimitsUnavailable as failure:
        address = base_url or rules_for(network).default_base_url
        raise ProblemError(
            422,
            "instance-unreachable",
            "The instance's limits could not be read",
            f"Handpost could not read the limits of the Mastodon instance at {address}: "
            f"{failure.reason}. Check base_url; the account was not saved.",
            errors=[
                {"field": "base_url", "code": "instance-unreachable", "message": failure.reason}
            ],
        ) from None
    return json.dumps(limits.as_json())


def limits_of(account: Account) -> ServerLimits | None:
    """The stored limits of ``account``; None when it has none or they cannot be read."""
    if not account.server_limits:
        return None
    try:
        data = json.loads(account.server_limits)
    except ValueError:
        return None
    return ServerLimits.from_json(data) if isinstance(data, dict) else None


def refresh_due(
    database: Database, settings: Settings, *, now: datetime | None = None
) -> str | None:
    """The daily chore: refresh the limits of live Mastodon accounts not asked for a day."""
    now = now or utcnow()
    checked_before = now - REFRESH_EVERY
    with database.session(read_only=True) as session:
        due = repository.limits_due(
            session, Network.MASTODON, checked_before=checked_before, limit=BATCH
        )
    refreshed = failed = 0
    for account_id, base_url in due:
        with database.session() as session:
            claimed = repository.claim_limits_check(
                session, account_id, checked_before=checked_before, now=now
            )
            session.commit()
        if not claimed:
            continue  # another replica has it
        try:
            limits = fetch(settings, Network.MASTODON, base_url)
        except LimitsUnavailable as failure:
            failed += 1
            log.warning("account %s: its instance's limits stay as they were: %s",
                        account_id, failure.reason)  # fmt: skip
            with database.session() as session:
                # Due again in an hour, the limits known so far kept.
                retry = now - REFRESH_EVERY + RETRY_AFTER_FAILURE
                repository.set_limits_checked_at(session, account_id, retry)
                session.commit()
            continue
        with database.session() as session:
            repository.save_server_limits(
                session, account_id, json.dumps(limits.as_json()), checked_at=now
            )
            session.commit()
        refreshed += 1
    if not refreshed and not failed:
        return None
    return f"refreshed the instance limits of {refreshed} accounts, {failed} failed"
