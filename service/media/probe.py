"""What a file really is, read from its bytes: never from the name or type a client claims.

The first bytes say which of the accepted formats it might be (magic numbers); then Pillow
(images) or PyAV/FFmpeg (videos) must decode it as that format. Images are written anew
without their metadata (EXIF, GPS position, XMP, text chunks) and without anything appended
after the picture (a ZIP hidden behind a PNG): what Handpost keeps and publishes is only the
picture. Thumbnails for the page are made here once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

# Enough to recognise every accepted format.
SNIFF_BYTES = 32
THUMBNAIL_SIZE = (320, 320)
# An animated image with more frames than this is refused (X's GIF cap is 350).
MAX_FRAMES = 1000

IMAGE_MIME = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
VIDEO_MIME = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}
# EXIF tags kept when an image is written anew: only how to turn it upright.
_ORIENTATION = 0x0112


class MediaRefused(Exception):
    """The file is not an image or video Handpost takes; ``code`` names the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class MediaFacts:
    kind: str  # image | video
    format: str
    mime_type: str
    width: int
    height: int
    animated: bool = False
    duration_ms: int | None = None
    frame_rate: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None


def sniff(head: bytes) -> tuple[str, str] | None:
    """(kind, format) from a file's first bytes, or None when it is none we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if head[4:8] == b"ftyp":
        return "video", "mov" if head[8:12] == b"qt  " else "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "video", "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "webm"
    return None


def inspect(path: Path, *, max_pixels: int) -> MediaFacts:
    """Decode the file enough to trust it, and read what the networks' rules need."""
    with path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    if not head:
        raise MediaRefused("empty-file", "The file is empty.")
    found = sniff(head)
    if found is None:
        raise MediaRefused(
            "unsupported-type",
            "The file is not a JPEG, PNG, GIF or WebP image nor an MP4, MOV or WebM video "
            "(judged by its content, not its name).",
        )
    kind, fmt = found
    if kind == "image":
        return _inspect_image(path, fmt, max_pixels)
    return _inspect_video(path, fmt, max_pixels)


def _open_image(path: Path, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise MediaRefused(
                "too-many-pixels", f"The image has more than {max_pixels:,} pixels."
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise MediaRefused("undecodable", f"The image cannot be read: {exc}") from None
    if image.width * image.height > max_pixels or image.width < 1 or image.height < 1:
        image.close()
        raise MediaRefused(
            "too-many-pixels",
            f"The image is {image.width}x{image.height}: more than {max_pixels:,} pixels.",
        )
    return image


def _inspect_image(path: Path, fmt: str, max_pixels: int) -> MediaFacts:
    with _open_image(path, max_pixels) as image:
        actual = (image.format or "").lower()
        if actual != fmt:
            raise MediaRefused(
                "type-mismatch", f"The file starts like {fmt.upper()} but reads as {actual}."
            )
        frames = int(getattr(image, "n_frames", 1))
        if frames > MAX_FRAMES:
            raise MediaRefused("too-many-frames", f"The image has more than {MAX_FRAMES} frames.")
        _decode(image)
        width, height = image.size
        orientation = image.getexif().get(_ORIENTATION)
        if orientation in (5, 6, 7, 8):  # shown turned a quarter: networks see it upright
            width, height = height, width
        return MediaFacts(
            kind="image",
            format=fmt,
            mime_type=IMAGE_MIME[fmt],
            width=width,
            height=height,
            animated=frames > 1,
        )


def _decode(image: Image.Image) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise MediaRefused("undecodable", f"The image cannot be decoded: {exc}") from None


def _inspect_video(path: Path, fmt: str, max_pixels: int) -> MediaFacts:
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaRefused("undecodable", f"The video cannot be read: {exc}") from None
    with container:
        name = container.format.name or ""
        expected = "matroska" if fmt == "webm" else "mp4"
        if expected not in name and not (fmt == "mov" and "mov" in name):
            raise MediaRefused(
                "type-mismatch", f"The file starts like {fmt.upper()} but reads as {name}."
            )
        video = next((s for s in container.streams.video), None)
        if video is None:
            raise MediaRefused("no-video-stream", "The file has no video in it.")
        audio = next((s for s in container.streams.audio), None)
        context = video.codec_context
        width, height = int(context.width or 0), int(context.height or 0)
        if width < 1 or height < 1:
            raise MediaRefused("undecodable", "The video has no picture size.")
        if width * height > max_pixels:
            raise MediaRefused(
                "too-many-pixels",
                f"The video is {width}x{height}: more than {max_pixels:,} pixels a frame.",
            )
        rate = video.average_rate or video.guessed_rate
        duration = _duration_ms(container, video)
        try:
            first = next(container.decode(video), None)
        except (av.FFmpegError, ValueError) as exc:
            raise MediaRefused("undecodable", f"The video cannot be decoded: {exc}") from None
        if first is None:
            raise MediaRefused("undecodable", "The video has no frame that decodes.")
        rotation = _rotation(video)
        if rotation in (90, 270):
            width, height = height, width
        return MediaFacts(
            kind="video",
            format="webm" if fmt == "webm" else fmt,
            mime_type=VIDEO_MIME[fmt],
            width=width,
            height=height,
            duration_ms=duration,
            frame_rate=round(float(rate), 3) if rate else None,
            video_codec=context.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
        )


def _duration_ms(container: Any, stream: Any) -> int | None:
    if stream.duration is not None and stream.time_base is not None:
        return int(Fraction(stream.duration) * Fraction(stream.time_base) * 1000)
    if container.duration is not None:
        return int(container.duration / 1000)  # microseconds (av.time_base)
    return None


def _rotation(stream: Any) -> int:
    try:
        value = stream.metadata.get("rotate") if stream.metadata else None
        return int(value) % 360 if value is not None else 0
    except (ValueError, TypeError):
        return 0


def clean_image(source: Path, target: Path, *, max_pixels: int) -> None:
    """Write ``source`` anew to ``target`` with no metadata but its orientation.

    Only the picture survives: GPS position and camera details (EXIF), XMP, comments and
    whatever was appended after the image. JPEGs keep their quantisation tables
    (``quality="keep"``), so re-encoding costs next to nothing in quality.
    """
    with _open_image(source, max_pixels) as image:
        fmt = (image.format or "").lower()
        kept = Image.Exif()
        orientation = image.getexif().get(_ORIENTATION)
        if orientation:
            kept[_ORIENTATION] = orientation
        options: dict[str, Any] = {"format": image.format}
        if kept:
            options["exif"] = kept.tobytes()
        if image.info.get("icc_profile"):
            options["icc_profile"] = image.info["icc_profile"]
        if fmt == "jpeg":
            options.update(quality="keep", subsampling="keep")
            if image.info.get("progressive"):
                options["progressive"] = True
        elif fmt in ("gif", "webp") and getattr(image, "n_frames", 1) > 1:
            options.update(save_all=True, loop=image.info.get("loop", 0))
            if fmt == "webp":
                options["quality"] = 90
        elif fmt == "webp":
            options["quality"] = 90
        _decode(image)
        image.save(target, **options)


def make_thumbnail(source: Path, kind: str, target: Path, *, max_pixels: int) -> None:
    """A small JPEG for the page: an image scaled down, or a video's first frame."""
    if kind == "image":
        with _open_image(source, max_pixels) as image:
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a fraction of the size
            picture = ImageOps.exif_transpose(image)
            _save_thumbnail(picture, target)
        return
    import av

    with av.open(str(source), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        _save_thumbnail(frame.to_image(), target)  # type: ignore[no-untyped-call]


def _save_thumbnail(image: Image.Image, target: Path) -> None:
    picture = image.convert("RGB")
    picture.thumbnail(THUMBNAIL_SIZE)
    picture.save(target, format="JPEG", quality=80)
