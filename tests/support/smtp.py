"""A real SMTP server on loopback (aiosmtpd, in a thread of its own), shared by the session.

No part of Handpost: it speaks SMTP as a mail server does, and keeps every message it
accepted, parsed by the standard library as a mail client would. Tests tell their messages
apart by recipient (each uses addresses of its own), so one server serves them all.
tests/conftest.py loads this module as a plugin: fixture ``smtp_server``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.api import wait_for


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        content: str = part.get_content()  # type: ignore[attr-defined]
        return content


class SmtpServer:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self.mails if address in m.recipients]

    def wait_for(self, address: str, count: int = 1) -> list[Mail]:
        wait_for(lambda: len(self.to(address)) >= count, timeout=20)
        return self.to(address)

    def settings(self) -> dict[str, Any]:
        """Settings that send Handpost's email here (no TLS on loopback)."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_from": "Handpost <handpost@example.org>",
            "smtp_starttls": False,
        }


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()
