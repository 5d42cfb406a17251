"""A 1 GB video published to YouTube in the emulator: memory, throughput, and a resume.

The video is uploaded to `handpost serve` over tus (bench/media.py measures that step), then a
`handpost worker` publishes a post carrying it to the emulator's YouTube (its own process)
with YouTube's resumable upload, in chunks of HANDPOST_YOUTUBE_CHUNK_BYTES (8 MiB).

Measured, against the same targets as the media benchmark (issue 16):
* the worker's resident memory growth while it sends the file (target < 64 MB);
* the rate from the session's opening to the video's existence, against a plain streaming
  copy of the same file over loopback measured in the same run (target >= 0.5x): a plain
  client uploading it to the emulator's YouTube with the same chunks (the emulator, uvicorn in
  Python, is the slowest part on loopback, so this is the fair ceiling), and, printed beside
  it, a server that only hashes the bytes and one that writes them to disk (bench/media.py's);
* whether YouTube received the file's bytes exactly (size and SHA-256);
* a second post whose connection is cut half way through the file, in the middle of a
  chunk: the bytes sent again after asking the session how far it got (Handpost's own count
  in the publish log, and an upper bound from the chunks' Content-Range headers).

    python -m bench.youtube [--size-mb 1024] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench._common import (
    Server,
    create_user,
    database,
    exit_on_sigterm,
    progress,
    query,
    service_env,
    workdir,
)
from bench.media import (
    CHUNK,
    MB,
    create,
    file_chunks,
    file_sha256,
    make_video,
    patch,
    plain_copy,
    publish_due,
    send,
    start_worker,
)

YOUTUBE_CHUNK = 8 * CHUNK
APP = "bench-youtube-app"


def schedule_video(
    server: Server, token: str, account_id: str, media_id: str, title: str, text: str
) -> str:
    """A post carrying the video, due tomorrow (the worker is started first, then it is due)."""
    response = httpx.post(
        f"{server.url}/api/v1/posts",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "account_id": account_id,
            "title": title,
            "text": text,
            "visibility": "unlisted",
            "scheduled_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "media": [{"media_id": media_id}],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def direct_upload(emulator: Any, video: Path) -> float:
    """Bytes per second of a plain client (no Handpost) uploading the file to the emulator's
    YouTube with the same protocol and chunks: the ceiling the emulator sets on loopback."""
    registered = emulator.register_account("youtube", client_id=APP)
    opened = httpx.post(
        f"{registered['base_url']}/upload/youtube/v3/videos",
        params={"uploadType": "resumable", "part": "snippet,status"},
        headers={
            "Authorization": f"Bearer {registered['access_token']}",
            "X-Upload-Content-Length": str(video.stat().st_size),
        },
        json={"snippet": {"title": "Direct"}, "status": {"privacyStatus": "private"}},
    )
    session = urlsplit(opened.headers["location"])
    assert session.port is not None
    size = video.stat().st_size
    began = time.perf_counter()
    for first in range(0, size, YOUTUBE_CHUNK):
        last = min(size, first + YOUTUBE_CHUNK) - 1
        status, _, _ = send(
            session.port,
            "PUT",
            f"{session.path}?{session.query}",
            {
                "Authorization": f"Bearer {registered['access_token']}",
                "Content-Range": f"bytes {first}-{last}/{size}",
                "Content-Length": str(last - first + 1),
            },
            file_chunks(video, first, last + 1),
        )
        assert status in (308, 201), status
    return size / (time.perf_counter() - began)


def declared(entries: list[dict[str, Any]]) -> int:
    """Bytes the upload requests declared (Content-Range), in all."""
    total = 0
    for entry in entries:
        spec = str(entry.get("content_range") or "").removeprefix("bytes ").split("/")[0]
        if "-" in spec:
            first, last = spec.split("-")
            total += int(last) - int(first) + 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    exit_on_sigterm()
    size = args.size_mb * CHUNK
    print(f"nproc {os.cpu_count()}, load {os.getloadavg()[0]:.2f}, file {size / MB:,.0f} MB")
    from tests.emulator.server import EmulatorServer

    with workdir(args.keep) as directory, database("sqlite", directory) as url:
        video = directory / "video.mp4"
        progress(f"writing a {size / MB:,.0f} MB MP4")
        make_video(video, size)
        digest = file_sha256(video)
        emulator = EmulatorServer(in_process=False).start()
        env = service_env(
            url,
            directory,
            media_dir=directory / "media",
            dispatch="false",
            youtube_chunk_bytes=YOUTUBE_CHUNK,
            poll_seconds=0.2,
        )
        user = create_user(env, "bench")
        try:
            progress("plain streaming copies over loopback")
            plain = plain_copy(directory, video)
            hashed = plain_copy(directory, video, hash_only=True)
            with Server(env, directory) as server:
                progress("upload to handpost over tus")
                location = create(server, user.token, size)
                patch(server, user.token, location, video, 0)
                media_id = location.rsplit("/", 1)[1]
                emulator.register_client("youtube", ["http://127.0.0.1/cb"], client_id=APP)
                registered = emulator.register_account("youtube", client_id=APP)
                account = httpx.post(
                    f"{server.url}/api/v1/accounts",
                    headers={"Authorization": f"Bearer {user.token}"},
                    json={
                        "network": "youtube",
                        "handle": registered["username"],
                        "purpose": "Recordings of my talks",
                        "audience": "People who missed the talk",
                        "mode": "live",
                        "base_url": registered["base_url"],
                        "credentials": {
                            "access_token": registered["access_token"],
                            "channel_id": registered["account"],
                            "client_id": APP,
                        },
                    },
                )
                assert account.status_code == 201, account.text
                account_id = account.json()["id"]
                whole = schedule_video(
                    server, user.token, account_id, media_id, "The talk",
                    "The whole talk, one gigabyte of it. What would you ask the speaker?",
                )  # fmt: skip
                halved = schedule_video(
                    server, user.token, account_id, media_id, "The talk, again",
                    "Recorded a second time for the people in the other room, questions included.",
                )  # fmt: skip

            worker = start_worker(env, directory)
            try:
                progress("publishing it to YouTube (emulated) from a worker")
                before, peak = publish_due(url, worker, whole)
                [opened] = emulator.received("youtube", "insert")
                chunks = emulator.received("youtube", "create")
                [video_one] = emulator.posts("youtube", registered["account"])
                seconds = video_one["created_time"] - opened["time"]
                exact = video_one["details"]["size"] == size and (
                    video_one["details"]["sha256"] == digest
                )

                progress("again, with the connection cut half way through the file")
                emulator.clear_received()
                half = size // 2
                emulator.inject_fault(
                    "youtube",
                    "create",
                    "reset_mid_body",
                    after=half // YOUTUBE_CHUNK,
                    after_bytes=half % YOUTUBE_CHUNK or YOUTUBE_CHUNK // 2,
                )
                publish_due(url, worker, halved)
                resumed = emulator.received("youtube", "create")
                upper = declared(resumed) - size
                [(message,)] = query(
                    url,
                    "SELECT message FROM publish_attempts WHERE post_id = ? "
                    "AND outcome = 'published'",
                    (halved,),
                )
                said = re.search(r"resumed at byte ([\d,]+), ([\d,]+) bytes sent again", message)
                second = [
                    p
                    for p in emulator.posts("youtube", registered["account"])
                    if p["id"] != video_one["id"]
                ]
                progress("a plain client uploading the file to the emulator the same way")
                direct = direct_upload(emulator, video)
            finally:
                worker.stop()
        finally:
            emulator.stop()

        rate = size / seconds
        print(f"plain copy to disk over loopback:    {plain / MB:8.1f} MB/s")
        print(f"plain copy, hashed, over loopback:   {hashed / MB:8.1f} MB/s")
        print(f"plain client to the emulator:        {direct / MB:8.1f} MB/s (same chunks)")
        print(
            f"published to YouTube:                {rate / MB:8.1f} MB/s  ({rate / direct:.2f}x "
            f"the plain client, {rate / hashed:.2f}x the hashed copy, {rate / plain:.2f}x the "
            f"disk copy; target >= 0.5x; {len(chunks)} requests of {YOUTUBE_CHUNK // CHUNK} MiB)"
        )
        print(
            f"worker RSS: {before:.1f} MiB before, peak {peak:.1f} MiB: grew "
            f"{peak - before:.1f} MiB (target < 64 MB = {64e6 / CHUNK:.1f} MiB)"
        )
        print(f"YouTube received the file exactly (size and SHA-256): {exact}")
        if said:
            print(
                f"cut at half: resumed at byte {said.group(1)}; Handpost sent "
                f"{said.group(2)} bytes again ({int(said.group(2).replace(',', '')) / size:.4%} "
                f"of the file); Content-Range bound: {upper:,} bytes; one video: "
                f"{len(second) == 1} (target < 10%)"
            )
        else:
            print(f"cut at half: no resume in the log: {message}")


if __name__ == "__main__":
    main()
