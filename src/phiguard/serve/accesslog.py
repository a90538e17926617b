"""The outermost layer: request ids, the access log, request metrics, and the last catch.

The access log holds the client address, method, route, status, duration, response size, the
caller's actor name and the request id: never a body, a query string, or a path that is not one
of the app's routes (a stray path could hold anything). An exception that escapes the app is
logged by type and place only (its message may quote a note) and answered with a 500; it never
reaches uvicorn, whose traceback would print it.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from phiguard.serve import metrics
from phiguard.serve.responses import send_error

access = logging.getLogger("phiguard.serve.access")
log = logging.getLogger("phiguard.serve")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Request ids: a random per-process prefix and a counter (unique, and no syscall per request).
_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)

ASGIApp = Callable[..., Any]


def where(exc: BaseException) -> str:
    """`file.py:LINE` of the innermost frame: enough to find a bug, nothing of its data."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else "?"


class AccessLog:
    """ASGI middleware; `routes` are the app's own paths (everything else logs as "other")."""

    def __init__(self, app: ASGIApp, *, routes: Callable[[], set[str]], enabled: bool) -> None:
        self.app = app
        self.routes = routes
        self.enabled = enabled

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or f"{_PREFIX}-{next(_COUNTER):x}"
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        seen = {"status": 500, "bytes": 0, "started": False}

        async def tracked(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"], seen["started"] = message["status"], True
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                seen["bytes"] = int(seen["bytes"]) + len(message.get("body", b""))
            await send(message)

        started = time.perf_counter()
        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.error(
                "internal error %s at %s (request %s)", type(exc).__name__, where(exc), request_id
            )
            if not seen["started"]:
                await send_error(
                    tracked,
                    500,
                    "server_error",
                    f"internal error ({type(exc).__name__}); nothing was released",
                    request_id=request_id,
                )
        finally:
            metrics.IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            path = scope.get("path", "")
            route = path if path in self.routes() else "other"
            status = int(seen["status"])
            metrics.REQUESTS.labels(route, scope.get("method", ""), str(status)).inc()
            metrics.LATENCY.labels(route).observe(elapsed)
            if self.enabled:
                principal = state.get("principal")
                client = scope.get("client") or ("-", 0)
                access.info(
                    "%s %s %s %d %.1fms %dB actor=%s request=%s",
                    client[0],
                    scope.get("method", ""),
                    route if route != "other" else "(unmatched path)",
                    status,
                    elapsed * 1000,
                    seen["bytes"],
                    principal.actor if principal is not None else "-",
                    request_id,
                )


def _incoming_id(scope: dict[str, Any]) -> str | None:
    """A caller's X-Request-ID, kept only if it is a plain token (it is echoed and logged)."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None
