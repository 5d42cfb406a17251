"""The essays' value checks, asked of every post. Pure: no web or database imports.

"Always deliver value": does the post serve one of your goals, invite the reader to do
something where the network's purpose expects it, carry your own words, and reach the
audience the account is for? Each answer that is "no" becomes a warning with a stable code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from service.guard import own_words, words_of


class Sphere(StrEnum):
    """The four uses of social media in the essays, each with its audience."""

    FAMILY_AND_FRIENDS = "family_and_friends"
    COLLEAGUES = "colleagues"
    SOCIETY = "society"
    PROFESSIONALS = "professionals"


# Visibilities that reach beyond the people an account for family and friends is meant for.
WIDE_VISIBILITIES = frozenset({"public", "logged_in", "unlisted"})
# The narrower choice each network offers, where it offers one.
NARROWER_VISIBILITY = {"mastodon": "private", "linkedin": "connections", "youtube": "private"}
# A shared post needs at least this many words of the sharer's own.
MIN_SHARE_COMMENT_WORDS = 3


@dataclass(frozen=True)
class ValueWarning:
    code: str
    message: str


@dataclass(frozen=True)
class ValueInput:
    network: str
    network_name: str
    text: str
    visibility: str
    goal: str | None
    call_to_action: str | None
    expects_call_to_action: bool
    sphere: str | None
    goals: Sequence[str]  # the user's goal names; empty when none are defined yet
    # normalise(text) where the caller has it stored (a post's guard_text): not computed again.
    normalised: str | None = None


def value_warnings(post: ValueInput) -> list[ValueWarning]:
    warnings: list[ValueWarning] = []
    if not post.goal:
        hint = (
            f" Your goals: {', '.join(post.goals)}."
            if post.goals
            else " Define your goals in your strategy to choose from them."
        )
        warnings.append(
            ValueWarning(
                "no-goal",
                "This post names no goal it serves. Ask whether it builds relationships, "
                "advances your cause or builds your brand in a way that is valuable to others."
                + hint,
            )
        )
    if post.expects_call_to_action and not post.call_to_action:
        warnings.append(
            ValueWarning(
                "no-call-to-action",
                f"Posts on {post.network_name} should invite the reader to do something "
                "(follow, reply, visit a link); this one has no call to action.",
            )
        )
    words = own_words(post.text) if post.normalised is None else words_of(post.normalised)
    if post.text.strip() and not words:
        warnings.append(
            ValueWarning(
                "bare-link",
                "This post is only a link, with no words of your own. Say why it is worth "
                "your readers' time.",
            )
        )
    if post.sphere == Sphere.FAMILY_AND_FRIENDS and post.visibility in WIDE_VISIBILITIES:
        narrower = NARROWER_VISIBILITY.get(post.network)
        advice = (
            f"choose '{narrower}' visibility to keep it among them"
            if narrower
            else f"everything on {post.network_name} is visible beyond them, so post only "
            "what you would show anyone"
        )
        warnings.append(
            ValueWarning(
                "visibility-wider-than-audience",
                f"This account is for family and friends, but the post is {post.visibility}: "
                f"{advice}.",
            )
        )
    return warnings


def share_comment_problem(text: str) -> str | None:
    """Why a share is refused: sharing someone else's post needs your own comment."""
    if len(own_words(text)) >= MIN_SHARE_COMMENT_WORDS:
        return None
    return (
        "A share needs your own comment: say in a few words why it is worth your readers' "
        f"time (at least {MIN_SHARE_COMMENT_WORDS} words of your own). A bare reshare adds "
        "no value and reads as spam."
    )
