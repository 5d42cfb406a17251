"""Scale: start-up time and memory with 1,000 and with 1,000,000 scheduled posts (PostgreSQL).

The service keeps no job per post, so neither its start-up nor its memory should grow with the
number of scheduled posts. This starts ``handpost serve`` (API and dispatcher) several times on
a throwaway PostgreSQL with 1k scheduled posts, then again after bulk-loading the rest (COPY),
and reports the time until /readyz answers and the resident memory a few seconds later (after
the dispatcher's first look). It also prints the query plans of the dispatcher's queries, run
against the 1M rows inside a transaction that is rolled back, to show they use their indexes.

    python -m bench.scale [--posts 1000000] [--small 1000] [--users 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import _common as common

NETWORKS = ("mastodon", "linkedin", "facebook", "threads", "bluesky")
TARGET_RATIO = 1.2


def measure_startup(
    env: dict[str, str], directory: Any, runs: int, settle: float, token: str
) -> dict[str, float]:
    """Median start-up seconds and RSS (MiB) over ``runs`` fresh processes (and the fastest)."""
    startups, rss = [], []
    for run in range(runs):
        with common.Server(env, directory, args=["--no-migrate"]) as server:
            assert server.startup_seconds is not None
            time.sleep(settle)  # the dispatcher's first look, then a request or two
            with common.api_client(server.url, token) as client:
                client.get("/api/v1/posts", params={"order": "scheduled_at"}).raise_for_status()
                client.get("/metrics")
            startups.append(server.startup_seconds)
            rss.append(server.rss_mib())
            common.progress(
                f"run {run + 1}: ready in {server.startup_seconds:.2f} s, RSS {rss[-1]:.1f} MiB"
            )
    return {
        "startup": statistics.median(startups),
        "startup_min": min(startups),
        "rss": statistics.median(rss),
    }


def post_rows(
    users: list[tuple[str, list[str]]], start: int, stop: int, texts: common.TextFactory
) -> Iterator[tuple[Any, ...]]:
    """Scheduled posts spread over the next year, round-robin over users and their accounts."""
    now = datetime.now(UTC)
    created = now - timedelta(days=1)
    for serial in range(start, stop):
        user_id, accounts = users[serial % len(users)]
        account_id = accounts[(serial // len(users)) % len(accounts)]
        text, guard_text = texts.text(serial)
        yield common.post_row(
            user_id=user_id,
            account_id=account_id,
            network=NETWORKS[accounts.index(account_id)],
            text=text,
            guard_text=guard_text,
            state="scheduled",
            scheduled_at=now + timedelta(hours=1, seconds=(serial * 7919) % (365 * 86400)),
            created_at=created,
        )


def insert_posts(
    url: str, users: list[tuple[str, list[str]]], start: int, stop: int, texts: common.TextFactory
) -> float:
    began = time.perf_counter()
    common.insert_posts(url, post_rows(users, start, stop, texts))
    return time.perf_counter() - began


@contextlib.contextmanager
def indexes_rebuilt_after(url: str, table: str) -> Iterator[None]:
    """Load without the table's indexes, then build them again exactly as they were.

    As pg_restore does: one sorted build is far quicker than millions of random inserts into
    a B-tree (the fingerprint table gets about ten rows per post, in hash order).
    """
    [(primary, definition)] = common.query(
        url,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = ?::regclass AND contype = 'p'",
        (table,),
    )
    others = common.query(
        url,
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ? AND indexname <> ?",
        (table, primary),
    )
    common.query(url, f"ALTER TABLE {table} DROP CONSTRAINT {primary}")
    for name, _ in others:
        common.query(url, f"DROP INDEX {name}")
    try:
        yield
    finally:
        common.query(url, f"ALTER TABLE {table} ADD CONSTRAINT {primary} {definition}")
        for _, create in others:
            common.query(url, create)


def captured_statements(url: str) -> list[tuple[str, str, Any]]:
    """The dispatcher's and the API's hot queries as the service issues them, with parameters."""
    from sqlalchemy import event

    from service.db import Database
    from service.posts import repository as posts
    from service.posts.models import Post
    from service.posts.service import PostPolicy, find_cross_post
    from service.publishing import repository

    database = Database(url)
    captured: list[tuple[str, str, Any]] = []
    label = ""

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if label:
            captured.append((label, statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    now = datetime.now(UTC) + timedelta(days=1)
    [(user_id, account_id)] = common.query(
        url, "SELECT user_id, account_id FROM posts WHERE network = 'mastodon' LIMIT 1"
    )
    try:
        with database.session() as session:
            label = "claim_due (dispatcher: claim due posts)"
            repository.claim_due(session, now=now, limit=16, worker="bench", lease_until=now)
            label = "next_due_time (dispatcher: when to wake)"
            repository.next_due_time(session)
            label = "expired_leases (dispatcher: recover dead workers' posts)"
            repository.expired_leases(session, now=now, limit=100)
            label = "count_due (metrics: publishing backlog)"
            repository.count_due(session, now=now)
            label = "list_page (API: the queue, soonest first)"
            posts.list_page(session, posts.PostFilters(user_id=user_id), "scheduled_at", None, 51)
            label = "guard candidates (API: cross-post guard)"
            text, guard_text = common.TextFactory(seed=99).text(1)
            probe = Post(
                user_id=user_id,
                account_id=account_id,
                network="mastodon",
                text=text,
                visibility="public",
                guard_text=guard_text,
                guard_length=len(guard_text),
            )
            find_cross_post(session, probe, PostPolicy(), exclude_source=False)
            label = ""
            session.rollback()
    finally:
        database.dispose()
    return captured


def explain(url: str) -> None:
    import psycopg

    statements = captured_statements(url)
    with psycopg.connect(common.psycopg_conninfo(url)) as connection:
        for label, statement, parameters in statements:
            with connection.transaction(force_rollback=True), connection.cursor() as cursor:
                cursor.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters or None
                )
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"-- plan: {label}")
            print(plan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after ready")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    common.exit_on_sigterm()
    texts = common.TextFactory(seed=5)
    texts.check_sample()

    with common.workdir(args.keep) as directory, common.database("postgresql", directory) as url:
        common.print_header(
            "Scale", url, posts=args.posts, small=args.small, users=args.users, runs=args.runs
        )
        env = common.service_env(url, directory)
        common.handpost(env, "migrate")
        bench_users = [common.create_user(env, f"scale{i}") for i in range(args.users)]
        users: list[tuple[str, list[str]]] = []
        with common.Server(env, directory, args=["--no-migrate"]) as server:
            for user in bench_users:
                with common.api_client(server.url, user.token) as client:
                    accounts = [
                        common.create_account(client, network, f"{user.username}-{network}")["id"]
                        for network in NETWORKS
                    ]
                users.append((user.user_id, accounts))

        common.progress(f"inserting {args.small} posts")
        insert_posts(url, users, 0, args.small, texts)
        common.query(url, "ANALYZE")
        small = measure_startup(env, directory, args.runs, args.settle, bench_users[0].token)

        common.progress(f"inserting {args.posts - args.small} more posts (COPY)")
        with indexes_rebuilt_after(url, "post_fingerprints"):
            seconds = insert_posts(url, users, args.small, args.posts, texts)
        common.print_figure("bulk load", seconds, "s", f"{args.posts - args.small} rows")
        began = time.perf_counter()
        # Settled, as a database is between bursts of writes: no autovacuum or checkpoint of
        # the load competing with the start-ups measured next.
        common.query(url, "VACUUM ANALYZE", autocommit=True)
        common.query(url, "CHECKPOINT", autocommit=True)
        common.print_figure("vacuum analyze, checkpoint", time.perf_counter() - began, "s")
        [(count,)] = common.query(url, "SELECT count(*) FROM posts WHERE state = 'scheduled'")
        [(size,)] = common.query(url, "SELECT pg_size_pretty(pg_total_relation_size('posts'))")
        common.print_figure("scheduled posts", count, "", f"posts table and indexes {size}")
        large = measure_startup(env, directory, args.runs, args.settle, bench_users[0].token)

        explain(url)
        print("-- summary --")
        for name, figures in ((args.small, small), (args.posts, large)):
            common.print_figure(
                f"start-up at {name}",
                figures["startup"],
                "s",
                f"median of {args.runs}; fastest {figures['startup_min']:.3f} s",
            )
        common.print_figure(f"RSS at {args.small}", small["rss"], "MiB")
        common.print_figure(f"RSS at {args.posts}", large["rss"], "MiB")
        common.verdict("start-up ratio", large["startup"] / small["startup"], TARGET_RATIO)
        common.verdict("RSS ratio", large["rss"] / small["rss"], TARGET_RATIO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
