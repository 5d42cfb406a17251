"""Posts whose worker died mid-send: resend only where that cannot duplicate them.

A claim is a lease. Once a dead worker's lease lapses, the next claim takes its posts over
here, before claiming anything new, in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from service.config import Settings
from service.media.outgoing import attachments_by_post
from service.posts.models import PostState
from service.publishing import repository
from service.publishing.jobs import job_for
from service.publishing.models import Outcome
from service.publishing.outcomes import Outcomes
from service.publishing.registry import PublisherRegistry

log = logging.getLogger("handpost.dispatcher")


class Recovery:
    def __init__(
        self, settings: Settings, publishers: PublisherRegistry, outcomes: Outcomes
    ) -> None:
        self.settings = settings
        self.publishers = publishers
        self.outcomes = outcomes

    def recover_expired(self, session: Session, now: datetime) -> None:
        expired = repository.expired_leases(session, now=now, limit=100)
        if not expired:
            return
        accounts = repository.accounts_by_id(session, {p.account_id for p in expired})
        files = attachments_by_post(session, [p.id for p in expired])
        grace = timedelta(seconds=self.settings.missed_grace_seconds)
        for post in expired:
            account = accounts[post.account_id]
            job = job_for(post, account, files.get(post.id, ()))
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
                self.outcomes.missed(session, post, now)
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
                attempt = self.outcomes.attempt(post, now, now, outcome, message)
                self.outcomes.log(session, [(post, attempt)])
                log.warning("post %s: %s", post.id, message)
