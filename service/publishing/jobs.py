"""A claimed post as its publisher sees it."""

from __future__ import annotations

from service.accounts.models import Account
from service.accounts.service import account_ref
from service.networks.base import Attachment, Network
from service.posts.models import Post
from service.posts.service import content_of
from service.publishing.publishers import AccountAccess, PublishJob


def job_for(post: Post, account: Account, media: tuple[Attachment, ...] = ()) -> PublishJob:
    return PublishJob(
        post_id=post.id,
        publish_key=post.publish_key,
        network=Network(post.network),
        account=account_ref(account),
        content=content_of(post, account, media),
        attempt=post.attempt_count,
        access=AccountAccess.of(account),
    )
