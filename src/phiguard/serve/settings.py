"""What a server worker process needs to build the app, in one frozen, picklable value.

uvicorn starts each worker as a fresh process (spawn) that imports `phiguard.serve.app`; the
parent hands it the settings through one environment variable (a pickle, base64). The
environment is the parent's own, so this crosses no trust boundary, and `Config` holds no
secret: keys are named by where they come from, never carried.
"""

from __future__ import annotations

import base64
import os
import pickle
from dataclasses import dataclass, field

from phiguard.config import Config
from phiguard.errors import ConfigError, Hint

ENV = "PHIGUARD_SERVE_SETTINGS"
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """Bearer JWTs verified against a JWKS; `scopes_claim` holds the scopes (a space-separated
    string, as OAuth's `scope`, or a list, as `roles`), each optionally behind `scope_prefix`."""

    jwks_url: str
    issuer: str | None = None
    audience: str | None = None
    scopes_claim: str = "scope"
    scope_prefix: str = ""
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway: float = 30.0


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """The pipeline (`config`) and the HTTP layer's limits.

    `max_body`: request bytes (413 above it, before the body is read). `timeout`: seconds a
    request may take, queueing included (503 after it, nothing released). `max_records`:
    records per batch request. `auth_failures` failed authentications per `auth_window`
    seconds and client address before 429.
    """

    config: Config = field(default_factory=Config)
    api_keys: str | None = None
    oidc: OidcSettings | None = None
    max_body: int = 10 * MB
    timeout: float = 30.0
    max_records: int = 1000
    auth_failures: int = 10
    auth_window: float = 60.0
    access_log: bool = True
    debug: bool = False

    def __post_init__(self) -> None:
        if self.max_body < 1024:
            raise ConfigError("the body limit must be at least 1 KB")
        if self.timeout <= 0 or self.max_records < 1:
            raise ConfigError("timeout and max records must be positive")
        if self.auth_failures < 1 or self.auth_window <= 0:
            raise ConfigError("the failed-authentication limit must be positive")
        if self.config.store.store == "memory":
            raise ConfigError(
                "phiguard serve needs a vault that outlives a request and is shared by the "
                "worker processes",
                hint=Hint.STORE,
            )
        if self.config.run.workers != 1:
            raise ConfigError(
                "server workers are processes; detection runs inline in each (run workers: 1)"
            )

    def to_env(self) -> str:
        return base64.b64encode(pickle.dumps(self)).decode("ascii")

    @classmethod
    def from_env(cls) -> ServeSettings:
        raw = os.environ.get(ENV)
        if not raw:
            raise ConfigError(f"{ENV} is not set: start the server with `phiguard serve`")
        value = pickle.loads(base64.b64decode(raw))
        if not isinstance(value, cls):
            raise ConfigError(f"{ENV} does not hold server settings")
        return value
