"""The dispatcher's side of hand-publish: due posts are handed to the person, never sent.

Called inside the dispatcher's claim transaction (service.publishing.claims), so the claim's
guarantees hold: of several replicas, exactly one claims a due post, and the post's move to
``due``, its publish-log entry, its webhook event and its notifications are one commit. The
post is never left ``publishing``: it goes from ``scheduled`` to ``due`` (or ``missed``, or
``failed`` when the guard refuses it at its time) in that one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from service.accounts.models import Account
from service.config import Settings
from service.feeds.ics import first_words
from service.hand import repository
from service.hand.composer import composer_url
from service.networks import rules_for
from service.notify import outbox as notify_outbox
from service.notify.outbox import Message
from service.posts.models import Post, PostState
from service.publishing import repository as publishing
from service.publishing.models import Outcome
from service.publishing.outcomes import Finished, Outcomes, human
from service.publishing.publishers import PublishFailure
from service.webhooks import outbox as webhook_outbox

# Overdue posts settled per claim: the sweep stays short, the next claim takes the rest.
SWEEP_LIMIT = 100


def account_label(account: Account) -> str:
    network = rules_for(account.network).display_name
    return f"{network} ({account.display_name or account.handle})"


def queue_link(settings: Settings) -> str | None:
    return f"{settings.public_url}/#/queue" if settings.public_url else None


def notice(post: Post, account: Account, deadline: datetime, settings: Settings) -> Message:
    """What the person is told: the whole text, where it goes, and where to publish it."""
    label = account_label(account)
    lines = [f"It is time to publish this post on {label} by hand.", ""]
    if post.audience:
        lines += [f"Audience: {post.audience}", ""]
    lines += ["----", post.text]
    if post.link:
        lines += ["", post.link]
    lines += ["----", ""]
    composer = composer_url(account.network, account.base_url)
    if composer:
        lines.append(f"Publish it at: {composer}")
    queue = queue_link(settings)
    if queue:
        lines.append(f"Then mark it published (with its address) or skipped: {queue}")
    else:
        lines.append("Then mark it published (with its address) or skipped in Handpost.")
    lines.append(f"Left undone, it counts as missed at {deadline:%Y-%m-%d %H:%M} UTC.")
    return Message(
        user_id=post.user_id,
        post_id=post.id,
        subject=f"Publish by hand on {label}: {first_words(post.text)}",
        body="\n".join(lines) + "\n",
        click_url=queue or composer,
    )


class HandOver:
    def __init__(self, settings: Settings, outcomes: Outcomes) -> None:
        self.settings = settings
        self.outcomes = outcomes
        self.grace = timedelta(seconds=settings.hand_grace_seconds)

    def hand_over(
        self,
        session: Session,
        posts: Sequence[Post],
        accounts: Mapping[str, Account],
        refusals: Mapping[str, PublishFailure],
        now: datetime,
    ) -> None:
        """Settle these just-claimed posts of hand accounts: due, or missed, or refused."""
        messages: list[Message] = []
        for post in posts:
            account = accounts[post.account_id]
            deadline = (post.scheduled_at or now) + self.grace
            if now > deadline:
                self._missed(session, post, now, claimed=True)
                continue
            refusal = refusals.get(post.id)
            if refusal is not None:
                recorded = self.outcomes.of(Finished(post, now, now, refusal))
                if publishing.settle(session, post.id, post.claimed_by, recorded.values):
                    self.outcomes.log(session, [(post, recorded.attempt)])
                continue
            values = {
                "state": PostState.DUE,
                "next_attempt_at": deadline,  # when the sweep makes it missed
                "claimed_unsent_by": None,
                "last_error": None,
                "updated_at": now,
            }
            if not publishing.settle(session, post.id, post.claimed_by, values):
                continue
            message = (
                f"Due: handed to you to publish by hand on {account_label(account)}"
                + (f", for {post.audience}" if post.audience else "")
                + f". Mark it published or skipped within {human(self.grace)}."
            )
            attempt = self.outcomes.attempt(post, now, now, Outcome.DUE, message)
            self.outcomes.log(session, [(post, attempt)])
            webhook_outbox.post_due_by_hand(
                session,
                post,
                account.handle,
                self.settings.public_url,
                composer_url=composer_url(account.network, account.base_url),
                missed_at=deadline,
            )
            messages.append(notice(post, account, deadline, self.settings))
        notify_outbox.queue(session, messages, self.settings)

    def expire_overdue(self, session: Session, now: datetime) -> None:
        """Due posts nobody marked within the grace period become missed, as elsewhere."""
        for post in repository.overdue(session, now=now, limit=SWEEP_LIMIT):
            self._missed(session, post, now, claimed=False)

    def _missed(self, session: Session, post: Post, now: datetime, *, claimed: bool) -> None:
        assert post.scheduled_at is not None
        message = (
            f"Missed: due by hand at {post.scheduled_at.isoformat()}, and neither marked "
            f"published nor skipped within {human(self.grace)}. If you did publish it, mark "
            "it published with its address; otherwise reschedule it if it still makes sense."
        )
        values = {
            "state": PostState.MISSED,
            "next_attempt_at": None,
            "claimed_unsent_by": None,
            "last_error": message,
            "updated_at": now,
        }
        if claimed:  # reached too late (the service was down): still under this claim
            settled = publishing.settle(session, post.id, post.claimed_by, values)
        else:
            settled = repository.settle_from(
                session, post.id, [PostState.DUE], post.version, values
            )
        if settled:
            attempt = self.outcomes.attempt(post, now, now, Outcome.MISSED, message)
            self.outcomes.log(session, [(post, attempt)])
