"""API under concurrency: a sweep of clients creating and listing posts, and a bad-token flood.

The service runs as ``handpost serve`` in a child process (or several API processes with
``--api-workers``, PostgreSQL only); this process is the load generator, one asyncio task and
one keep-alive connection per client, over loopback. Each level runs for ``--seconds``.

For every level it prints the successful throughput, p50/p99/max latency, and the count of
every status (and of requests that got no answer at all). Then 64 clients send invalid tokens
as fast as the server answers them while one valid client lists posts; its p99 is compared with
its p99 alone, measured in the same run.

Targets (issue 13): no 500 at any level; every request answered within 5 s (a success, or a
503 with Retry-After when load is shed, counted apart); successful throughput at 128 clients
at least 0.9x the best of the sweep; the valid client's p99 during the flood at most 2x alone.

    python -m bench.api_sweep [--database sqlite|postgresql] [--levels 1,4,16,64,128,256]
                              [--seconds 10] [--api-workers 1] [--seed-posts 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from bench import _common as common
from bench._raw_http import RawClient, RawResponse
from bench.api_load import seed_user

ANSWER_WITHIN_SECONDS = 5.0
FLOOD_CLIENTS = 64


@dataclass
class Level:
    latencies: list[float] = field(default_factory=list)  # ms, answered requests
    statuses: Counter[int | str] = field(default_factory=Counter)
    successes: int = 0
    wall: float = 0.0
    shed_without_retry_after: int = 0
    server_cpu: float = 0.0  # seconds of CPU the server processes used during the level
    client_cpu: float = 0.0  # and this load generator

    @property
    def throughput(self) -> float:
        return self.successes / self.wall if self.wall else 0.0

    @property
    def cpu_ms_per_success(self) -> float:
        return self.server_cpu * 1000 / self.successes if self.successes else 0.0

    @property
    def slow(self) -> int:
        return sum(1 for ms in self.latencies if ms > ANSWER_WITHIN_SECONDS * 1000)


class Workload:
    def __init__(self, accounts: list[dict[str, Any]], texts: common.TextFactory, start: int):
        self.accounts = accounts
        self.texts = texts
        self.serials = count(start)
        self.when = datetime.now(UTC) + timedelta(days=30)

    async def create(self, client: RawClient, _index: int) -> RawResponse:
        serial = next(self.serials)
        text, _ = self.texts.text(serial)
        account = self.accounts[serial % len(self.accounts)]
        return await client.request(
            "POST",
            "/api/v1/posts",
            {
                "account_id": account["id"],
                "text": text,
                "scheduled_at": (self.when + timedelta(seconds=serial)).isoformat(),
            },
        )

    async def list(self, client: RawClient, _index: int) -> RawResponse:
        return await client.request("GET", "/api/v1/posts?limit=50")


async def run_level(
    base_url: str,
    token: str,
    clients: int,
    seconds: float,
    operation: Any,
    server_pid: int | None = None,
) -> Level:
    level = Level()
    deadline = time.perf_counter() + seconds
    cpu_before = common.tree_cpu_seconds(server_pid) if server_pid else 0.0
    client_before = time.process_time()

    async def one_client(index: int) -> None:
        async with RawClient(base_url, token) as client:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    response = await operation(client, index)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    level.statuses[type(exc).__name__] += 1
                    await client.reconnect()
                    continue
                level.latencies.append((time.perf_counter() - began) * 1000)
                level.statuses[response.status] += 1
                if 200 <= response.status < 300:
                    level.successes += 1
                elif response.status == 503:
                    retry_after = response.headers.get("retry-after")
                    if not retry_after:
                        level.shed_without_retry_after += 1
                    await asyncio.sleep(float(retry_after or "1") / 10)

    began = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    level.wall = time.perf_counter() - began
    level.client_cpu = time.process_time() - client_before
    if server_pid:
        level.server_cpu = common.tree_cpu_seconds(server_pid) - cpu_before
    return level


async def valid_client_p99(base_url: str, token: str, seconds: float, flood: bool) -> Level:
    """One client listing posts, with or without 64 clients flooding invalid tokens."""
    stop = asyncio.Event()
    flooded: Counter[int | str] = Counter()

    async def flooder() -> None:
        async with RawClient(base_url, "hp_invalid-token-from-the-flood") as client:
            while not stop.is_set():
                try:
                    response = await client.request("GET", "/api/v1/posts")
                    flooded[response.status] += 1
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    flooded[type(exc).__name__] += 1
                    await client.reconnect()

    tasks = [asyncio.create_task(flooder()) for _ in range(FLOOD_CLIENTS if flood else 0)]
    await asyncio.sleep(1.0 if flood else 0)
    measured = await run_level(
        base_url, token, 1, seconds, Workload([], common.TextFactory(), 0).list
    )
    stop.set()
    await asyncio.gather(*tasks)
    measured.statuses.update({f"flood {k}": v for k, v in flooded.items()})
    return measured


def describe(level: Level) -> str:
    stats = common.summary(level.latencies) if level.latencies else {"p50": 0, "p99": 0, "max": 0}
    return (
        f"{level.throughput:7.1f} ok/s  p50 {stats['p50']:7.1f} ms  p99 {stats['p99']:7.1f} ms  "
        f"max {stats['max']:7.1f} ms  server CPU {level.cpu_ms_per_success:5.1f} ms/ok "
        f"({level.server_cpu / level.wall if level.wall else 0:.2f} cores, load generator "
        f"{level.client_cpu / level.wall if level.wall else 0:.2f})  "
        f"over 5 s: {level.slow}  statuses {dict(level.statuses)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--levels", default="1,4,16,64,128,256")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--seed-posts", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    common.exit_on_sigterm()
    levels = [int(n) for n in args.levels.split(",")]
    texts = common.TextFactory()
    with common.workdir(args.keep) as directory, common.database(args.database, directory) as url:
        common.print_header(
            "API concurrency sweep",
            url,
            database=args.database,
            levels=levels,
            seconds=args.seconds,
            api_workers=args.api_workers,
            seed_posts=args.seed_posts,
        )
        env = common.service_env(url, directory, dispatch="false", workers=args.api_workers)
        common.handpost(env, "migrate")
        user = common.create_user(env, "sweeper")
        with common.Server(env, Path(directory)) as server:
            with common.api_client(server.url, user.token) as client:
                common.progress(f"seeding {args.seed_posts} posts")
                accounts = seed_user(url, client, user, args.seed_posts, texts)
            if common.is_postgres(url):
                common.query(url, "ANALYZE")
            workload = Workload(accounts, texts, start=10_000_000)
            results: dict[tuple[str, int], Level] = {}
            for name in ("create", "list"):
                operation = getattr(workload, name)
                asyncio.run(run_level(server.url, user.token, 1, 1.0, operation))  # warm up
                for clients in levels:
                    common.progress(f"{name}: {clients} clients for {args.seconds:g} s")
                    level = asyncio.run(
                        run_level(
                            server.url,
                            user.token,
                            clients,
                            args.seconds,
                            operation,
                            server.process.pid if server.process else None,
                        )
                    )
                    results[(name, clients)] = level
                    common.print_figure(f"{name:6} c={clients:3}", describe(level))
            common.progress("one valid client alone, then beside a flood of invalid tokens")
            alone = asyncio.run(valid_client_p99(server.url, user.token, args.seconds, False))
            flooded = asyncio.run(valid_client_p99(server.url, user.token, args.seconds, True))
            common.print_figure("valid client alone  ", describe(alone))
            common.print_figure("valid client, flood ", describe(flooded))
            common.print_figure("server RSS after the run", server.rss_mib(), "MiB")
        report(results, levels, alone, flooded)
    return 0


def report(
    results: dict[tuple[str, int], Level], levels: list[int], alone: Level, flooded: Level
) -> None:
    print("-- targets --")
    everything = [*results.values(), alone, flooded]
    errors = sum(level.statuses.get(500, 0) for level in everything)
    unanswered = sum(
        n
        for level in everything
        for status, n in level.statuses.items()
        if isinstance(status, str) and not status.startswith("flood")
    )
    slow = sum(level.slow for level in everything)
    common.print_figure("responses 500", errors)
    common.print_figure("requests not answered (transport errors)", unanswered)
    common.print_figure("answers slower than 5 s", slow)
    common.print_figure(
        "503s without Retry-After", sum(level.shed_without_retry_after for level in everything)
    )
    common.verdict("500s (must be 0)", float(errors), 0.0)
    common.verdict("requests over 5 s or unanswered (must be 0)", float(slow + unanswered), 0.0)
    for name in ("create", "list"):
        best = max(results[(name, n)].throughput for n in levels)
        if 128 in levels and best:
            common.verdict(
                f"{name}: throughput at 128 clients / best of the sweep",
                results[(name, 128)].throughput / best,
                0.9,
                lower_is_better=False,
            )
    p99_alone = common.percentile(alone.latencies, 99)
    p99_flood = common.percentile(flooded.latencies, 99)
    common.verdict("valid client's p99 in the flood / alone", p99_flood / p99_alone, 2.0)


if __name__ == "__main__":
    raise SystemExit(main())
