"""The calendar feed and webhooks: what they cost.

* the feed at its largest (HANDPOST_CALENDAR_MAX_EVENTS posts): time to build it (one request,
  200 or 304 alike), and its size;
* the outbox on the dispatcher's path: the time one recording transaction of 64 published
  posts spends writing their webhook events, with one subscribed endpoint and with none;
* delivery: signed deliveries per second to a receiver on loopback that answers at once.

In process, on a fresh database (``--database sqlite|postgresql``); run from the repository
root: ``python -m bench.integrations``. Prints figures; exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.fernet import Fernet

from bench._common import database, exit_on_sigterm, machine, progress, workdir
from service import guard
from service.accounts.models import Account
from service.config import Settings
from service.db import Database, utcnow
from service.feeds import service as feeds
from service.feeds.models import CalendarFeed
from service.migrate import upgrade
from service.posts.models import Post, PostState
from service.publishing.models import PublishAttempt
from service.users import service as users
from service.webhooks import events, outbox
from service.webhooks.delivery import WebhookDeliverer
from service.webhooks.models import WebhookEndpoint

TEXT = (
    "Colleagues: we cut our release cycle from a month to a week, and nobody stays late any "
    "more. Small changes, shipped every Tuesday; boring deploys are the best deploys. What "
    "slows your releases down? Reply with your bottleneck, I read every answer. #devops"
)


def median_ms(run: Any, times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def setup(db: Database, settings: Settings, posts: int) -> tuple[str, list[Post]]:
    with db.session() as session:
        user = users.create_user(session, "bench", "bench-password-123")
        account = Account(
            user_id=user.id,
            network="mastodon",
            handle="ada",
            handle_key="ada",
            purpose="society",
            audience="the fediverse",
        )
        session.add(account)
        session.flush()
        start = utcnow() + timedelta(hours=1)
        rows = []
        for n in range(posts):
            text = f"{n}: {TEXT}"
            normalised = guard.normalise(text)
            rows.append(
                Post(
                    user_id=user.id,
                    account_id=account.id,
                    network="mastodon",
                    text=text,
                    visibility="public",
                    state=PostState.SCHEDULED,
                    guard_text=normalised,
                    guard_length=len(normalised),
                    scheduled_at=start + timedelta(minutes=n),
                    next_attempt_at=start + timedelta(minutes=n),
                )
            )
        session.add_all(rows)
        session.add(CalendarFeed(user_id=user.id, secret_hash="x" * 64))
        session.commit()
        return user.id, rows


def bench_feed(db: Database, settings: Settings, user_id: str) -> dict[str, str]:
    with db.session(read_only=True) as session:
        feed = session.get(CalendarFeed, user_id)
        assert feed is not None
        rendered = feeds.render(session, feed, settings, "https://handpost.example.org")
        took = median_ms(lambda: feeds.render(session, feed, settings, "https://h.example"), 15)
    return {
        "feed events": str(settings.calendar_max_events),
        "feed build ms (median)": f"{took:.1f}",
        "feed KiB": f"{len(rendered.body) / 1024:.0f}",
    }


def bench_outbox(
    db: Database, settings: Settings, user_id: str, posts: list[Post]
) -> dict[str, str]:
    now = datetime.now(UTC)
    batch = [
        (
            p,
            PublishAttempt(
                user_id=user_id,
                post_id=p.id,
                account_id=p.account_id,
                network=p.network,
                attempt=1,
                due_at=now,
                started_at=now,
                finished_at=now,
                duration_ms=1,
                outcome="published",
            ),
        )
        for p in posts[:64]
    ]

    def record() -> None:
        with db.session() as session:
            outbox.publish_log_recorded(session, batch, settings.public_url)
            session.rollback()

    figures = {"outbox, 64 posts, no endpoint: ms": f"{median_ms(record, 30):.2f}"}
    cipher_text = Fernet(Fernet.generate_key()).encrypt(b"{}").decode()
    with db.session() as session:
        session.add(
            WebhookEndpoint(
                user_id=user_id,
                url="http://127.0.0.1/",
                events=["post.published"],
                secret_ciphertext=cipher_text,
            )
        )
        session.commit()
    figures["outbox, 64 posts, 1 endpoint: ms"] = f"{median_ms(record, 30):.2f}"
    return figures


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def bench_delivery(db: Database, url: str, user_id: str, count: int) -> dict[str, str]:
    class Server(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    server = Server(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    figures = {}
    try:
        for concurrency in (8, 32):
            settings = Settings(
                database_url=url, outbound_allow_private=True, webhook_concurrency=concurrency
            )
            from service.accounts.credentials import cipher_for

            with db.session() as session:
                endpoint = WebhookEndpoint(
                    user_id=user_id,
                    url=f"http://127.0.0.1:{server.server_address[1]}/hook",
                    events=["post.published"],
                    secret_ciphertext=cipher_for(settings).encrypt(
                        {"secret": "whsec_" + "A" * 43 + "="}
                    ),
                )
                session.add(endpoint)
                session.flush()
                for _ in range(count):
                    outbox.add_for_endpoint(session, events.sample(user_id, endpoint.id), endpoint)
                session.commit()
            deliverer = WebhookDeliverer(db, settings)
            started = time.perf_counter()
            asyncio.run(deliverer.run())
            took = time.perf_counter() - started
            figures[f"deliveries/s at concurrency {concurrency}"] = f"{count / took:.0f}"
    finally:
        server.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--deliveries", type=int, default=1000)
    args = parser.parse_args()
    exit_on_sigterm()
    with workdir() as directory, database(args.database, directory) as url:
        import os

        os.environ.setdefault("HANDPOST_SECRET_KEY", Fernet.generate_key().decode())
        upgrade(url)
        settings = Settings(database_url=url)
        db = Database(url)
        try:
            progress("writing posts")
            user_id, posts = setup(db, settings, settings.calendar_max_events)
            figures = {**machine(url), "database": args.database}
            progress("the feed")
            figures |= bench_feed(db, settings, user_id)
            progress("the outbox")
            figures |= bench_outbox(db, settings, user_id, posts)
            progress("deliveries")
            figures |= bench_delivery(db, url, user_id, args.deliveries)
        finally:
            db.dispose()
    for name, value in figures.items():
        print(f"{name:42} {value}")


if __name__ == "__main__":
    main()
