"""Posts: writing, tailoring, scheduling and cancelling, each checked by the guard."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service import guard
from service.accounts import repository as accounts_repository
from service.accounts import service as accounts
from service.accounts.models import Account
from service.config import Settings
from service.db import utcnow
from service.media import service as media
from service.media.schemas import PostMediaRead
from service.media.service import Attached, MediaContext
from service.networks import rules_for
from service.networks.base import Attachment, NetworkRules, PostContent, Violation
from service.posts import repository, scheduling
from service.posts.models import CANCELLABLE_STATES, EDITABLE_STATES, Post, PostState
from service.posts.schemas import (
    PostContentFields,
    PostCreate,
    PostRead,
    PostUpdate,
    PostWarning,
    ResolveRequest,
    ScheduleFields,
)
from service.problems import ProblemError, invalid, not_found
from service.publishing.models import Outcome
from service.publishing.outcomes import record_by_user
from service.strategy.service import ValueContext, canonical_goal
from service.strategy.value import ValueInput, share_comment_problem, value_warnings
from service.users.models import User
from service.youtube import service as youtube
from service.youtube.models import YouTubeUpload
from service.youtube.service import YouTubePolicy

CONTENT_FIELDS = (
    "text",
    "link",
    "shares_url",
    "title",
    "excerpt",
    "tags",
    "visibility",
    "call_to_action",
    "goal",
    "language",
    "audience",
)
# Fields only some networks have, each stored as its network's service keeps it.
NETWORK_FIELDS = ("youtube",)


@dataclass(frozen=True)
class PostPolicy:
    """The rules a write is held to: the guard's limits and the user's strategy."""

    guard: guard.GuardPolicy = field(default_factory=guard.GuardPolicy)
    values: ValueContext = field(default_factory=lambda: ValueContext(goals=[], require_goal=False))
    # Images need alt text (HANDPOST_REQUIRE_ALT_TEXT).
    require_alt_text: bool = True
    # Signs the thumbnail links of a post's media in answers.
    media: MediaContext | None = None
    # The YouTube quota a schedule must fit in.
    youtube: YouTubePolicy = field(default_factory=YouTubePolicy)


def guard_policy(settings: Settings) -> guard.GuardPolicy:
    """The guard's limits from the ``HANDPOST_GUARD_*`` settings."""
    return guard.GuardPolicy(
        threshold=settings.guard_threshold,
        copied_share=settings.guard_copied_share,
        line_added_share=settings.guard_line_added_share,
        line_added_chars=settings.guard_line_added_chars,
        whole_share=settings.guard_whole_share,
        min_copied_chars=settings.guard_min_copied_chars,
    )


def get_or_404(session: Session, user: User, post_id: str) -> Post:
    post = repository.get(session, user.id, post_id)
    if post is None:
        raise not_found("post", post_id)
    return post


def content_of(
    post: Post, account: Account | None = None, media: tuple[Attachment, ...] = ()
) -> PostContent:
    """What the network receives: a share goes out as the user's comment with its link, in
    the post's language or else its account's, with its files (``media``) in order."""
    return PostContent(
        text=post.text,
        link=post.link or post.shares_url,
        title=post.title,
        visibility=post.visibility,
        call_to_action=post.call_to_action,
        excerpt=post.excerpt,
        tags=tuple(post.tags or ()),
        language=post.language or (account.language if account is not None else None),
        media=media,
        video=youtube.options_of(post),
    )


def warnings_for(post: Post, rules: NetworkRules, values: ValueContext) -> list[PostWarning]:
    """The essays' questions for every post: which goal does it serve, what should readers do?"""
    found = [
        PostWarning(code=w.code, message=w.message)
        for w in value_warnings(
            ValueInput(
                network=post.network,
                network_name=rules.display_name,
                text=post.text,
                visibility=post.visibility,
                goal=post.goal,
                call_to_action=post.call_to_action,
                expects_call_to_action=rules.expects_call_to_action,
                sphere=values.spheres.get(post.account_id),
                goals=values.goals,
                # Kept in step with the text on every write; empty means "normalise it".
                normalised=post.guard_text or None,
            )
        )
    ]
    ends = values.access_ends.get(post.account_id)
    if ends is not None and post.scheduled_at is not None and post.scheduled_at > ends:
        found.append(
            PostWarning(
                code="access-ends-before-post",
                message=f"{rules.display_name} access for this account ends on "
                f"{ends:%Y-%m-%d %H:%M} UTC, before this post's time, and cannot be renewed "
                "automatically. Reconnect the account before then.",
            )
        )
    if post.needs_tailoring:
        found.append(
            PostWarning(
                code="needs-tailoring",
                message="This draft is still a copy of another post; rewrite it for this "
                "network's audience before scheduling it.",
            )
        )
    return found


def to_read(
    post: Post,
    values: ValueContext,
    account: Account | None = None,
    media_items: list[PostMediaRead] | None = None,
    upload: YouTubeUpload | None = None,
) -> PostRead:
    """``account``: the post's own, whose server's limits count (Mastodon's instance)."""
    rules = rules_for(post.network)
    ref = accounts.account_ref(account) if account is not None else None
    return PostRead.model_validate(
        {
            **post.model_dump(),
            "media": media_items or [],
            "youtube": youtube.read(post, upload),
            "scheduled_local": scheduling.local_view(post.scheduled_at, post.time_zone),
            "text_length": rules.text_length(content_of(post, account), ref),
            "text_limit": rules.text_limit_for(ref),
            "warnings": warnings_for(post, rules, values),
        }
    )


def read(session: Session, post: Post, policy: PostPolicy) -> PostRead:
    """The post as the API shows it, with its media."""
    found = media.read_for_posts(session, policy.media, [post.id])
    account = accounts_repository.get(session, post.user_id, post.account_id)
    uploads = youtube.uploads_for(session, [post.id])
    return to_read(post, policy.values, account, found.get(post.id), uploads.get(post.id))


def read_many(session: Session, posts: Sequence[Post], policy: PostPolicy) -> list[PostRead]:
    if not posts:
        return []
    found = media.read_for_posts(session, policy.media, [p.id for p in posts])
    owners = accounts_repository.by_ids(session, posts[0].user_id, {p.account_id for p in posts})
    uploads = youtube.uploads_for(session, [p.id for p in posts if p.network == "youtube"])
    return [
        to_read(p, policy.values, owners.get(p.account_id), found.get(p.id), uploads.get(p.id))
        for p in posts
    ]


def media_violations(
    account: Account, attached: Sequence[Attached], policy: PostPolicy
) -> list[Violation]:
    """How the post's media break its network's rules (count, size, format, alt text...)."""
    return media.violations(account, attached, require_alt_text=policy.require_alt_text)


def content_violations(post: Post, account: Account) -> list[Violation]:
    """Every way the post breaks its network's rules (for its account) or the rule on shares."""
    rules = rules_for(post.network)
    violations = rules.validate(content_of(post, account), accounts.account_ref(account))
    if post.shares_url and post.link:
        violations.append(
            Violation(
                "shares_url",
                "one-link",
                "A share carries the link it shares; leave link empty, or share nothing.",
            )
        )
    if post.shares_url and (reason := share_comment_problem(post.text)):
        violations.append(Violation("text", "bare-share", reason))
    return violations + youtube.field_violations(post)


def _validate_content(
    post: Post, account: Account, attached: Sequence[Attached], policy: PostPolicy
) -> None:
    violations = content_violations(post, account) + media_violations(account, attached, policy)
    if violations:
        raise invalid(
            " ".join(v.message for v in violations),
            [{"field": v.field, "code": v.code, "message": v.message} for v in violations],
        )


def _check_schedulable(
    session: Session,
    post: Post,
    account: Account,
    attached: Sequence[Attached],
    policy: PostPolicy,
) -> None:
    """What a network needs before a post may be scheduled (YouTube: a video, a release time
    after the upload, room in the day's quota)."""
    violations = youtube.schedule_violations(post, account, attached, utcnow())
    if violations:
        raise invalid(
            " ".join(v.message for v in violations),
            [{"field": v.field, "code": v.code, "message": v.message} for v in violations],
        )
    youtube.check_quota(session, policy.youtube, post, account)


def _refresh_guard_text(post: Post) -> None:
    # A title is words the person wrote like any other (a video's, a blog post's, an
    # article's): the guard reads it with the text, so a title repeating a post is caught.
    words = f"{post.title}\n\n{post.text}" if post.title else post.text
    post.guard_text = guard.normalise(words)
    post.guard_length = len(post.guard_text)


def cross_post_problem(match: guard.CrossPostMatch, other: Post | None) -> ProblemError:
    """The 409 ``cross-post`` problem: which earlier post, how this text was made from it
    (``kind``, ``how``), and the measure that refused it (``measure``, ``similarity``,
    ``threshold``)."""
    earlier = f"post {match.post_id} on {rules_for(match.network).display_name}"
    limit = f"(the guard refuses {match.threshold:.0%} or more)"
    if match.measure == guard.Measure.SIMILARITY:
        value = f"{match.similarity:.0%} the same as that post {limit}"
    else:
        value = f"{match.similarity:.0%} of it is that post's words {limit}"
    if match.kind == guard.Move.SAME and match.measure == guard.Measure.SIMILARITY:
        said = f"This text is {match.similarity:.0%} the same as {earlier} {limit}."
    else:
        said = f"This text repeats {earlier} as {match.how}: {value}."
    return ProblemError(
        409,
        "cross-post",
        "Same text on another network",
        f"{said} Write this version for its own audience instead of reposting the same words.",
        conflicting_post={
            "id": match.post_id,
            "account_id": match.account_id,
            "network": match.network,
            "state": other.state if other is not None else None,
            "text": other.text if other is not None else None,
        },
        kind=str(match.kind),
        how=match.how,
        measure=str(match.measure),
        similarity=match.similarity,
        threshold=match.threshold,
    )


def find_cross_post(
    session: Session,
    post: Post,
    policy: PostPolicy,
    *,
    exclude_source: bool,
    only_states: Collection[str] = (),
) -> guard.CrossPostMatch | None:
    excluded = {post.id}
    if exclude_source and post.copied_from_id:
        excluded.add(post.copied_from_id)
    candidates = repository.guard_candidates(
        session,
        user_id=post.user_id,
        other_than_account=post.account_id,
        windows=guard.candidate_windows(post.guard_length, policy.guard),
        fingerprints=guard.fingerprints(post.guard_text),
        exclude_post_ids=excluded,
        only_states=only_states,
    )
    return guard.check(
        post.guard_text, candidates.entries, policy.guard, sharing=candidates.by_fingerprint
    )


def find_cross_posts(
    session: Session, posts: Sequence[Post], policy: PostPolicy, *, only_states: Collection[str]
) -> dict[str, guard.CrossPostMatch]:
    """``find_cross_post`` (exclude_source=False) for several posts, by post id: the
    dispatcher's check of a claimed batch at publish time, one query per user, not per post.

    Each post is compared with the candidates its own check would read: the batch's recent
    posts within its own recent window, and the posts reached through a fingerprint within its
    shared window. A post reached through another post's fingerprint is read too: at least
    what the post's own check would find, never less.
    """
    by_user: dict[str, list[Post]] = {}
    for post in posts:
        by_user.setdefault(post.user_id, []).append(post)
    matches: dict[str, guard.CrossPostMatch] = {}
    for user_id, group in by_user.items():
        windows = {p.id: guard.candidate_windows(p.guard_length, policy.guard) for p in group}
        candidates = repository.guard_candidates(
            session,
            user_id=user_id,
            other_than_account=None,
            windows=guard.CandidateWindows(
                recent=(
                    min(w.recent[0] for w in windows.values()),
                    max(w.recent[1] for w in windows.values()),
                ),
                shared=(
                    min(w.shared[0] for w in windows.values()),
                    max(w.shared[1] for w in windows.values()),
                ),
            ),
            fingerprints=sorted({f for p in group for f in guard.fingerprints(p.guard_text)}),
            only_states=only_states,
            fingerprint_candidates=guard.FINGERPRINT_CANDIDATES * len(group),
        )
        for post in group:
            window = windows[post.id]
            own = [
                c
                for c in candidates.entries
                if c.post_id != post.id
                and c.account_id != post.account_id
                and (
                    _within(len(c.normalised), window.recent)
                    or (
                        c.post_id in candidates.by_fingerprint
                        and _within(len(c.normalised), window.shared)
                    )
                )
            ]
            match = guard.check(
                post.guard_text, own, policy.guard, sharing=candidates.by_fingerprint
            )
            if match is not None:
                matches[post.id] = match
    return matches


def _within(length: int, window: tuple[int, int]) -> bool:
    return window[0] <= length <= window[1]


def _enforce_guard(session: Session, post: Post, policy: PostPolicy) -> None:
    """Refuse the write if this text is the same as the user's post on another account.

    A draft made by copying may stay similar to its own source while it is being rewritten;
    once it is scheduled, it is compared with everything.
    """
    if post.copied_from_id:
        source = repository.get(session, post.user_id, post.copied_from_id)
        post.needs_tailoring = (
            source is not None
            and source.state != PostState.CANCELLED
            and (
                guard.check(
                    post.guard_text,
                    [
                        guard.GuardEntry(
                            source.id, source.account_id, source.network, source.guard_text
                        )
                    ],
                    policy.guard,
                )
                is not None
            )
        )
    match = find_cross_post(session, post, policy, exclude_source=post.state == PostState.DRAFT)
    if match is not None:
        raise cross_post_problem(match, repository.get(session, post.user_id, match.post_id))


def _apply_schedule(post: Post, fields: ScheduleFields, now: datetime) -> bool:
    """Set the post's time from the request; True when the request named a time."""
    try:
        schedule = scheduling.resolve(
            scheduled_at=fields.scheduled_at,
            local_time=fields.local_time,
            time_zone=fields.time_zone,
            publish_now=fields.publish_now,
            now=now,
        )
    except scheduling.ScheduleError as exc:
        raise invalid(
            exc.message, [{"field": exc.field, "code": exc.code, "message": exc.message}]
        ) from exc
    if schedule is None:
        if fields.time_zone is not None:
            post.time_zone = fields.time_zone
        return False
    post.scheduled_at = schedule.at
    post.time_zone = schedule.time_zone
    return True


def _make_scheduled(post: Post, now: datetime, values: ValueContext) -> None:
    if values.require_goal and values.goals and not post.goal:
        raise invalid(
            f"Say which of your goals this post serves ({', '.join(values.goals)}) before "
            "scheduling it. (You can turn this off in your strategy.)",
            [{"field": "goal", "code": "goal-required", "message": "Choose a goal."}],
        )
    if post.scheduled_at is None:
        raise invalid(
            "A post needs a time before it can be scheduled: send scheduled_at, local_time "
            "with time_zone, or publish_now.",
            [{"field": "scheduled_at", "code": "time-required", "message": "A time is required."}],
        )
    if post.scheduled_at < now:
        raise invalid(
            f"The post's time {post.scheduled_at.isoformat()} has passed; give a new time or "
            "publish_now.",
            [{"field": "scheduled_at", "code": "time-in-past", "message": "The time has passed."}],
        )
    post.state = PostState.SCHEDULED
    post.next_attempt_at = post.scheduled_at
    post.last_error = None


def _touch(post: Post, now: datetime) -> None:
    post.updated_at = now
    post.version += 1


def new_post(
    user: User, account: Account, data: PostContentFields, goal: str | None, now: datetime
) -> Post:
    """A post as written for ``account``, not yet added to the session."""
    post = Post(
        user_id=user.id,
        account_id=account.id,
        network=account.network,
        text=data.text,
        link=data.link,
        title=data.title,
        excerpt=data.excerpt,
        tags=list(data.tags),
        visibility=data.visibility or rules_for(account.network).default_visibility,
        call_to_action=data.call_to_action,
        audience=data.audience,
        goal=goal,
        shares_url=data.shares_url,
        language=data.language,
        video_options=youtube.stored(data.youtube),
        created_at=now,
        updated_at=now,
    )
    _refresh_guard_text(post)
    return post


def create(session: Session, user: User, data: PostCreate, policy: PostPolicy) -> Post:
    now = utcnow()
    account = accounts.get_or_404(session, user, data.account_id)
    _require_active(account)
    post = new_post(user, account, data, canonical_goal(policy.values, data.goal), now)
    has_time = _apply_schedule(post, data, now)
    wants_scheduled = data.state == "scheduled" or (data.state is None and has_time)
    attached = media.resolve(session, user.id, data.media)
    _validate_content(post, account, attached, policy)
    if wants_scheduled:
        _make_scheduled(post, now, policy.values)
        _check_schedulable(session, post, account, attached, policy)
    _enforce_guard(session, post, policy)
    session.add(post)
    session.flush()
    if attached:
        media.save(session, post.id, user.id, attached)
    return post


def _account_of(session: Session, post: Post) -> Account:
    account = accounts_repository.get(session, post.user_id, post.account_id)
    if account is None:  # posts keep their account: an account with posts is never deleted
        raise not_found("account", post.account_id)
    return account


def _require_active(account: Account) -> None:
    if not account.active:
        raise ProblemError(
            409,
            "account-inactive",
            "Account is not active",
            f"Your {account.network} account {account.handle!r} is not one of your active "
            "networks; reactivate it to post there.",
        )


def _require_editable(post: Post) -> None:
    if post.state not in EDITABLE_STATES:
        raise ProblemError(
            409,
            "not-editable",
            "Post cannot be changed",
            f"This post is {post.state}; only draft, scheduled, failed and missed posts can be "
            "edited or rescheduled.",
            state=post.state,
        )


def update(session: Session, post: Post, data: PostUpdate, policy: PostPolicy) -> Post:
    now = utcnow()
    _require_editable(post)
    changes: dict[str, Any] = {
        name: getattr(data, name) for name in CONTENT_FIELDS if name in data.model_fields_set
    }
    if "goal" in changes:
        changes["goal"] = canonical_goal(policy.values, changes["goal"])
    if "tags" in changes and changes["tags"] is None:
        changes["tags"] = []
    if "visibility" in changes and changes["visibility"] is None:
        changes["visibility"] = rules_for(post.network).default_visibility
    for name, value in changes.items():
        setattr(post, name, value)
    has_time = _apply_schedule(post, data, now)
    media_changed = "media" in data.model_fields_set
    attached = (
        media.resolve(session, post.user_id, data.media or [])
        if media_changed
        else media.current(session, post.id)
    )
    if "youtube" in data.model_fields_set:
        post.video_options = youtube.stored(data.youtube)
    account = _account_of(session, post)
    _validate_content(post, account, attached, policy)
    if post.state == PostState.SCHEDULED or (has_time and post.state != PostState.DRAFT):
        _make_scheduled(post, now, policy.values)
        _check_schedulable(session, post, account, attached, policy)
    _refresh_guard_text(post)
    _enforce_guard(session, post, policy)
    _touch(post, now)
    session.add(post)
    session.flush()
    if media_changed:
        media.save(session, post.id, post.user_id, attached)
    return post


def schedule(session: Session, post: Post, fields: ScheduleFields, policy: PostPolicy) -> Post:
    now = utcnow()
    _require_editable(post)
    _apply_schedule(post, fields, now)
    attached = media.current(session, post.id)
    account = _account_of(session, post)
    _validate_content(post, account, attached, policy)
    _make_scheduled(post, now, policy.values)
    _check_schedulable(session, post, account, attached, policy)
    _enforce_guard(session, post, policy)
    _touch(post, now)
    session.add(post)
    session.flush()
    return post


def unschedule(session: Session, post: Post) -> Post:
    """Back to draft, keeping the time as a plan."""
    if post.state not in (PostState.SCHEDULED, PostState.FAILED, PostState.MISSED):
        raise ProblemError(
            409,
            "not-scheduled",
            "Post is not scheduled",
            f"This post is {post.state}; only a scheduled, failed or missed post can go back "
            "to draft.",
            state=post.state,
        )
    post.state = PostState.DRAFT
    post.next_attempt_at = None
    _touch(post, utcnow())
    session.add(post)
    session.flush()
    return post


def cancel(session: Session, post: Post) -> Post:
    if post.state == PostState.CANCELLED:
        return post
    if post.state not in CANCELLABLE_STATES:
        raise ProblemError(
            409,
            "not-cancellable",
            "Post cannot be cancelled",
            f"This post is {post.state}; it can no longer be cancelled.",
            state=post.state,
        )
    post.state = PostState.CANCELLED
    post.next_attempt_at = None
    _touch(post, utcnow())
    session.add(post)
    session.flush()
    return post


def resolve_unknown(
    session: Session, post: Post, data: ResolveRequest, public_url: str | None = None
) -> Post:
    """The user says what happened to a send Handpost could not confirm; the log records it
    (and a post marked published is a webhook event, like one the dispatcher published)."""
    if post.state != PostState.UNKNOWN:
        raise ProblemError(
            409,
            "not-unknown",
            "Nothing to resolve",
            f"This post is {post.state}; only a post whose outcome is unknown is resolved.",
            state=post.state,
        )
    now = utcnow()
    if data.outcome == "published":
        if data.external_url is None:
            raise invalid(
                "Give the post's public URL (external_url) to mark it published.",
                [{"field": "external_url", "code": "required", "message": "The URL is required."}],
            )
        post.state = PostState.PUBLISHED
        post.external_url, post.external_id = data.external_url, data.external_id
        post.published_at, post.last_error = now, None
        outcome, message = Outcome.PUBLISHED, f"Marked published by you: {data.external_url}"
    else:
        post.state = PostState.SCHEDULED
        # Requeued to go out now: its original time passed while its outcome was unknown.
        post.scheduled_at = post.next_attempt_at = now
        outcome, message = Outcome.RETRYING, "Requeued by you: it had not gone out; sending it now."
    record_by_user(session, post, now, outcome, message, public_url)
    _touch(post, now)
    session.add(post)
    session.flush()
    return post


def copy_to(session: Session, source: Post, target: Account, policy: PostPolicy) -> Post:
    """A starting draft for another network: it may exist, not go out, until rewritten."""
    if target.id == source.account_id:
        raise ProblemError(
            409,
            "same-account",
            "Copy to the same account",
            "A copy is a starting point for another account; pick a different one.",
        )
    if source.state == PostState.CANCELLED:
        raise ProblemError(
            409,
            "source-cancelled",
            "Source post is cancelled",
            "This post was cancelled; write a new one instead of copying it.",
        )
    _require_active(target)
    now = utcnow()
    rules = rules_for(target.network)
    post = Post(
        user_id=source.user_id,
        account_id=target.id,
        network=target.network,
        text=source.text,
        link=source.link,
        shares_url=source.shares_url,
        title=source.title if rules.supports_title else None,
        excerpt=source.excerpt if rules.has_blog_fields else None,
        tags=list(source.tags) if rules.has_blog_fields else [],
        visibility=source.visibility
        if source.visibility in rules.visibilities
        else rules.default_visibility,
        call_to_action=source.call_to_action,
        audience=source.audience,
        goal=source.goal,
        language=source.language,
        video_options=source.video_options if target.network == source.network else None,
        time_zone=source.time_zone,
        copied_from_id=source.id,
        needs_tailoring=True,
        created_at=now,
        updated_at=now,
    )
    _refresh_guard_text(post)
    _enforce_guard(session, post, policy)
    session.add(post)
    session.flush()
    # The same picture may go to two networks; only the text must be rewritten.
    source_media = media.current(session, source.id)
    if source_media:
        media.save(session, post.id, post.user_id, source_media)
    return post
