"""The one interface every network module implements.

A network module knows three things about its network: how a post is validated and counted
(``validate``), what exact HTTP request creating the post would send (``build_create_request``,
which sandbox accounts record instead of sending), and what a plausible result looks like in
the sandbox (``sandbox_result``). Live publishing over HTTP builds on the same request.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Network(StrEnum):
    X = "x"
    LINKEDIN = "linkedin"
    FACEBOOK = "facebook"
    YOUTUBE = "youtube"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    THREADS = "threads"
    # Any place Handpost has no API for; published by hand only (service.networks.other).
    OTHER = "other"


class FailureKind(StrEnum):
    """How a failed publish is handled: the one classification every network maps onto."""

    RETRYABLE = "retryable"  # nothing was created; sending again is safe
    PERMANENT = "permanent"  # the network refused; sending again would fail the same way
    UNKNOWN = "unknown"  # the post may exist; sending again could publish it twice


@dataclass(frozen=True)
class PostContent:
    """What the user wrote for one network; ``visibility`` is Handpost's word (e.g. "public")."""

    text: str
    link: str | None = None
    title: str | None = None
    visibility: str | None = None
    call_to_action: str | None = None


@dataclass(frozen=True)
class AccountRef:
    """What a network module needs to know about the account it publishes for."""

    id: str
    handle: str
    base_url: str | None = None


@dataclass(frozen=True)
class Violation:
    """One reason a post does not fit its network; ``field`` names the request field."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class OutgoingRequest:
    """An HTTP request exactly as it would be sent, minus secrets (shown as "<redacted>")."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"method": self.method, "url": self.url, "headers": self.headers}
        if self.json is not None:
            record["json"] = self.json
        if self.form is not None:
            record["form"] = self.form
        return record


@dataclass(frozen=True)
class SandboxResult:
    external_id: str
    url: str


@dataclass(frozen=True)
class NetworkRules(abc.ABC):
    """Per-network facts and rules. Subclasses are stateless singletons."""

    network: Network
    display_name: str
    text_limit: int
    # Handpost's visibility words this network supports; the first is the default.
    visibilities: tuple[str, ...]
    supports_title: bool = False
    requires_title: bool = False
    title_limit: int | None = None
    # The essays: LinkedIn and X posts should lean on a call to action.
    expects_call_to_action: bool = False
    default_base_url: str = ""
    # False: Handpost cannot send to it, and its accounts are published by hand.
    has_api: bool = True

    @property
    def default_visibility(self) -> str:
        return self.visibilities[0]

    @abc.abstractmethod
    def text_length(self, content: PostContent) -> int:
        """Length as this network counts it, with the link where it is sent in the text."""

    @abc.abstractmethod
    def validate(self, content: PostContent) -> list[Violation]:
        """Every way ``content`` breaks this network's rules; empty when it fits."""

    @abc.abstractmethod
    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        """The request that creates the post (the first one, for multi-step networks)."""

    @abc.abstractmethod
    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        """A plausible external id and public URL, stable for a given ``publish_key``."""
