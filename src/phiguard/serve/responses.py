"""Errors → HTTP statuses and JSON bodies that quote nothing the caller sent, never a traceback.

Every error body is `{"error": {"status", "code", "message", "request_id"}}` (validation
errors add `details`: where and what, never the offending value). The library's errors map by
class (their messages are PHI-free by contract):

| error | status | code |
|---|---|---|
| InputError | 422 | input_invalid |
| ReidentificationError | 409 | reid_incomplete |
| DetectionError | 503 | detector_unavailable |
| VaultError | 503 | vault_unavailable |
| EncryptionKeyError | 503 | key_unavailable |
| ConfigError, OutputError, any other | 500 | server_error |
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from phiguard.errors import (
    DetectionError,
    EncryptionKeyError,
    Failure,
    InputError,
    PhiguardError,
    ReidentificationError,
    VaultError,
)

#: Library error class name → (HTTP status, error code).
BY_KIND: dict[str, tuple[int, str]] = {
    InputError.__name__: (422, "input_invalid"),
    ReidentificationError.__name__: (409, "reid_incomplete"),
    DetectionError.__name__: (503, "detector_unavailable"),
    VaultError.__name__: (503, "vault_unavailable"),
    EncryptionKeyError.__name__: (503, "key_unavailable"),
}
SERVER_ERROR = (500, "server_error")
#: Failures that are one record's own (the rest of a batch is still answered); any other
#: failure is the service's and fails the whole request, releasing nothing.
RECORD_KINDS = frozenset({InputError.__name__, ReidentificationError.__name__})
NO_STORE = {"cache-control": "no-store"}


class ApiError(Exception):
    """An error with its status, raised anywhere below a route; `message` must be PHI-free."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})
        self.details = details

    @classmethod
    def of(cls, exc: PhiguardError) -> ApiError:
        return cls.of_failure(Failure.of(exc))

    @classmethod
    def of_failure(cls, failure: Failure) -> ApiError:
        status, code = BY_KIND.get(failure.kind, SERVER_ERROR)
        message = failure.message if failure.known and status != 500 else _server_message(failure)
        headers = {"retry-after": "5"} if status == 503 else None
        return cls(status, code, message, headers=headers)


def _server_message(failure: Failure) -> str:
    if failure.known and failure.message:
        return f"the server could not do this ({failure.kind}: {failure.message})"
    return f"internal error ({failure.kind}); nothing was released"


def error_document(
    status: int,
    code: str,
    message: str,
    request_id: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if request_id:
        body["request_id"] = request_id
    if details:
        body["details"] = details
    return {"error": body}


def error_bytes(status: int, code: str, message: str, request_id: str | None = None) -> bytes:
    doc = error_document(status, code, message, request_id)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


async def send_error(
    send: Any,
    status: int,
    code: str,
    message: str,
    *,
    request_id: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """An error straight from ASGI middleware (before any route ran)."""
    body = error_bytes(status, code, message, request_id)
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *((k.encode(), v.encode()) for k, v in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def clean_details(errors: Sequence[Any], known_fields: frozenset[str]) -> list[dict[str, Any]]:
    """Validation errors reduced to location, message and type. Locations keep list indices
    and the schema's own field names only: a misspelt key could be a patient's name."""
    out = []
    for e in errors[:20]:
        loc = [
            p if isinstance(p, int) or p in known_fields else "<unknown field>"
            for p in e.get("loc", ())
        ]
        out.append({"loc": loc, "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))})
    return out
