"""An ntfy-style push: a POST of the message as plain text to the address the person gave.

ntfy (https://docs.ntfy.sh/publish/) reads the title from the ``Title`` header and the link to
open from ``Click``; other services that take a plain POST simply get the text. The address is
the person's, so the request goes through the outbound gate (service.outbound): no private
addresses unless allowed, the checked address pinned, no redirects followed.
"""

from __future__ import annotations

import asyncio
import base64

import httpx

from service import outbound
from service.outbound import OutboundPolicy, OutboundRefused

USER_AGENT = "Handpost-Notify/1"


class PushNotSent(Exception):
    """The push did not get a 2xx answer; the message says why, for the log."""


def header_text(value: str) -> str:
    """HTTP headers are ASCII: other text goes RFC 2047-encoded, as ntfy accepts it."""
    value = " ".join(value.split())[:200]
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        return "=?utf-8?b?" + base64.b64encode(value.encode()).decode() + "?="  # one word
    return value


async def send(
    client: httpx.AsyncClient,
    policy: OutboundPolicy,
    url: str,
    *,
    title: str,
    body: str,
    click_url: str | None,
    seconds: float,
) -> int:
    """POST the message; the status of a 2xx answer, else PushNotSent."""
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Title": header_text(title),
        "Tags": "memo",
        "User-Agent": USER_AGENT,
    }
    if click_url:
        headers["Click"] = click_url
    try:
        async with asyncio.timeout(seconds):
            # Streamed and left unread: the answer's size is the other server's choice.
            async with outbound.stream(
                client, policy, "POST", url, headers=headers, content=body.encode()
            ) as response:
                status = response.status_code
    except OutboundRefused as refused:
        raise PushNotSent(f"Not sent: {refused.reason}.") from None
    except TimeoutError:
        raise PushNotSent(f"No answer within {seconds:g} s.") from None
    except httpx.HTTPError as exc:
        raise PushNotSent(f"The request failed: {type(exc).__name__}: {exc}"[:300]) from None
    if not 200 <= status < 300:
        raise PushNotSent(f"The push address answered {status}.")
    return status
