"""A claimed post as its publisher sees it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from service.accounts.models import Account
from service.accounts.service import account_ref
from service.networks.base import MediaFile, Network
from service.posts.models import Post
from service.posts.service import content_of
from service.publishing.publishers import AccountAccess, PublishJob


def job_for(post: Post, account: Account, media: Sequence[MediaFile] = ()) -> PublishJob:
    """``media``: the post's files in order (service.media.service.files_for_posts)."""
    content = content_of(post, account)
    return PublishJob(
        post_id=post.id,
        publish_key=post.publish_key,
        network=Network(post.network),
        account=account_ref(account),
        content=dataclasses.replace(content, media=tuple(media)) if media else content,
        attempt=post.attempt_count,
        access=AccountAccess.of(account),
    )
