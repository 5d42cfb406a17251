"""Burst: 10,000 posts on 1,000 accounts, all due at the same second, published live.

The network is the emulator (``tests/emulator``) in its own process, answering every call after
``--latency-ms``. The accounts are live Mastodon accounts, each with its own bearer token
registered at the emulator. The service is ``handpost serve`` in another process. The posts
are written straight into the database ahead of time (as the API would have written them), all
due at one whole second a few seconds ahead, so the dispatcher knows the due time in advance.

Figures: lateness (publish finished minus due time) p50/p99/max, drain time (due time to the
last publish), and both against the physical bound posts x latency / allowed concurrency
(``--concurrency`` sends may be in flight: the publish concurrency and the per-network limit
are both set to it, split evenly over ``--workers`` processes when given). Duplicates are
counted at the emulator, the ground truth.

    python -m bench.burst [--database sqlite|postgresql] [--posts 10000] [--accounts 1000]
                          [--latency-ms 50] [--concurrency 16] [--mode live|sandbox]
                          [--workers N]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import _common as common

FINAL_STATES = ("published", "failed", "unknown", "missed", "cancelled")
TARGET_P99_RATIO = 1.25


def register_accounts(
    server: common.Server, token: str, emulator: Any, count: int, mode: str
) -> list[dict[str, Any]]:
    accounts = []
    with common.api_client(server.url, token) as client:
        for i in range(count):
            handle = f"burst{i:05d}"
            extra: dict[str, Any] = {}
            if mode == "live":
                registered = emulator.register_account(
                    "mastodon", username=handle, access_token=f"token-{i:05d}-bench"
                )
                extra = {
                    "mode": "live",
                    "base_url": registered["base_url"],
                    "credentials": {"access_token": registered["access_token"]},
                }
            else:
                extra = {"base_url": "https://mastodon.example"}
            accounts.append(common.create_account(client, "mastodon", handle, **extra))
            if (i + 1) % 250 == 0:
                common.progress(f"{i + 1} accounts")
    return accounts


def insert_burst(
    url: str, user_id: str, accounts: list[dict[str, Any]], posts: int, due: datetime
) -> None:
    texts = common.TextFactory(seed=11)
    created = datetime.now(UTC)

    def rows() -> Any:
        for serial in range(posts):
            account = accounts[serial % len(accounts)]
            text, guard_text = texts.text(serial)
            yield common.post_row(
                user_id=user_id,
                account_id=account["id"],
                network="mastodon",
                text=text,
                guard_text=guard_text,
                state="scheduled",
                scheduled_at=due,
                created_at=created,
            )

    common.insert_posts(url, rows())


def wait_until_settled(url: str, posts: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    placeholders = ", ".join("?" for _ in FINAL_STATES)
    last = -1
    while time.monotonic() < deadline:
        [(done,)] = common.query(
            url,
            f"SELECT count(*) FROM posts WHERE state IN ({placeholders})",
            FINAL_STATES,
        )
        if done >= posts:
            return
        if done // 1000 != last // 1000:
            common.progress(f"{done} of {posts} settled")
        last = done
        time.sleep(0.5)
    common.progress("timed out waiting for the burst to settle")


def as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--mode", choices=("live", "sandbox"), default="live")
    parser.add_argument("--lead-seconds", type=float, default=8.0, help="insert to due time")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="publish from N `handpost worker` processes (sharing --concurrency) instead of serve",
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    common.exit_on_sigterm()

    from tests.emulator.server import EmulatorServer

    with common.workdir(args.keep) as directory, common.database(args.database, directory) as url:
        common.print_header(
            "Burst",
            url,
            database=args.database,
            posts=args.posts,
            accounts=args.accounts,
            latency_ms=args.latency_ms,
            concurrency=args.concurrency,
            mode=args.mode,
            workers=args.workers or "none (serve dispatches)",
        )
        emulator = EmulatorServer(latency_ms=args.latency_ms, in_process=False).start()
        try:
            run(url, directory, emulator, args)
        finally:
            emulator.stop()
    return 0


def run(url: str, directory: Any, emulator: Any, args: argparse.Namespace) -> None:
    # With --workers, each worker process gets its share of the allowed concurrency.
    per_process = max(1, args.concurrency // max(1, args.workers))
    env = common.service_env(
        url,
        directory,
        max_active_accounts=args.accounts + 10,
        publish_concurrency=per_process,
        network_concurrency={"mastodon": per_process},
    )
    common.handpost(env, "migrate")
    user = common.create_user(env, "burst")
    serve_args = ["--no-migrate"] + (["--no-dispatch"] if args.workers else [])
    workers = [common.Worker(env, directory, f"worker{i}") for i in range(args.workers)]
    with common.Server(env, directory, args=serve_args) as server:
        try:
            for worker in workers:
                worker.start()
            common.progress(f"registering {args.accounts} {args.mode} accounts")
            accounts = register_accounts(server, user.token, emulator, args.accounts, args.mode)
            due = datetime.fromtimestamp(math.ceil(time.time() + args.lead_seconds), tz=UTC)
            common.progress(f"inserting {args.posts} posts due at {due.isoformat()}")
            insert_burst(url, user.user_id, accounts, args.posts, due)
            if due < datetime.now(UTC) + timedelta(seconds=3):
                common.progress("WARNING: the insert ran into the due time; raise --lead-seconds")
            bound = args.posts * args.latency_ms / 1000 / args.concurrency
            processes = [w.process for w in workers] if workers else [server.process]
            pids = {"publishing": [p.pid for p in processes if p is not None]}
            pids["emulator"] = [emulator.pid] if emulator.pid is not None else []
            postmaster = common.postgres_pid(url) if common.is_postgres(url) else None
            pids["PostgreSQL"] = [postmaster] if postmaster is not None else []

            def cpu_now() -> dict[str, float]:
                return {k: sum(common.tree_cpu_seconds(p) for p in v) for k, v in pids.items()}

            cpu_before = cpu_now()
            wait_until_settled(url, args.posts, timeout=max(120.0, bound * 10 + 60))
            cpu = {k: v - cpu_before[k] for k, v in cpu_now().items()}
            rss = sum(common.rss_mib(p) for p in pids["publishing"])
        finally:
            for worker in workers:
                worker.stop()
    report(url, emulator, args, due, bound, rss, cpu)


def report(
    url: str,
    emulator: Any,
    args: argparse.Namespace,
    due: datetime,
    bound: float,
    rss: float,
    cpu: dict[str, float],
) -> None:
    attempts = common.query(
        url, "SELECT post_id, outcome, due_at, started_at, finished_at FROM publish_attempts"
    )
    states = Counter(state for (state,) in common.query(url, "SELECT state FROM posts"))
    published = [a for a in attempts if a[1] == "published"]
    lateness = [(as_utc(a[4]) - due).total_seconds() for a in published]
    claim_lateness = [(as_utc(a[3]) - due).total_seconds() for a in published]
    durations = [(as_utc(a[4]) - as_utc(a[3])).total_seconds() * 1000 for a in published]
    print(f"post states: {dict(states)}")
    print(f"attempt outcomes: {dict(Counter(a[1] for a in attempts))}")
    if not lateness:
        print("nothing was published")
        return
    drain = max(lateness)
    stats = common.summary(lateness)
    starts = common.summary(claim_lateness)
    common.print_figure("published", len(published), "posts")
    common.print_figure("lateness p50", stats["p50"], "s")
    common.print_figure("lateness p99", stats["p99"], "s")
    common.print_figure("lateness max", stats["max"], "s")
    common.print_figure("start lateness p50 / p99", f"{starts['p50']:.3f} / {starts['p99']:.3f} s")
    sends = common.summary(durations)
    common.print_figure(
        "send duration p50 / p99", f"{sends['p50']:.1f} / {sends['p99']:.1f} ms", "", "start to end"
    )
    common.print_figure("drain time", drain, "s")
    common.print_figure("throughput", len(published) / drain if drain > 0 else math.nan, "posts/s")
    common.print_figure("publishing processes' RSS after the burst", rss, "MiB")
    for role, seconds in cpu.items():
        if role == "PostgreSQL" and not seconds:
            continue
        per_post = seconds / len(published) * 1000
        common.print_figure(
            f"{role} CPU, insert to settled", seconds, "s", f"{per_post:.2f} ms per post"
        )
    if args.mode == "live":
        created = emulator.posts("mastodon")
        keys = Counter(p.get("idempotency_key") or p["id"] for p in created)
        texts = Counter(p["text"] for p in created)
        duplicates = len(created) - len(texts)
        common.print_figure("emulator posts created", len(created))
        common.print_figure("duplicates (same text created twice)", duplicates)
        common.print_figure("repeated idempotency keys", sum(n - 1 for n in keys.values()))
        formula = f"{args.posts} x {args.latency_ms:g} ms / {args.concurrency}"
        common.print_figure("physical bound", bound, "s", formula)
        common.print_figure("drain / bound", drain / bound)
        common.verdict("p99 lateness / bound", stats["p99"] / bound, TARGET_P99_RATIO)
        common.verdict("duplicates", float(duplicates), 0.0)
        missing = args.posts - len(texts)
        common.verdict("posts not published", float(missing), 0.0)
    else:
        print("sandbox accounts: nothing is sent, so there is no latency bound to compare with")


if __name__ == "__main__":
    raise SystemExit(main())
