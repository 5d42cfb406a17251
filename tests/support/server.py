"""Runs the real `handpost` command as a child process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServiceProcess:
    """`handpost serve` (or `worker`) with its output captured to a log file."""

    def __init__(
        self, args: list[str], env: dict[str, str], log_path: Path, port: int | None = None
    ) -> None:
        self.port = port
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"service not ready in {timeout} s:\n{self.log_path.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def serve(tmp_path: Path, database_url: str, **env: str) -> ServiceProcess:
    port = free_port()
    service = ServiceProcess(
        ["serve", "--port", str(port)],
        {"HANDPOST_DATABASE_URL": database_url, **env},
        tmp_path / f"serve-{port}.log",
        port=port,
    )
    service.wait_ready()
    return service


def create_user_with_cli(database_url: str, username: str, password: str) -> None:
    """`handpost user create`, as an administrator would run it, password on stdin."""
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "user", "create", username, "--password-stdin"],
        input=password + "\n",
        env={**os.environ, "HANDPOST_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def login(client: httpx.Client, username: str, password: str) -> None:
    """Log in through the API and send the session token on every later request."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


@dataclass
class Served:
    """A `handpost serve` of its own database, with users and the first one's session token."""

    service: ServiceProcess
    database_url: str
    token: str


@contextmanager
def served(kind: str, tmp_path: Path, users: dict[str, str], **env: str) -> Iterator[Served]:
    """A fresh ``kind`` database, ``users`` (name: password) made with the CLI, the service
    serving it without a dispatcher, and the first user logged in through the API."""
    from tests.support.databases import fresh_database

    with fresh_database(kind, tmp_path) as url:
        for username, password in users.items():
            create_user_with_cli(url, username, password)
        service = serve(
            tmp_path,
            url,
            HANDPOST_DISPATCH="false",
            HANDPOST_SECRET_KEY_FILE=str(tmp_path / "handpost.key"),
            **env,
        )
        try:
            with httpx.Client(base_url=service.base_url) as anonymous:
                first, password = next(iter(users.items()))
                login(anonymous, first, password)
                token = anonymous.headers["Authorization"].removeprefix("Bearer ")
            yield Served(service, url, token)
        finally:
            service.stop()
