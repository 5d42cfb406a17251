"""Claiming due posts, and the cross-post guard's last word before they go out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from service.accounts.models import AccountMode
from service.config import Settings
from service.db import Database, utcnow
from service.guard import CrossPostMatch
from service.hand.handover import HandOver
from service.media.outgoing import attachments_by_post
from service.networks.base import FailureKind
from service.posts.models import Post, PostState
from service.posts.service import PostPolicy, cross_post_problem, find_cross_posts, guard_policy
from service.publishing import repository
from service.publishing.jobs import job_for
from service.publishing.outcomes import Outcomes
from service.publishing.publishers import Publisher, PublishFailure, PublishJob
from service.publishing.recovery import Recovery
from service.publishing.registry import PublisherRegistry

log = logging.getLogger("handpost.dispatcher")

# States that mean "this text went (or may have gone) out": the publish-time guard compares
# only with these, so of two similar posts the first one out wins.
# A post due by hand is about to go out too.
SENT_STATES = (PostState.PUBLISHED, PostState.PUBLISHING, PostState.UNKNOWN, PostState.DUE)


@dataclass(frozen=True)
class Claimed:
    post: Post
    job: PublishJob
    publisher: Publisher


class Claims:
    """Claims due posts under a lease: the earliest due rows, locked, then updated only if
    still scheduled, so that no post is claimed twice, even by several replicas."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        worker: str,
        publishers: PublisherRegistry,
        outcomes: Outcomes,
        recovery: Recovery,
    ) -> None:
        self.database = database
        self.settings = settings
        self.worker = worker
        self.publishers = publishers
        self.outcomes = outcomes
        self.recovery = recovery
        self.policy = PostPolicy(guard=guard_policy(settings))
        self.hand = HandOver(settings, outcomes)

    def claim(self, limit: int) -> list[Claimed]:
        """Up to ``limit`` due posts; dead workers' posts are recovered first, in the same
        transaction, and posts reached too late are settled as missed instead. Posts of
        accounts published by hand are handed to the person (service.hand) in this same
        transaction, never returned to be sent."""
        now = utcnow()
        with self.database.session() as session:
            self.recovery.recover_expired(session, now)
            self.hand.expire_overdue(session, now)
            posts = repository.claim_due(
                session,
                now=now,
                limit=limit,
                worker=self.worker,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
            )
            accounts = repository.accounts_by_id(session, {p.account_id for p in posts})
            media = attachments_by_post(session, [p.id for p in posts]) if posts else {}
            grace = timedelta(seconds=self.settings.missed_grace_seconds)
            claimed: list[Claimed] = []
            by_hand: list[Post] = []
            for post in posts:
                account = accounts[post.account_id]
                if account.mode == AccountMode.HAND:
                    by_hand.append(post)
                    continue
                if post.scheduled_at is not None and now - post.scheduled_at > grace:
                    self.outcomes.missed(session, post, now)
                    continue
                claimed.append(
                    Claimed(
                        post,
                        job_for(post, account, media.get(post.id, ())),
                        self.publishers.for_account(account),
                    )
                )
            if by_hand:  # rare (a person's own handful): checked here, in the claim
                self.hand.hand_over(
                    session, by_hand, accounts, self._guard_now(session, by_hand), now
                )
            session.commit()
        return claimed

    def next_due(self) -> datetime | None:
        with self.database.session(read_only=True) as session:
            return repository.next_due_time(session)

    def guard(self, claimed: list[Claimed]) -> dict[str, PublishFailure]:
        """Run the cross-post guard again, now that these posts are about to go out.

        It compares only with posts that went (or may have gone) out, those just claimed
        included, so of two similar posts the first one out wins. One query per user for the
        whole batch, after the claim is committed (on SQLite the write lock is free again).
        """
        posts = [c.post for c in claimed]
        try:
            with self.database.session(read_only=True) as session:
                return self._refusals(session, posts)
        except Exception as exc:  # not checked, so not sent: try again later
            return unchecked(posts, exc)

    def _guard_now(self, session: Session, posts: list[Post]) -> dict[str, PublishFailure]:
        """The same check inside the claim's transaction, in a savepoint: a failing check
        sends these posts back to wait, and leaves the rest of the claim standing."""
        try:
            with session.begin_nested():
                return self._refusals(session, posts)
        except Exception as exc:
            return unchecked(posts, exc)

    def _refusals(self, session: Session, posts: list[Post]) -> dict[str, PublishFailure]:
        matches = find_cross_posts(session, posts, self.policy, only_states=SENT_STATES)
        return {post_id: refusal(match) for post_id, match in matches.items()}

    def mark_send_started(self, post_id: str) -> bool:
        with self.database.session() as session:
            noted = repository.mark_send_started(session, post_id, worker=self.worker)
            session.commit()
        return noted


def unchecked(posts: list[Post], exc: Exception) -> dict[str, PublishFailure]:
    """Posts the guard could not check: not sent (nor handed over); tried again later."""
    log.exception("the cross-post guard failed for %d posts", len(posts))
    failure = PublishFailure(
        FailureKind.RETRYABLE, f"The cross-post guard could not check the post: {exc!r}"
    )
    return {post.id: failure for post in posts}


def refusal(match: CrossPostMatch) -> PublishFailure:
    return PublishFailure(
        FailureKind.PERMANENT,
        "Refused by the cross-post guard at publish time: "
        + cross_post_problem(match, None).detail,
    )
