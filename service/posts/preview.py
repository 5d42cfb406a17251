"""A dry run of a post: what POST /posts would say about it, without writing anything.

A composer calls this as the user types, so the network's counting rules, the content checks
and the cross-post guard live only on the server and the front end never re-implements them.
"""

from __future__ import annotations

from sqlmodel import Session

from service import guard
from service.accounts import service as accounts
from service.networks import rules_for
from service.posts import repository
from service.posts.models import Post
from service.posts.schemas import (
    CrossPostPreview,
    FieldViolation,
    PostPreviewRead,
    PostPreviewRequest,
)
from service.posts.service import (
    PostPolicy,
    content_of,
    cross_post_problem,
    find_cross_post,
    warnings_for,
)
from service.users.models import User


def preview(
    session: Session, user: User, data: PostPreviewRequest, policy: PostPolicy
) -> PostPreviewRead:
    account = accounts.get_or_404(session, user, data.account_id)
    rules = rules_for(account.network)
    # A transient post, never added to the session: the same shape the real checks take.
    post = Post(
        user_id=user.id,
        account_id=account.id,
        network=account.network,
        text=data.text,
        link=data.link,
        title=data.title,
        visibility=data.visibility or rules.default_visibility,
        call_to_action=data.call_to_action,
        goal=data.goal,
    )
    post.guard_text = guard.normalise(post.text)
    post.guard_length = len(post.guard_text)
    content = content_of(post)
    # Compared with every other account's post, as when scheduling: a copy's own source
    # counts too, so the composer can say it still needs rewriting.
    match = find_cross_post(session, post, policy, exclude_source=False)
    cross_post = None
    if match is not None:
        problem = cross_post_problem(match, repository.get(session, user.id, match.post_id))
        cross_post = CrossPostPreview.model_validate(
            {**problem.extensions, "detail": problem.detail}
        )
    return PostPreviewRead(
        text_length=rules.text_length(content),
        text_limit=rules.text_limit,
        violations=[
            FieldViolation(field=v.field, code=v.code, message=v.message)
            for v in rules.validate(content)
        ],
        warnings=warnings_for(post, rules, policy.values),
        cross_post=cross_post,
    )
