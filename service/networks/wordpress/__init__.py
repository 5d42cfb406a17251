"""WordPress (self-hosted): the REST API with an application password, at the person's site.

``POST {site}/wp-json/wp/v2/posts`` with HTTP Basic ``username:application_password``
(developer.wordpress.org/rest-api/reference/posts/). Handpost sends ``status: publish`` at the
post's own time and never ``future``: WordPress's scheduler (WP-Cron) runs only when someone
visits the site, and ``future`` with a date already past silently turns into ``publish``.
Tags are term ids, looked up by name or created first. The body ends with the post's marker
(an HTML comment WordPress keeps), which ``search`` finds when an outcome is unclear.
"""

from __future__ import annotations

import base64
import html
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
from service.networks._common import REDACTED, hash_digits
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

# Every status a post Handpost created could have by now (someone may have edited it).
_ANY_STATUS = "publish,future,draft,pending,private"
_STATUS = {"public": "publish", "private": "private"}


def _tag_placeholder(name: str) -> str:
    return f"<id of tag {name!r}>"


@dataclass(frozen=True)
class WordPressRules(BlogRules):
    def api(self, account: AccountRef) -> str:
        return f"{self.api_base(account)}/wp-json/wp/v2"

    def create_body(
        self,
        content: PostContent,
        publish_key: str,
        tag_ids: list[int | str],
        featured: int | str | None = None,
    ) -> dict[str, Any]:
        # Title and excerpt are HTML to WordPress: escape them, so that "<3" stays text.
        body: dict[str, Any] = {
            "title": html.escape(content.title or "", quote=False),
            "content": f"{render_html(content.text)}{marker(publish_key)}\n",
            "status": _STATUS[self.visibility_for(content)],
        }
        if content.excerpt is not None:
            body["excerpt"] = html.escape(content.excerpt, quote=False)
        if tag_ids:
            body["tags"] = tag_ids
        if featured is not None:
            body["featured_media"] = featured
        return body

    def create_request(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        tag_ids: list[int | str],
        featured: int | str | None = None,
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.api(account)}/posts",
            headers={"Authorization": f"Basic {REDACTED}", "Content-Type": "application/json"},
            json=self.create_body(content, publish_key, tag_ids, featured),
        )

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        # Tag ids exist only once the tags are looked up on the site: named placeholders here.
        tags: list[int | str] = [_tag_placeholder(name) for name in content.tags]
        image = featured_image(content)
        featured = uploaded_placeholder("id", image) if image is not None else None
        return self.create_request(content, account, publish_key, tags, featured)

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        post_id = hash_digits(publish_key, salt=self.network, length=6)
        return SandboxResult(external_id=post_id, url=f"{self.api_base(account)}/?p={post_id}")


RULES = WordPressRules(
    network=Network.WORDPRESS,
    display_name="WordPress",
    text_limit=BLOG_TEXT_LIMIT,
    visibilities=("public", "private"),
    supports_title=True,
    requires_title=True,
    title_limit=1000,
    needs_site_url=True,
    has_blog_fields=True,
    publishes_media=True,
)
MEDIA_LIMITS = blog_media_limits(
    alt_text_limit=1000,
    source="developer.wordpress.org/rest-api/reference/media/ (the site's upload size applies)",
)


# --- live publishing -----------------------------------------------------------------------


def basic_credentials(credentials: dict[str, str]) -> str:
    """The Basic auth value; WordPress shows application passwords in groups of four, and
    accepts them with or without the spaces."""
    raw = f"{credentials['username']}:{credentials['application_password']}"
    return base64.b64encode(raw.encode()).decode()


def _json_list(response: httpx.Response) -> list[Any]:
    """A list answer (search results), or [] when the site sent anything else."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return []
    return data if isinstance(data, list) else []


def _term_id(value: Any) -> int | None:
    """A WordPress object id as the site gave it, if it is one (a broken site may not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _error_message(response: httpx.Response) -> tuple[str, str]:
    body = json_body(response)
    return str(body.get("code") or ""), str(body.get("message") or short_text(response))


class WordPressAdapter(BlogAdapter):
    """Tags first (looked up, else created), then the post; the marker settles doubt."""

    rules = RULES

    async def send_post(self, attempt: Attempt) -> Published:
        secrets = {"": basic_credentials(attempt.credentials)}
        tag_ids: list[int | str] = [
            await self._tag_id(attempt, name, secrets) for name in attempt.content.tags
        ]
        image = featured_image(attempt.content)
        featured = await self._upload(attempt, image, secrets) if image is not None else None
        request = RULES.create_request(
            attempt.content, attempt.account, attempt.publish_key, tag_ids, featured
        )
        attempt.request = request
        response = await attempt.api.send(request, secrets, creates=True)
        body = json_body(response)
        if response.status_code == 201 and body.get("id"):
            return Published(
                str(body["id"]), str(body.get("link") or ""), 201, "Published on WordPress."
            )
        raise self._failure(response, creates=True)

    async def find(self, attempt: Attempt) -> Published | None:
        """The post carrying this publish key's marker, if WordPress has it."""
        query = urlencode(
            {
                "search": f"handpost:{attempt.publish_key}",
                "status": _ANY_STATUS,
                "context": "edit",
                "_fields": "id,link,content",
            }
        )
        url = f"{RULES.api(attempt.account)}/posts?{query}"
        secrets = {"": basic_credentials(attempt.credentials)}
        response = await attempt.api.get(url, secrets, Authorization=f"Basic {REDACTED}")
        if not response.is_success:
            raise self._failure(response, creates=False)
        wanted = marker(attempt.publish_key)
        for post in _json_list(response):
            content = post.get("content") if isinstance(post, dict) else None
            found = isinstance(content, dict) and wanted in str(content.get("raw") or "")
            if found and post.get("id"):
                return Published(
                    str(post["id"]),
                    str(post.get("link") or ""),
                    response.status_code,
                    "Published on WordPress (found by its marker after an unclear send).",
                )
        return None

    async def _upload(self, attempt: Attempt, image: Attachment, secrets: dict[str, str]) -> int:
        """The featured image, uploaded to the media library with its alt text: its id."""
        response = await attempt.api.send(
            OutgoingRequest(
                method="POST",
                url=f"{RULES.api(attempt.account)}/media",
                headers={"Authorization": f"Basic {REDACTED}"},
                form={"alt_text": image.alt_text},
                files={"file": (image.filename, await attempt.media_bytes(image), image.mime_type)},
            ),
            secrets,
        )
        image_id = _term_id(json_body(response).get("id"))
        if response.status_code == 201 and image_id is not None:
            return image_id
        raise self._failure(response, creates=False)

    async def _tag_id(self, attempt: Attempt, name: str, secrets: dict[str, str]) -> int:
        """The id of the tag called ``name``, made if the site has none yet."""
        api = RULES.api(attempt.account)
        auth = {"Authorization": f"Basic {REDACTED}"}
        query = urlencode({"search": name, "per_page": "100", "_fields": "id,name"})
        found = await attempt.api.get(f"{api}/tags?{query}", secrets, **auth)
        if not found.is_success:
            raise self._failure(found, creates=False)
        for tag in _json_list(found):
            tag_id = _term_id(tag.get("id")) if isinstance(tag, dict) else None
            if tag_id is not None and html.unescape(str(tag.get("name", ""))).casefold() == (
                name.casefold()
            ):
                return tag_id
        made = await attempt.api.send(
            OutgoingRequest(
                method="POST",
                url=f"{api}/tags",
                headers={**auth, "Content-Type": "application/json"},
                json={"name": name},
            ),
            secrets,
        )
        body = json_body(made)
        tag_id = _term_id(body.get("id")) if made.status_code == 201 else None
        data = body.get("data")
        if tag_id is None and body.get("code") == "term_exists" and isinstance(data, dict):
            tag_id = _term_id(data.get("term_id"))  # made meanwhile, or not listed by name
        if tag_id is not None:
            return tag_id
        raise self._failure(made, creates=False)

    def _failure(self, response: httpx.Response, *, creates: bool) -> Exception:
        code, message = _error_message(response)
        if response.status_code == 401:
            return ReconnectNeeded(refused_credentials(message), 401)
        if response.status_code == 403:
            return NetworkError(
                FailureKind.PERMANENT,
                f"WordPress refused: {message} ({code}). The user may publish posts there only "
                "with the Author role or above.",
                http_status=403,
            )
        return failure_for_status("WordPress", response, f"{message} ({code})", creates=creates)

    async def whoami(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, Any]:
        """The user the credentials belong to (id, username, name), as the site knows them."""
        secrets = {"": basic_credentials(credentials)}
        response = await api.get(
            f"{RULES.api(account)}/users/me?context=edit",
            secrets,
            Authorization=f"Basic {REDACTED}",
        )
        body = json_body(response)
        if response.is_success and body.get("id"):
            return body
        if response.status_code == 404:
            raise NetworkError(
                FailureKind.PERMANENT,
                "No WordPress REST API answers at that address (wp-json was not found); give "
                "the site's own address, e.g. https://blog.example.com.",
                http_status=404,
            )
        raise self._failure(response, creates=False)

    async def verify(self, api: Api, account: AccountRef, credentials: dict[str, str]) -> str:
        """The user's display name on the site, proving the credentials work there."""
        me = await self.whoami(api, account, credentials)
        return str(me.get("name") or me.get("username") or credentials["username"])


def refused_credentials(message: str) -> str:
    return (
        f"WordPress refused the user name or application password ({message}). Check both; "
        "on a site served over plain http, WordPress accepts application passwords only "
        "when WP_ENVIRONMENT_TYPE is 'local'."
    )


ADAPTER = WordPressAdapter()
