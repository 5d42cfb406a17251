"""A loopback HTTP proxy in front of a real server, that can lose an answer on purpose.

A real server cannot be asked to time out after it created a post; this proxy makes that
happen for real: the request reaches the server whole, the server does its work and answers,
and the proxy hangs up instead of passing the answer on. The client sees what a dropped
connection looks like, not knowing whether the post exists, and the server holds the truth.
Each request gets its own upstream connection (``Connection: close``).
"""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field

from tests.realservers import _process

_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)
_CONNECTION = re.compile(rb"^connection:[^\r\n]*\r\n", re.IGNORECASE | re.MULTILINE)


@dataclass
class AnswerDroppingProxy:
    upstream_port: int
    port: int = field(default_factory=_process.free_port)
    # Requests whose first line contains one of these lose their answer (each once).
    drop: list[bytes] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    _server: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AnswerDroppingProxy:
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def drop_answer_to(self, first_line_part: str) -> None:
        """The next request whose request line contains this reaches the server unanswered."""
        self.drop.append(first_line_part.encode())

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            head, _, body = head.partition(b"\r\n\r\n")
            length = _LENGTH.search(head)
            while length and len(body) < int(length.group(1)):
                body += client.recv(65536)
            request_line = head.split(b"\r\n", 1)[0]
            head = _CONNECTION.sub(b"", head + b"\r\n") + b"Connection: close\r\n"
            with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                upstream.sendall(head + b"\r\n" + body)
                answer = b""
                while chunk := upstream.recv(65536):
                    answer += chunk
            lost = next((part for part in self.drop if part in request_line), None)
            if lost is not None:
                self.drop.remove(lost)
                self.dropped.append(request_line.decode())
                return  # hang up: the server acted, the client never hears of it
            client.sendall(answer)
