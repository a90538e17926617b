"""`phiguard serve` and `phiguard api-key add|list|revoke`: options in, library calls out."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from phiguard.errors import ConfigError
from phiguard.serve import apikeys
from phiguard_cli import options
from phiguard_cli.options import consistent_option, detector_options, vault_options

api_keys_option = click.option(
    "--api-keys",
    "api_keys",
    type=click.Path(dir_okay=False),
    default=None,
    help="API key file (default $PHIGUARD_HOME/api-keys.json).",
)


def _keys_path(value: str | None) -> Path:
    return Path(value) if value else apikeys.default_path()


def _serve_keys(value: str | None, oidc: bool) -> str | None:
    """The key file to serve: it must exist, unless OIDC tokens are the only credentials
    (no --api-keys given and no file at the default place)."""
    path = _keys_path(value)
    return None if oidc and value is None and not path.exists() else str(path)


#: Server limits: (option, type, default, help).
LIMITS: list[tuple[str, Any, float, str]] = [
    ("--max-body-mb", click.FloatRange(min=0.001), 10.0, "Largest request body (413)."),
    (
        "--timeout",
        click.FloatRange(min=0.01),
        30.0,
        "Seconds a request may take, queueing included (503 after it; nothing released).",
    ),
    ("--max-records", click.IntRange(min=1), 1000, "Records per batch request."),
    (
        "--graceful-timeout",
        click.FloatRange(min=0),
        30.0,
        "On SIGTERM, seconds in-flight requests get to finish.",
    ),
    (
        "--auth-failures",
        click.IntRange(min=1),
        10,
        "Failed authentications per address and --auth-window before 429.",
    ),
    ("--auth-window", click.FloatRange(min=1), 60.0, "Seconds (see --auth-failures)."),
]
limit_options = options.compose(
    *(click.option(n, type=t, default=d, show_default=True, help=h) for n, t, d, h in LIMITS)
)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes, each with its own model (one per core).",
)
@api_keys_option
@detector_options
@vault_options
@consistent_option
@click.option("--certfile", type=click.Path(dir_okay=False), help="TLS certificate (PEM).")
@click.option("--keyfile", type=click.Path(dir_okay=False), help="TLS private key (PEM).")
@limit_options
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="Behind a reverse proxy: its addresses (comma-separated), whose X-Forwarded-For "
    "gives the client address (rate limits, access log).",
)
@click.option("--oidc-jwks-url", default=None, help="Accept OIDC JWTs signed by keys of this JWKS.")
@click.option("--oidc-issuer", default=None, help="Required `iss` of OIDC tokens.")
@click.option("--oidc-audience", default=None, help="Required `aud` of OIDC tokens.")
@click.option(
    "--oidc-scopes-claim",
    default="scope",
    show_default=True,
    help="Token claim holding phiguard scopes (space-separated string or list).",
)
@click.option(
    "--oidc-scope-prefix",
    default="",
    help="Prefix of phiguard scopes in that claim, e.g. phiguard:.",
)
@click.option("--no-access-log", is_flag=True, help="No access log lines on stderr.")
def serve_command(**opts: Any) -> None:
    """Serve the HTTP API (/v1/...) and the review page (/review)."""
    try:
        from phiguard.serve.runner import Listen, preflight, run
        from phiguard.serve.settings import MB, OidcSettings, ServeSettings
    except ImportError as exc:
        raise ConfigError(
            f"phiguard serve needs the 'serve' extra ({exc.name} is missing): "
            "pip install 'phiguard[serve]'"
        ) from None
    oidc = None
    if opts["oidc_jwks_url"]:
        oidc = OidcSettings(
            opts["oidc_jwks_url"],
            issuer=opts["oidc_issuer"],
            audience=opts["oidc_audience"],
            scopes_claim=opts["oidc_scopes_claim"],
            scope_prefix=opts["oidc_scope_prefix"],
        )
    settings = ServeSettings(
        config=options.config({**opts, "workers": 1}),
        api_keys=_serve_keys(opts["api_keys"], oidc is not None),
        oidc=oidc,
        max_body=int(opts["max_body_mb"] * MB),
        timeout=opts["timeout"],
        max_records=opts["max_records"],
        auth_failures=opts["auth_failures"],
        auth_window=opts["auth_window"],
        access_log=not opts["no_access_log"],
        debug=logging.getLogger("phiguard").isEnabledFor(logging.DEBUG),  # phiguard --debug
    )
    listen = Listen(
        host=opts["host"],
        port=opts["port"],
        workers=opts["workers"],
        certfile=opts["certfile"],
        keyfile=opts["keyfile"],
        graceful_timeout=opts["graceful_timeout"],
        forwarded_allow_ips=opts["forwarded_allow_ips"],
    )
    keys = preflight(settings)
    click.echo(
        f"phiguard serve: {keys} API key(s) from {settings.api_keys or 'no key file'}"
        + (", OIDC tokens" if oidc else ""),
        err=True,
    )
    run(settings, listen)


@click.group("api-key")
def api_key() -> None:
    """Manage the API keys of `phiguard serve` (the file keeps hashes only)."""


@api_key.command("add")
@click.argument("name")
@click.option(
    "--scopes",
    required=True,
    help=f"Comma-separated, from: {','.join(apikeys.SCOPES)}.",
)
@api_keys_option
def add_command(name: str, scopes: str, api_keys: str | None) -> None:
    """Create a key called NAME and print it once on stdout (it is stored nowhere)."""
    path = _keys_path(api_keys)
    key = apikeys.add(path, name, apikeys.parse_scopes(scopes))
    click.echo(key)
    click.echo(f"added key {name!r} ({scopes}) to {path}; it is shown only this once", err=True)


@api_key.command("list")
@api_keys_option
def list_command(api_keys: str | None) -> None:
    """Names, scopes and creation times (never keys or hashes)."""
    for k in apikeys.load(_keys_path(api_keys)):
        click.echo(f"{k.name}\t{','.join(k.scopes)}\t{k.created}")


@api_key.command("revoke")
@click.argument("name")
@api_keys_option
def revoke_command(name: str, api_keys: str | None) -> None:
    """Remove the key called NAME; a running server refuses it from its next request."""
    path = _keys_path(api_keys)
    apikeys.revoke(path, name)
    click.echo(f"revoked key {name!r} in {path}", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(serve_command)
    cli.add_command(api_key)
