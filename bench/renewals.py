"""Renewals: the token lifecycle chore with many accounts due at once, and replicas racing.

``--accounts`` live X accounts, each with its own rotating refresh token at the emulator
(its own process, answering after ``--latency-ms``), all due for renewal. ``--replicas``
lifecycle chores (each its own lease owner, as separate processes would be) run their rounds
at the same time until nothing is due. Then a round with nothing due is timed: every replica
pays it every ``HANDPOST_TOKEN_CHECK_SECONDS``.

Figures: time until every token was renewed, renewals per second, the bound
``accounts x latency / (replicas x RENEWALS_AT_ONCE)``, refresh calls the emulator received
(must equal the accounts: a rotated refresh token used twice is lost), spent refresh tokens
used again (must be 0), and the idle round's duration.

    python -m bench.renewals [--database sqlite|postgresql] [--accounts 400] [--replicas 3]
                             [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import _common as common

TARGET_RATIO = 1.5


def seed(url: str, emulator: Any, accounts: int) -> None:
    """A user with ``accounts`` live X accounts whose tokens expire in 5 minutes (due now)."""
    from service.accounts.credentials import cipher_for
    from service.config import Settings
    from service.connect import repository as connections
    from service.connect.tokens import token_state
    from service.db import Database
    from service.migrate import upgrade
    from service.models import Account
    from service.users import service as users

    upgrade(url)
    settings = Settings(database_url=url)
    cipher = cipher_for(settings)
    database = Database(url)
    expires = str(int((datetime.now(UTC) + timedelta(minutes=5)).timestamp()))
    with database.session() as session:
        user = users.create_user(session, "bench", "bench-password-123")
        for n in range(accounts):
            made = emulator.register_account(
                "x", username=f"renew{n:05d}", refresh_token=True, token_lifetime_s=300
            )
            credentials = {
                "access_token": made["access_token"],
                "refresh_token": made["refresh_token"],
                "client_id": "bench-client",
                "username": made["username"],
                "expires_at": expires,
            }
            account = Account(
                user_id=user.id,
                network="x",
                handle=made["username"],
                handle_key=made["username"],
                purpose="bench",
                audience="bench",
                mode="live",
                base_url=made["base_url"],
                credentials_ciphertext=cipher.encrypt(credentials),
            )
            session.add(account)
            session.flush()
            state = token_state("x", credentials)
            connections.set_token_state(session, account.id, **state.columns())
            if (n + 1) % 100 == 0:
                common.progress(f"{n + 1} accounts")
        session.commit()
    database.dispose()


async def race(url: str, replicas: int) -> tuple[float, int]:
    """Every replica's rounds, at once, until none finds anything due: (seconds, rounds)."""
    from service.config import Settings
    from service.connect.lifecycle import TokenLifecycle
    from service.db import Database

    chores = [TokenLifecycle(Database(url), Settings(database_url=url)) for _ in range(replicas)]
    rounds = 0
    started = time.perf_counter()
    while True:
        done = await asyncio.gather(*(c.renew_due(c.database) for c in chores))
        rounds += 1
        if not any(done):
            break
    elapsed = time.perf_counter() - started
    for chore in chores:
        chore.database.dispose()
    return elapsed, rounds


async def idle_round(url: str) -> float:
    from service.config import Settings
    from service.connect.lifecycle import TokenLifecycle
    from service.db import Database

    chore = TokenLifecycle(Database(url), Settings(database_url=url))
    started = time.perf_counter()
    await chore.renew_due(chore.database)
    elapsed = time.perf_counter() - started
    chore.database.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--accounts", type=int, default=400)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    common.exit_on_sigterm()

    import os

    from cryptography.fernet import Fernet

    from service.connect.lifecycle import RENEWALS_AT_ONCE
    from tests.emulator.server import EmulatorServer

    os.environ.setdefault("HANDPOST_SECRET_KEY", Fernet.generate_key().decode())
    with common.workdir(args.keep) as directory, common.database(args.database, directory) as url:
        common.print_header(
            "token renewals", url, accounts=args.accounts, replicas=args.replicas,
            latency_ms=args.latency_ms,
        )  # fmt: skip
        with EmulatorServer(latency_ms=args.latency_ms, in_process=False) as emulator:
            seed(url, emulator, args.accounts)
            emulator.clear_received()
            elapsed, rounds = asyncio.run(race(url, args.replicas))
            calls = [
                r for r in emulator.received("x", "token")
                if r["body"] and r["body"].get("grant_type") == "refresh_token"
            ]  # fmt: skip
            refused = [r for r in calls if r["response_status"] != 200]
            idle = asyncio.run(idle_round(url))
        bound = args.accounts * args.latency_ms / 1000 / (args.replicas * RENEWALS_AT_ONCE)
        common.print_figure("all renewed after", elapsed, "s", f"{rounds} rounds per replica")
        common.print_figure("renewals per second", args.accounts / elapsed if elapsed else 0.0)
        common.print_figure("bound", bound, "s", "accounts x latency / (replicas x at once)")
        common.print_figure("refresh calls at the emulator", len(calls), "", f"{args.accounts} due")
        common.print_figure("refresh tokens refused (used twice)", len(refused))
        common.print_figure("a round with nothing due", idle * 1000, "ms")
        common.verdict("elapsed / bound", elapsed / bound if bound else 0.0, TARGET_RATIO)
        common.verdict("refresh calls / accounts", len(calls) / args.accounts, 1.0)


if __name__ == "__main__":
    main()
