"""The gate in front of /v1: who is calling and may they, before a byte of the body is read.

In order, for every path under /v1/:

1. an address with too many recent failed authentications → 429 (Retry-After);
2. no, malformed, unknown or revoked credentials → 401 (counted as a failure);
3. a route whose scope the caller lacks → 403;
4. a body that is not `application/json` (UTF-8) → 415;
5. a declared Content-Length over the limit → 413 without reading the body; a body that
   grows past the limit while streaming → 413 as soon as it does (the rest is never read).

The body is then handed to the app whole. Everything outside /v1/ (health, metrics, docs,
the review page's static files) passes untouched: it holds no data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio

from phiguard.serve import metrics
from phiguard.serve.auth import Authenticator, AuthError, FailureLimiter, Principal
from phiguard.serve.responses import send_error

ASGIApp = Callable[..., Any]
PROTECTED_PREFIX = "/v1/"
JSON_TYPES = ("application/json",)


class Gate:
    """ASGI middleware. `scopes` maps (method, path) to the scope it needs (None: any
    authenticated caller)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        limiter: FailureLimiter,
        scopes: Mapping[tuple[str, str], str | None],
        max_body: int,
    ) -> None:
        self.app = app
        self.auth = authenticator
        self.limiter = limiter
        self.scopes = scopes
        self.max_body = max_body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIX):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        rid = state.get("request_id")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = (scope.get("client") or ("unknown", 0))[0]

        wait = self.limiter.retry_after(client)
        if wait > 0:
            metrics.AUTH_FAILURES.labels("rate_limited").inc()
            await send_error(
                send,
                429,
                "too_many_failures",
                "too many failed authentications from this address; try again later",
                request_id=rid,
                headers=[("retry-after", str(int(wait) + 1))],
            )
            return
        try:
            principal = await self._authenticate(headers.get("authorization"))
        except AuthError as exc:
            self.limiter.failed(client)
            metrics.AUTH_FAILURES.labels("unauthenticated").inc()
            await send_error(
                send,
                401,
                "unauthenticated",
                exc.reason,
                request_id=rid,
                headers=[("www-authenticate", 'Bearer realm="phiguard"')],
            )
            return
        state["principal"] = principal
        needed = self.scopes.get((scope["method"], scope["path"]))
        if needed is not None and not principal.allows(needed):
            metrics.AUTH_FAILURES.labels("forbidden").inc()
            await send_error(
                send,
                403,
                "forbidden",
                f"this credential lacks the '{needed}' scope",
                request_id=rid,
            )
            return
        if scope["method"] in ("POST", "PUT", "PATCH"):
            body = await self._body(headers, receive, send, rid)
            if body is None:
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _authenticate(self, header: str | None) -> Principal:
        credential = Authenticator.bearer(header)
        if self.auth.needs_thread(credential):
            return await anyio.to_thread.run_sync(self.auth.authenticate, credential)
        return self.auth.authenticate(credential)

    async def _body(
        self, headers: dict[str, str], receive: Any, send: Any, rid: str | None
    ) -> bytes | None:
        """The whole body, or None once an error was sent (415, 413)."""
        media, _, params = headers.get("content-type", "").partition(";")
        charset = params.strip().lower().removeprefix("charset=").strip('"') if params else ""
        if media.strip().lower() not in JSON_TYPES or charset not in ("", "utf-8"):
            await send_error(
                send,
                415,
                "unsupported_media_type",
                "send the body as Content-Type: application/json (UTF-8)",
                request_id=rid,
            )
            return None
        too_large = (
            413,
            "body_too_large",
            f"the body is larger than the limit of {self.max_body} bytes",
        )
        close = [("connection", "close")]
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await send_error(send, *too_large, request_id=rid, headers=close)
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await send_error(send, *too_large, request_id=rid, headers=close)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    """A `receive` that hands the app the buffered body, then defers to the real one
    (for the disconnect)."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        message: dict[str, Any] = await receive()
        return message

    return replay
