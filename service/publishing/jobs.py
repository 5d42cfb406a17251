"""A claimed post as its publisher sees it."""

from __future__ import annotations

from service.accounts.models import Account
from service.networks.base import AccountRef, Network
from service.posts.models import Post
from service.posts.service import content_of
from service.publishing.publishers import AccountAccess, PublishJob


def job_for(post: Post, account: Account) -> PublishJob:
    return PublishJob(
        post_id=post.id,
        publish_key=post.publish_key,
        network=Network(post.network),
        account=AccountRef(id=account.id, handle=account.handle, base_url=account.base_url),
        content=content_of(post),
        attempt=post.attempt_count,
        access=AccountAccess.of(account),
    )
