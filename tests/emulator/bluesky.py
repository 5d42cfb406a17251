"""Bluesky PDS (XRPC): createSession, refreshSession, repo.createRecord, repo.getRecord,
identity.resolveHandle.

Checked against the reference PDS (@atproto/pds 0.4, run by tests/realservers/pds.mjs): a
repeated record key is a 500; facets are checked for their link URI, mention DID and tag
length but never for their byte offsets; langs are checked as BCP 47, at most 3.
"""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any

from starlette.responses import Response

from .framework import Ctx, NetworkModel, Reply, json_response, route
from .media import Upload, complete, media_fault, media_store, read_raw
from .state import Account, EmulatorState, Post, RateInfo, Token, fake_cid, make_jwt
from .textutil import grapheme_count

ACCESS_LIFETIME_S = 2 * 3600
REFRESH_LIFETIME_S = 90 * 24 * 3600
POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
AUDIENCE = "did:web:pds.emulator.handpost.test"
_RKEY_RE = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")


def blob_cid(sha256: bytes) -> str:
    """A blob's CID as the PDS makes it: CIDv1, raw codec (0x55), sha2-256, base32 ("bafkrei")."""
    raw = bytes([0x01, 0x55, 0x12, 0x20]) + sha256
    return "b" + base64.b32encode(raw).decode("ascii").lower().rstrip("=")


_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_XRPC_NAMES = {
    400: "InvalidRequest",
    401: "AuthenticationRequired",
    403: "Forbidden",
    404: "NotFound",
    413: "PayloadTooLarge",
    429: "RateLimitExceeded",
    500: "InternalServerError",
    501: "MethodNotImplemented",
    502: "UpstreamFailure",
    503: "NotEnoughResources",
    504: "UpstreamTimeout",
}
_XRPC_MESSAGES = {429: "Rate Limit Exceeded", 500: "Internal Server Error"}
# The lexicon formats the PDS checks (@atproto/syntax and @atproto/lexicon), with JavaScript's
# \s (which includes U+FEFF and not U+001C-U+001F).
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_URI_RE = re.compile(rf"^\w+:(?://)?[^{_JS_SPACE}/][^{_JS_SPACE}]*$", re.ASCII)
_DID_RE = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
_HANDLE_RE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_BCP47_RE = re.compile(
    r"^((en-GB-oed|i-(ami|bnn|default|enochian|hak|klingon|lux|mingo|navajo|pwn|tao|tay|tsu)"
    r"|sgn-(BE-FR|BE-NL|CH-DE)|art-lojban|cel-gaulish|no-bok|no-nyn|zh-(guoyu|hakka|min|"
    r"min-nan|xiang))|(([A-Za-z]{2,3}(-[A-Za-z]{3}(-[A-Za-z]{3}){0,2})?|[A-Za-z]{4}|"
    r"[A-Za-z]{5,8})(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|"
    r"[0-9][A-Za-z0-9]{3}))*(-[0-9A-WY-Za-wy-z](-[A-Za-z0-9]{2,8})+)*(-[xX](-[A-Za-z0-9]{1,8})+)?)"
    r"|[xX](-[A-Za-z0-9]{1,8})+)$"
)


def xrpc_error(status: int, error: str, message: str) -> Response:
    return json_response({"error": error, "message": message}, status)


def _token_error(check_status: str, refresh: bool) -> Response:
    if check_status == "missing":
        return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
    if check_status == "expired":
        return xrpc_error(400, "ExpiredToken", "Token has expired")
    if check_status == "revoked":
        return xrpc_error(400, "ExpiredToken", "Token has been revoked")
    if check_status == "wrong_kind":
        return xrpc_error(
            400, "InvalidToken", "Invalid token type" if refresh else "Bad token scope"
        )
    return xrpc_error(400, "InvalidToken", "Token could not be verified")


# bluesky-social/atproto packages/pds/src/auth-scope.ts: an app password session gets
# appPass (or appPassPrivileged), an account password session full access.
APP_PASSWORD_SCOPE = "com.atproto.appPass"
FULL_ACCESS_SCOPE = "com.atproto.access"


def issue_session(
    state: EmulatorState,
    account: Account,
    scope: str = APP_PASSWORD_SCOPE,
    app_password: str | None = None,
) -> tuple[Token, Token]:
    """A new (access, refresh) JWT pair registered in the token table."""
    now = int(state.now())
    access_life = int(account.token_lifetime_s or ACCESS_LIFETIME_S)
    jti = secrets.token_urlsafe(12)
    access_jwt = make_jwt(
        {"typ": "at+jwt", "alg": "HS256"},
        {
            "scope": scope,
            "sub": account.key,
            "aud": AUDIENCE,
            "jti": secrets.token_urlsafe(12),
            "iat": now,
            "exp": now + access_life,
        },
    )
    refresh_jwt = make_jwt(
        {"typ": "refresh+jwt", "alg": "HS256"},
        {
            "scope": "com.atproto.refresh",
            "sub": account.key,
            "aud": AUDIENCE,
            "jti": jti,
            "iat": now,
            "exp": now + REFRESH_LIFETIME_S,
        },
    )
    access = state.issue_token("bluesky", account.key, "access", access_jwt)
    access.expires_at = float(now + access_life)
    refresh = state.issue_token("bluesky", account.key, "refresh", refresh_jwt)
    refresh.expires_at = float(now + REFRESH_LIFETIME_S)
    access.app_password = refresh.app_password = app_password or account.app_password
    return access, refresh


def revoke_app_password(state: EmulatorState, account: Account) -> int:
    """What the PDS does when the person revokes the app password: it is gone, and so are
    the sessions it opened (their refresh tokens); access tokens live on until they expire,
    being JWTs checked by signature."""
    password, account.app_password = account.app_password, None
    revoked = 0
    for token in state.tokens.values():
        same = token.network == "bluesky" and token.account_key == account.key
        if same and token.kind == "refresh" and token.app_password == password:
            token.revoked = True
            revoked += 1
    return revoked


class BlueskyModel(NetworkModel):
    name = "bluesky"

    def new_store(self) -> dict[str, Any]:
        # records: (did, collection, rkey) -> {"uri", "cid", "value"}; commits: did -> commit
        return {"records": {}, "commits": {}}

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        headers: dict[str, str] = {}
        if status == 429:
            headers = self.throttle(ctx, float(params.get("retry_after_s", 300)), limit=3000)
        error = params.get("error") or _XRPC_NAMES.get(status, "InternalServerError")
        message = params.get("message") or _XRPC_MESSAGES.get(status, error)
        return {"error": error, "message": message}, headers

    def rate_headers(self, ctx: Ctx, info: RateInfo) -> dict[str, str]:
        return {
            "ratelimit-limit": str(info.limit),
            "ratelimit-remaining": str(info.remaining),
            "ratelimit-reset": str(int(info.reset_at)),
            "ratelimit-policy": f"{info.limit};w={int(info.window_s)}",
        }

    def expired_token(self, ctx: Ctx) -> Response:
        return xrpc_error(400, "ExpiredToken", "Token has expired")

    def not_found(self, ctx: Ctx) -> Response:
        return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")

    def _auth(self, ctx: Ctx, kind: str = "access") -> Account:
        check = ctx.state.check_token("bluesky", ctx.bearer(), kind=kind)
        if not check.ok:
            if check.status == "missing" and ctx.header("authorization"):
                raise Reply(_token_error("unknown", kind == "refresh"))
            raise Reply(_token_error(check.status, kind == "refresh"))
        return ctx.authenticated(check)

    def _session_body(
        self, ctx: Ctx, account: Account, access: Token, refresh: Token
    ) -> dict[str, Any]:
        return {
            "accessJwt": access.value,
            "refreshJwt": refresh.value,
            "handle": account.username,
            "did": account.key,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": account.key,
                "alsoKnownAs": [f"at://{account.username}"],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": ctx.base_url,
                    }
                ],
            },
            "active": True,
        }

    @route("POST", "/xrpc/com.atproto.server.createSession", "create_session")
    async def create_session(self, ctx: Ctx) -> Response:
        body = ctx.data
        identifier = body.get("identifier")
        password = body.get("password")
        for name, value in (("identifier", identifier), ("password", password)):
            if not isinstance(value, str):
                raise Reply(
                    xrpc_error(400, "InvalidRequest", f'Input must have the property "{name}"')
                )
        assert isinstance(identifier, str)
        account = ctx.state.find_account("bluesky", identifier.lstrip("@"))
        self.count(ctx, ("session", account.key if account else identifier), 30, 300)
        if account is not None and account.password is not None and password == account.password:
            scope = FULL_ACCESS_SCOPE  # the account password: a full-access session
        elif account is not None and account.app_password is not None:
            if password != account.app_password:
                raise Reply(
                    xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
                )
            scope = APP_PASSWORD_SCOPE
        else:
            raise Reply(xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password"))
        ctx.account = account
        ctx.entry["account"] = account.key
        access, refresh = issue_session(ctx.state, account, scope, app_password=None)
        if scope == FULL_ACCESS_SCOPE:
            access.app_password = refresh.app_password = None
        return json_response(self._session_body(ctx, account, access, refresh))

    @route("POST", "/xrpc/com.atproto.server.deleteSession", "delete_session")
    async def delete_session(self, ctx: Ctx) -> Response:
        """Log out: the refresh token (the bearer) is revoked."""
        self._auth(ctx, kind="refresh")
        check = ctx.state.check_token("bluesky", ctx.bearer(), kind="refresh")
        assert check.token is not None
        check.token.revoked = True
        return Response(status_code=200)

    # -- identity: handle -> DID -> document -> PDS (advanced-guides/resolving-identities) ---

    @route("GET", "/.well-known/atproto-did", "well_known_did")
    async def well_known_did(self, ctx: Ctx) -> Response:
        """The HTTPS method: the handle's host answers its DID as text. Which handle is asked
        is read from the Host header, as a PDS serving handles under its domain does."""
        host = (ctx.header("host") or "").split(":")[0].lower()
        account = ctx.state.find_account("bluesky", host)
        if account is None:
            return Response("User not found", status_code=404, media_type="text/plain")
        return Response(account.key, media_type="text/plain")

    @route("GET", "/did:plc:{suffix}", "did_document")
    async def plc_document(self, ctx: Ctx) -> Response:
        """plc.directory/{did}: the DID document."""
        did = "did:plc:" + ctx.request.path_params["suffix"]
        return self._document(ctx, did)

    @route("GET", "/.well-known/did.json", "did_document")
    async def web_document(self, ctx: Ctx) -> Response:
        """did:web: the document at the host's /.well-known/did.json (Host names the DID)."""
        host = (ctx.header("host") or "").split(":")[0].lower()
        return self._document(ctx, f"did:web:{host}")

    def _document(self, ctx: Ctx, did: str) -> Response:
        account = ctx.state.accounts["bluesky"].get(did)
        if account is None:
            return json_response({"message": f"DID not registered: {did}"}, 404)
        return json_response(
            {
                "@context": [
                    "https://www.w3.org/ns/did/v1",
                    "https://w3id.org/security/multikey/v1",
                ],
                "id": did,
                "alsoKnownAs": [f"at://{account.username}"],
                "verificationMethod": [
                    {
                        "id": f"{did}#atproto",
                        "type": "Multikey",
                        "controller": did,
                        "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
                    }
                ],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": ctx.base_url,
                    }
                ],
            }
        )

    @route("POST", "/xrpc/com.atproto.server.refreshSession", "refresh_session")
    async def refresh_session(self, ctx: Ctx) -> Response:
        account = self._auth(ctx, kind="refresh")
        check = ctx.state.check_token("bluesky", ctx.bearer(), kind="refresh")
        assert check.token is not None
        check.token.revoked = True  # rotation: the old refresh token is revoked
        self.count(ctx, ("ip",), 3000, 300)
        access, refresh = issue_session(ctx.state, account)
        return json_response(self._session_body(ctx, account, access, refresh))

    @route("POST", "/xrpc/com.atproto.repo.createRecord", "create")
    async def create_record(self, ctx: Ctx) -> Response:
        account = self._auth(ctx)
        self.count(ctx, ("write", account.key), 5000, 3600, cost=3)
        if ctx.body_kind != "json" or not isinstance(ctx.body, dict):
            raise Reply(xrpc_error(400, "InvalidRequest", "Request body must be a JSON object"))
        body = ctx.body
        for name in ("repo", "collection", "record"):
            if name not in body:
                raise Reply(
                    xrpc_error(400, "InvalidRequest", f'Input must have the property "{name}"')
                )
        repo = body["repo"]
        if repo not in (account.key, account.username):
            raise Reply(xrpc_error(400, "InvalidRequest", f"Invalid repo: {repo}"))
        collection = body["collection"]
        record = body["record"]
        if not isinstance(record, dict):
            raise Reply(xrpc_error(400, "InvalidRequest", "Input/record must be an object"))
        record = dict(record)
        validate = body.get("validate", True) is not False
        if "$type" not in record:
            record["$type"] = collection
        if validate and record["$type"] != collection:
            raise Reply(
                xrpc_error(
                    400,
                    "InvalidRequest",
                    f"Invalid $type: expected {collection}, got {record['$type']}",
                )
            )
        if validate and collection == POST_COLLECTION:
            self._validate_post(record)
        blobs = self._embedded_blobs(ctx, account, record)
        store = self.store(ctx)
        if "rkey" in body:
            rkey = body["rkey"]
            if not isinstance(rkey, str):
                raise Reply(xrpc_error(400, "InvalidRequest", "Input/rkey must be a string"))
            if not _RKEY_RE.match(rkey) or rkey in (".", ".."):
                raise Reply(xrpc_error(400, "InvalidRequest", f"Invalid record key: {rkey}"))
        else:
            rkey = ctx.state.tid()
        uri = f"at://{account.key}/{collection}/{rkey}"
        if (account.key, collection, rkey) in store["records"]:
            if int(ctx.state.config.get("bluesky_existing_rkey_status", 500)) >= 500:
                raise Reply(xrpc_error(500, "InternalServerError", "Internal Server Error"))
            raise Reply(xrpc_error(400, "InvalidRequest", f"Record already exists: {uri}"))
        commit = store["commits"].get(account.key)
        swap = body.get("swapCommit")
        if swap is not None and (commit is None or swap != commit["cid"]):
            current = commit["cid"] if commit else "null"
            raise Reply(xrpc_error(400, "InvalidSwap", f"Commit was at {current}"))
        cid = fake_cid(record)
        rev = ctx.state.tid()
        commit = {"cid": fake_cid({"uri": uri, "rev": rev}), "rev": rev}
        store["commits"][account.key] = commit
        store["records"][(account.key, collection, rkey)] = {
            "uri": uri,
            "cid": cid,
            "value": record,
        }
        for blob in blobs:
            blob.attached_to = uri
        if collection == POST_COLLECTION:
            ctx.state.add_post(
                Post(
                    network="bluesky",
                    id=uri,
                    account=account.key,
                    username=account.username,
                    text=str(record.get("text", "")),
                    created_at=ctx.state.now(),
                    url=f"https://bsky.app/profile/{account.username}/post/{rkey}",
                    details={"uri": uri, "cid": cid, "rkey": rkey, "record": record},
                )
            )
        return json_response(
            {
                "uri": uri,
                "cid": cid,
                "commit": commit,
                "validationStatus": "valid"
                if validate and collection == POST_COLLECTION
                else "unknown",
            }
        )

    # -- blobs (com.atproto.repo.uploadBlob; lexicons app.bsky.embed.images / .video) --------

    @route("POST", "/xrpc/com.atproto.repo.uploadBlob", "upload_blob", streamed=True)
    async def upload_blob(self, ctx: Ctx) -> Response:
        """The raw bytes with their ``Content-Type``; answers the blob reference (a CIDv1,
        raw codec, sha2-256). Nothing is processed: an image blob is usable at once."""
        account = self._auth(ctx)
        received = await read_raw(ctx.request)
        ctx.entry["body"] = {"size": received.size, "sha256": received.sha256}
        if received.size == 0:
            raise Reply(xrpc_error(400, "InvalidRequest", "Request body is empty"))
        mime = received.content_type.split(";")[0].strip() or "application/octet-stream"
        cid = blob_cid(bytes.fromhex(received.sha256))
        upload = Upload(
            network="bluesky",
            id=f"{account.key}/{cid}",
            account=account.key,
            media_type=mime,
            created_at=ctx.state.now(),
            details={"cid": cid},
        )
        complete(ctx.state, upload, received, processes=False, fault=media_fault(ctx.fault))
        media_store(ctx.state).add(upload)
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": received.size}
        return json_response({"blob": blob})

    def _embedded_blobs(self, ctx: Ctx, account: Account, record: dict[str, Any]) -> list[Upload]:
        """The uploads an embed refers to: each must be a blob this repo uploaded (the PDS
        refuses others), images at most 1,000,000 bytes and ``image/*`` (the lexicon)."""
        embed = record.get("embed")
        if not isinstance(embed, dict):
            return []
        prefix = f"Invalid {POST_COLLECTION} record: "
        kind = embed.get("$type")
        if kind == "app.bsky.embed.images":
            images = embed.get("images")
            if not isinstance(images, list) or not 1 <= len(images) <= 4:
                raise Reply(
                    xrpc_error(
                        400, "InvalidRequest", prefix + "Record/embed/images must have 1-4 items"
                    )
                )
            refs = []
            for index, image in enumerate(images):
                where = f"Record/embed/images/{index}"
                if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
                    raise Reply(
                        xrpc_error(
                            400, "InvalidRequest", prefix + f'{where} must have the property "alt"'
                        )
                    )
                self._aspect(image.get("aspectRatio"), prefix + where)
                refs.append((where + "/image", image.get("image"), "image/", 1_000_000))
        elif kind == "app.bsky.embed.video":
            if not isinstance(embed.get("alt", ""), str):
                raise Reply(
                    xrpc_error(400, "InvalidRequest", prefix + "Record/embed/alt must be a string")
                )
            self._aspect(embed.get("aspectRatio"), prefix + "Record/embed")
            # maxSize of the lexicon as published now (the copy the reference read: 50 MB).
            refs = [("Record/embed/video", embed.get("video"), "video/mp4", 100_000_000)]
        else:
            return []
        found = []
        for where, blob, mime_prefix, max_size in refs:
            ref = blob.get("ref") if isinstance(blob, dict) else None
            cid = ref.get("$link") if isinstance(ref, dict) else None
            upload = media_store(ctx.state).get("bluesky", f"{account.key}/{cid}")
            if upload is None or upload.received is None:
                raise Reply(xrpc_error(400, "InvalidRequest", f"Could not find blob: {cid}"))
            if not upload.media_type.startswith(mime_prefix):
                raise Reply(
                    xrpc_error(400, "InvalidRequest", prefix + f"{where} has the wrong mime type")
                )
            if upload.received.size > max_size:
                raise Reply(
                    xrpc_error(
                        400,
                        "InvalidRequest",
                        prefix + f"{where} file too large: {upload.received.size} > {max_size}",
                    )
                )
            found.append(upload)
        return found

    @staticmethod
    def _aspect(value: Any, where: str) -> None:
        if value is None:
            return
        ok = isinstance(value, dict) and all(
            isinstance(value.get(k), int) and not isinstance(value.get(k), bool) and value[k] >= 1
            for k in ("width", "height")
        )
        if not ok:
            raise Reply(
                xrpc_error(
                    400, "InvalidRequest", f"{where}/aspectRatio needs width and height >= 1"
                )
            )

    @staticmethod
    def _validate_post(record: dict[str, Any]) -> None:
        prefix = f"Invalid {POST_COLLECTION} record: "
        text = record.get("text")
        if not isinstance(text, str):
            raise Reply(
                xrpc_error(400, "InvalidRequest", prefix + 'Record must have the property "text"')
            )
        created_at = record.get("createdAt")
        if not isinstance(created_at, str):
            raise Reply(
                xrpc_error(
                    400, "InvalidRequest", prefix + 'Record must have the property "createdAt"'
                )
            )
        if not _DATETIME_RE.match(created_at):
            raise Reply(
                xrpc_error(
                    400,
                    "InvalidRequest",
                    prefix + "Record/createdAt must be an valid atproto datetime",
                )
            )
        if len(text.encode("utf-8")) > MAX_BYTES:
            raise Reply(
                xrpc_error(
                    400,
                    "InvalidRequest",
                    prefix + f"Record/text must not be longer than {MAX_BYTES} characters",
                )
            )
        if grapheme_count(text) > MAX_GRAPHEMES:
            raise Reply(
                xrpc_error(
                    400,
                    "InvalidRequest",
                    prefix + f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes",
                )
            )
        BlueskyModel._validate_facets(record.get("facets"), prefix)
        langs = record.get("langs")
        if langs is not None:
            if not isinstance(langs, list) or len(langs) > 3:
                size = len(langs) if isinstance(langs, list) else 0
                raise Reply(
                    xrpc_error(
                        400,
                        "InvalidRequest",
                        prefix + f"array too big (maximum 3, got {size}) at $.record.langs",
                    )
                )
            for n, lang in enumerate(langs):
                if not isinstance(lang, str) or not _BCP47_RE.match(lang):
                    raise Reply(
                        xrpc_error(
                            400,
                            "InvalidRequest",
                            prefix + f'Invalid language (got "{lang}") at $.record.langs[{n}]',
                        )
                    )

    @staticmethod
    def _validate_facets(facets: Any, prefix: str) -> None:
        """As the PDS: URIs, DIDs and tag sizes are checked; byte offsets are not."""
        if facets is None:
            return
        for n, facet in enumerate(facets if isinstance(facets, list) else []):
            features = facet.get("features") if isinstance(facet, dict) else None
            for m, feature in enumerate(features if isinstance(features, list) else []):
                where = f"at $.record.facets[{n}].features[{m}]"
                kind = feature.get("$type") if isinstance(feature, dict) else None
                if kind == "app.bsky.richtext.facet#link":
                    uri = feature.get("uri")
                    if not isinstance(uri, str) or not _URI_RE.match(uri):
                        message = f'Invalid uri (got "{uri}") {where}.uri'
                        raise Reply(xrpc_error(400, "InvalidRequest", prefix + message))
                elif kind == "app.bsky.richtext.facet#mention":
                    did = feature.get("did")
                    if not isinstance(did, str) or not _DID_RE.match(did):
                        message = f'Invalid DID (got "{did}") {where}.did'
                        raise Reply(xrpc_error(400, "InvalidRequest", prefix + message))
                elif kind == "app.bsky.richtext.facet#tag":
                    tag = feature.get("tag")
                    size = grapheme_count(tag) if isinstance(tag, str) else 0
                    if size > 64:
                        message = f"grapheme too big (maximum 64, got {size}) {where}.tag"
                        raise Reply(xrpc_error(400, "InvalidRequest", prefix + message))

    @route("GET", "/xrpc/com.atproto.identity.resolveHandle", "resolve_handle")
    async def resolve_handle(self, ctx: Ctx) -> Response:
        if ctx.header("authorization"):
            self._auth(ctx)
        self.count(ctx, ("ip",), 3000, 300)
        handle = ctx.query.get("handle")
        if not handle:
            raise Reply(xrpc_error(400, "InvalidRequest", 'Params must have the property "handle"'))
        if not _HANDLE_RE.match(handle):  # the reference PDS fails on a malformed handle
            raise Reply(xrpc_error(500, "InternalServerError", "Internal Server Error"))
        account = ctx.state.find_account("bluesky", handle.lower())
        if account is None:
            raise Reply(xrpc_error(400, "InvalidRequest", "Unable to resolve handle"))
        return json_response({"did": account.key})

    @route("GET", "/xrpc/com.atproto.repo.getRecord", "get")
    async def get_record(self, ctx: Ctx) -> Response:
        if ctx.header("authorization"):
            self._auth(ctx)
        self.count(ctx, ("ip",), 3000, 300)
        for name in ("repo", "collection", "rkey"):
            if not ctx.query.get(name):
                raise Reply(
                    xrpc_error(400, "InvalidRequest", f'Params must have the property "{name}"')
                )
        repo, collection, rkey = ctx.query["repo"], ctx.query["collection"], ctx.query["rkey"]
        account = ctx.state.find_account("bluesky", repo)
        if account is None:
            raise Reply(xrpc_error(400, "InvalidRequest", f"Could not find repo: {repo}"))
        record = self.store(ctx)["records"].get((account.key, collection, rkey))
        uri = f"at://{account.key}/{collection}/{rkey}"
        wanted_cid = ctx.query.get("cid")
        if record is None or (wanted_cid and wanted_cid != record["cid"]):
            raise Reply(xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}"))
        return json_response({"uri": record["uri"], "cid": record["cid"], "value": record["value"]})
