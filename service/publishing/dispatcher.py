"""The dispatcher: claims due posts from the database and publishes them.

APScheduler only decides when to look: a poll every few seconds (for posts written by other
replicas) and one wake-up at the next known due time. It never holds a job per post, so memory
and start-up do not grow with the number of scheduled posts. Everything else is in the
database: a post is claimed by one conditional UPDATE, under a lease, before anything is sent.
The worker renews the lease while it works on the post, so only a dead worker's claim lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from service.accounts.models import Account
from service.config import Settings
from service.db import Database, utcnow
from service.guard import CrossPostMatch
from service.networks.base import AccountRef, FailureKind, Network
from service.observability.metrics import record_attempt
from service.posts.models import Post, PostState
from service.posts.service import (
    PostPolicy,
    content_of,
    cross_post_problem,
    find_cross_posts,
    guard_policy,
)
from service.publishing import repository
from service.publishing.models import Outcome, PublishAttempt
from service.publishing.publishers import (
    AccountAccess,
    Publisher,
    PublishFailure,
    PublishJob,
    PublishResult,
)
from service.publishing.registry import PublisherRegistry

log = logging.getLogger("handpost.dispatcher")

# States that mean "this text went (or may have gone) out": the publish-time guard compares
# only with these, so of two similar posts the first one out wins.
SENT_STATES = (PostState.PUBLISHED, PostState.PUBLISHING, PostState.UNKNOWN)


@dataclass(frozen=True)
class Claimed:
    post: Post
    job: PublishJob
    publisher: Publisher


# Outcomes that finish while a write is under way are written together in the next one.
RECORD_BATCH = 64
# While other sends are in flight, the writer waits this long for their outcomes to join the
# batch: in a burst, a transaction per few posts would cost more than the sends themselves.
RECORD_GATHER_SECONDS = 0.02


@dataclass(frozen=True)
class Finished:
    """A send's outcome, waiting to be written to the database."""

    post: Post
    started: datetime
    finished: datetime
    result: PublishResult | PublishFailure


@dataclass(frozen=True)
class Recorded:
    """What a finished send writes: the post's new values and its publish-log entry."""

    post: Post
    values: dict[str, Any]
    attempt: PublishAttempt


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Dispatcher:
    def __init__(
        self, database: Database, settings: Settings, publishers: PublisherRegistry
    ) -> None:
        self.database = database
        self.settings = settings
        self.publishers = publishers
        self.worker = settings.worker_id or default_worker_id()
        self.policy = PostPolicy(guard=guard_policy(settings))
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = asyncio.Lock()
        self._look_again = False
        self._next_wake: datetime | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        # Posts this worker has claimed and not yet settled: their leases are renewed.
        self._holding: set[str] = set()
        self._renewer: asyncio.Task[None] | None = None
        # Posts claimed ahead of a free slot, each with its batch's guard check; the claim
        # under way, if any. On stop, posts not yet sent are handed back.
        self._ready: deque[tuple[Claimed, asyncio.Future[dict[str, PublishFailure]]]] = deque()
        self._claiming: asyncio.Task[bool] | None = None
        self._stopping = False
        self._looking: asyncio.Task[Any] | None = None  # the look (and its drain) under way
        # Sends that finished and await the writer; their posts stay held (leases renewed).
        self._finished: list[Finished] = []
        self._unwritten: set[str] = set()
        self._recorder: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._scheduler.start()
        self._scheduler.add_job(
            self.look,
            "interval",
            seconds=self.settings.poll_seconds,
            id="poll",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            # look() lets only one drain run and asks it to go round again; no overlap warnings.
            max_instances=100,
            misfire_grace_time=None,
        )
        self._renewer = asyncio.create_task(self._renew_leases())
        log.info("dispatcher %s started", self.worker)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop looking; let sends already under way finish (their claims would expire anyway).

        Posts claimed ahead but not yet sent go back to the queue at once, rather than wait
        for their leases to lapse and another worker's recovery.
        """
        self._stopping = True
        self._scheduler.pause()  # no new looks; the one under way ends with its sends
        if self._claiming is not None:
            await asyncio.wait({self._claiming}, timeout=grace_seconds)
        unsent = [claimed.post.id for claimed, _ in self._ready]
        self._ready.clear()
        if unsent:
            try:
                await asyncio.to_thread(self._hand_back, unsent)
            except Exception:  # their leases lapse, and recovery decides
                log.exception("handing back %d unsent posts failed", len(unsent))
            self._holding.difference_update(unsent)
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace_seconds)
        if self._recorder is not None and not self._recorder.done():
            await asyncio.wait({self._recorder}, timeout=grace_seconds)
        if self._looking is not None and not self._looking.done():
            await asyncio.wait({self._looking}, timeout=grace_seconds)
        self._scheduler.shutdown(wait=False)
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self.publishers.aclose()

    def wake_at(self, when: datetime) -> None:
        """Look at ``when`` (or now, if it has passed). Safe to call from any thread."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._schedule_wake, when)

    def _schedule_wake(self, when: datetime) -> None:
        if self._stopping:
            return
        now = datetime.now(UTC)
        if self._next_wake is not None and self._next_wake <= when and self._next_wake > now:
            return  # an earlier wake-up is already set
        self._next_wake = when
        if not self._scheduler.running:
            return
        self._scheduler.add_job(
            self.look,
            "date",
            run_date=max(when, now),
            id="wake",
            replace_existing=True,
            max_instances=100,
            misfire_grace_time=None,
        )

    # -- the work --------------------------------------------------------------------------

    async def look(self) -> None:
        """Publish everything due now; then set the wake-up for the next due post."""
        if self._draining.locked():
            self._look_again = True
            return
        async with self._draining:
            self._looking = asyncio.current_task()
            self._next_wake = None
            while True:
                self._look_again = False
                await self._drain()
                if not self._look_again:
                    break
            next_due = await asyncio.to_thread(self._next_due)
        if next_due is not None:
            self._schedule_wake(next_due)

    async def _drain(self) -> None:
        """Keep ``publish_concurrency`` sends in flight for as long as posts are due.

        Posts are claimed ahead of the free slots, so a slot whose send ends is filled at once
        instead of after a round trip to the database. The next claim starts while a
        concurrency's worth of posts is still waiting, and tops them up to two: its
        transaction and its guard check (which the posts must pass before they go) finish
        while those waiting go out. Claims of a concurrency's worth cost little per post,
        which is what a burst needs. Posts claimed ahead wait about two sends; their leases
        are renewed like those of posts in flight, and a stopping worker hands them back.
        (If it is killed, recovery sends them again: they carry no note of a send begun.)
        """
        concurrency = self.settings.publish_concurrency
        more_due = True  # the last claim got as many posts as it asked for
        while True:
            # A slot is free once its send is done; the outcome is written behind it. Sends
            # done but not yet written count against the limit beyond a margin, so that a slow
            # database holds claiming back instead of piling outcomes up in memory.
            unwritten = max(0, len(self._unwritten) - concurrency)
            free = concurrency - len(self._in_flight) - unwritten
            while self._ready and free > 0 and not self._stopping:
                self._launch(*self._ready.popleft())
                free -= 1
            waiting_posts = len(self._ready)
            if waiting_posts <= concurrency and more_due and not (self._claiming or self._stopping):
                wanted = max(0, free) + 2 * concurrency - waiting_posts
                self._claiming = asyncio.create_task(self._claim_ahead(wanted))
            claiming = self._claiming
            waiting: set[asyncio.Task[Any]] = set(self._in_flight)
            if claiming is not None:
                waiting.add(claiming)
            if free <= 0 and self._recorder is not None and not self._recorder.done():
                waiting.add(self._recorder)
            if not waiting:
                return
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if claiming is not None and claiming.done():
                self._claiming = None
                more_due = claiming.result()  # a failed claim ends this drain; the poll retries
            if done - {claiming}:
                more_due = True  # a send ended: look for more posts (or retries now due)

    async def _claim_ahead(self, limit: int) -> bool:
        """Claim up to ``limit`` due posts into the ready queue; the guard checks them meanwhile.

        True if it got all ``limit`` (so more may be due). The guard runs in a thread of its
        own while the posts wait and the next claim goes ahead: it is on no later post's path.
        """
        claimed = await asyncio.to_thread(self._claim, limit)
        if claimed:
            refusals = asyncio.ensure_future(asyncio.to_thread(self._guard, claimed))
            for one in claimed:
                self._holding.add(one.post.id)
                self._ready.append((one, refusals))
        return len(claimed) == limit

    def _launch(
        self, claimed: Claimed, refusals: asyncio.Future[dict[str, PublishFailure]]
    ) -> None:
        task = asyncio.create_task(self._publish(claimed, refusals))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        task.add_done_callback(self._release(claimed.post.id))

    def _release(self, post_id: str) -> Callable[[asyncio.Task[None]], None]:
        """A done-callback: the post is settled (or left to the lease), so stop renewing it.

        A post whose outcome still awaits the writer stays held; the writer releases it.
        """

        def release(_task: asyncio.Task[None]) -> None:
            if post_id not in self._unwritten:
                self._holding.discard(post_id)

        return release

    async def _renew_leases(self) -> None:
        """Extend the lease of every post this worker is still publishing, three times a lease.

        A lease only says "the worker is alive": a send that takes longer than the lease (a
        slow network, or posts queued behind the per-network limit) must not be taken over by
        another replica while this one is still sending it. Only a dead worker's lease lapses.
        """
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            if not self._holding:
                continue
            try:
                await asyncio.to_thread(self._extend_leases, set(self._holding))
            except Exception:  # the database may be briefly away; try again next time
                log.exception("renewing the leases of %d posts failed", len(self._holding))

    def _extend_leases(self, post_ids: set[str]) -> None:
        until = utcnow() + timedelta(seconds=self.settings.lease_seconds)
        with self.database.session() as session:
            repository.renew_leases(session, post_ids, worker=self.worker, lease_until=until)
            session.commit()

    def _hand_back(self, post_ids: list[str]) -> None:
        with self.database.session() as session:
            repository.release_claims(session, post_ids, worker=self.worker, now=utcnow())
            session.commit()

    def _next_due(self) -> datetime | None:
        with self.database.session(read_only=True) as session:
            return repository.next_due_time(session)

    def _claim(self, limit: int) -> list[Claimed]:
        now = utcnow()
        with self.database.session() as session:
            self._recover_expired(session, now)
            posts = repository.claim_due(
                session,
                now=now,
                limit=limit,
                worker=self.worker,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
            )
            accounts = repository.accounts_by_id(session, {p.account_id for p in posts})
            grace = timedelta(seconds=self.settings.missed_grace_seconds)
            claimed: list[Claimed] = []
            for post in posts:
                job = self._job(post, accounts[post.account_id])
                if post.scheduled_at is not None and now - post.scheduled_at > grace:
                    self._settle_missed(session, post, now)
                    continue
                claimed.append(
                    Claimed(post, job, self.publishers.for_account(accounts[post.account_id]))
                )
            session.commit()
        return claimed

    def _guard(self, claimed: list[Claimed]) -> dict[str, PublishFailure]:
        """Run the cross-post guard again, now that these posts are about to go out.

        It compares only with posts that went (or may have gone) out, those just claimed
        included, so of two similar posts the first one out wins. One query per user for the
        whole batch, after the claim is committed (on SQLite the write lock is free again).
        """
        try:
            with self.database.session(read_only=True) as session:
                matches = find_cross_posts(
                    session, [c.post for c in claimed], self.policy, only_states=SENT_STATES
                )
        except Exception as exc:  # not checked, so not sent: try again later
            log.exception("the cross-post guard failed for %d posts", len(claimed))
            failure = PublishFailure(
                FailureKind.RETRYABLE, f"The cross-post guard could not check the post: {exc!r}"
            )
            return {c.post.id: failure for c in claimed}
        return {post_id: self._refusal(match) for post_id, match in matches.items()}

    @staticmethod
    def _refusal(match: CrossPostMatch) -> PublishFailure:
        return PublishFailure(
            FailureKind.PERMANENT,
            "Refused by the cross-post guard at publish time: "
            + cross_post_problem(match, None).detail,
        )

    def _job(self, post: Post, account: Account) -> PublishJob:
        return PublishJob(
            post_id=post.id,
            publish_key=post.publish_key,
            network=Network(post.network),
            account=AccountRef(id=account.id, handle=account.handle, base_url=account.base_url),
            content=content_of(post),
            attempt=post.attempt_count,
            access=AccountAccess.of(account),
        )

    def _settle_missed(self, session: Any, post: Post, now: datetime) -> None:
        assert post.scheduled_at is not None
        late = now - post.scheduled_at
        grace = timedelta(seconds=self.settings.missed_grace_seconds)
        message = (
            f"Missed: due at {post.scheduled_at.isoformat()}, but publishing was only possible "
            f"{_human(late)} later, past the {_human(grace)} grace window. Reschedule it if it "
            "still makes sense."
        )
        repository.settle(
            session,
            post.id,
            post.claimed_by,
            {
                "state": PostState.MISSED,
                "next_attempt_at": None,
                "last_error": message,
                "updated_at": now,
            },
        )
        self._log_attempt(session, self._attempt(post, now, now, Outcome.MISSED, message))

    def _recover_expired(self, session: Any, now: datetime) -> None:
        """Posts whose worker died mid-send: resend only where that cannot duplicate them."""
        expired = repository.expired_leases(session, now=now, limit=100)
        if not expired:
            return
        accounts = repository.accounts_by_id(session, {p.account_id for p in expired})
        grace = timedelta(seconds=self.settings.missed_grace_seconds)
        for post in expired:
            account = accounts[post.account_id]
            job = self._job(post, account)
            # Past the grace window it would only be marked missed, which is not true if the
            # interrupted send went out (and a later reschedule could then post it twice).
            in_time = post.scheduled_at is None or now - post.scheduled_at <= grace
            # Where a resend could duplicate the post, the worker noted each send it began:
            # a post without that note was only claimed, and never went out.
            resend_safe = self.publishers.for_account(account).may_resend_after_crash(job)
            never_sent = (
                post.claimed_unsent_by is not None
                and post.claimed_unsent_by == post.claimed_by
                and not resend_safe
            )
            if never_sent and not in_time:
                self._settle_missed(session, post, now)
                continue
            # A post that every worker dies sending is not sent forever: it counts as attempts.
            attempts_left = post.attempt_count < self.settings.max_attempts
            resend = never_sent or resend_safe
            if in_time and attempts_left and resend:
                message = (
                    f"Worker {post.claimed_by} stopped before sending it; sending it now."
                    if never_sent
                    else f"Worker {post.claimed_by} stopped while publishing; sending again, "
                    "which cannot create a duplicate on this network."
                )
                values = {"state": PostState.SCHEDULED, "next_attempt_at": now, "updated_at": now}
                outcome = Outcome.RETRYING
            else:
                message = (
                    f"Worker {post.claimed_by} stopped while publishing, so it is not known "
                    f"whether {account.network} received the post. Check the account; then "
                    "mark the post published (with its URL) or requeue it."
                )
                if not in_time:
                    message += " (It was too late to send it again: past the grace window.)"
                elif resend and not attempts_left:
                    message += f" (It was interrupted {post.attempt_count} times; no more resends.)"
                values = {
                    "state": PostState.UNKNOWN,
                    "next_attempt_at": None,
                    "last_error": message,
                    "updated_at": now,
                }
                outcome = Outcome.UNKNOWN
            if repository.settle(session, post.id, post.claimed_by, values):
                self._log_attempt(session, self._attempt(post, now, now, outcome, message))
                log.warning("post %s: %s", post.id, message)

    async def _publish(
        self, claimed: Claimed, refusals: asyncio.Future[dict[str, PublishFailure]]
    ) -> None:
        post, job = claimed.post, claimed.job
        started = utcnow()
        try:
            refusal = (await refusals).get(post.id)
            if refusal is not None:
                raise refusal
            if not claimed.publisher.may_resend_after_crash(job):
                job = replace(job, before_send=partial(self._note_send_started, post.id))
            result: PublishResult | PublishFailure = await claimed.publisher.publish(job)
        except PublishFailure as failure:
            result = failure
        except Exception as exc:  # a bug, not the network: the send may have happened
            log.exception("post %s: publisher raised", post.id)
            result = PublishFailure(
                FailureKind.UNKNOWN, f"Unexpected error while publishing: {exc!r}"
            )
        self._record_soon(Finished(post, started, utcnow(), result))

    async def _note_send_started(self, post_id: str) -> None:
        """Commit that the send begins, so that if this worker dies from here on, recovery
        knows the post may have gone out (and, before, that it did not)."""
        try:
            noted = await asyncio.to_thread(self._mark_send_started, post_id)
        except Exception as exc:
            raise PublishFailure(
                FailureKind.RETRYABLE,
                f"Could not note the start of the send, so nothing was sent: {exc!r}",
            ) from None
        if not noted:
            raise PublishFailure(
                FailureKind.RETRYABLE,
                "This worker's claim had lapsed before the send, so nothing was sent.",
            )

    def _mark_send_started(self, post_id: str) -> bool:
        with self.database.session() as session:
            noted = repository.mark_send_started(session, post_id, worker=self.worker)
            session.commit()
        return noted

    def _record_soon(self, finished: Finished) -> None:
        """Hand the outcome to the writer; the post stays claimed until it is written.

        One writer task writes the outcomes in batches, each batch in one transaction (a group
        commit): a burst costs one transaction per batch, not one per post, on SQLite the sends
        do not queue one by one for the write lock, and a send's slot is free for the next
        post as soon as the network has answered.
        """
        self._unwritten.add(finished.post.id)
        self._finished.append(finished)
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_finished())

    async def _write_finished(self) -> None:
        if self._in_flight:
            await asyncio.sleep(RECORD_GATHER_SECONDS)
        while self._finished:
            batch = self._finished[:RECORD_BATCH]
            del self._finished[:RECORD_BATCH]
            try:
                await asyncio.to_thread(self._record_many, batch)
            except Exception:
                log.exception("recording %d outcomes failed; recording them one by one", len(batch))
                for one in batch:  # so that one bad record cannot hold back the others
                    try:
                        await asyncio.to_thread(self._record_many, [one])
                    except Exception:  # left publishing: its lease lapses, recovery decides
                        log.exception("post %s: recording its outcome failed", one.post.id)
            for one in batch:
                self._unwritten.discard(one.post.id)
                self._holding.discard(one.post.id)

    def _record_many(self, batch: list[Finished]) -> None:
        """Settle the posts and log their attempts, all in one transaction."""
        prepared = [self._record(one) for one in batch]
        with self.database.session() as session:
            settled = [(p.post.id, p.values) for p in prepared]
            if not repository.settle_many(session, self.worker, settled):
                session.rollback()  # some claim had lapsed: find out which, one by one
                for p in prepared:
                    if not repository.settle(session, p.post.id, self.worker, p.values):
                        p.attempt.message = (
                            f"{p.attempt.message} (This worker's claim had expired by then; "
                            "the post's state was settled by the recovery shown in the log.)"
                        )
            for p in prepared:
                self._log_attempt(session, p.attempt)
            session.commit()
        for p in prepared:
            log.info("post %s: %s", p.post.id, p.attempt.outcome)

    def _record(self, one: Finished) -> Recorded:
        """The post's new state and its publish-log entry, for this outcome."""
        post, started, finished, result = one.post, one.started, one.finished, one.result
        if isinstance(result, PublishResult):
            outcome = Outcome.PUBLISHED
            values: dict[str, Any] = {
                "state": PostState.PUBLISHED,
                "external_id": result.external_id,
                "external_url": result.external_url,
                "published_at": finished,
                "next_attempt_at": None,
                "last_error": None,
            }
            message = result.message
        else:
            outcome, values, message = self._failure_outcome(post, result, finished)
        values["updated_at"] = finished
        attempt = self._attempt(post, started, finished, outcome, message)
        if isinstance(result, PublishResult):
            attempt.external_id, attempt.external_url = result.external_id, result.external_url
        attempt.http_status = result.http_status
        attempt.request = result.request
        return Recorded(post, values, attempt)

    def _log_attempt(self, session: Any, attempt: PublishAttempt) -> None:
        """Append to the publish log, and count it for /metrics."""
        repository.add_attempt(session, attempt)
        record_attempt(
            attempt.network,
            attempt.outcome,
            (attempt.started_at - attempt.due_at).total_seconds(),
            attempt.duration_ms / 1000,
        )

    def _failure_outcome(
        self, post: Post, failure: PublishFailure, now: datetime
    ) -> tuple[Outcome, dict[str, Any], str]:
        if failure.kind == FailureKind.UNKNOWN:
            message = (
                f"{failure.message} The post may or may not have been published; check the "
                "account, then mark it published (with its URL) or requeue it."
            )
            return (
                Outcome.UNKNOWN,
                {"state": PostState.UNKNOWN, "next_attempt_at": None, "last_error": message},
                message,
            )
        if failure.kind == FailureKind.RETRYABLE:
            retry_at = now + timedelta(
                seconds=self._backoff(post.attempt_count, failure.retry_after)
            )
            deadline = (post.scheduled_at or now) + timedelta(
                seconds=self.settings.missed_grace_seconds
            )
            if post.attempt_count < self.settings.max_attempts and retry_at <= deadline:
                message = f"{failure.message} Trying again at {retry_at.isoformat()}."
                return (
                    Outcome.RETRYING,
                    {
                        "state": PostState.SCHEDULED,
                        "next_attempt_at": retry_at,
                        "last_error": failure.message,
                    },
                    message,
                )
            message = (
                f"{failure.message} Gave up after {post.attempt_count} attempts; "
                "reschedule the post to try again."
            )
        else:
            message = failure.message
        return (
            Outcome.FAILED,
            {"state": PostState.FAILED, "next_attempt_at": None, "last_error": message},
            message,
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        ceiling = min(
            self.settings.retry_max_seconds,
            self.settings.retry_base_seconds * 2 ** max(0, attempt - 1),
        )
        delay: float = ceiling * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)
        return max(delay, retry_after or 0.0)

    def _attempt(
        self, post: Post, started: datetime, finished: datetime, outcome: Outcome, message: str
    ) -> PublishAttempt:
        return PublishAttempt(
            user_id=post.user_id,
            post_id=post.id,
            account_id=post.account_id,
            network=post.network,
            attempt=post.attempt_count,
            due_at=post.scheduled_at or started,
            started_at=started,
            finished_at=finished,
            duration_ms=int((finished - started).total_seconds() * 1000),
            outcome=outcome,
            message=message,
            worker=self.worker,
        )


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
