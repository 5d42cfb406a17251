"""Several replicas, crashes and restarts on a real PostgreSQL: nothing lost, nothing twice.

Real ``handpost worker`` processes (tests/support/workers.py) publish live to the network
emulator, itself a separate process; the emulator's list of created posts is the ground truth.
PostgreSQL only: several replicas claiming from one database is what PostgreSQL is for.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.db import Database
from service.main import create_app
from service.networks.bluesky import rkey_for
from service.publishing import repository
from service.users import service as users
from tests.emulator.server import EmulatorServer
from tests.support.api import create_account, distinct_text, wait_for
from tests.support.databases import fresh_database, postgres_admin_url
from tests.support.live import connect
from tests.support.workers import (
    PlannedPost,
    WorkerPool,
    all_settled,
    attempts_by_post,
    claims_of,
    created_by_text,
    duplicates,
    insert_posts,
    post_rows,
    state_counts,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_admin_url() is None,
        reason="needs PostgreSQL: set HANDPOST_TEST_POSTGRES_URL (scripts/test starts a server)",
    ),
]


# --- fixtures: a database, the emulator as a process, live accounts -----------------------------


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[EmulatorServer]:
    with EmulatorServer(in_process=False) as server:
        yield server


@pytest.fixture
def emulator(emulator_process: EmulatorServer) -> EmulatorServer:
    emulator_process.reset()
    # X would refuse a repeated text on its own; switched off, a resent post shows up as a
    # second created post instead of being hidden by the network.
    emulator_process.configure(natural_duplicates=False)
    return emulator_process


@dataclass(frozen=True)
class LiveAccount:
    user_id: str
    id: str
    network: str


def live_accounts(
    database_url: str,
    secret_key: str,
    emulator: EmulatorServer | None,
    plan: dict[str, list[str]],
) -> list[LiveAccount]:
    """For each user in ``plan``, accounts on the listed networks, connected through the API (so
    credentials are encrypted as in production): live ones whose base URL is the emulator's, or
    sandbox ones when ``emulator`` is None."""
    database = Database(database_url)
    settings = Settings(
        database_url=database_url, secret_key=secret_key, outbound_allow_private=True
    )
    accounts: list[LiveAccount] = []
    try:
        with TestClient(create_app(settings, dispatch=False)) as client:
            for username, networks in plan.items():
                with database.session() as session:
                    user = users.create_user(session, username, f"{username}-password-123")
                    _token, plain = users.issue_token(
                        session, user, kind="session", name="test", ttl=timedelta(hours=1)
                    )
                    user_id = user.id
                    session.commit()
                client.headers["Authorization"] = f"Bearer {plain}"
                for n, network in enumerate(networks):
                    if emulator is None:
                        account = create_account(client, network, f"{username}-{network}-{n}")
                    else:
                        account, _registered = connect(client, emulator, network)
                    accounts.append(LiveAccount(user_id, account["id"], network))
    finally:
        database.dispose()
    return accounts


def plan_posts(
    accounts: list[LiveAccount], count: int, due: datetime, *, seed: int, spread_s: float = 0.0
) -> list[PlannedPost]:
    """``count`` posts round-robin over ``accounts``, due from ``due`` over ``spread_s``."""
    return [
        PlannedPost(
            user_id=accounts[n % len(accounts)].user_id,
            account_id=accounts[n % len(accounts)].id,
            network=accounts[n % len(accounts)].network,
            text=distinct_text(seed + n),
            scheduled_at=due + timedelta(seconds=spread_s * n / max(1, count)),
        )
        for n in range(count)
    ]


def worker_settings(secret_key: str, **overrides: str) -> dict[str, str]:
    # The emulator's Mastodon and Bluesky are on loopback: let the SSRF gate through.
    return {
        "secret_key": secret_key,
        "poll_seconds": "0.25",
        "outbound_allow_private": "true",
        **overrides,
    }


def assert_created_once(emulator: EmulatorServer, posts: list[PlannedPost]) -> None:
    """At the emulator, every post was created exactly once, with its own key or record key."""
    created = created_by_text(emulator)
    assert duplicates(emulator) == {}
    missing = [p.text for p in posts if p.text not in created]
    assert missing == [], f"{len(missing)} posts never reached the network"
    assert sum(len(made) for made in created.values()) == len(posts)
    for post in posts:
        [made] = created[post.text]
        assert made["network"] == post.network
        if post.network == "mastodon":
            assert made["idempotency_key"] == post.publish_key
        if post.network == "bluesky":
            assert made["id"].endswith(f"/app.bsky.feed.post/{rkey_for(post.publish_key)}")


# --- 1. three replicas, 2,000 posts -------------------------------------------------------------


POSTS = 2000
WORKERS = ("w1", "w2", "w3")


def test_three_workers_publish_2000_posts_exactly_once_between_them(
    tmp_path: Path, database_url: str, emulator: EmulatorServer, secret_key: str
) -> None:
    emulator.set_latency(20)
    # Four users with four live accounts each (two Mastodon, two Bluesky).
    plan = {f"user{u}": ["mastodon", "bluesky", "mastodon", "bluesky"] for u in range(4)}
    accounts = live_accounts(database_url, secret_key, emulator, plan)

    with WorkerPool(tmp_path, database_url, **worker_settings(secret_key)) as pool:
        for worker_id in WORKERS:
            pool.start(worker_id)
        # Written while the workers run, due a few seconds later, within one second.
        due = datetime.now(UTC) + timedelta(seconds=4)
        posts = plan_posts(accounts, POSTS, due, seed=1_000, spread_s=1.0)
        insert_posts(database_url, posts)

        counts = wait_for(lambda: all_settled(database_url), timeout=180, interval=0.5)
        assert counts == {"published": POSTS}, pool.logs()
        assert pool.tracebacks() == [], pool.logs()
        stopped = {worker_id: pool.stop(worker_id) for worker_id in WORKERS}
    assert stopped == dict.fromkeys(WORKERS, 0)

    assert_created_once(emulator, posts)
    rows = post_rows(database_url)
    attempts = attempts_by_post(database_url)
    by_text = created_by_text(emulator)
    for post in posts:
        row = rows[post.id]
        assert row.state == "published" and row.attempt_count == 1
        assert row.external_id == by_text[post.text][0]["id"]
        assert [a.outcome for a in attempts[post.id]] == ["published"]
    shares = Counter(attempts[p.id][0].worker for p in posts)
    # Each did a real share of the work (a third would be even; a tenth is plainly shared).
    assert min(shares.values()) >= POSTS // 10, shares
    print(f"\nshares of {POSTS} posts: {dict(shares)}")


def test_one_claim_takes_at_most_its_limit_even_before_postgresql_has_statistics(
    database_url: str, secret_key: str
) -> None:
    """Just after a bulk insert PostgreSQL knows nothing about the table's size. With the LIMIT
    in a subquery of the UPDATE it then planned a nested loop that ran the subquery once per
    row, each run locking the next unclaimed rows: one claim of 16 took all 500 due posts."""
    [account] = live_accounts(database_url, secret_key, None, {"solo": ["mastodon"]})
    now = datetime.now(UTC)
    insert_posts(database_url, plan_posts([account], 500, now - timedelta(minutes=1), seed=7))
    database = Database(database_url)
    try:
        with database.session() as session:
            claimed = repository.claim_due(
                session, now=now, limit=16, worker="w1", lease_until=now + timedelta(minutes=1)
            )
            session.commit()
    finally:
        database.dispose()
    assert len(claimed) == 16
    assert state_counts(database_url) == {"publishing": 16, "scheduled": 484}


# --- 2. SIGKILL, twenty times, during a burst ---------------------------------------------------


BURST = 480
KILLS = 20
LEASE_SECONDS = 3
NETWORK_MIX = ["mastodon", "bluesky", "x", "mastodon", "bluesky"]


@dataclass
class Kill:
    incarnation: str
    orphans: list[tuple[str, str]]  # (post id, network) it held in publishing when it died


def test_workers_killed_mid_send_twenty_times_lose_nothing_and_publish_nothing_twice(
    tmp_path: Path, database_url: str, emulator: EmulatorServer, secret_key: str
) -> None:
    """One worker is SIGKILLed at a random moment while it holds claims, and restarted, twenty
    times; a second worker runs throughout, as another replica would.

    The survivor and the restarted worker recover the dead one's claims once their short lease
    has expired: Mastodon posts are sent again with the same Idempotency-Key, Bluesky posts look
    for their record key first, and X posts, which cannot be resent safely, become ``unknown``
    if their send had begun, and are sent if the dead worker had only claimed them.
    """
    emulator.set_latency(80)
    rng = random.Random(4)
    # One user, five live accounts (the most one user may have active).
    accounts = live_accounts(database_url, secret_key, emulator, {"crashy": NETWORK_MIX})
    settings = worker_settings(
        secret_key,
        lease_seconds=str(LEASE_SECONDS),
        # A few sends at a time, so a burst lasts through the kills and each kill cuts some.
        publish_concurrency="6",
        network_concurrency='{"mastodon": 2, "bluesky": 2, "x": 1}',
        # These kills strike at random, so no post should be given up on as the cause of them
        # (after five, it would be: test_a_post_whose_sends_keep_dying_stops_being_resent).
        max_attempts="50",
    )
    posts: list[PlannedPost] = []
    kills: list[Kill] = []

    def burst(count: int) -> None:
        due = datetime.now(UTC) + timedelta(seconds=1)
        more = plan_posts(accounts, count, due, seed=100_000 + len(posts))
        insert_posts(database_url, more)
        posts.extend(more)

    def backlog() -> int:
        counts = state_counts(database_url)
        return counts["scheduled"] + counts["publishing"]

    with WorkerPool(tmp_path, database_url, **settings) as pool:
        pool.start("steady")
        burst(BURST)
        for round_ in range(1, KILLS + 1):
            victim = f"victim-{round_:02d}"
            pool.start(victim, wait=False)

            def holds_claims(victim: str = victim) -> list[tuple[str, str]] | None:
                if not (claims := claims_of(database_url, victim)) and not backlog():
                    burst(100)  # the machine is fast: keep the burst going until the last kill
                return claims or None

            while True:  # a random moment at which it holds claims: claiming, sending, recording
                wait_for(holds_claims, timeout=60, interval=0.02)
                time.sleep(rng.uniform(0.0, 0.4))
                if claims_of(database_url, victim):
                    break
            pool.kill(victim)
            time.sleep(0.2)  # a COMMIT sent just before the kill may still be landing
            # What it held when it died; nobody touches these until the lease lapses.
            kills.append(Kill(victim, claims_of(database_url, victim)))
        pool.start("victim-final")

        counts = wait_for(lambda: all_settled(database_url), timeout=120, interval=0.25)
        tracebacks = pool.tracebacks()
        assert pool.stop("steady") == 0 and pool.stop("victim-final") == 0
    assert tracebacks == [], pool.logs()

    rows = post_rows(database_url)
    attempts = attempts_by_post(database_url)
    by_text = created_by_text(emulator)
    orphans = {post_id: network for kill in kills for post_id, network in kill.orphans}
    killed = "|".join(kill.incarnation for kill in kills)
    stopped = re.compile(rf"Worker ({killed}) stopped (while publishing|before sending it)")
    # Resends of a post whose first send had reached the network before the kill, answered
    # with the existing post: a Mastodon Idempotency-Key replay, a Bluesky record found.
    absorbed = Counter(
        request["network"]
        for request in emulator.received()
        if request.get("idempotent_replay")
        or (request["network"], request["endpoint"], request["response_status"])
        == ("bluesky", "get", 200)
    )
    unknown_sent = [p for p in posts if rows[p.id].state == "unknown" and p.text in by_text]
    claimed_only = [
        p
        for p in posts
        if any("stopped before sending it" in (a.message or "") for a in attempts[p.id])
    ]
    figures = {
        "posts": len(posts),
        "kills": len(kills),
        "kills that cut claims": sum(1 for kill in kills if kill.orphans),
        "orphaned claims": dict(Counter(orphans.values())),
        "resends absorbed by the network": dict(absorbed),
        "states": dict(counts),
        "unknown (X) that had gone out": len(unknown_sent),
        "X claimed but not begun, sent after the kill": len(claimed_only),
        "created at the emulator": sum(len(made) for made in by_text.values()),
        "duplicates": len(duplicates(emulator)),
    }
    print(f"\ncrash harness: {figures}")

    # Nothing twice: no text was created twice at the networks.
    assert duplicates(emulator) == {}
    # Nothing lost: every post settled as published, or (X only) unknown.
    assert set(counts) <= {"published", "unknown"}, counts
    assert sum(counts.values()) == len(posts)
    for post in posts:
        row, log = rows[post.id], attempts[post.id]
        made = by_text.get(post.text, [])
        outcomes = [a.outcome for a in log]
        if row.state == "published":
            assert len(made) == 1 and row.external_id == made[0]["id"], post
            assert outcomes.count("published") == 1, (post, log)
        else:
            # Only where a resend could duplicate it, and only after a crash cut its send.
            assert post.network == "x" and outcomes[-1] == "unknown", (post, log)
            assert len(made) <= 1
        if post.id in orphans and post.network != "x":
            # Recovered and sent again, which the network's key made harmless.
            assert "retrying" in outcomes and row.state == "published", (post, log)
        if post.id in orphans and post.network == "x":
            # Cut mid-send: unknown. Only claimed (its send not begun): sent now, once.
            assert row.state == "unknown" or post in claimed_only, (post, log)
        if post in claimed_only:
            # Sent after the kill; unknown only if a later kill cut that send in turn.
            cut_later = any("stopped while publishing" in (a.message or "") for a in log)
            assert post.network == "x", (post, log)
            assert row.state == "published" or cut_later, (post, log)
        # Only killed workers ever lost a claim: the live ones kept theirs (leases renewed).
        for entry in log:
            if entry.outcome in ("retrying", "unknown"):
                assert stopped.match(entry.message or ""), (post, log)
    # The kills did cut sends: each held claims when it died (rarely, a claim is settled
    # between the last look and the kill), and some had already reached the network.
    assert sum(1 for kill in kills if kill.orphans) >= KILLS // 2
    assert sum(absorbed.values()) + len(unknown_sent) >= 1, figures


# --- 3. a restart after downtime ---------------------------------------------------------------


GRACE_SECONDS = 1800


def test_after_downtime_recent_posts_are_published_and_old_ones_missed(
    tmp_path: Path, database_url: str, emulator: EmulatorServer, secret_key: str
) -> None:
    """Nothing ran for hours. Posts that came due meanwhile: within the grace window they are
    published late; older ones are ``missed``, with a log entry saying why. Posts a worker was
    sending when it all went down are recovered the same way, except that an old one is
    ``unknown`` rather than missed: it may have gone out before the crash."""
    accounts = live_accounts(database_url, secret_key, emulator, {"away": NETWORK_MIX[:3]})
    now = datetime.now(UTC)

    def batch(count: int, seed: int, age: timedelta, spread: timedelta) -> list[PlannedPost]:
        planned = plan_posts(accounts, count, now - age, seed=seed * 1000)
        for n, post in enumerate(planned):
            post.scheduled_at -= spread * n / count
        return planned

    recent = batch(30, 1, timedelta(minutes=2), timedelta(minutes=25))  # 2 to 27 min late
    old = batch(30, 2, timedelta(minutes=31), timedelta(hours=5))  # 31 min to 5.5 h late
    upcoming = batch(6, 3, timedelta(seconds=-3), timedelta(seconds=0))  # due in 3 s
    # Left in publishing by a worker that died just before the downtime: one recently due
    # (resendable on Mastodon and Bluesky), one long ago.
    interrupted_recent = batch(3, 4, timedelta(minutes=10), timedelta(0))
    interrupted_old = batch(3, 5, timedelta(hours=3), timedelta(0))
    for post in interrupted_recent + interrupted_old:
        post.state, post.claimed_by, post.attempt_count = "publishing", "gone-worker", 1
        post.claimed_until = post.scheduled_at + timedelta(seconds=LEASE_SECONDS)
    insert_posts(database_url, recent + old + upcoming + interrupted_recent + interrupted_old)

    settings = worker_settings(secret_key, missed_grace_seconds=str(GRACE_SECONDS))
    with WorkerPool(tmp_path, database_url, **settings) as pool:
        pool.start("back")
        counts = wait_for(lambda: all_settled(database_url), timeout=60, interval=0.25)
        assert pool.stop("back") == 0
        assert pool.tracebacks() == [], pool.logs()
    print(f"\nafter downtime: {dict(counts)}")

    rows = post_rows(database_url)
    attempts = attempts_by_post(database_url)
    by_text = created_by_text(emulator)
    assert duplicates(emulator) == {}
    for post in recent + upcoming:
        assert rows[post.id].state == "published"
        assert [a.outcome for a in attempts[post.id]] == ["published"]
        assert len(by_text[post.text]) == 1
    for post in old:
        assert rows[post.id].state == "missed"
        [entry] = attempts[post.id]
        assert entry.outcome == "missed"
        assert "grace window" in (entry.message or "")
        assert post.text not in by_text  # nothing was sent
    for post in interrupted_recent:
        outcomes = [a.outcome for a in attempts[post.id]]
        if post.network == "x":
            assert rows[post.id].state == "unknown" and outcomes == ["unknown"]
            assert post.text not in by_text
        else:
            assert rows[post.id].state == "published" and outcomes == ["retrying", "published"]
            assert len(by_text[post.text]) == 1
    for post in interrupted_old:
        # Too late to send again, and perhaps sent before the crash: the user must check.
        assert rows[post.id].state == "unknown", post
        [entry] = attempts[post.id]
        assert entry.outcome == "unknown" and "stopped while publishing" in (entry.message or "")
        assert post.text not in by_text
    assert counts == {"published": 38, "missed": 30, "unknown": 4}


# --- 4. a slow send outlives the lease -----------------------------------------------------------


def test_a_worker_slower_than_its_lease_keeps_its_claims(
    tmp_path: Path, database_url: str, emulator: EmulatorServer, secret_key: str
) -> None:
    """A live worker whose sends take longer than the lease (a slow instance, sends queued
    behind the per-network limit) must not have them taken over by another replica, which
    would mark the X post unknown, or send the Mastodon post again, while the first is still
    sending it. The worker renews its lease while it works; only a dead worker's lapses."""
    accounts = live_accounts(database_url, secret_key, emulator, {"slow": ["x", "mastodon"]})
    emulator.set_latency(3 * 1000 * LEASE_SECONDS)
    settings = worker_settings(secret_key, lease_seconds=str(LEASE_SECONDS))
    with WorkerPool(tmp_path, database_url, **settings) as pool:
        pool.start("first")
        posts = plan_posts(accounts, 2, datetime.now(UTC), seed=9)
        insert_posts(database_url, posts)
        wait_for(lambda: len(claims_of(database_url, "first")) == 2, timeout=30)
        pool.start("second")  # looks every 0.25 s, while the sends take 9 s
        # Before leases were renewed, the Mastodon post went back and forth between the two
        # for ever (each took it over from the other mid-send), and the X post became unknown.
        counts = wait_for(lambda: all_settled(database_url), timeout=60, interval=0.25)
        assert pool.stop("first") == 0 and pool.stop("second") == 0
    rows = post_rows(database_url)
    attempts = attempts_by_post(database_url)
    assert counts == {"published": 2}
    for post in posts:
        assert rows[post.id].state == "published"
        assert [(a.outcome, a.worker) for a in attempts[post.id]] == [("published", "first")]
    assert_created_once(emulator, posts)
