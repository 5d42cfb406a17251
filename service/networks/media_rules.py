"""What each network accepts as media, and the one check of a post's media against it.

Each network module declares its ``MEDIA_LIMITS`` beside its text limits; ``media_violations``
is the only place they are applied, so create, edit, schedule and preview say the same thing.
Figures and their sources: /docs/media.md (from each network's documentation; where the
documents disagree the stricter figure is used, so a post is refused here, not at publish).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from service.networks.base import Violation

MB = 1_000_000
MiB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimits:
    """One network's media rules; ``None`` means the network sets no such limit."""

    max_items: int = 4
    max_images: int = 4
    max_videos: int = 1
    # Whether one post may carry images and a video together.
    mix_images_and_video: bool = False
    image_formats: frozenset[str] = frozenset({"jpeg", "png", "gif", "webp"})
    max_image_bytes: int | None = None
    max_gif_bytes: int | None = None
    max_gifs: int | None = None  # X: one GIF per post, and nothing else with it
    max_image_pixels: int | None = None
    min_image_width: int | None = None
    # Long side over short side.
    max_image_aspect: float | None = None
    video_formats: frozenset[str] = frozenset({"mp4", "mov"})
    video_codecs: frozenset[str] | None = None
    max_video_bytes: int | None = None
    min_video_seconds: float | None = None
    max_video_seconds: float | None = None
    max_video_width: int | None = None
    max_video_height: int | None = None
    max_video_pixels: int | None = None
    min_video_fps: float | None = None
    max_video_fps: float | None = None
    # Width over height, both ways: (1/3, 3) for X.
    video_aspect: tuple[float, float] | None = None
    alt_text_limit: int = 1000
    # False where an image is not shown to readers as such (YouTube: it is the thumbnail), so
    # alt text is neither asked for nor sent.
    images_take_alt_text: bool = True
    # Where the figures come from, shown to users who wonder why.
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def with_overrides(self, **changes: Any) -> MediaLimits:
        return replace(self, **changes)


@dataclass(frozen=True)
class MediaItem:
    """What the check needs to know about one attached file (see service.media)."""

    media_id: str
    label: str  # the file's name as the user knows it, for messages
    kind: str  # "image" or "video"
    format: str
    size_bytes: int
    width: int
    height: int
    animated: bool = False
    duration_ms: int | None = None
    frame_rate: float | None = None
    video_codec: str | None = None
    alt_text: str = ""


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB" if size < 10 * MB else f"{size / MB:,.0f} MB"


def _violation(index: int | None, code: str, message: str) -> Violation:
    return Violation(
        field="media" if index is None else f"media[{index}]", code=code, message=message
    )


def media_violations(
    limits: MediaLimits, network_name: str, items: list[MediaItem], *, require_alt_text: bool
) -> list[Violation]:
    """Every way ``items`` break ``limits``; each names the rule (``code``) and the file."""
    found: list[Violation] = []
    images = [item for item in items if item.kind == "image"]
    videos = [item for item in items if item.kind == "video"]
    gifs = [item for item in images if item.format == "gif"]
    if len(items) > limits.max_items:
        found.append(
            _violation(
                None,
                "too-many-media",
                f"{network_name} takes at most {limits.max_items} files in a post; this one "
                f"has {len(items)}.",
            )
        )
    if len(images) > limits.max_images:
        found.append(
            _violation(
                None,
                "too-many-images",
                f"{network_name} takes at most {limits.max_images} images in a post"
                if limits.max_images
                else f"{network_name} posts carry no images here",
            )
        )
    if len(videos) > limits.max_videos:
        found.append(
            _violation(
                None,
                "too-many-videos",
                f"{network_name} takes at most {limits.max_videos} video in a post."
                if limits.max_videos
                else f"{network_name} does not take videos.",
            )
        )
    if images and videos and not limits.mix_images_and_video:
        found.append(
            _violation(
                None,
                "mixed-media",
                f"{network_name} takes either images or a video in one post, not both.",
            )
        )
    if limits.max_gifs is not None and gifs and (len(gifs) > limits.max_gifs or len(items) > 1):
        found.append(
            _violation(
                None,
                "gif-alone",
                f"{network_name} takes one GIF on its own in a post, with no other files.",
            )
        )
    for index, item in enumerate(items):
        check = _image_violations if item.kind == "image" else _video_violations
        found += check(limits, network_name, index, item)
        needs_alt = require_alt_text and limits.images_take_alt_text
        if item.kind == "image" and needs_alt and not item.alt_text.strip():
            found.append(
                _violation(
                    index,
                    "alt-text-required",
                    f"Describe the image {item.label!r} for people who cannot see it (alt text).",
                )
            )
        if len(item.alt_text) > limits.alt_text_limit:
            found.append(
                _violation(
                    index,
                    "alt-text-too-long",
                    f"{network_name} takes alt text of at most {limits.alt_text_limit:,} "
                    f"characters; the one for {item.label!r} has {len(item.alt_text):,}.",
                )
            )
    return found


def _format_violation(
    accepted: frozenset[str], name: str, index: int, item: MediaItem
) -> Violation:
    """``image-format`` or ``video-format``: a format the network does not take."""
    listed = ", ".join(sorted(f.upper() for f in accepted)) or "none"
    return _violation(
        index,
        f"{item.kind}-format",
        f"{name} does not take {item.format.upper()} {item.kind}s ({item.label!r}); it takes "
        f"{listed}.",
    )


def _image_violations(
    limits: MediaLimits, name: str, index: int, item: MediaItem
) -> list[Violation]:
    found: list[Violation] = []
    label = repr(item.label)
    if item.format not in limits.image_formats:
        return [_format_violation(limits.image_formats, name, index, item)]
    byte_limit = limits.max_image_bytes
    if item.format == "gif" and limits.max_gif_bytes is not None:
        byte_limit = limits.max_gif_bytes
    if byte_limit is not None and item.size_bytes > byte_limit:
        found.append(
            _violation(
                index,
                "image-too-large",
                f"{label} is {_mb(item.size_bytes)}; {name} takes images up to {_mb(byte_limit)}.",
            )
        )
    pixels = item.width * item.height
    if limits.max_image_pixels is not None and pixels > limits.max_image_pixels:
        found.append(
            _violation(
                index,
                "image-too-many-pixels",
                f"{label} is {item.width}x{item.height} pixels; {name} takes at most "
                f"{limits.max_image_pixels:,} pixels.",
            )
        )
    if limits.min_image_width is not None and item.width < limits.min_image_width:
        found.append(
            _violation(
                index,
                "image-too-narrow",
                f"{label} is {item.width} pixels wide; {name} needs at least "
                f"{limits.min_image_width}.",
            )
        )
    if limits.max_image_aspect is not None and min(item.width, item.height) > 0:
        aspect = max(item.width, item.height) / min(item.width, item.height)
        if aspect > limits.max_image_aspect:
            found.append(
                _violation(
                    index,
                    "image-aspect-ratio",
                    f"{label} is {aspect:.1f} times longer than it is wide; {name} takes at "
                    f"most {limits.max_image_aspect:g}:1.",
                )
            )
    return found


def _video_violations(
    limits: MediaLimits, name: str, index: int, item: MediaItem
) -> list[Violation]:
    found: list[Violation] = []
    label = repr(item.label)
    if item.format not in limits.video_formats:
        return [_format_violation(limits.video_formats, name, index, item)]
    if limits.video_codecs is not None and (item.video_codec or "") not in limits.video_codecs:
        accepted = ", ".join(sorted(limits.video_codecs))
        found.append(
            _violation(
                index,
                "video-codec",
                f"{label} is encoded as {item.video_codec or 'unknown'}; {name} takes {accepted}.",
            )
        )
    if limits.max_video_bytes is not None and item.size_bytes > limits.max_video_bytes:
        found.append(
            _violation(
                index,
                "video-too-large",
                f"{label} is {_mb(item.size_bytes)}; {name} takes videos up to "
                f"{_mb(limits.max_video_bytes)}.",
            )
        )
    seconds = (item.duration_ms or 0) / 1000
    if limits.max_video_seconds is not None and seconds > limits.max_video_seconds:
        found.append(
            _violation(
                index,
                "video-too-long",
                f"{label} lasts {seconds:,.1f} s; {name} takes videos up to "
                f"{limits.max_video_seconds:,g} s.",
            )
        )
    if limits.min_video_seconds is not None and seconds < limits.min_video_seconds:
        found.append(
            _violation(
                index,
                "video-too-short",
                f"{label} lasts {seconds:,.1f} s; {name} needs at least "
                f"{limits.min_video_seconds:g} s.",
            )
        )
    too_wide = limits.max_video_width is not None and item.width > limits.max_video_width
    too_tall = limits.max_video_height is not None and item.height > limits.max_video_height
    too_many = (
        limits.max_video_pixels is not None and item.width * item.height > limits.max_video_pixels
    )
    if too_wide or too_tall or too_many:
        bound = (
            f"{limits.max_video_width or 'any'}x{limits.max_video_height or 'any'}"
            if not too_many
            else f"{limits.max_video_pixels:,} pixels"
        )
        found.append(
            _violation(
                index,
                "video-dimensions",
                f"{label} is {item.width}x{item.height}; {name} takes videos up to {bound}.",
            )
        )
    fps = item.frame_rate or 0
    if limits.max_video_fps is not None and fps > limits.max_video_fps + 0.01:
        found.append(
            _violation(
                index,
                "video-frame-rate",
                f"{label} runs at {fps:g} frames a second; {name} takes at most "
                f"{limits.max_video_fps:g}.",
            )
        )
    if limits.min_video_fps is not None and 0 < fps < limits.min_video_fps - 0.01:
        found.append(
            _violation(
                index,
                "video-frame-rate",
                f"{label} runs at {fps:g} frames a second; {name} needs at least "
                f"{limits.min_video_fps:g}.",
            )
        )
    if limits.video_aspect is not None and item.width > 0 and item.height > 0:
        low, high = limits.video_aspect
        aspect = item.width / item.height
        if not low - 0.005 <= aspect <= high + 0.005:
            found.append(
                _violation(
                    index,
                    "video-aspect-ratio",
                    f"{label} has an aspect ratio of {aspect:.2f}; {name} takes "
                    f"{low:.2f} to {high:.2f} (width over height).",
                )
            )
    return found
