"""The reference Bluesky PDS (and its PLC directory), started once per test session.

tests/realservers/pds.mjs runs @atproto/dev-env's PDS on loopback with two accounts,
alice.test and bob.test, each with an app password. Skipped where node or npm cannot provide
it; under CI=true it must run (tests/support/references.py).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.references import REALSERVERS, node_env

START_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class PdsAccount:
    handle: str
    did: str
    password: str
    app_password: str


@dataclass(frozen=True)
class RealPds:
    url: str
    accounts: dict[str, PdsAccount]
    started_seconds: float

    def session(self, handle: str) -> dict[str, Any]:
        account = self.accounts[handle]
        response = httpx.post(
            f"{self.url}/xrpc/com.atproto.server.createSession",
            json={"identifier": account.handle, "password": account.password},
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def get_record(self, uri: str) -> dict[str, Any]:
        """A record read back from the PDS by its at:// URI (public, no session needed)."""
        repo, collection, rkey = uri.removeprefix("at://").split("/")
        response = httpx.get(
            f"{self.url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
        )
        response.raise_for_status()
        record: dict[str, Any] = response.json()["value"]
        return record

    def list_records(self, handle: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.url}/xrpc/com.atproto.repo.listRecords",
            params={"repo": self.accounts[handle].did, "collection": "app.bsky.feed.post"},
        )
        response.raise_for_status()
        records: list[dict[str, Any]] = response.json()["records"]
        return records


@pytest.fixture(scope="session")
def real_pds() -> Iterator[RealPds]:
    env = node_env()  # skips (or fails under CI) without the reference packages
    started = time.monotonic()
    process = subprocess.Popen(
        ["node", str(REALSERVERS / "pds.mjs")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stdin is not None
    first_line: list[str] = []
    reader = threading.Thread(target=lambda: first_line.append(process.stdout.readline()))
    reader.start()
    reader.join(START_TIMEOUT_SECONDS)
    try:
        if not first_line or not first_line[0].strip():
            process.kill()
            _out, err = process.communicate(timeout=10)
            raise AssertionError(f"the reference PDS did not start: {err[-3000:]}")
        info = json.loads(first_line[0])
        yield RealPds(
            url=info["url"],
            accounts={a["handle"]: PdsAccount(**a) for a in info["accounts"]},
            started_seconds=time.monotonic() - started,
        )
    finally:
        process.stdin.close()  # pds.mjs stops when its input closes
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
