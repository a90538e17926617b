"""The endpoints: /v1 (JSON, one scope each, checked by the gate) and the open probes.

Each /v1 route validates its body, runs one engine operation and renders the library's
`Result`s: `{"text": ...}` answers one note (its error is the response's status), `{"records":
[...]}` answers a batch in order, where a record's own failure (bad input, tokens the vault
does not hold) is reported in its place and any service failure fails the whole request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from phiguard.errors import Failure
from phiguard.resolve import merge
from phiguard.run.records import DeidResult, Result
from phiguard.serve import metrics
from phiguard.serve.engine import Engine, resolver_for
from phiguard.serve.responses import NO_STORE, ApiError
from phiguard.serve.schemas import (
    DeidentifyRequest,
    DetectRequest,
    ErrorBody,
    MaskRequest,
    NoteOut,
    ReidentifyRequest,
    SurrogateRequest,
)
from phiguard.spans import Span
from phiguard.transform import mask

#: (method, path) → the scope it needs; None: any authenticated caller. Read by the gate.
SCOPES: dict[tuple[str, str], str | None] = {}
READY_WAIT_S = 5.0

api = APIRouter(prefix="/v1")  # credentials are checked by the gate, before FastAPI
probes = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what}
    for code, what in {
        400: "invalid JSON",
        401: "no, unknown or revoked credentials",
        403: "the credential lacks the scope",
        409: "re-identification incomplete: tokens the vault does not hold for this note",
        413: "body over the limit",
        415: "not application/json",
        422: "the body does not match the schema, or a note is not valid text",
        429: "too many failed authentications from this address",
        503: "detector, vault or key unavailable, or the request timed out: nothing released",
    }.items()
}


def _route(path: str, scope: str | None, method: str = "POST") -> str:
    SCOPES[(method, api.prefix + path)] = scope
    return path


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=NO_STORE)


def _spans(spans: tuple[Span, ...] | list[Span], text: str | None = None) -> list[Any]:
    return [s.to_dict(text) for s in spans]


def _record_error(failure: Failure) -> dict[str, Any]:
    err = ApiError.of_failure(failure)
    return {"status": err.status, "code": err.code, "message": err.message}


def _answer(
    operation: str,
    batch: bool,
    results: list[Result[Any]],
    render: Callable[[Result[Any]], dict[str, Any]],
) -> JSONResponse:
    ok = [r for r in results if r.error is None]
    metrics.NOTES.labels(operation, "ok").inc(len(ok))
    if len(ok) < len(results):
        metrics.NOTES.labels(operation, "failed").inc(len(results) - len(ok))
    for r in ok:
        for s in r.spans:
            metrics.SPANS.labels(operation, s.type).inc()
    if not batch:
        r = results[0]
        if r.error is not None:
            raise ApiError.of_failure(r.error)
        return _json(render(r))
    records = [
        {"id": r.id, **render(r)}
        if r.error is None
        else {"id": r.id, "error": _record_error(r.error)}
        for r in results
    ]
    return _json({"records": records})


def _batch_size(request: Request, body: Any) -> None:
    limit = request.app.state.settings.max_records
    if body.records is not None and len(body.records) > limit:
        raise ApiError(422, "too_many_records", f"at most {limit} records per request")


# -- /v1 ---------------------------------------------------------------------------------------


@api.post(_route("/detect", "detect"), response_model=NoteOut, responses=_ERRORS)
async def detect(request: Request, body: DetectRequest) -> JSONResponse:
    """PHI spans: offsets (Python str indices, i.e. code points), type, score, source. Scope
    `detect`; `include_text` (the spans' text, which is PHI) needs `reid` as well."""
    _batch_size(request, body)
    if body.include_text and not request.state.principal.allows("reid"):
        raise ApiError(403, "forbidden", "include_text needs the 'reid' scope")
    engine = _engine(request)
    items = body.items()
    results = await engine.shared(engine.detect, items, resolver_for(engine.config.resolver, body))

    def render(r: Result[Any]) -> dict[str, Any]:
        return {"spans": _spans(r.spans, items[r.index].text if body.include_text else None)}

    return _answer("detect", body.records is not None, results, render)


@api.post(_route("/mask", "mask"), response_model=NoteOut, responses=_ERRORS)
async def mask_notes(request: Request, body: MaskRequest) -> JSONResponse:
    """Masked text: `#` per character (`style: hash`) or `[TYPE]` (`label`). Scope `mask`.
    With `spans`, those exact spans are masked and nothing is detected."""
    _batch_size(request, body)
    if body.spans is not None:
        return _mask_given(body)
    engine = _engine(request)
    results = await engine.shared(
        engine.mask, body.items(), resolver_for(engine.config.resolver, body), body.style
    )
    return _answer(
        "mask",
        body.records is not None,
        results,
        lambda r: {"text": r.value, "spans": _spans(r.spans)},
    )


def _mask_given(body: MaskRequest) -> JSONResponse:
    if body.text is None or body.spans is None:
        raise ApiError(422, "input_invalid", "'spans' goes with one 'text', not 'records'")
    for i, s in enumerate(body.spans):
        if not s.start < s.end <= len(body.text):
            raise ApiError(
                422,
                "input_invalid",
                f"span {i} ({s.start}..{s.end}) is not inside the text (length {len(body.text)})",
            )
    spans = merge(Span(s.start, s.end, s.type, 1.0, "review") for s in body.spans)
    metrics.NOTES.labels("mask", "ok").inc()
    return _json({"text": mask(body.text, spans, body.style), "spans": _spans(spans)})


@api.post(_route("/deidentify", "deid"), response_model=NoteOut, responses=_ERRORS)
async def deidentify(request: Request, body: DeidentifyRequest) -> JSONResponse:
    """De-identified text: each PHI occurrence becomes a salted SHA3-256 token whose value is
    stored encrypted in the vault **before** the answer is sent. Scope `deid`."""
    _batch_size(request, body)
    engine = _engine(request)
    results = await engine.call(
        engine.deidentify, body.items(), resolver_for(engine.config.resolver, body)
    )
    return _answer(
        "deid",
        body.records is not None,
        results,
        _deidentified,
    )


def _deidentified(r: Result[Any]) -> dict[str, Any]:
    value: DeidResult = r.unwrap()
    return {"text": value.text, "message_hash": value.message_hash, "spans": _spans(r.spans)}


@api.post(_route("/surrogate", "surrogate"), response_model=NoteOut, responses=_ERRORS)
async def surrogate(request: Request, body: SurrogateRequest) -> JSONResponse:
    """Realistic surrogates, dates shifted by the patient's offset (`patient_id`, per request
    or per record; each note alone without one). The mapping is stored in the vault before
    the answer is sent, so `/v1/reidentify` gives the exact input back. Scope `surrogate`."""
    _batch_size(request, body)
    engine = _engine(request)
    results = await engine.call(
        engine.surrogate, body.items(), resolver_for(engine.config.resolver, body)
    )
    return _answer("surrogate", body.records is not None, results, _deidentified)


@api.post(_route("/reidentify", "reid"), response_model=NoteOut, responses=_ERRORS)
async def reidentify(request: Request, body: ReidentifyRequest) -> JSONResponse:
    """The original text, exactly. Scope `reid`. Each note's audit record (actor: the key's
    name or the token's subject) is stored before its text is returned; no record, no text."""
    _batch_size(request, body)
    engine = _engine(request)
    actor: str = request.state.principal.actor
    results = await engine.call(engine.reidentify, body.items(), actor)
    return _answer("reid", body.records is not None, results, lambda r: {"text": r.value})


@api.get(_route("/audit", "audit", "GET"), responses=_ERRORS)
async def audit(request: Request, limit: int = Query(1000, ge=1, le=100_000)) -> JSONResponse:
    """The latest re-identification audit records (time, actor, message hashes, number of
    values revealed; never a value). Scope `audit`."""
    engine = _engine(request)
    records = await engine.call(engine.audit)
    return _json({"records": [r.to_dict() for r in records[-limit:]]})


@api.get(_route("/me", None, "GET"), responses=_ERRORS)
async def me(request: Request) -> JSONResponse:
    """Who this credential is and what it may do (the review page asks)."""
    principal = request.state.principal
    return _json({"actor": principal.actor, "scopes": sorted(principal.scopes)})


# -- probes (no credentials: they hold no data) --------------------------------------------------


@probes.get("/healthz")
async def healthz() -> JSONResponse:
    """The process is up and its event loop answers."""
    return _json({"status": "ok"})


@probes.get("/readyz", responses={503: {"description": "model not loaded or vault unreachable"}})
async def readyz(request: Request) -> JSONResponse:
    """The model is loaded and the vault answers; 503 otherwise (or while busy for 5 s)."""
    engine = _engine(request)
    try:
        state = await asyncio.wait_for(engine.call(engine.ready), READY_WAIT_S)
    except (TimeoutError, ApiError):
        state = {"model": engine.model_ready, "vault": None, "reason": "busy"}
    ready = bool(state.get("model") and state.get("vault"))
    return _json({"ready": ready, **state}, 200 if ready else 503)


@probes.get("/metrics", response_class=Response)
async def prometheus() -> Response:
    """Prometheus metrics: counts, types and latencies; no text, ids or keys."""
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
