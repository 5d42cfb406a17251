"""Where media bytes live: a directory on disk (default) or S3-compatible object storage.

Both backends receive an upload as a series of appends (one per tus PATCH) that any replica
may serve, keep only bounded buffers in memory, and report a *durable* offset: the bytes a
crash or a dropped connection cannot lose. The upload's progress between requests lives in
the database (``Media.upload_state``), never in a process, so the next PATCH can reach another
replica. See docs/media.md for the S3 design (parts of at least 5 MiB, the pending tail kept
as an object of its own).

The interface is synchronous (boto3 and file I/O block): callers run it in a worker thread.
"""

from __future__ import annotations

import abc
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.config import Settings

READ_CHUNK = 256 * 1024


class StorageError(Exception):
    """The storage refused or lost something (a missing object, a backend failure)."""


class UploadWriter(abc.ABC):
    """One request's bytes, appended at the upload's durable offset."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def checkpoint(self) -> tuple[int, str | None]:
        """Make what can be made durable now so; the durable offset and progress to store."""

    @abc.abstractmethod
    def finish(self, *, last: bool) -> tuple[int, str | None]:
        """All of this request's bytes made durable (``last``: the upload's final bytes)."""

    def close(self) -> None:  # noqa: B027 - optional: release what the writer holds
        """Release files and buffers; what was not made durable is dropped."""


class Storage(abc.ABC):
    """Keys are chosen by Handpost (``media/{user}/{id}``), never by clients."""

    name: str

    @abc.abstractmethod
    def begin_upload(self, key: str) -> str | None:
        """Prepare to receive ``key``; the progress to store with the upload."""

    @abc.abstractmethod
    def writer(self, key: str, offset: int, state: str | None) -> UploadWriter: ...

    @abc.abstractmethod
    def complete_upload(self, key: str, state: str | None) -> None:
        """Every byte arrived: make ``key`` a whole object."""

    @abc.abstractmethod
    def abort_upload(self, key: str, state: str | None) -> None: ...

    @abc.abstractmethod
    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A file with the object's bytes, to read with Pillow or PyAV."""

    @abc.abstractmethod
    def put_file(self, key: str, path: Path, content_type: str) -> None: ...

    @abc.abstractmethod
    def read(self, key: str, start: int = 0) -> Iterator[bytes]:
        """The object's bytes in bounded chunks, from byte ``start`` (a resumed upload)."""

    @abc.abstractmethod
    def size(self, key: str) -> int: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; a key already gone is not an error (deletion is retried)."""

    def presigned_url(self, key: str, seconds: int, content_type: str) -> str | None:
        """A URL anyone can fetch the object from until it expires; None when the backend
        has none (the service then signs its own, under HANDPOST_PUBLIC_URL)."""
        return None


# --- disk --------------------------------------------------------------------------------


class DiskWriter(UploadWriter):
    """Appends to the partial file; bytes past the durable offset (from a request that died
    before saying how far it got) are cut off first."""

    def __init__(self, path: Path, offset: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.ftruncate(self._fd, offset)
        os.lseek(self._fd, offset, os.SEEK_SET)
        self._offset = offset

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
            self._offset += written

    def checkpoint(self) -> tuple[int, str | None]:
        os.fsync(self._fd)
        return self._offset, None

    def finish(self, *, last: bool) -> tuple[int, str | None]:
        return self.checkpoint()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class DiskStorage(Storage):
    """Files under one directory: ``objects/<key>`` and ``partial/<key>`` while uploading.

    Several replicas need the directory shared (NFS, a shared volume); otherwise use S3.
    """

    name = "disk"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, area: str, key: str) -> Path:
        # Keys are made by Handpost from hex ids; refuse anything else outright.
        if not key or ".." in key or key.startswith("/") or "\\" in key:
            raise StorageError(f"refused storage key {key!r}")
        return self.root / area / key

    def begin_upload(self, key: str) -> str | None:
        path = self._path("partial", key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        return None

    def writer(self, key: str, offset: int, state: str | None) -> UploadWriter:
        return DiskWriter(self._path("partial", key), offset)

    def complete_upload(self, key: str, state: str | None) -> None:
        target = self._path("objects", key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path("partial", key), target)

    def abort_upload(self, key: str, state: str | None) -> None:
        self._path("partial", key).unlink(missing_ok=True)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self._path("objects", key)
        if not path.exists():
            raise StorageError(f"no object {key}")
        yield path

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        target = self._path("objects", key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(path, temporary)
        os.replace(temporary, target)

    def read(self, key: str, start: int = 0) -> Iterator[bytes]:
        try:
            file = self._path("objects", key).open("rb")
        except FileNotFoundError:
            raise StorageError(f"no object {key}") from None
        with file:
            file.seek(start)
            while chunk := file.read(READ_CHUNK):
                yield chunk

    def size(self, key: str) -> int:
        try:
            return self._path("objects", key).stat().st_size
        except FileNotFoundError:
            raise StorageError(f"no object {key}") from None

    def delete(self, key: str) -> None:
        self._path("objects", key).unlink(missing_ok=True)
        self._path("partial", key).unlink(missing_ok=True)


# --- S3 ----------------------------------------------------------------------------------


@dataclass
class S3Progress:
    """A multipart upload in progress: its id, the parts stored, and the tail's length."""

    upload_id: str
    parts: list[dict[str, Any]] = field(default_factory=list)  # {"n", "etag", "size"}
    tail: int = 0

    @property
    def stored(self) -> int:
        return sum(int(part["size"]) for part in self.parts)

    def dump(self) -> str:
        return json.dumps({"upload_id": self.upload_id, "parts": self.parts, "tail": self.tail})

    @classmethod
    def load(cls, state: str | None) -> S3Progress:
        if not state:
            raise StorageError("the upload has no multipart state")
        data = json.loads(state)
        return cls(upload_id=data["upload_id"], parts=list(data["parts"]), tail=int(data["tail"]))


class S3Writer(UploadWriter):
    """Fills parts of ``part_size`` and uploads each as it fills.

    Bytes that do not fill a part when the request ends are stored as the *tail* object;
    the next request, on whichever replica, reads the tail back first. So at most one part
    (plus the chunk being added) is in memory, and every acknowledged byte is in S3.
    """

    def __init__(self, storage: S3Storage, key: str, offset: int, state: str | None) -> None:
        self.storage = storage
        self.key = key
        self.progress = S3Progress.load(state)
        if self.progress.stored + self.progress.tail != offset:
            raise StorageError("the upload's offset and its stored parts disagree")
        self.buffer = bytearray()
        if self.progress.tail:
            body = storage.client.get_object(Bucket=storage.bucket, Key=storage.tail_key(key))
            self.buffer += body["Body"].read()
            if len(self.buffer) != self.progress.tail:
                raise StorageError("the stored tail is not as long as recorded")

    def _upload_part(self, data: bytes | bytearray) -> None:
        number = len(self.progress.parts) + 1
        answer = self.storage.client.upload_part(
            Bucket=self.storage.bucket,
            Key=self.storage.object_key(self.key),
            UploadId=self.progress.upload_id,
            PartNumber=number,
            Body=bytes(data),
        )
        self.progress.parts.append({"n": number, "etag": answer["ETag"], "size": len(data)})
        # The tail's bytes now live in a part: the tail object is stale until rewritten.
        self.progress.tail = 0

    def write(self, data: bytes) -> None:
        self.buffer += data
        size = self.storage.part_size
        while len(self.buffer) >= size:
            self._upload_part(self.buffer[:size])
            del self.buffer[:size]

    def checkpoint(self) -> tuple[int, str | None]:
        # Only whole parts are durable mid-request; the buffer is written at finish().
        if self.progress.tail:  # the old tail still stands: nothing new is durable
            return self.progress.stored + self.progress.tail, self.progress.dump()
        return self.progress.stored, self.progress.dump()

    def finish(self, *, last: bool) -> tuple[int, str | None]:
        if last:
            if self.buffer or not self.progress.parts:
                self._upload_part(self.buffer)
                self.buffer.clear()
            self.progress.tail = 0
        elif self.buffer:
            self.storage.client.put_object(
                Bucket=self.storage.bucket,
                Key=self.storage.tail_key(self.key),
                Body=bytes(self.buffer),
            )
            self.progress.tail = len(self.buffer)
        return self.progress.stored + self.progress.tail, self.progress.dump()

    def close(self) -> None:
        self.buffer = bytearray()


class S3Storage(Storage):
    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        prefix: str = "",
        part_size: int = 8 * 1024 * 1024,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 5, "mode": "standard"},
                signature_version="s3v4",
            ),
        )

    def object_key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def tail_key(self, key: str) -> str:
        return f"{self.prefix}partial/{key}.tail"

    def begin_upload(self, key: str) -> str | None:
        answer = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.object_key(key))
        return S3Progress(upload_id=answer["UploadId"]).dump()

    def writer(self, key: str, offset: int, state: str | None) -> UploadWriter:
        return S3Writer(self, key, offset, state)

    def complete_upload(self, key: str, state: str | None) -> None:
        progress = S3Progress.load(state)
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.object_key(key),
            UploadId=progress.upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": p["n"], "ETag": p["etag"]} for p in progress.parts]
            },
        )
        self.client.delete_object(Bucket=self.bucket, Key=self.tail_key(key))

    def abort_upload(self, key: str, state: str | None) -> None:
        from botocore.exceptions import ClientError

        if state:
            with contextlib.suppress(ClientError):  # already completed or aborted
                self.client.abort_multipart_upload(
                    Bucket=self.bucket,
                    Key=self.object_key(key),
                    UploadId=S3Progress.load(state).upload_id,
                )
        self.client.delete_object(Bucket=self.bucket, Key=self.tail_key(key))

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="handpost-media-") as directory:
            path = Path(directory) / "object"
            try:
                self.client.download_file(self.bucket, self.object_key(key), str(path))
            except Exception as exc:
                raise StorageError(f"no object {key}: {exc}") from None
            yield path

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.client.upload_file(
            str(path), self.bucket, self.object_key(key), ExtraArgs={"ContentType": content_type}
        )

    def read(self, key: str, start: int = 0) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        ranged = {"Range": f"bytes={start}-"} if start else {}
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key), **ranged)
        except ClientError as exc:
            raise StorageError(f"no object {key}: {exc}") from None
        body = answer["Body"]
        try:
            yield from body.iter_chunks(READ_CHUNK)
        finally:
            body.close()

    def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            raise StorageError(f"no object {key}: {exc}") from None
        return int(answer["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def presigned_url(self, key: str, seconds: int, content_type: str) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_key(key),
                "ResponseContentType": content_type,
            },
            ExpiresIn=seconds,
        )
        return url


_cache: dict[tuple[Any, ...], Storage] = {}


def storage_for(settings: Settings) -> Storage:
    """The configured backend, made once per configuration (boto3 clients are reusable)."""
    if settings.media_storage == "s3":
        if not settings.media_s3_bucket:
            raise ValueError("HANDPOST_MEDIA_STORAGE=s3 needs HANDPOST_MEDIA_S3_BUCKET")
        secret = settings.media_s3_secret_access_key
        key: tuple[Any, ...] = (
            "s3",
            settings.media_s3_bucket,
            settings.media_s3_endpoint_url,
            settings.media_s3_region,
            settings.media_s3_access_key_id,
            secret.get_secret_value() if secret else None,
            settings.media_s3_prefix,
            settings.media_s3_part_bytes,
        )
        if key not in _cache:
            _cache[key] = S3Storage(
                bucket=settings.media_s3_bucket,
                endpoint_url=settings.media_s3_endpoint_url,
                region=settings.media_s3_region,
                access_key_id=settings.media_s3_access_key_id,
                secret_access_key=secret.get_secret_value() if secret else None,
                prefix=settings.media_s3_prefix,
                part_size=settings.media_s3_part_bytes,
            )
        return _cache[key]
    key = ("disk", str(settings.media_dir))
    if key not in _cache:
        _cache[key] = DiskStorage(settings.media_dir)
    return _cache[key]
