"""The ASGI app: `create_app(settings)`, or `app_from_env()` in a uvicorn worker process.

Layers, outermost first: lifespan (load the model once per process, open the vault; a
failure ends startup with one line, no traceback) → access log and metrics (and the last
catch for any exception) → the gate (auth, scopes, media type, body limit) → FastAPI (routes,
validation, error bodies).
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from phiguard.errors import PhiguardError
from phiguard.logs import configure_logging
from phiguard.serve import metrics
from phiguard.serve.accesslog import AccessLog, where
from phiguard.serve.auth import Authenticator, FailureLimiter
from phiguard.serve.engine import Engine
from phiguard.serve.gate import Gate
from phiguard.serve.responses import NO_STORE, ApiError, clean_details, error_document
from phiguard.serve.review import page
from phiguard.serve.routes import SCOPES, api, probes
from phiguard.serve.schemas import field_names
from phiguard.serve.settings import ServeSettings

log = logging.getLogger("phiguard.serve")

DESCRIPTION = """Find PHI in clinical notes; mask it, de-identify it into vault-backed tokens,
and re-identify it for authorized callers. Every /v1 call needs `Authorization: Bearer KEY`
(an API key from `phiguard api-key add`, or an OIDC token) holding the endpoint's scope.
Offsets are Python str indices (Unicode code points). See docs/serve.md."""


class Lifespan:
    """ASGI lifespan handled here, so a startup failure is reported as one PHI-free line."""

    def __init__(self, app: Any, engine: Engine) -> None:
        self.app, self.engine = app, engine

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.engine.start()
                except Exception as exc:
                    reason = str(exc) if isinstance(exc, PhiguardError) else where(exc)
                    await send(
                        {
                            "type": "lifespan.startup.failed",
                            "message": f"phiguard: error: startup failed: {type(exc).__name__}: "
                            f"{reason}",
                        }
                    )
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.engine.stop()
                metrics.process_exited(os.getpid())
                await send({"type": "lifespan.shutdown.complete"})
                return


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _error(request: Request, err: ApiError) -> JSONResponse:
    doc = error_document(err.status, err.code, err.message, _request_id(request), err.details)
    return JSONResponse(doc, status_code=err.status, headers={**NO_STORE, **err.headers})


def _install_handlers(app: FastAPI) -> None:
    known = field_names()

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _error(request, exc)

    async def library_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PhiguardError)
        return _error(request, ApiError.of(exc))

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(request, ApiError(400, "invalid_json", "the body is not valid JSON"))
        details = clean_details(errors, known)
        return _error(
            request,
            ApiError(422, "invalid_request", "the body does not match the schema", details=details),
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return _error(request, ApiError(exc.status_code, code, message))

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        message = f"internal error ({type(exc).__name__}); nothing was released"
        return _error(request, ApiError(500, "server_error", message))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(PhiguardError, library_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def _openapi(app: FastAPI) -> None:
    """The OpenAPI document, with the bearer scheme on every /v1 operation (declared here,
    not as a FastAPI dependency: the gate checks credentials before FastAPI runs)."""
    from fastapi.openapi.utils import get_openapi

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            doc.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (phg_…) from `phiguard api-key add`, or an "
                    "OIDC token.",
                }
            }
            for path, operations in doc["paths"].items():
                if path.startswith("/v1/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def _version() -> str:
    try:
        return version("phiguard")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def create_app(settings: ServeSettings) -> Any:
    """The whole server for `settings`, as an ASGI callable."""
    engine = Engine(settings.config, timeout=settings.timeout)
    app = FastAPI(
        title="phiguard",
        version=_version(),
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.engine = engine
    app.state.settings = settings
    app.include_router(api)
    app.include_router(probes)
    app.include_router(page)
    _install_handlers(app)
    _openapi(app)
    paths = {r.path for router in (api, probes, page) for r in router.routes if hasattr(r, "path")}
    paths |= {"/openapi.json", "/docs", "/docs/oauth2-redirect"}
    gate = Gate(
        app,
        authenticator=Authenticator(
            Path(settings.api_keys) if settings.api_keys else None, settings.oidc
        ),
        limiter=FailureLimiter(settings.auth_failures, settings.auth_window),
        scopes=SCOPES,
        max_body=settings.max_body,
    )
    return Lifespan(AccessLog(gate, routes=lambda: paths, enabled=settings.access_log), engine)


def configure(settings: ServeSettings) -> None:
    """Logging for a server process: phiguard's PHI-safe setup, plus the access log and
    uvicorn's start/stop lines."""
    configure_logging(debug=settings.debug)
    logging.getLogger("phiguard.serve").setLevel(logging.DEBUG if settings.debug else logging.INFO)
    logging.getLogger("phiguard.serve.access").setLevel(
        logging.INFO if settings.access_log else logging.WARNING
    )
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)


def app_from_env() -> Any:
    """uvicorn's factory in each worker process (settings from the parent's environment)."""
    settings = ServeSettings.from_env()
    configure(settings)
    return create_app(settings)
