"""Ghost: the Admin API with a custom integration's Admin API key, at the person's site.

The key reads ``id:secret``. Each call carries a token Handpost signs itself (a JWT, HS256
with the hex-decoded secret, ``kid`` = the key id, ``aud`` = "/admin/", living 5 minutes:
Ghost refuses older ones), in ``Authorization: Ghost <token>`` (docs.ghost.org/admin-api/
#token-authentication). Seven lines of ``hmac`` make it; a JWT library would add a dependency
for nothing more.

``POST /ghost/api/admin/posts/?source=html`` with ``status: published`` at the post's own
time (not ``scheduled``). Without ``?source=html`` Ghost silently drops ``html`` and creates
an empty post. Ghost drops HTML comments from the body, so the marker goes into the post's
``codeinjection_foot`` (a comment in the page's footer), which the Admin API can filter on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from service.networks._blog import (
    BLOG_TEXT_LIMIT,
    BlogAdapter,
    BlogRules,
    blog_media_limits,
    featured_image,
    marker,
    render_html,
    uploaded_placeholder,
)
from service.networks._common import REDACTED, hash_token
from service.networks._http import (
    Api,
    Attempt,
    NetworkError,
    Published,
    ReconnectNeeded,
    failure_for_status,
    json_body,
    short_text,
)
from service.networks.base import (
    AccountRef,
    Attachment,
    FailureKind,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
)

ACCEPT_VERSION = "v5.0"
TOKEN_LIFETIME_SECONDS = 300  # the most Ghost accepts


@dataclass(frozen=True)
class GhostRules(BlogRules):
    excerpt_limit = 300  # Ghost's custom_excerpt column

    def admin_api(self, account: AccountRef) -> str:
        return f"{self.api_base(account)}/ghost/api/admin"

    def create_body(
        self, content: PostContent, publish_key: str, image_url: str | None = None
    ) -> dict[str, Any]:
        post: dict[str, Any] = {
            "title": content.title or "",
            "html": render_html(content.text),
            "status": "published",
            "visibility": self.visibility_for(content),
            "codeinjection_foot": marker(publish_key),
        }
        if content.excerpt is not None:
            post["custom_excerpt"] = content.excerpt
        if content.tags:
            post["tags"] = [{"name": name} for name in content.tags]
        image = featured_image(content)
        if image is not None:
            post["feature_image"] = image_url or uploaded_placeholder("URL", image)
            post["feature_image_alt"] = image.alt_text or None
        return {"posts": [post]}

    def create_request(
        self, content: PostContent, account: AccountRef, publish_key: str, image_url: str | None
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.admin_api(account)}/posts/?source=html",
            headers=_headers({"Content-Type": "application/json"}),
            json=self.create_body(content, publish_key, image_url),
        )

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        return self.create_request(content, account, publish_key, None)

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        post_id = hash_token(publish_key, salt=self.network)
        return SandboxResult(external_id=post_id, url=f"{self.api_base(account)}/p/{post_id}/")


RULES = GhostRules(
    network=Network.GHOST,
    display_name="Ghost",
    text_limit=BLOG_TEXT_LIMIT,
    visibilities=("public", "members", "paid"),
    supports_title=True,
    requires_title=True,
    title_limit=255,
    needs_site_url=True,
    has_blog_fields=True,
    publishes_media=True,
)
# Ghost's feature_image_alt column holds 191 characters.
MEDIA_LIMITS = blog_media_limits(
    alt_text_limit=191, source="docs.ghost.org/admin-api/#images (the site's upload size applies)"
)


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Ghost {REDACTED}", "Accept-Version": ACCEPT_VERSION, **(extra or {})}


# --- the token ---------------------------------------------------------------------------------


class MalformedKey(ValueError):
    """The Admin API key is not ``id:hexsecret``."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def admin_token(admin_api_key: str, now: float | None = None) -> str:
    """A signed token for the Admin API, valid for five minutes from ``now``."""
    key_id, _, secret = admin_api_key.strip().partition(":")
    try:
        signing_key = bytes.fromhex(secret)
    except ValueError:
        signing_key = b""
    if not key_id or not signing_key:
        raise MalformedKey(
            "A Ghost Admin API key reads id:secret (the secret in hexadecimal); copy it whole "
            "from Ghost's Settings > Integrations."
        )
    issued = int(time.time() if now is None else now)
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key_id}).encode())
    claims = {"iat": issued, "exp": issued + TOKEN_LIFETIME_SECONDS, "aud": "/admin/"}
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _secrets(credentials: dict[str, str]) -> dict[str, str]:
    try:
        return {"": admin_token(credentials["admin_api_key"])}
    except (MalformedKey, binascii.Error) as exc:
        raise ReconnectNeeded(str(exc)) from None


# --- live publishing -----------------------------------------------------------------------


def _first(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The first object of Ghost's ``{key: [...]}`` envelope, or {} when there is none."""
    items = body.get(key)
    first = items[0] if isinstance(items, list) and items else None
    return first if isinstance(first, dict) else {}


def _error_message(response: httpx.Response) -> str:
    errors = json_body(response).get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        parts = [str(first.get(k)) for k in ("message", "context") if first.get(k)]
        return " ".join(parts) or short_text(response)
    return short_text(response)


class GhostAdapter(BlogAdapter):
    """One call creates the post; ``codeinjection_foot`` carries the marker to look up."""

    rules = RULES

    async def send_post(self, attempt: Attempt) -> Published:
        image = featured_image(attempt.content)
        image_url = await self._upload(attempt, image) if image is not None else None
        request = RULES.create_request(
            attempt.content, attempt.account, attempt.publish_key, image_url
        )
        attempt.request = request
        response = await attempt.api.send(request, _secrets(attempt.credentials), creates=True)
        post = _first(json_body(response), "posts")
        if response.status_code == 201 and post.get("id"):
            return Published(str(post["id"]), str(post.get("url") or ""), 201,
                             "Published on Ghost.")  # fmt: skip
        raise self._failure(response, creates=True)

    async def _upload(self, attempt: Attempt, image: Attachment) -> str:
        """The featured image, uploaded to the site's images: its URL there."""
        response = await attempt.api.send(
            OutgoingRequest(
                method="POST",
                url=f"{RULES.admin_api(attempt.account)}/images/upload/",
                headers=_headers(),
                form={"ref": image.media_id},
                files={"file": (image.filename, await attempt.media_bytes(image), image.mime_type)},
            ),
            _secrets(attempt.credentials),
        )
        uploaded = _first(json_body(response), "images")
        if response.status_code == 201 and uploaded.get("url"):
            return str(uploaded["url"])
        raise self._failure(response, creates=False)

    async def find(self, attempt: Attempt) -> Published | None:
        wanted = marker(attempt.publish_key)
        query = urlencode(
            {
                "filter": f"codeinjection_foot:'{wanted}'",
                "fields": "id,url,codeinjection_foot",
                "limit": "5",
            }
        )
        url = f"{RULES.admin_api(attempt.account)}/posts/?{query}"
        response = await attempt.api.get(url, _secrets(attempt.credentials), **_headers())
        if not response.is_success:
            raise self._failure(response, creates=False)
        posts = json_body(response).get("posts")
        for post in posts if isinstance(posts, list) else []:
            if (
                isinstance(post, dict)
                and post.get("id")
                and post.get("codeinjection_foot") == wanted
            ):
                return Published(
                    str(post["id"]),
                    str(post.get("url") or ""),
                    response.status_code,
                    "Published on Ghost (found by its marker after an unclear send).",
                )
        return None

    def _failure(self, response: httpx.Response, *, creates: bool) -> Exception:
        message = _error_message(response)
        if response.status_code in (401, 403):
            return ReconnectNeeded(
                f"Ghost refused the Admin API key ({message}). The integration may have been "
                "deleted or its key regenerated; give the account the current key.",
                response.status_code,
            )
        return failure_for_status("Ghost", response, message, creates=creates)

    async def verify(self, api: Api, account: AccountRef, credentials: dict[str, str]) -> str:
        """The site's title, once an authenticated call with the key succeeded."""
        admin = RULES.admin_api(account)
        checked = await api.get(
            f"{admin}/posts/?limit=1&fields=id", _secrets(credentials), **_headers()
        )
        if checked.status_code == 404:
            raise NetworkError(
                FailureKind.PERMANENT,
                "No Ghost Admin API answers at that address; give the site's own address, "
                "e.g. https://blog.example.com.",
                http_status=404,
            )
        if not checked.is_success:
            raise self._failure(checked, creates=False)
        site = json_body(await api.get(f"{admin}/site/", {}, **{"Accept-Version": ACCEPT_VERSION}))
        title = site.get("site", {}).get("title") if isinstance(site.get("site"), dict) else None
        return str(title or account.handle)


ADAPTER = GhostAdapter()
