"""A real S3-compatible server for the tests: moto in server mode, on loopback, once per
session. Each test gets a bucket of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.server import free_port

ACCESS_KEY = "handpost-test"
SECRET_KEY = "handpost-test-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Bucket:
    endpoint: str
    name: str

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Settings overrides for an app that keeps its media here."""
        return {
            "media_storage": "s3",
            "media_s3_bucket": self.name,
            "media_s3_endpoint_url": self.endpoint,
            "media_s3_region": REGION,
            "media_s3_access_key_id": ACCESS_KEY,
            "media_s3_secret_access_key": SECRET_KEY,
            "media_s3_part_bytes": 5 * 1024 * 1024,
            **extra,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def keys(self) -> list[str]:
        answer = self.client().list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in answer.get("Contents", []))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> S3Bucket:
    bucket = S3Bucket(s3_endpoint, f"handpost-{uuid.uuid4().hex[:12]}")
    bucket.client().create_bucket(Bucket=bucket.name)
    return bucket
