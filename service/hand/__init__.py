"""Hand-publish: accounts on places without a publishing API (a personal Facebook profile, a
group, any network Handpost has no API for).

Their posts are written, checked, guarded and scheduled like any other, but never sent: at
their time the dispatcher's claim makes them ``due`` (handover.py), which queues the person's
notifications (service.notify) and a ``post.due_by_hand`` webhook event; the person publishes
by hand and marks the post published (with its URL) or skipped (service.py); a post left
undone past ``HANDPOST_HAND_GRACE_SECONDS`` becomes ``missed``.
"""
