"""Email over SMTP with the standard library: one connection per message, all within a timeout.

STARTTLS is required by default (``HANDPOST_SMTP_STARTTLS``): a server that does not offer it
gets no message and, above all, no password. ``HANDPOST_SMTP_SSL`` speaks TLS from the start
(port 465) instead.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache

from service.config import Settings


class EmailNotSent(Exception):
    """The server refused or could not be reached; the message says why, for the log."""


def one_line(value: str, limit: int = 200) -> str:
    """A header value: control characters (CR and LF above all: header injection) become
    spaces, runs of white space one space."""
    cleaned = "".join(" " if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in value)
    return " ".join(cleaned.split())[:limit]


@cache
def tls_context() -> ssl.SSLContext:
    """Made once: loading the system's certificates costs milliseconds of CPU each time."""
    return ssl.create_default_context()


def build(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = one_line(settings.smtp_from or "")
    message["To"] = one_line(to)
    message["Subject"] = one_line(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="handpost")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(body)
    return message


def send(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one message (blocking: run it in a thread). EmailNotSent says what went wrong."""
    if not settings.smtp_host or not settings.smtp_from:
        raise EmailNotSent("Email is not configured (HANDPOST_SMTP_HOST, HANDPOST_SMTP_FROM).")
    message = build(settings, to, subject, body)
    timeout = settings.notify_timeout_seconds
    # The sender's domain names us in EHLO: without it smtplib looks our own name up for
    # every message.
    helo = settings.smtp_from.rpartition("@")[2].strip(" >") or "localhost"
    try:
        smtp: smtplib.SMTP
        if settings.smtp_ssl:
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                local_hostname=helo,
                timeout=timeout,
                context=tls_context(),
            )
        else:
            smtp = smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, local_hostname=helo, timeout=timeout
            )
        with smtp:
            if settings.smtp_starttls and not settings.smtp_ssl:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise EmailNotSent(
                        "The SMTP server does not offer STARTTLS, so nothing was sent; set "
                        "HANDPOST_SMTP_STARTTLS=false only for a server on a trusted network."
                    )
                smtp.starttls(context=tls_context())
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        said = exc.smtp_error
        reply = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
        raise EmailNotSent(f"The SMTP server answered {exc.smtp_code}: {one_line(reply)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = one_line(str(exc)) or type(exc).__name__
        raise EmailNotSent(f"Could not send by SMTP: {type(exc).__name__}: {reason}") from None
