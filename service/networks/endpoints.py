from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from service.networks import MEDIA_LIMITS, RULES
from service.networks.base import Network
from service.networks.youtube import rules as youtube_rules
from service.users.auth import get_current_user

router = APIRouter(
    prefix="/api/v1/networks", tags=["networks"], dependencies=[Depends(get_current_user)]
)


class MediaLimitsRead(BaseModel):
    """What a network takes as media; null where it sets no limit."""

    max_items: int
    max_images: int
    max_videos: int
    mix_images_and_video: bool
    image_formats: list[str]
    max_image_bytes: int | None
    max_gif_bytes: int | None
    max_image_pixels: int | None
    video_formats: list[str]
    video_codecs: list[str] | None
    max_video_bytes: int | None
    min_video_seconds: float | None
    max_video_seconds: float | None
    max_video_fps: float | None
    alt_text_limit: int
    source: str


class VideoCategory(BaseModel):
    id: str
    name: str


class VideoInfo(BaseModel):
    """A video network's own fields (YouTube): what a composer offers and checks."""

    categories: list[VideoCategory]
    default_category: str
    tags_limit: int = Field(
        description="Characters of tags the person may use (commas between tags and quotes "
        "around a tag with a space count), after the room Handpost keeps for its own tag."
    )
    release_needs_private: bool = Field(
        description="A release time (publish_at) only for a video uploaded as private."
    )


class NetworkInfo(BaseModel):
    """What a front end needs to help write for this network."""

    network: Network
    display_name: str
    text_limit: int
    visibilities: list[str]
    default_visibility: str
    supports_title: bool
    requires_title: bool
    title_limit: int | None
    expects_call_to_action: bool
    media: MediaLimitsRead
    needs_site_url: bool = Field(description="The account needs its site's address (a blog).")
    has_blog_fields: bool = Field(description="Posts take an excerpt, tags and a featured image.")
    has_api: bool = Field(
        description="false: Handpost cannot publish there; its accounts are published by hand."
    )
    video: VideoInfo | None = None


@router.get("", response_model=list[NetworkInfo])
def list_networks() -> list[NetworkInfo]:
    return [
        NetworkInfo(
            network=rules.network,
            display_name=rules.display_name,
            text_limit=rules.text_limit,
            visibilities=list(rules.visibilities),
            default_visibility=rules.default_visibility,
            supports_title=rules.supports_title,
            requires_title=rules.requires_title,
            title_limit=rules.title_limit,
            expects_call_to_action=rules.expects_call_to_action,
            media=_media_limits(rules.network),
            needs_site_url=rules.needs_site_url,
            has_blog_fields=rules.has_blog_fields,
            has_api=rules.has_api,
            video=_video_info() if rules.network == Network.YOUTUBE else None,
        )
        for rules in RULES.values()
    ]


def _video_info() -> VideoInfo:
    return VideoInfo(
        categories=[VideoCategory(id=k, name=v) for k, v in youtube_rules.CATEGORIES.items()],
        default_category=youtube_rules.CATEGORY_ID,
        tags_limit=youtube_rules.TAGS_LIMIT - youtube_rules.MARKER_ROOM,
        release_needs_private=True,
    )


def _media_limits(network: Network) -> MediaLimitsRead:
    limits = MEDIA_LIMITS[network]
    return MediaLimitsRead(
        max_items=limits.max_items,
        max_images=limits.max_images,
        max_videos=limits.max_videos,
        mix_images_and_video=limits.mix_images_and_video,
        image_formats=sorted(limits.image_formats),
        max_image_bytes=limits.max_image_bytes,
        max_gif_bytes=limits.max_gif_bytes,
        max_image_pixels=limits.max_image_pixels,
        video_formats=sorted(limits.video_formats),
        video_codecs=sorted(limits.video_codecs) if limits.video_codecs else None,
        max_video_bytes=limits.max_video_bytes,
        min_video_seconds=limits.min_video_seconds,
        max_video_seconds=limits.max_video_seconds,
        max_video_fps=limits.max_video_fps,
        alt_text_limit=limits.alt_text_limit,
        source=limits.source,
    )
