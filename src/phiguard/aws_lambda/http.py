"""The HTTP function: the `phiguard serve` ASGI app behind API Gateway, through Mangum.

API Gateway (IAM auth, SigV4) turns each request into a Lambda event; Mangum turns the event
into an ASGI request for the app `phiguard.serve.app.create_app(settings)` builds, and its
response back into API Gateway's shape. The app is built once per container, from the same
environment as the other functions (`environment.config_from_env`), so routes, scopes, error
bodies and the fail-closed order are the server's own. `PHIGUARD_API_KEYS` names the server's
hashed API-key file (its own bearer auth applies behind IAM auth); the request timeout is the
function's remaining time at the first request, less the deadline margin.

Built against the entry point `create_app(ServeSettings(config=...))` of `phiguard.serve`;
both are imported when the first request arrives, so the other handlers need neither FastAPI
nor Mangum.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from phiguard.aws_lambda.environment import config_from_env
from phiguard.aws_lambda.runtime import current_deadline, lambda_handler
from phiguard.errors import ConfigError

_adapter: Any = None


def _build() -> Any:
    try:
        app_module = importlib.import_module("phiguard.serve.app")
        settings_module = importlib.import_module("phiguard.serve.settings")
        mangum = importlib.import_module("mangum")
    except ImportError as exc:
        raise ConfigError(
            f"the HTTP function needs phiguard serve and Mangum ({exc.name} is missing): "
            "pip install 'phiguard[lambda,serve]'"
        ) from None
    deadline = current_deadline()
    left = deadline.remaining_ms()
    options: dict[str, Any] = {"config": config_from_env()}
    if left is not None:
        options["timeout"] = max(1.0, (left - deadline.margin_ms) / 1000)
    if os.environ.get("PHIGUARD_API_KEYS"):
        options["api_keys"] = os.environ["PHIGUARD_API_KEYS"]
    settings = settings_module.ServeSettings(**options)
    return mangum.Mangum(app_module.create_app(settings), lifespan="auto")


@lambda_handler
def http(event: Any, context: Any) -> Any:
    """One API Gateway request through the server."""
    global _adapter
    if _adapter is None:
        _adapter = _build()
    return _adapter(event, context)
