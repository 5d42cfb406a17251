"""Hand-publish: many posts due by hand at once, several replicas claiming, then their emails.

``--posts`` posts of one account published by hand, all due now, written straight into the
database. ``--replicas`` dispatchers claim at the same time (their ``Claims``, as separate
processes would run them, each its own worker id) until nothing is due: every post must be
handed over once, with one publish-log entry and one notification. Then as many notification
workers send the emails to a real SMTP server on loopback (aiosmtpd, the test suite's), at
once, until nothing is pending: the server must receive each email once.

Figures: hand-over time and posts per second; log entries and notifications per post (must be
1); email time and emails per second; emails received per post (must be 1); a claim round
with nothing due (every replica pays it every HANDPOST_POLL_SECONDS).

    python -m bench.hand [--database sqlite|postgresql] [--posts 2000] [--replicas 3]
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

from bench import _common as common


def seed(url: str, posts: int) -> None:
    """A user with an email address and one Facebook account published by hand, whose
    ``posts`` posts are all due."""
    from service.db import Database
    from service.migrate import upgrade
    from service.models import Account
    from service.notify.models import NotificationSettings
    from service.users import service as users

    upgrade(url)
    database = Database(url)
    with database.session() as session:
        user = users.create_user(session, "bench", "bench-password-123")
        account = Account(
            user_id=user.id,
            network="facebook",
            handle="ada.lovelace",
            handle_key="ada.lovelace",
            purpose="family and friends",
            audience="family",
            mode="hand",
        )
        session.add(account)
        session.add(NotificationSettings(user_id=user.id, email="ada@example.org"))
        session.commit()
        user_id, account_id = user.id, account.id
    database.dispose()
    texts = common.TextFactory()
    due = datetime.now(UTC) - timedelta(seconds=1)
    rows = []
    for serial in range(posts):
        text, guard_text = texts.text(serial)
        rows.append(
            common.post_row(
                user_id=user_id,
                account_id=account_id,
                network="facebook",
                text=text,
                guard_text=guard_text,
                state="scheduled",
                scheduled_at=due,
                created_at=due,
            )
        )
    common.insert_posts(url, rows)


def hand_over(url: str, replicas: int, smtp: dict[str, object]) -> float:
    """Every replica claims, at once, until none gets anything: the seconds it took."""
    from service.config import Settings
    from service.db import Database
    from service.publishing.dispatcher import Dispatcher
    from service.publishing.registry import PublisherRegistry

    dispatchers = [
        Dispatcher(
            Database(url),
            Settings(database_url=url, worker_id=f"r{n}", **smtp),
            PublisherRegistry(),
        )
        for n in range(replicas)
    ]
    barrier = threading.Barrier(replicas)
    sent: list[int] = []

    def claim(dispatcher: Dispatcher) -> None:
        barrier.wait()
        idle = 0
        while idle < 2:  # a second empty round: the others' posts are settled too
            before = common.query(url, "SELECT count(*) FROM posts WHERE state = 'scheduled'")
            sent.append(len(dispatcher.claims.claim(2 * dispatcher.settings.publish_concurrency)))
            idle = idle + 1 if before[0][0] == 0 else 0

    threads = [threading.Thread(target=claim, args=(d,)) for d in dispatchers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert sum(sent) == 0, "a post of a hand account was handed to a publisher"
    for dispatcher in dispatchers:
        dispatcher.database.dispose()
    return elapsed


def idle_claim(url: str) -> float:
    from service.config import Settings
    from service.db import Database
    from service.publishing.dispatcher import Dispatcher
    from service.publishing.registry import PublisherRegistry

    dispatcher = Dispatcher(Database(url), Settings(database_url=url), PublisherRegistry())
    started = time.perf_counter()
    dispatcher.claims.claim(32)
    elapsed = time.perf_counter() - started
    dispatcher.database.dispose()
    return elapsed


async def send_all(url: str, replicas: int, smtp: dict[str, object]) -> float:
    from service.config import Settings
    from service.db import Database
    from service.notify.delivery import NotificationDeliverer

    workers = [
        NotificationDeliverer(Database(url), Settings(database_url=url, worker_id=f"r{n}", **smtp))
        for n in range(replicas)
    ]
    started = time.perf_counter()
    while any(await asyncio.gather(*(w.run() for w in workers))):
        pass
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.database.dispose()
    return elapsed


def count(url: str, sql: str) -> int:
    return int(common.query(url, sql)[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    common.exit_on_sigterm()

    from tests.support.smtp import SmtpServer

    with common.workdir(args.keep) as directory, common.database(args.database, directory) as url:
        common.print_header("hand-publish", url, posts=args.posts, replicas=args.replicas)
        seed(url, args.posts)
        smtp = SmtpServer()
        smtp.controller.start()
        try:
            common.progress(f"{args.posts} posts due by hand; {args.replicas} replicas claiming")
            handed = hand_over(url, args.replicas, smtp.settings())
            due = count(url, "SELECT count(*) FROM posts WHERE state = 'due'")
            entries = count(url, "SELECT count(*) FROM publish_attempts WHERE outcome = 'due'")
            queued = count(url, "SELECT count(*) FROM notifications")
            idle = idle_claim(url)
            common.progress("sending the emails")
            emailed = asyncio.run(send_all(url, args.replicas, smtp.settings()))
            received = len(smtp.to("ada@example.org"))
        finally:
            smtp.controller.stop()
        common.print_figure("handed over after", handed, "s", f"{due} of {args.posts} due")
        common.print_figure("posts handed over per second", args.posts / handed)
        common.print_figure("log entries per post", entries / args.posts)
        common.print_figure("notifications per post", queued / args.posts)
        common.print_figure("a claim with nothing due", idle * 1000, "ms")
        common.print_figure("emails sent after", emailed, "s")
        common.print_figure("emails per second", received / emailed if emailed else 0.0)
        common.print_figure("emails received per post", received / args.posts)
        for name, value in (
            ("log entries per post", entries / args.posts),
            ("emails received per post", received / args.posts),
        ):
            common.verdict(f"{name}, none twice", value, 1.0)
            common.verdict(f"{name}, none missing", value, 1.0, lower_is_better=False)


if __name__ == "__main__":
    main()
