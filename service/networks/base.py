"""The one interface every network module implements.

A network module knows three things about its network: how a post is validated and counted
(``validate``), what exact HTTP request creating the post would send (``build_create_request``,
which sandbox accounts record instead of sending), and what a plausible result looks like in
the sandbox (``sandbox_result``). Live publishing over HTTP builds on the same request.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
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
    WORDPRESS = "wordpress"
    GHOST = "ghost"
    # Any place Handpost has no API for; published by hand only (service.networks.other).
    OTHER = "other"


class FailureKind(StrEnum):
    """How a failed publish is handled: the one classification every network maps onto."""

    RETRYABLE = "retryable"  # nothing was created; sending again is safe
    PERMANENT = "permanent"  # the network refused; sending again would fail the same way
    UNKNOWN = "unknown"  # the post may exist; sending again could publish it twice


class UploadState(StrEnum):
    """How far one file got at the network (``post_media_uploads.state``)."""

    UPLOADED = "uploaded"  # the network accepted the bytes and named them; may be processing
    READY = "ready"  # processed, alt text set: it can be attached to the post


@dataclass(frozen=True)
class NetworkUpload:
    """One file as the network knows it: what it named the upload, and how far it got.

    Recorded in the database the moment the network accepted the bytes, before anything is
    attached, so a retry after a crash reuses it instead of sending the file again.
    ``details`` holds what a network needs besides the id (Bluesky: the blob reference).
    """

    network_media_id: str
    state: UploadState
    expires_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """One file of a post, in order, with what the networks' flows need to know about it.

    ``uploaded`` is set once the file is at the network (live publishing), None otherwise: a
    sandbox request shows a placeholder (``media_ref``) where the network's id would go.
    """

    position: int
    media_id: str
    kind: str  # "image" or "video"
    mime_type: str
    format: str  # jpeg, png, gif, webp, mp4, mov...
    size_bytes: int
    width: int
    height: int
    alt_text: str
    filename: str
    storage_key: str
    animated: bool = False
    duration_ms: int | None = None
    uploaded: NetworkUpload | None = None

    @property
    def media_ref(self) -> str:
        """The network's id for the file, or a placeholder saying which file it stands for."""
        if self.uploaded is not None:
            return self.uploaded.network_media_id
        return f"<media {self.position}: {self.filename or self.media_id}>"

    def describe(self) -> str:
        """The file in a few words, for records and messages (never its bytes)."""
        return f"{self.filename or self.media_id} ({self.mime_type}, {self.size_bytes} bytes)"


@dataclass(frozen=True)
class PostContent:
    """What the user wrote for one network; ``visibility`` is Handpost's word (e.g. "public").

    ``language`` is a BCP 47 tag (e.g. "fi", "en-GB"), sent where the network takes one.
    ``video`` holds the fields only a video network has (YouTube's tags, category, release).
    ``media``: the attached files in order, each with its alt text.
    """

    text: str
    link: str | None = None
    title: str | None = None
    visibility: str | None = None
    call_to_action: str | None = None
    # Blog posts only: a summary and the post's tags.
    excerpt: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    video: VideoOptions | None = None
    # The post's files in order (a blog post's one image is its featured image).
    media: tuple[Attachment, ...] = ()

    def with_uploads(self, uploads: Sequence[NetworkUpload]) -> PostContent:
        """This content with each file's network upload filled in, in order."""
        if len(uploads) != len(self.media):
            raise ValueError("one upload per attached file")
        return replace(
            self,
            media=tuple(replace(a, uploaded=u) for a, u in zip(self.media, uploads, strict=True)),
        )


@dataclass(frozen=True)
class VideoOptions:
    """A video's own fields (YouTube): its tags, category, and the network's release time.

    ``publish_at`` is when the network itself makes a private video public; None: at once.
    """

    tags: tuple[str, ...] = ()
    category_id: str | None = None
    publish_at: datetime | None = None


@dataclass(frozen=True)
class ServerLimits:
    """What the account's own server says it allows (Mastodon's ``/api/v2/instance``).

    Networks whose limits are the same for everyone have none; a field the server did not
    give is None and the network's default applies.
    """

    max_characters: int | None = None
    characters_reserved_per_url: int | None = None
    max_media_attachments: int | None = None
    # The server's media section as it gave it (mime types, sizes, description limit...).
    media: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "max_characters": self.max_characters,
            "characters_reserved_per_url": self.characters_reserved_per_url,
            "max_media_attachments": self.max_media_attachments,
            "media": self.media,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerLimits:
        """Read back what ``as_json`` stored; anything malformed counts as not given."""

        def number(name: str) -> int | None:
            value = data.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        media = data.get("media")
        return cls(
            max_characters=number("max_characters"),
            characters_reserved_per_url=number("characters_reserved_per_url"),
            max_media_attachments=number("max_media_attachments"),
            media=media if isinstance(media, dict) else {},
        )


@dataclass(frozen=True)
class AccountRef:
    """What a network module needs to know about the account it publishes for."""

    id: str
    handle: str
    base_url: str | None = None
    limits: ServerLimits | None = None


@dataclass(frozen=True)
class Entity:
    """A link, mention or tag the network makes of the text, for a composer to show.

    ``start`` and ``end`` are offsets in code points (Unicode characters) into the text as it
    is sent; ``value`` is what the network links it to (the full URL, the handle, the tag).
    """

    kind: str  # "link", "mention" or "tag"
    start: int
    end: int
    text: str
    value: str


@dataclass(frozen=True)
class Violation:
    """One reason a post does not fit its network; ``field`` names the request field."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class StreamedBody:
    """A request body of file bytes, streamed (never whole in memory), with its exact length.

    ``chunks`` makes a fresh stream each time it is called. Records show ``description``.
    """

    content_type: str
    length: int
    chunks: Callable[[], AsyncIterator[bytes]]
    description: str


@dataclass(frozen=True)
class OutgoingRequest:
    """An HTTP request exactly as it would be sent, minus secrets (shown as "<redacted>")."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    body: StreamedBody | None = None
    # Multipart files: field name -> (file name, bytes, content type); logged by size only.
    files: dict[str, tuple[str, bytes, str]] | None = None

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"method": self.method, "url": self.url, "headers": self.headers}
        if self.json is not None:
            record["json"] = self.json
        if self.form is not None:
            record["form"] = self.form
        if self.body is not None:
            record["body"] = self.body.description
        if self.files is not None:
            record["files"] = {
                name: {"filename": filename, "bytes": len(data), "content_type": kind}
                for name, (filename, data, kind) in self.files.items()
            }
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
    # A blog lives at the person's own address: an account cannot exist without it.
    needs_site_url: bool = False
    # Blog posts have an excerpt and tags; other posts do not.
    has_blog_fields: bool = False
    # Whether the live adapter uploads the post's files itself, inside its create call (a
    # blog's featured image). Networks using the shared upload loop say so on their adapter
    # instead (``LiveAdapter.publishes_media``); see service.networks.publishes_media.
    publishes_media: bool = False
    # False: Handpost cannot send to it, and its accounts are published by hand.
    has_api: bool = True

    @property
    def default_visibility(self) -> str:
        return self.visibilities[0]

    @abc.abstractmethod
    def text_length(self, content: PostContent, account: AccountRef | None = None) -> int:
        """Length as this network counts it, with the link where it is sent in the text."""

    def sent_text(self, content: PostContent) -> str:
        """The text exactly as the network receives it (some carry the link in it)."""
        return content.text

    def text_limit_for(self, account: AccountRef | None) -> int:
        """The limit for this account: its server's own where the network has one."""
        return self.text_limit

    @abc.abstractmethod
    def validate(self, content: PostContent, account: AccountRef | None = None) -> list[Violation]:
        """Every way ``content`` breaks this network's rules (for ``account``); empty if it fits."""

    @abc.abstractmethod
    def entities(self, content: PostContent) -> list[Entity]:
        """The links, mentions and tags the network makes of the text as sent, in order."""

    @abc.abstractmethod
    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        """The request that creates the post (the first one, for multi-step networks)."""

    @abc.abstractmethod
    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        """A plausible external id and public URL, stable for a given ``publish_key``."""
