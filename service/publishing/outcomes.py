"""What an attempt's outcome writes: the post's new state and its publish-log entry.

Shared by every part of the dispatcher that settles a post (the recorder of finished sends,
the recovery of dead workers' posts, the marking of missed ones), so that a settled post
always looks the same in the database, in /metrics and to webhook subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from service.config import Settings
from service.networks.base import FailureKind
from service.observability.metrics import record_attempt
from service.posts.models import Post, PostState
from service.publishing import repository
from service.publishing.models import Outcome, PublishAttempt
from service.publishing.publishers import PublishFailure, PublishResult
from service.retry import jittered_backoff
from service.webhooks import outbox as webhook_outbox


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


class Outcomes:
    """Turns outcomes into posts' new values and publish-log entries, for one worker."""

    def __init__(self, settings: Settings, worker: str) -> None:
        self.settings = settings
        self.worker = worker

    def attempt(
        self, post: Post, started: datetime, finished: datetime, outcome: Outcome, message: str
    ) -> PublishAttempt:
        return new_attempt(post, started, finished, outcome, message, worker=self.worker)

    def log(self, session: Session, logged: list[tuple[Post, PublishAttempt]]) -> None:
        """Append to the publish log, count it for /metrics, and queue the webhook events it
        makes, in the same transaction (the outbox: an event is never lost nor invented)."""
        for _post, attempt in logged:
            repository.add_attempt(session, attempt)
            record_attempt(
                attempt.network,
                attempt.outcome,
                (attempt.started_at - attempt.due_at).total_seconds(),
                attempt.duration_ms / 1000,
            )
        webhook_outbox.publish_log_recorded(session, logged, self.settings.public_url)

    def of(self, one: Finished) -> Recorded:
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
            outcome, values, message = self.failure(post, result, finished)
        values["updated_at"] = finished
        attempt = self.attempt(post, started, finished, outcome, message)
        if isinstance(result, PublishResult):
            attempt.external_id, attempt.external_url = result.external_id, result.external_url
        attempt.http_status = result.http_status
        attempt.request = result.request
        return Recorded(post, values, attempt)

    def failure(
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
                seconds=self.backoff(post.attempt_count, failure.retry_after)
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

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        delay = jittered_backoff(
            attempt, self.settings.retry_base_seconds, self.settings.retry_max_seconds
        )
        return max(delay, retry_after or 0.0)

    def missed(self, session: Session, post: Post, now: datetime) -> None:
        """Settle a post reached too late to publish as missed, with its log entry."""
        assert post.scheduled_at is not None
        late = now - post.scheduled_at
        grace = timedelta(seconds=self.settings.missed_grace_seconds)
        message = (
            f"Missed: due at {post.scheduled_at.isoformat()}, but publishing was only possible "
            f"{human(late)} later, past the {human(grace)} grace window. Reschedule it if it "
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
        self.log(session, [(post, self.attempt(post, now, now, Outcome.MISSED, message))])


def new_attempt(
    post: Post,
    started: datetime,
    finished: datetime,
    outcome: Outcome,
    message: str,
    *,
    worker: str | None = None,
    marked_by: str | None = None,
) -> PublishAttempt:
    """A publish-log entry for ``post``: by a worker, or marked by a person."""
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
        worker=worker,
        marked_by=marked_by,
    )


def record_by_user(
    session: Session,
    post: Post,
    now: datetime,
    outcome: Outcome,
    message: str,
    public_url: str | None,
    *,
    marked_by: str | None = None,
) -> PublishAttempt:
    """The publish-log entry of something the person said happened (an unknown send resolved,
    a post published or skipped by hand), with the webhook event it makes, in the caller's
    transaction. ``post`` must already hold its new values."""
    attempt = new_attempt(post, now, now, outcome, message, marked_by=marked_by)
    attempt.external_id, attempt.external_url = post.external_id, post.external_url
    repository.add_attempt(session, attempt)
    webhook_outbox.publish_log_recorded(session, [(post, attempt)], public_url)
    return attempt


def human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
