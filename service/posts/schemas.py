from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from service.fields import Flag, Language, Line, LocalTime, Text, Timestamp
from service.guard import Measure, Move
from service.media.schemas import MAX_MEDIA_PER_POST, PostMediaIn, PostMediaRead
from service.networks.base import Network
from service.omittable import omittable
from service.posts.models import PostState
from service.youtube.schemas import YouTubeFields, YouTubeFieldsRead

MAX_TEXT = 100_000  # far above every network's limit; the network rules say the real one
MAX_TAGS = 20
Tag = Annotated[Line, Field(min_length=1, max_length=191)]
EXCERPT_DESCRIPTION = "Blog posts: the summary shown in lists and previews (Ghost: 300 characters)."
TAGS_DESCRIPTION = "Blog posts: tag names; a tag the blog lacks is created."


class PostWarning(BaseModel):
    """Advice that does not block: the essays' value checks."""

    code: str
    message: str


class ScheduleFields(BaseModel):
    """When to publish: an instant with offset, or a wall-clock time in an IANA zone."""

    scheduled_at: Timestamp | None = Field(
        default=None,
        description="ISO 8601 with a UTC offset, e.g. 2026-12-01T07:30:00+02:00.",
    )
    local_time: LocalTime | None = Field(
        default=None, description="Wall-clock time without offset, e.g. 2026-12-01T07:30:00."
    )
    time_zone: Line | None = Field(
        default=None, max_length=64, description="IANA zone, e.g. Europe/Helsinki."
    )
    publish_now: Flag = Field(default=False, description="Publish as soon as possible.")


class PostContentFields(BaseModel):
    """What the user writes for one account: the same for a new post and for its preview."""

    account_id: Line = Field(max_length=64)
    text: Text = Field(max_length=MAX_TEXT)
    link: Line | None = Field(default=None, max_length=2048)
    shares_url: Line | None = Field(
        default=None,
        max_length=2048,
        description="Someone else's post or link you share; your text must comment on it.",
    )
    title: Line | None = Field(default=None, max_length=1000)
    excerpt: Text | None = Field(default=None, max_length=1000, description=EXCERPT_DESCRIPTION)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS, description=TAGS_DESCRIPTION)
    visibility: Line | None = Field(default=None, max_length=32)
    call_to_action: Text | None = Field(default=None, max_length=1000)
    audience: Line | None = Field(
        default=None,
        max_length=255,
        description="Where a post you publish by hand should go, such as a Facebook friends "
        "list or group; shown to you when it is due.",
    )
    goal: Line | None = Field(default=None, max_length=255)
    language: Language | None = Field(
        default=None,
        max_length=35,
        description="BCP 47 (e.g. en, fi, pt-BR); defaults to the account's language. Sent "
        "to Bluesky as langs and to Mastodon as language.",
    )
    media: list[PostMediaIn] = Field(
        default_factory=list,
        max_length=MAX_MEDIA_PER_POST,
        description="Uploaded files (POST /media/uploads), in the order they are shown.",
    )
    youtube: YouTubeFields | None = Field(
        default=None, description="A YouTube post's tags, category and release time."
    )


class PostCreate(ScheduleFields, PostContentFields):
    model_config = ConfigDict(extra="forbid")

    state: Literal["draft", "scheduled"] | None = Field(
        default=None,
        description="Defaults to scheduled when a time (or publish_now) is given, else draft.",
    )


class PostUpdate(ScheduleFields):
    """Only the fields sent change; send null to clear an optional one (not text)."""

    model_config = ConfigDict(extra="forbid")

    text: Text = omittable(max_length=MAX_TEXT)
    link: Line | None = Field(default=None, max_length=2048)
    shares_url: Line | None = Field(
        default=None,
        max_length=2048,
        description="Someone else's post or link you share; your text must comment on it.",
    )
    title: Line | None = Field(default=None, max_length=1000)
    excerpt: Text | None = Field(default=None, max_length=1000, description=EXCERPT_DESCRIPTION)
    tags: list[Tag] | None = Field(
        default=None, max_length=MAX_TAGS, description=TAGS_DESCRIPTION + " null clears them."
    )
    visibility: Line | None = Field(default=None, max_length=32)
    call_to_action: Text | None = Field(default=None, max_length=1000)
    audience: Line | None = Field(
        default=None,
        max_length=255,
        description="Where a post you publish by hand should go, such as a Facebook friends "
        "list or group; shown to you when it is due.",
    )
    goal: Line | None = Field(default=None, max_length=255)
    language: Language | None = Field(
        default=None, max_length=35, description="BCP 47; null: the account's language."
    )
    media: list[PostMediaIn] | None = Field(
        default=None,
        max_length=MAX_MEDIA_PER_POST,
        description="The post's files in order, replacing those it had; null or [] for none.",
    )
    youtube: YouTubeFields | None = Field(
        default=None,
        description="A YouTube post's tags, category and release time, replacing the ones it "
        "had; null for none.",
    )


class ScheduleRequest(ScheduleFields):
    model_config = ConfigDict(extra="forbid")


class ResolveRequest(BaseModel):
    """What happened to a post whose send could not be confirmed, as the user found out."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["published", "requeue"] = Field(
        description="published: it went out (give its URL); requeue: it did not, send it now."
    )
    external_url: Line | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://\S+$",
        description="Required with published.",
    )
    external_id: Line | None = Field(default=None, max_length=255)


class CopyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: Line = Field(max_length=64, description="The account to start a draft for.")


class PostRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: str
    network: Network
    text: str
    link: str | None
    shares_url: str | None
    title: str | None
    excerpt: str | None = None
    tags: list[str] = []
    visibility: str
    call_to_action: str | None
    audience: str | None = None
    goal: str | None
    language: str | None = Field(default=None, description="BCP 47; null: the account's.")
    state: PostState
    scheduled_at: AwareDatetime | None = Field(description="UTC.")
    time_zone: str | None
    scheduled_local: AwareDatetime | None = Field(
        default=None, description="scheduled_at in time_zone, when one was given."
    )
    copied_from_id: str | None
    needs_tailoring: bool
    text_length: int = Field(description="The length as the network counts it.")
    text_limit: int
    attempt_count: int
    next_attempt_at: AwareDatetime | None
    external_id: str | None
    external_url: str | None
    published_at: AwareDatetime | None
    last_error: str | None
    warnings: list[PostWarning] = []
    media: list[PostMediaRead] = Field(default=[], description="The post's files, in order.")
    youtube: YouTubeFieldsRead | None = Field(
        default=None, description="A YouTube post's own fields, and its upload's progress."
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime
    version: int


class PostPreviewRequest(PostContentFields):
    """A post's content as for POST /posts, without a schedule: checked, never stored."""

    model_config = ConfigDict(extra="forbid")


class FieldViolation(BaseModel):
    """One way the post does not fit its network, as in a 422 problem's ``errors``."""

    field: str
    code: str
    message: str


class ConflictingPost(BaseModel):
    id: str
    account_id: str
    network: Network
    state: PostState | None
    text: str | None


class CrossPostPreview(BaseModel):
    """What the 409 `cross-post` problem would say if this text were scheduled."""

    conflicting_post: ConflictingPost
    kind: Move = Field(
        description="How this text was made from the earlier post: the same text (changed "
        "only trivially), a shortened copy (cut short, or sentences dropped), the same "
        "sentences reordered, or the same text with a line added."
    )
    how: str = Field(description='`kind` in words, e.g. "a shortened copy".')
    measure: Measure = Field(
        description="The measure that refused the text: `similarity` (the two texts as "
        "wholes), `copied-share` (the share of this text that is the earlier post's words), "
        "or `line-added-share` (the same, for the whole earlier post with a line added)."
    )
    similarity: float = Field(
        description="0..1, by `measure`: how much of the text is the same, or the share of "
        "this text that is the earlier post's words."
    )
    threshold: float = Field(description="The guard refuses at or above this value.")
    detail: str = Field(description="The problem's explanation in plain words.")


class TextEntity(BaseModel):
    """A link, mention or tag the network will make of the text, where it is."""

    kind: Literal["link", "mention", "tag"]
    start: int = Field(description="Offset in Unicode code points into the text as sent.")
    end: int = Field(description="End offset (exclusive), in code points.")
    text: str = Field(description="The part of the text, as written.")
    value: str = Field(description="What it links to: the full URL, the handle or the tag.")


class PostPreviewRead(BaseModel):
    """A dry run of a post for a composer: counted, validated and checked by the guard."""

    text_length: int = Field(description="The length as the network counts it.")
    text_limit: int
    violations: list[FieldViolation] = Field(
        description="Why the post could not be saved as it is; empty when it fits."
    )
    warnings: list[PostWarning]
    cross_post: CrossPostPreview | None = Field(
        description="The earlier post on another network this text repeats, if any: "
        "scheduling it would be refused."
    )
    sent_text: str = Field(
        description="The text exactly as the network receives it (with the link where the "
        "network carries it in the text); entities are offsets into it."
    )
    entities: list[TextEntity] = Field(
        description="Where the network will make links, mentions and tags of the text, by "
        "its own rules (X and Mastodon: only what they recognise as links)."
    )
