"""The HTTP server's own answers, in the service's problem shape.

uvicorn runs on h11 rather than httptools because h11 bounds what a request line and its
headers may take (``max_header_bytes``): httptools has no such limit, and eight requests with
100 MB headers grew the server to over a gigabyte. When h11 refuses a request (malformed, or
headers over the limit), uvicorn answers a plain-text 400 by itself, before the app sees it;
this protocol sends an RFC 9457 problem instead, and closes the connection as uvicorn does.
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.problems import MEDIA_TYPE, problem_bytes


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        payload = problem_bytes(
            400,
            "malformed-request",
            "Malformed request",
            "The request could not be read: it is not valid HTTP/1.1, or its request line and "
            "headers are larger than this server accepts.",
            None,
        )
        headers = [
            (b"content-type", MEDIA_TYPE.encode()),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),
        ]
        event = h11.Response(status_code=400, headers=headers, reason=b"Bad Request")
        for part in (event, h11.Data(data=payload), h11.EndOfMessage()):
            self.transport.write(self.conn.send(part) or b"")
        self.transport.close()
