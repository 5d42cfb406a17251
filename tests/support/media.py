"""Media made by the tests themselves (no binary fixtures), and a tus client over any HTTP
client with the same interface as the TestClient."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"
UPLOADS = "/api/v1/media/uploads"
# A GPS position in EXIF (the GPSInfo IFD): what must never be published.
GPS_IFD = 0x8825


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    *,
    gps: bool = False,
    color: tuple[int, int, int] = (200, 30, 30),
    frames: int = 1,
    noise: bool = False,
) -> bytes:
    """An image file; ``noise`` makes it incompressible (as large as a photo of its size)."""
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, color)
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if gps:
        exif = Image.Exif()
        exif[0x0110] = "Handpost Test Camera"  # Model
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (60.0, 10.0, 0.0), 3: "E", 4: (24.0, 56.0, 0.0)})
        options["exif"] = exif.tobytes()
    if frames > 1:
        others = [Image.new("RGB", size, (i * 20 % 255, 90, 90)) for i in range(1, frames)]
        options.update(save_all=True, append_images=others, duration=100, loop=0)
    image.save(out, format=fmt, **options)
    return out.getvalue()


def video_file(
    path: Path,
    *,
    seconds: float = 1.0,
    fps: int = 10,
    size: tuple[int, int] = (64, 48),
    codec: str = "libx264",
    container_format: str | None = None,
    noise: bool = False,
) -> Path:
    """A small real video encoded with PyAV (FFmpeg); ``noise`` frames barely compress, so a
    few seconds make a file of some hundreds of kilobytes (several upload chunks)."""
    import av

    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        for index in range(max(1, int(seconds * fps))):
            shade = (index * 7) % 255
            picture = (
                Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
                if noise
                else Image.new("RGB", size, (shade, 80, 160))
            )
            frame = av.VideoFrame.from_image(picture)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def digest(data: bytes) -> str:
    """SHA-256 of a file, as the emulator reports what each network received."""
    return hashlib.sha256(data).hexdigest()


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )


def create_upload(client: Any, length: int, **meta: str) -> Any:
    headers = {**TUS, "Upload-Length": str(length)}
    if meta:
        headers["Upload-Metadata"] = metadata(**meta)
    return client.post(UPLOADS, headers=headers)


def patch_bytes(client: Any, location: str, offset: int, data: bytes, **headers: str) -> Any:
    return client.patch(
        location,
        content=data,
        headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OCTETS, **headers},
    )


def upload(
    client: Any, data: bytes, *, filename: str = "photo.jpg", alt_text: str = "", chunk: int = 0
) -> dict[str, Any]:
    """Upload ``data`` (in chunks of ``chunk`` bytes, or at once); the medium as read back."""
    meta = {"filename": filename}
    if alt_text:
        meta["alt_text"] = alt_text
    created = create_upload(client, len(data), **meta)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    step = chunk or len(data)
    offset = 0
    while offset < len(data):
        answer = patch_bytes(client, location, offset, data[offset : offset + step])
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
    media_id = location.rsplit("/", 1)[1]
    read = client.get(f"/api/v1/media/{media_id}")
    assert read.status_code == 200, read.text
    result: dict[str, Any] = read.json()
    return result


def upload_ok(client: Any, data: bytes, **kwargs: Any) -> dict[str, Any]:
    media = upload(client, data, **kwargs)
    assert media["state"] == "ready", media
    return media
