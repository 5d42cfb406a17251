"""A 1 GB video uploaded to `handpost serve` over tus, then sent on to X in the emulator:
memory, throughput, a resume.

Targets (issue 16): the server's resident memory grows by less than 64 MB during the upload;
throughput is at least 0.5x a plain streaming copy over loopback measured in the same run (a
tiny server that writes the request body to a file on the same disk); an upload cut half-way
and resumed sends less than 10% of the file again.

Then the file goes on to a network: a `handpost worker` publishes a post carrying it to X in
the network emulator (its own process), through X's chunked upload (4 MiB segments). Measured:
the worker's resident memory growth while it sends (same 64 MB target), the rate from X's
first upload call to the post, and whether X received the file's bytes exactly (its hash).
X's rules refuse a video this large (512 MB is the stricter of its documented limits), so the
post's media row is written into the database directly, as if the limit were X's newer 8 GB.

The "video" is a real small MP4 (made with PyAV) followed by a `free` box of random bytes up to
the size: a valid MP4 that Handpost must read and accept after the last byte.

    python -m bench.media [--size-mb 1024] [--keep] [--no-send-on]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import httpx

from bench._common import (
    Server,
    Worker,
    create_user,
    database,
    exit_on_sigterm,
    free_port,
    progress,
    query,
    rss_mib,
    service_env,
    stop_process,
    workdir,
)

CHUNK = 1024 * 1024
MB = 1_000_000

# The plain copy: read the body in 1 MiB pieces, write them to a file ("-": hash them instead,
# as the emulator does with what it receives); nothing else.
PLAIN_SERVER = r"""
import hashlib, http.server, sys
class Copy(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        left, digest = int(self.headers["Content-Length"]), hashlib.sha256()
        out = open(sys.argv[2], "wb") if sys.argv[2] != "-" else None
        while left:
            data = self.rfile.read(min(1 << 20, left))
            if not data:
                break
            if out:
                out.write(data)
            else:
                digest.update(data)
            left -= len(data)
        if out:
            out.close()
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Copy).serve_forever()
"""


def make_video(path: Path, size: int) -> None:
    import av
    from PIL import Image

    small = path.with_suffix(".small.mp4")
    with av.open(str(small), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.time_base = Fraction(1, 25)
        for index in range(50):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 240), (index * 5, 90, 160)))
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    head = small.read_bytes()
    small.unlink()
    padding = size - len(head) - 8
    with path.open("wb") as out:
        out.write(head)
        out.write(struct.pack(">I", padding + 8) + b"free")
        left = padding
        while left:
            piece = os.urandom(min(8 * CHUNK, left))
            out.write(piece)
            left -= len(piece)


def file_chunks(path: Path, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    with path.open("rb") as file:
        file.seek(start)
        left = (stop if stop is not None else path.stat().st_size) - start
        while left > 0:
            data = file.read(min(CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data


def send(
    port: int, method: str, path: str, headers: dict[str, str], body: Iterator[bytes]
) -> tuple[int, dict[str, str], int]:
    """One request with a streamed body; (status, headers, bytes sent)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.putrequest(method, path)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    sent = 0
    for piece in body:
        connection.send(piece)
        sent += len(piece)
    response = connection.getresponse()
    response.read()
    answer = (response.status, {k.lower(): v for k, v in response.getheaders()}, sent)
    connection.close()
    return answer


class PeakRss:
    """Samples a process's resident memory every 20 ms; keeps the highest."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_mib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib(self.pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def plain_copy(directory: Path, video: Path, *, hash_only: bool = False) -> float:
    """Bytes per second of the file streamed over loopback to a server writing it to disk
    (or, ``hash_only``, hashing it)."""
    port = free_port()
    target = directory / "plain-copy"
    where = "-" if hash_only else str(target)
    process = subprocess.Popen([sys.executable, "-c", PLAIN_SERVER, str(port), where])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.05)
        size = video.stat().st_size
        began = time.perf_counter()
        status, _, _ = send(port, "PUT", "/copy", {"Content-Length": str(size)}, file_chunks(video))
        elapsed = time.perf_counter() - began
        assert status == 204, status
        return size / elapsed
    finally:
        stop_process(process)
        target.unlink(missing_ok=True)


def tus_headers(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", **extra}


def create(server: Server, token: str, size: int) -> str:
    status, headers, _ = send(
        server.port,
        "POST",
        "/api/v1/media/uploads",
        tus_headers(token, **{"Upload-Length": str(size), "Content-Length": "0"}),
        iter(()),
    )
    assert status == 201, status
    return headers["location"]


def patch(server: Server, token: str, location: str, video: Path, start: int) -> int:
    size = video.stat().st_size
    status, headers, sent = send(
        server.port,
        "PATCH",
        location,
        tus_headers(
            token,
            **{
                "Upload-Offset": str(start),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(size - start),
            },
        ),
        file_chunks(video, start),
    )
    assert status == 204, (status, server.log_tail())
    assert int(headers["upload-offset"]) == size
    return sent


def head_offset(server: Server, token: str, location: str) -> int:
    status, headers, _ = send(server.port, "HEAD", location, tus_headers(token), iter(()))
    assert status == 200, status
    return int(headers["upload-offset"])


def cut_at_half(server: Server, token: str, location: str, video: Path) -> int:
    """Send the first half of a PATCH promising the whole file, then drop the connection."""
    size = video.stat().st_size
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    connection.putrequest("PATCH", location)
    for name, value in tus_headers(
        token,
        **{
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(size),
        },
    ).items():
        connection.putheader(name, value)
    connection.endheaders()
    sent = 0
    for piece in file_chunks(video, 0, size // 2):
        connection.send(piece)
        sent += len(piece)
    assert connection.sock is not None
    connection.sock.close()
    return sent


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for piece in file_chunks(path):
        digest.update(piece)
    return digest.hexdigest()


def start_worker(env: dict[str, str], directory: Path) -> Worker:
    """A `handpost worker`, once it has started and settled (its memory is the baseline)."""
    worker = Worker({**env, "HANDPOST_LOG_LEVEL": "INFO"}, directory).start()
    log = directory / "worker.log"
    deadline = time.monotonic() + 60
    while "started" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.1)
    time.sleep(2)
    return worker


def publish_due(url: str, worker: Worker, post_id: str) -> tuple[float, float]:
    """Make the post due now and wait until it is published: the worker's resident memory
    before, and its peak while it published."""
    assert worker.process is not None
    before = rss_mib(worker.process.pid)
    now = datetime.now(UTC).replace(tzinfo=None)
    query(url, "UPDATE posts SET scheduled_at = ?, next_attempt_at = ? WHERE id = ?",
          (now, now, post_id), autocommit=True)  # fmt: skip
    with PeakRss(worker.process.pid) as rss:
        deadline = time.monotonic() + 3600
        state = "scheduled"
        while time.monotonic() < deadline:
            [(state,)] = query(url, "SELECT state FROM posts WHERE id = ?", (post_id,))
            if state not in ("scheduled", "publishing"):
                break
            time.sleep(0.2)
    messages = query(url, "SELECT message FROM publish_attempts WHERE post_id = ?", (post_id,))
    assert state == "published", (state, messages)
    return before, rss.peak


def send_on(
    env: dict[str, str], directory: Path, server: Server, token: str, media_id: str, video: Path
) -> None:
    """Publish a post carrying the uploaded video to X in the emulator; print the figures."""
    from tests.emulator.server import EmulatorServer

    emulator = EmulatorServer(in_process=False).start()
    try:
        registered = emulator.register_account("x", refresh_token=True)
        headers = {"Authorization": f"Bearer {token}"}
        account = httpx.post(
            f"{server.url}/api/v1/accounts",
            headers=headers,
            json={
                "network": "x",
                "handle": registered["username"],
                "purpose": "Sharing talks with colleagues",
                "audience": "Colleagues who missed the talk",
                "mode": "live",
                "base_url": registered["base_url"],
                "credentials": {
                    "access_token": registered["access_token"],
                    "refresh_token": registered["refresh_token"],
                    "client_id": "bench",
                    "username": registered["username"],
                },
            },
        )
        assert account.status_code == 201, account.text
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        post = httpx.post(
            f"{server.url}/api/v1/posts",
            headers=headers,
            json={
                "account_id": account.json()["id"],
                "text": "The whole talk, one gigabyte of it. What would you ask the speaker?",
                "scheduled_at": later,
            },
        )
        assert post.status_code == 201, post.text
        post_id = post.json()["id"]
        url = env["HANDPOST_DATABASE_URL"]
        query(url, "INSERT INTO post_media (post_id, position, media_id, alt_text) "
              "VALUES (?, 0, ?, 'The talk')", (post_id, media_id), autocommit=True)  # fmt: skip

        progress("sending it on to X (emulated) from a worker")
        worker = start_worker(env, directory)
        try:
            before, peak = publish_due(url, worker, post_id)
        finally:
            worker.stop()
        [first] = emulator.received("x", "media_initialize")
        [created] = emulator.received("x", "create")
        [uploaded] = emulator.media("x")
        seconds = created["time"] - first["time"]
        size = video.stat().st_size
        exact = uploaded["size"] == size and uploaded["sha256"] == file_sha256(video)
        segments = len(emulator.received("x", "media_append"))
        print(
            f"sent on to X: {size / MB:,.0f} MB in {seconds:.1f} s = "
            f"{size / seconds / MB:.1f} MB/s (initialize to post; {segments} segments)"
        )
        print(
            f"worker RSS: {before:.1f} MiB before, peak {peak:.1f} MiB: grew "
            f"{peak - before:.1f} MiB (target < 64 MB = {64e6 / CHUNK:.1f} MiB)"
        )
        print(f"X received the file exactly (size and SHA-256): {exact}")
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-send-on", action="store_true", help="skip sending it on to X")
    args = parser.parse_args()
    exit_on_sigterm()
    size = args.size_mb * CHUNK
    print(f"nproc {os.cpu_count()}, load {os.getloadavg()[0]:.2f}, file {size / MB:,.0f} MB")
    with workdir(args.keep) as directory, database("sqlite", directory) as url:
        video = directory / "video.mp4"
        progress(f"writing a {size / MB:,.0f} MB MP4")
        make_video(video, size)
        env = service_env(url, directory, media_dir=directory / "media", dispatch="false")
        user = create_user(env, "bench")
        progress("plain streaming copy over loopback")
        plain = plain_copy(directory, video)
        with Server(env, directory) as server:
            assert server.process is not None
            time.sleep(1)
            before = server.rss_mib()
            progress("upload to handpost in one PATCH")
            location = create(server, user.token, size)
            with PeakRss(server.process.pid) as rss:
                began = time.perf_counter()
                patch(server, user.token, location, video, 0)
                elapsed = time.perf_counter() - began
            throughput = size / elapsed
            growth = rss.peak - before

            progress("upload cut at half way, then resumed")
            location = create(server, user.token, size)
            first = cut_at_half(server, user.token, location, video)
            deadline = time.monotonic() + 30
            offset = head_offset(server, user.token, location)
            while offset < first and time.monotonic() < deadline:
                time.sleep(0.05)
                offset = head_offset(server, user.token, location)
            second = patch(server, user.token, location, video, offset)
            resent = (first + second - size) / size
            if not args.no_send_on:
                media_id = location.rsplit("/", 1)[1]
                send_on(env, directory, server, user.token, media_id, video)

        print(f"plain copy over loopback:  {plain / MB:8.1f} MB/s")
        print(
            f"upload to handpost:        {throughput / MB:8.1f} MB/s  "
            f"({throughput / plain:.2f}x the plain copy; target >= 0.5x)"
        )
        print(
            f"server RSS: {before:.1f} MiB before, peak {rss.peak:.1f} MiB: grew "
            f"{growth:.1f} MiB (target < 64 MB = {64e6 / CHUNK:.1f} MiB)"
        )
        print(
            f"cut at half: {first / MB:,.1f} MB sent, server kept {offset / MB:,.1f} MB; "
            f"resumed with {second / MB:,.1f} MB: {resent:.2%} sent again (target < 10%)"
        )


if __name__ == "__main__":
    main()
