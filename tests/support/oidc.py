"""A tiny OIDC identity provider for the tests: a JWKS served over HTTP on 127.0.0.1 and RS256
tokens signed with its key (plus a second key the JWKS does not hold, for forgeries).

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://idp.phiguard.test"
AUDIENCE = "phiguard-test"
KID = "test-key-1"


class IdentityProvider:
    """`with IdentityProvider() as idp:` serves `idp.jwks_url`; `idp.token(...)` signs."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.jwks_url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> IdentityProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def token(
        self,
        sub: str = "dr-reviewer",
        scope: str | None = "mask",
        *,
        audience: str = AUDIENCE,
        issuer: str = ISSUER,
        expires_in: float = 300,
        forged: bool = False,
        kid: str = KID,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "aud": audience,
            "iss": issuer,
            "iat": now,
            "exp": now + int(expires_in),
        }
        if scope is not None:
            claims["scope"] = scope
        key = self.forger if forged else self.key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def args(self) -> tuple[str, ...]:
        """The `phiguard serve` options that trust this provider."""
        return (
            "--oidc-jwks-url",
            self.jwks_url,
            "--oidc-issuer",
            ISSUER,
            "--oidc-audience",
            AUDIENCE,
            "--oidc-scope-prefix",
            "phiguard:",
        )
