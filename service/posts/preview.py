"""A dry run of a post: what POST /posts would say about it, without writing anything.

A composer calls this as the user types, so the network's counting rules, the content checks
and the cross-post guard live only on the server and the front end never re-implements them.
"""

from __future__ import annotations

from sqlmodel import Session

from service.accounts import service as accounts
from service.db import utcnow
from service.media import service as media
from service.networks import rules_for
from service.posts import repository
from service.posts.schemas import (
    CrossPostPreview,
    FieldViolation,
    PostPreviewRead,
    PostPreviewRequest,
    TextEntity,
)
from service.posts.service import (
    PostPolicy,
    content_of,
    content_violations,
    cross_post_problem,
    find_cross_post,
    media_violations,
    new_post,
    warnings_for,
)
from service.problems import ProblemError
from service.strategy.service import canonical_goal
from service.users.models import User


def preview(
    session: Session, user: User, data: PostPreviewRequest, policy: PostPolicy
) -> PostPreviewRead:
    account = accounts.get_or_404(session, user, data.account_id)
    rules = rules_for(account.network)
    violations: list[FieldViolation] = []
    try:
        goal = canonical_goal(policy.values, data.goal)
    except ProblemError as refusal:  # a goal the user does not have: reported, not raised
        goal = None
        violations += [FieldViolation(**error) for error in refusal.extensions["errors"]]
    # A transient post, never added to the session: the same one POST /posts would build.
    post = new_post(user, account, data, goal, utcnow())
    # Files that are not the user's or not finished are reported; the others are checked.
    attached, refused = media.resolve_partly(session, user.id, data.media)
    violations += [FieldViolation(**error) for error in refused]
    violations += [
        FieldViolation(field=v.field, code=v.code, message=v.message)
        for v in content_violations(post, account) + media_violations(account, attached, policy)
    ]
    # Compared with every other account's post, as when scheduling: a copy's own source
    # counts too, so the composer can say it still needs rewriting.
    match = find_cross_post(session, post, policy, exclude_source=False)
    cross_post = None
    if match is not None:
        conflict = cross_post_problem(match, repository.get(session, user.id, match.post_id))
        cross_post = CrossPostPreview.model_validate(
            {**conflict.extensions, "detail": conflict.detail}
        )
    content = content_of(post, account)
    ref = accounts.account_ref(account)
    return PostPreviewRead(
        text_length=rules.text_length(content, ref),
        text_limit=rules.text_limit_for(ref),
        violations=violations,
        warnings=warnings_for(post, rules, policy.values),
        cross_post=cross_post,
        sent_text=rules.sent_text(content),
        entities=[
            TextEntity(kind=e.kind, start=e.start, end=e.end, text=e.text, value=e.value)
            for e in rules.entities(content)
        ],
    )
