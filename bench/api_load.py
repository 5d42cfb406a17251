"""API: latency and throughput of create (with the guard) and list, at 10k and 100k posts per user.

The service runs as ``handpost serve`` in a child process; this process is the load generator
(one thread and one HTTP connection per concurrent client, over loopback). Each user's posts
are bulk-inserted first (as the service would have written them), then requests are timed from
the client's side: the figures include HTTP, authentication and the database.

It also times the guard's check alone, in this process against the same database, so that
its growth with the user's post count is not hidden behind the rest of a request.

    python -m bench.api_load [--database sqlite|postgresql] [--sizes 10000,100000]
                             [--requests 500] [--concurrency 1,4]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import _common as common

NETWORKS = ("mastodon", "linkedin", "facebook", "threads", "bluesky")
TARGET_CREATE_P99_MS = 30.0
TARGET_LIST_P99_MS = 20.0


def seed_user(
    url: str, client: httpx.Client, user: common.BenchUser, size: int, texts: common.TextFactory
) -> list[dict[str, Any]]:
    """Five accounts, and ``size`` posts over three years: mostly published, some queued."""
    accounts = [
        common.create_account(client, network, f"{user.username}-{network}") for network in NETWORKS
    ]
    common.insert_posts(
        url,
        common.history_rows(user.user_id, [(a["id"], a["network"]) for a in accounts], size, texts),
    )
    return accounts


def run_clients(
    base_url: str,
    token: str,
    concurrency: int,
    requests: int,
    make_request: Callable[[httpx.Client, int, int], httpx.Response],
) -> tuple[list[float], dict[int, int], float]:
    """``requests`` calls spread over ``concurrency`` clients; (latencies ms, statuses, wall s)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker(worker_id: int) -> None:
        with common.api_client(base_url, token) as client:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                began = time.perf_counter()
                response = make_request(client, worker_id, index)
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses, time.perf_counter() - began


class Creator:
    """Fresh texts (serials past the seeded ones), round-robin over the user's accounts."""

    def __init__(self, accounts: list[dict[str, Any]], texts: common.TextFactory, start: int):
        self.accounts = accounts
        self.texts = texts
        self.next_serial = start
        self.lock = threading.Lock()
        self.when = datetime.now(UTC) + timedelta(days=90)

    def __call__(self, client: httpx.Client, _worker: int, index: int) -> httpx.Response:
        with self.lock:
            serial = self.next_serial
            self.next_serial += 1
        text, _ = self.texts.text(serial)
        account = self.accounts[serial % len(self.accounts)]
        return client.post(
            "/api/v1/posts",
            json={
                "account_id": account["id"],
                "text": text,
                "scheduled_at": (self.when + timedelta(minutes=index)).isoformat(),
            },
        )


class Lister:
    """Each client walks the pages with the cursor, starting over at the end."""

    def __init__(self, params: dict[str, str]):
        self.params = params
        self.cursors: dict[int, str | None] = {}

    def __call__(self, client: httpx.Client, worker: int, _index: int) -> httpx.Response:
        params = dict(self.params)
        cursor = self.cursors.get(worker)
        if cursor:
            params["cursor"] = cursor
        response = client.get("/api/v1/posts", params=params)
        if response.status_code == 200:
            self.cursors[worker] = response.json()["next_cursor"]
        return response


def guard_cost(url: str, user: common.BenchUser, texts: common.TextFactory, probes: int) -> float:
    """Median ms of the guard's database check for a new post of this user (no match)."""
    from service.db import Database
    from service.posts.service import PostPolicy, find_cross_post

    database = Database(url)
    policy = PostPolicy()
    [(account_id, network)] = common.query(
        url,
        "SELECT id, network FROM accounts WHERE user_id = ? AND network = 'mastodon'",
        (user.user_id,),
    )
    timings = []
    try:
        for serial in range(10_000_000, 10_000_000 + probes):
            post = common.probe_post(user.user_id, account_id, network, texts.text(serial)[0])
            with database.session(read_only=True) as session:
                began = time.perf_counter()
                find_cross_post(session, post, policy, exclude_source=False)
                timings.append((time.perf_counter() - began) * 1000)
    finally:
        database.dispose()
    return statistics.median(timings[probes // 10 :])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", default="10000,100000", help="posts per user, comma-separated")
    parser.add_argument("--requests", type=int, default=500, help="per operation and concurrency")
    parser.add_argument("--concurrency", default="1,4", help="concurrent clients, comma-separated")
    parser.add_argument("--guard-probes", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    common.exit_on_sigterm()
    sizes = [int(s) for s in args.sizes.split(",")]
    concurrencies = [int(c) for c in args.concurrency.split(",")]

    texts = common.TextFactory()
    texts.check_sample()
    with common.workdir(args.keep) as directory, common.database(args.database, directory) as url:
        common.print_header(
            "API load",
            url,
            database=args.database,
            sizes=sizes,
            requests=args.requests,
            concurrency=concurrencies,
        )
        env = common.service_env(url, directory, dispatch="true")
        common.handpost(env, "migrate")
        users = {size: common.create_user(env, f"user{size}") for size in sizes}
        results: dict[int, dict[str, Any]] = {}
        with common.Server(env, Path(directory)) as server:
            for size in sizes:
                user = users[size]
                with common.api_client(server.url, user.token) as client:
                    common.progress(f"seeding {size} posts for {user.username}")
                    accounts = seed_user(url, client, user, size, texts)
                if common.is_postgres(url):
                    common.query(url, "ANALYZE")
                results[size] = measure(server, user, accounts, texts, size, args, concurrencies)
                common.progress(f"guard check alone, {args.guard_probes} probes")
                results[size]["guard_ms"] = guard_cost(url, user, texts, args.guard_probes)
                common.print_figure(
                    f"size {size}: guard check alone p50", results[size]["guard_ms"], "ms"
                )
        report(results, sizes, concurrencies)
    return 0


def measure(
    server: common.Server,
    user: common.BenchUser,
    accounts: list[dict[str, Any]],
    texts: common.TextFactory,
    size: int,
    args: argparse.Namespace,
    concurrencies: list[int],
) -> dict[str, Any]:
    creator = Creator(accounts, texts, start=size + 1_000_000)
    operations: dict[str, Callable[[httpx.Client, int, int], httpx.Response]] = {
        "create": creator,
        "list": Lister({"limit": "50"}),
        "list queue": Lister({"order": "scheduled_at", "state": "scheduled", "limit": "50"}),
    }
    figures: dict[str, Any] = {}
    for name, operation in operations.items():
        run_clients(server.url, user.token, 1, 30, operation)  # warm up
        for concurrency in concurrencies:
            common.progress(f"size {size}: {name} x{args.requests}, {concurrency} clients")
            latencies, statuses, wall = run_clients(
                server.url, user.token, concurrency, args.requests, operation
            )
            stats = common.summary(latencies)
            figures[(name, concurrency)] = {**stats, "throughput": len(latencies) / wall}
            common.print_figure(
                f"size {size}: {name} c={concurrency}",
                f"p50 {stats['p50']:.1f} ms, p99 {stats['p99']:.1f} ms, max {stats['max']:.1f} ms,"
                f" {len(latencies) / wall:.0f} req/s, statuses {statuses}",
            )
    return figures


def report(results: dict[int, dict[str, Any]], sizes: list[int], concurrencies: list[int]) -> None:
    print("-- summary --")
    for size in sizes:
        for concurrency in concurrencies:
            create = results[size][("create", concurrency)]
            listing = results[size][("list", concurrency)]
            queue = results[size][("list queue", concurrency)]
            print(
                f"{size:>7} posts c={concurrency}: create p50 {create['p50']:.1f} p99 "
                f"{create['p99']:.1f} ms ({create['throughput']:.0f}/s); list p50 "
                f"{listing['p50']:.1f} p99 {listing['p99']:.1f} ms ({listing['throughput']:.0f}/s);"
                f" queue p50 {queue['p50']:.1f} p99 {queue['p99']:.1f} ms"
            )
    # Latency targets per load: with one client a request meets no queue; with several, the
    # figures include waiting behind the other clients' requests for the server's CPU.
    for concurrency in concurrencies:
        worst_create = max(results[s][("create", concurrency)]["p99"] for s in sizes)
        worst_list = max(
            results[s][(op, concurrency)]["p99"] for s in sizes for op in ("list", "list queue")
        )
        common.verdict(
            f"create p99 / 30 ms, {concurrency} client(s)", worst_create / TARGET_CREATE_P99_MS, 1.0
        )
        common.verdict(
            f"list page p99 / 20 ms, {concurrency} client(s)", worst_list / TARGET_LIST_P99_MS, 1.0
        )
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        growth = large / small
        guard_ratio = results[large]["guard_ms"] / results[small]["guard_ms"]
        create_ratio = (
            results[large][("create", concurrencies[0])]["p50"]
            / results[small][("create", concurrencies[0])]["p50"]
        )
        common.print_figure(f"guard check ratio {large}/{small}", guard_ratio)
        common.print_figure(f"create p50 ratio {large}/{small}", create_ratio)
        # Sub-linear: the cost grows by less than the post count does (and clearly so).
        common.verdict(f"guard ratio / post-count ratio ({growth:g})", guard_ratio / growth, 0.5)


if __name__ == "__main__":
    raise SystemExit(main())
