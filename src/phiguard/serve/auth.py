"""Who is calling: an API key from the key file, or an OIDC bearer token, → a `Principal`.

A Principal's `actor` is what the re-identification audit trail records: `api-key:NAME` or
`oidc:SUBJECT`. Failed authentications are counted per client address, and an address that
fails too often is refused (429) for a while, whether its next key is right or not, so that
guessing gets no answers.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phiguard.serve.apikeys import PREFIX, SCOPES, KeyRing
from phiguard.serve.settings import OidcSettings


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and what it may do."""

    actor: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class AuthError(Exception):
    """Authentication failed: `reason` is PHI-free and safe to return (401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OidcVerifier:
    """JWTs signed by a key of the JWKS at `jwks_url`, with issuer, audience and expiry
    checked; the JWKS is fetched on first use and cached (refetched for an unknown `kid`)."""

    def __init__(self, settings: OidcSettings) -> None:
        import jwt

        self.settings = settings
        self._jwt = jwt
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300, timeout=5)

    def verify(self, token: str) -> Principal:
        jwt, s = self._jwt, self.settings
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(s.algorithms),
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway,
                options={"require": ["exp", "sub"], "verify_aud": s.audience is not None},
            )
        except jwt.PyJWKClientConnectionError:
            raise AuthError("the token's signing keys could not be fetched (JWKS)") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token ({type(exc).__name__})") from None
        return Principal(f"oidc:{claims['sub']}", self._scopes(claims.get(s.scopes_claim)))

    def _scopes(self, value: object) -> frozenset[str]:
        items = value.split() if isinstance(value, str) else value
        if not isinstance(items, list):
            return frozenset()
        prefix = self.settings.scope_prefix
        names = {i[len(prefix) :] for i in items if isinstance(i, str) and i.startswith(prefix)}
        return frozenset(names & set(SCOPES))


class FailureLimiter:
    """At most `limit` failed authentications per `window` seconds per client address; past
    that the address is blocked until its oldest failure in the window expires. Memory is
    bounded (`max_clients`, least recently failing first out). Per worker process."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_clients: int = 65536,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.max_clients = limit, window, max_clients
        self._clock = clock
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Seconds until `client` may try again (0: it may now)."""
        with self._lock:
            times = self._recent(client)
            if len(times) < self.limit:
                return 0.0
            return max(0.0, times[-self.limit] + self.window - self._clock())

    def failed(self, client: str) -> None:
        with self._lock:
            times = self._recent(client)
            times.append(self._clock())
            self._failures[client] = times[-self.limit :]
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def _recent(self, client: str) -> list[float]:
        cutoff = self._clock() - self.window
        return [t for t in self._failures.get(client, ()) if t > cutoff]


class Authenticator:
    """Bearer credentials → Principal: `phg_…` API keys from the key file, else (with OIDC
    configured) JWTs. Raises AuthError with a reason that quotes nothing the caller sent."""

    def __init__(self, api_keys: Path | None, oidc: OidcSettings | None) -> None:
        self.keys = KeyRing(api_keys) if api_keys is not None else None
        self.oidc = OidcVerifier(oidc) if oidc is not None else None

    @staticmethod
    def bearer(header: str | None) -> str:
        if not header:
            raise AuthError("missing credentials: send Authorization: Bearer KEY")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthError("use the Bearer scheme: Authorization: Bearer KEY")
        return value.strip()

    def needs_thread(self, credential: str) -> bool:
        """Verifying a JWT may fetch the JWKS (blocking I/O): run it off the event loop."""
        return self.oidc is not None and not credential.startswith(PREFIX)

    def authenticate(self, credential: str) -> Principal:
        if credential.startswith(PREFIX):
            entry = self.keys.match(credential) if self.keys is not None else None
            if entry is None:
                raise AuthError("unknown or revoked API key")
            return Principal(f"api-key:{entry.name}", frozenset(entry.scopes))
        if self.oidc is not None and credential.count(".") == 2:
            return self.oidc.verify(credential)
        raise AuthError("unknown or revoked API key")
